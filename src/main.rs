//! The `facture` binary: parses the command line, then opens the window or runs one command.

fn main() -> std::process::ExitCode {
    facture::cli::main()
}
