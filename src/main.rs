fn main() {
    println!("facture");
}
