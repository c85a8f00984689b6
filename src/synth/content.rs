//! What an invoice says: parties, dates, items and amounts in French, German or English,
//! formatted the way each locale prints them. No geometry here.

use crate::domain::calendar::civil_from_days;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Fr,
    De,
    /// British English (also used for Irish vendors billing in euros).
    Uk,
    Us,
}

pub(crate) struct Party {
    pub name: String,
    /// One entry per printed line.
    pub address: Vec<String>,
    pub tax_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub(crate) struct Item {
    /// Unwrapped; the layout wraps it to the column width.
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub amount: String,
}

/// Caption texts, chosen once per invoice so one document is self-consistent.
pub(crate) struct Captions {
    pub title: &'static str,
    pub number: &'static str,
    pub date: &'static str,
    pub due: &'static str,
    pub customer_no: &'static str,
    pub bill_to: &'static str,
    pub pos: &'static str,
    pub description: &'static str,
    pub quantity: &'static str,
    pub unit_price: &'static str,
    pub amount: &'static str,
    pub subtotal: &'static str,
    pub tax: &'static str,
    pub total: &'static str,
    pub bank: &'static str,
    pub iban: &'static str,
    pub bic: &'static str,
    pub vat_id: &'static str,
    pub currency: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub terms: String,
    pub thanks: &'static str,
    pub page: &'static str,
}

pub(crate) struct Invoice {
    pub lang: Lang,
    pub cap: Captions,
    pub vendor: Party,
    pub customer: Party,
    pub number: String,
    pub customer_no: Option<String>,
    pub date: String,
    pub due: Option<String>,
    /// ISO code printed as a standalone currency field on some layouts.
    pub currency_code: &'static str,
    pub items: Vec<Item>,
    pub subtotal: String,
    pub tax_rate: String,
    pub tax_amount: String,
    pub total: String,
    pub bank_name: String,
    /// None for US vendors, who print ACH details instead.
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub ach: Option<String>,
    pub legal: Option<String>,
}

pub(crate) fn pick<T: Copy>(rng: &mut ChaCha8Rng, xs: &[T]) -> T {
    xs[rng.random_range(0..xs.len())]
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

/// How amounts look: "1 234,50 €", "1.234,50 EUR", "£1,234.50", "$1,234.50".
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoneyFormat {
    thousands: &'static str,
    decimal: char,
    symbol: &'static str,
    prefix: bool,
    spaced: bool,
}

impl MoneyFormat {
    pub fn number(&self, cents: i64) -> String {
        let units = (cents / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push_str(self.thousands);
            }
            grouped.push(ch);
        }
        format!("{grouped}{}{:02}", self.decimal, cents % 100)
    }

    pub fn money(&self, cents: i64) -> String {
        let n = self.number(cents);
        match (self.prefix, self.spaced) {
            (true, true) => format!("{} {n}", self.symbol),
            (true, false) => format!("{}{n}", self.symbol),
            (false, true) => format!("{n} {}", self.symbol),
            (false, false) => format!("{n}{}", self.symbol),
        }
    }

    fn decimal_str(&self, tenths: i64) -> String {
        if tenths % 10 == 0 {
            (tenths / 10).to_string()
        } else {
            format!("{}{}{}", tenths / 10, self.decimal, tenths % 10)
        }
    }
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_FR_ABBR: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Index into the per-language date styles, fixed per invoice so issue and due dates match.
fn format_date(lang: Lang, style: usize, days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    let mi = (m - 1) as usize;
    match (lang, style % 4) {
        (_, 0) => format!("{y}-{m:02}-{d:02}"),
        (Lang::Fr, 1) => format!("{d:02}/{m:02}/{y}"),
        (Lang::Fr, 2) => format!("{d:02} {} {y}", MONTHS_FR_ABBR[mi]),
        (Lang::Fr, _) => format!("{d} {} {y}", MONTHS_FR[mi]),
        (Lang::De, 1) => format!("{d:02}.{m:02}.{y}"),
        (Lang::De, 2) => format!("{d}. {} {y}", MONTHS_DE[mi]),
        (Lang::De, _) => format!("{d:02}.{m:02}.{}", y % 100),
        (Lang::Uk, 1) => format!("{d:02}/{m:02}/{y}"),
        (Lang::Uk, 2) => format!("{d} {} {y}", MONTHS_EN[mi]),
        (Lang::Uk, _) => format!("{d:02} {} {y}", &MONTHS_EN[mi][..3]),
        (Lang::Us, 1) => format!("{m:02}/{d:02}/{y}"),
        (Lang::Us, 2) => format!("{} {d}, {y}", MONTHS_EN[mi]),
        (Lang::Us, _) => format!("{} {d}, {y}", &MONTHS_EN[mi][..3]),
    }
}

/// A syntactically valid IBAN (ISO 13616 check digits), printed in groups of four.
fn iban(rng: &mut ChaCha8Rng, country: &str) -> String {
    let bban = match country {
        "FR" => digits(rng, 23),
        "DE" => digits(rng, 18),
        "GB" => format!("{}{}", pick(rng, &["NWBK", "BARC", "LOYD", "MIDL", "HBUK"]), digits(rng, 14)),
        _ => format!("{}{}", pick(rng, &["AIBK", "BOFI"]), digits(rng, 14)), // IE
    };
    let rearranged = format!("{bban}{country}00");
    let mut rem: u32 = 0;
    for ch in rearranged.chars() {
        let v = ch.to_digit(36).unwrap_or(0);
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    let full = format!("{country}{:02}{bban}", 98 - rem);
    let chars: Vec<char> = full.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

fn captions(rng: &mut ChaCha8Rng, lang: Lang) -> Captions {
    match lang {
        Lang::Fr => Captions {
            title: pick(rng, &["FACTURE", "Facture"]),
            number: pick(rng, &["Facture N°", "N° de facture :", "Numéro de facture :", "Réf. facture :"]),
            date: pick(rng, &["Date :", "Date de facture :", "Émise le :", "Date d'émission :"]),
            due: pick(rng, &["Échéance :", "Date d'échéance :", "À payer avant le :"]),
            customer_no: pick(rng, &["N° client :", "Code client :"]),
            bill_to: pick(rng, &["Facturé à :", "Client :", "Adresse de facturation", "Destinataire"]),
            pos: pick(rng, &["Réf.", "N°"]),
            description: pick(rng, &["Désignation", "Description", "Libellé"]),
            quantity: pick(rng, &["Qté", "Quantité"]),
            unit_price: pick(rng, &["P.U. HT", "Prix unitaire", "Prix unit. HT"]),
            amount: pick(rng, &["Montant HT", "Total HT", "Montant"]),
            subtotal: pick(rng, &["Total HT", "Sous-total HT", "Montant HT"]),
            tax: pick(rng, &["TVA", "TVA à"]),
            total: pick(rng, &["Total TTC", "Net à payer", "Montant TTC"]),
            bank: "Coordonnées bancaires",
            iban: "IBAN :",
            bic: "BIC :",
            vat_id: pick(rng, &["N° TVA intracom. :", "TVA intracommunautaire :", "N° TVA :"]),
            currency: "Devise :",
            phone: pick(rng, &["Tél. :", "Tél.", "Téléphone :"]),
            email: pick(rng, &["E-mail :", "Courriel :"]),
            terms: format!(
                "Paiement à {} jours. Pénalités de retard : 3 fois le taux d'intérêt légal.",
                pick(rng, &[15, 30, 45])
            ),
            thanks: pick(rng, &["Merci pour votre confiance.", "Nous vous remercions de votre commande."]),
            page: pick(rng, &["Page 1/1", "Page 1 sur 1"]),
        },
        Lang::De => Captions {
            title: pick(rng, &["RECHNUNG", "Rechnung"]),
            number: pick(rng, &["Rechnungsnummer:", "Rechnungs-Nr.:", "Rechnung Nr.", "Beleg-Nr.:"]),
            date: pick(rng, &["Rechnungsdatum:", "Datum:", "Ausgestellt am:"]),
            due: pick(rng, &["Fällig am:", "Zahlbar bis:", "Fälligkeitsdatum:"]),
            customer_no: pick(rng, &["Kundennummer:", "Kunden-Nr.:"]),
            bill_to: pick(rng, &["Rechnungsempfänger", "Rechnungsadresse:", "An:"]),
            pos: "Pos.",
            description: pick(rng, &["Bezeichnung", "Beschreibung", "Artikel / Leistung"]),
            quantity: pick(rng, &["Menge", "Anz."]),
            unit_price: pick(rng, &["Einzelpreis", "E-Preis", "Preis/Einh."]),
            amount: pick(rng, &["Gesamt", "Betrag", "Gesamtpreis"]),
            subtotal: pick(rng, &["Zwischensumme", "Nettobetrag", "Summe netto"]),
            tax: pick(rng, &["MwSt.", "USt.", "zzgl. MwSt."]),
            total: pick(rng, &["Gesamtbetrag", "Rechnungsbetrag", "Summe brutto", "Endbetrag"]),
            bank: "Bankverbindung",
            iban: "IBAN:",
            bic: "BIC:",
            vat_id: pick(rng, &["USt-IdNr.:", "USt-ID:", "Steuer-Nr.:"]),
            currency: "Währung:",
            phone: pick(rng, &["Tel.:", "Telefon:", "Tel."]),
            email: pick(rng, &["E-Mail:", "Mail:"]),
            terms: format!("Zahlbar innerhalb von {} Tagen ohne Abzug.", pick(rng, &[7, 14, 30])),
            thanks: pick(rng, &["Vielen Dank für Ihren Auftrag!", "Wir danken für Ihr Vertrauen."]),
            page: pick(rng, &["Seite 1 von 1", "Seite 1/1"]),
        },
        Lang::Uk | Lang::Us => Captions {
            title: pick(rng, &["INVOICE", "Invoice", "TAX INVOICE"]),
            number: pick(rng, &["Invoice No.", "Invoice #", "Invoice Number:", "Invoice no:"]),
            date: pick(rng, &["Date:", "Invoice Date:", "Issued:", "Date of issue:"]),
            due: pick(rng, &["Due Date:", "Payment due:", "Due:"]),
            customer_no: pick(rng, &["Account No.:", "Customer ID:"]),
            bill_to: pick(rng, &["Bill To:", "BILL TO", "Invoice to:", "Customer"]),
            pos: pick(rng, &["#", "Item"]),
            description: pick(rng, &["Description", "Item / Service", "Details"]),
            quantity: pick(rng, &["Qty", "Quantity", "Units"]),
            unit_price: pick(rng, &["Unit Price", "Rate", "Price"]),
            amount: pick(rng, &["Amount", "Total", "Line Total"]),
            subtotal: pick(rng, &["Subtotal", "Net total", "Sub-total"]),
            tax: if lang == Lang::Us { pick(rng, &["Sales Tax", "Tax"]) } else { "VAT" },
            total: pick(rng, &["Total", "TOTAL DUE", "Balance Due", "Amount due"]),
            bank: pick(rng, &["Bank details", "Payment details"]),
            iban: "IBAN:",
            bic: pick(rng, &["BIC:", "SWIFT:"]),
            vat_id: if lang == Lang::Us { "EIN:" } else { pick(rng, &["VAT No.:", "VAT Reg. No.:"]) },
            currency: "Currency:",
            phone: pick(rng, &["Tel:", "Phone:", "T:"]),
            email: pick(rng, &["Email:", "E:"]),
            terms: format!(
                "Payment terms: {} days net. Please quote the invoice number with your payment.",
                pick(rng, &[14, 30, 60])
            ),
            thanks: pick(rng, &["Thank you for your business!", "Thanks for choosing us."]),
            page: pick(rng, &["Page 1 of 1", "Page 1/1"]),
        },
    }
}

fn company(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    let (stems, forms): (&[&str], &[&str]) = match lang {
        Lang::Fr => (
            &[
                "Atelier Bérénice",
                "Boulangerie Lefèvre",
                "Électricité Générale du Rhône",
                "Garage Côté Sud",
                "Imprimerie Sainte-Hélène",
                "Menuiserie Dupré",
                "Société Méditerranéenne de Négoce",
                "Café des Arènes",
                "Transports Rivière",
                "Informatique & Réseaux Besançon",
            ],
            &["SARL", "SAS", "EURL", "SA", ""],
        ),
        Lang::De => (
            &[
                "Müller & Söhne",
                "Großhandel Köhler",
                "Bäckerei Schäfer",
                "Elektro Weiß",
                "Büroservice Jürgens",
                "Gärtnerei Grünfeld",
                "Möbelhaus Brückner",
                "Straßenbau Nößler",
                "Kühltechnik Öztürk",
                "Druckerei Läufer",
            ],
            &["GmbH", "AG", "KG", "e.K.", "GmbH & Co. KG"],
        ),
        Lang::Uk | Lang::Us => (
            &[
                "Northwind Traders",
                "Blue Harbour Consulting",
                "Café Zoë",
                "Acme Office Supplies",
                "Brightline Media",
                "Hartley & Finch",
                "Pinewood Logistics",
                "Summit Software",
                "Crème de la Code",
                "Oakridge Electrical",
            ],
            if lang == Lang::Us { &["LLC", "Inc.", "Corp.", ""] } else { &["Ltd", "Ltd.", "PLC", "LLP", ""] },
        ),
    };
    let stem = pick(rng, stems);
    let form = pick(rng, forms);
    if form.is_empty() { (*stem).to_string() } else { format!("{stem} {form}") }
}

fn person(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    let (first, last): (&[&str], &[&str]) = match lang {
        Lang::Fr => (
            &["Élodie", "François", "Hélène", "Jérôme", "Céline", "Noël", "Inès", "Gaëlle"],
            &["Martin", "Dubois", "Lefèvre", "Girard", "Bélanger", "Rousseau", "Caron"],
        ),
        Lang::De => (
            &["Jürgen", "Jörg", "Sören", "Käthe", "Björn", "Lena", "Günther", "Ute"],
            &["Weiß", "Müller", "Schröder", "Groß", "Köhler", "Bäumer", "Schmidt"],
        ),
        Lang::Uk | Lang::Us => (
            &["Zoë", "James", "Olivia", "Siobhán", "Renée", "Michael", "Chloé", "David"],
            &["Smith", "O'Brien", "Patel", "Johnson", "Clarke", "Nguyen", "Brontë"],
        ),
    };
    format!("{} {}", pick(rng, first), pick(rng, last))
}

fn address(rng: &mut ChaCha8Rng, lang: Lang) -> Vec<String> {
    let n = rng.random_range(1..200);
    let mut lines = match lang {
        Lang::Fr => {
            let street = pick(
                rng,
                &[
                    "rue de la République",
                    "rue des Écoles",
                    "avenue du Général-Leclerc",
                    "boulevard Saint-Michel",
                    "place de l'Église",
                    "chemin des Prés",
                    "quai de la Fosse",
                    "allée des Châtaigniers",
                ],
            );
            let city = pick(
                rng,
                &[
                    "69002 Lyon",
                    "75005 Paris",
                    "13001 Marseille",
                    "44000 Nantes",
                    "25000 Besançon",
                    "34000 Montpellier",
                    "97400 Saint-Denis",
                ],
            );
            vec![format!("{n} {street}"), (*city).to_string()]
        }
        Lang::De => {
            let street = pick(
                rng,
                &[
                    "Hauptstraße",
                    "Bahnhofstraße",
                    "Königsallee",
                    "Am Mühlbach",
                    "Lindenweg",
                    "Schloßgasse",
                    "Goethestraße",
                ],
            );
            let city = pick(
                rng,
                &[
                    "10115 Berlin",
                    "80331 München",
                    "50667 Köln",
                    "40213 Düsseldorf",
                    "90402 Nürnberg",
                    "97070 Würzburg",
                ],
            );
            vec![format!("{street} {}", n % 90 + 1), (*city).to_string()]
        }
        Lang::Uk => {
            let street = pick(rng, &["Baker Street", "High Street", "Queen's Road", "Market Place", "Church Lane"]);
            let city = pick(rng, &["London NW1 6XE", "Manchester M1 4BT", "Bristol BS1 5TR", "Leeds LS1 4AP"]);
            vec![format!("{n} {street}"), (*city).to_string()]
        }
        Lang::Us => {
            let street = pick(rng, &["Market St", "Broadway", "Elm Avenue", "Mission Blvd", "Lakeshore Dr"]);
            let city =
                pick(rng, &["San Francisco, CA 94103", "Austin, TX 78701", "Chicago, IL 60601", "Portland, OR 97204"]);
            vec![format!("{} {street}", n * 10 + 1), (*city).to_string()]
        }
    };
    if rng.random_bool(0.3) {
        let extra = match lang {
            Lang::Fr => "Bâtiment B, 2e étage",
            Lang::De => "Hinterhaus, 3. OG",
            Lang::Uk => "Unit 4, Riverside Court",
            Lang::Us => "Suite 400",
        };
        lines.insert(1, extra.to_string());
    }
    if rng.random_bool(0.4) {
        lines.push(
            match lang {
                Lang::Fr => "France",
                Lang::De => "Deutschland",
                Lang::Uk => "United Kingdom",
                Lang::Us => "USA",
            }
            .to_string(),
        );
    }
    lines
}

fn tax_id(rng: &mut ChaCha8Rng, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("FR {} {}", digits(rng, 2), digits(rng, 9)),
        Lang::De => format!("DE{}", digits(rng, 9)),
        Lang::Uk => format!("GB{} {} {}", digits(rng, 3), digits(rng, 4), digits(rng, 2)),
        Lang::Us => format!("{}-{}", digits(rng, 2), digits(rng, 7)),
    }
}

const ITEMS_FR: &[(&str, bool)] = &[
    ("Maintenance annuelle du système de chauffage collectif", true),
    ("Développement d'application web – sprint 3", true),
    ("Câble réseau Cat. 6, 5 m", false),
    ("Prestation de conseil (journée)", false),
    ("Livraison express", false),
    ("Café en grains – 1 kg", false),
    ("Ramette papier A4 80 g/m²", false),
    ("Intervention technicien sur site, déplacement inclus", true),
    ("Location échafaudage (semaine)", false),
    ("Licence logicielle annuelle – édition Pro", false),
    ("Réglage et contrôle de l'installation électrique", true),
];
const ITEMS_DE: &[(&str, bool)] = &[
    ("Wartung Heizungsanlage inkl. Abgasmessung", true),
    ("Beratungsleistung (Stunde)", true),
    ("Büromöbel: Schreibtisch höhenverstellbar, Eiche", false),
    ("Versandkostenpauschale", false),
    ("Grünpflanzen für Empfangsbereich", false),
    ("Lizenzgebühr Software, Jahresabonnement", false),
    ("Montage und Inbetriebnahme vor Ort", true),
    ("Kühlschrank-Reparatur (Ersatzteile & Arbeitszeit)", true),
    ("Druck Flyer DIN A5, 4/4-farbig, 135 g/m²", false),
    ("Fahrtkosten", false),
    ("Übersetzung Geschäftsbericht (Seite)", true),
];
const ITEMS_EN: &[(&str, bool)] = &[
    ("Website maintenance (monthly retainer)", true),
    ("Consulting services – on-site workshop", true),
    ("Ergonomic office chair, black", false),
    ("Shipping & handling", false),
    ("Café au lait supplies", false),
    ("Annual software licence renewal, 25 seats", false),
    ("Design of brochure and résumé templates", true),
    ("Hardware installation and cable management", true),
    ("Printer toner cartridge (high yield)", false),
    ("Travel expenses", false),
    ("Data migration from legacy CRM system to the new platform", true),
];

/// Drops the accent of the letters our names use, for e-mail domains.
fn ascii_fold(c: char) -> char {
    match c {
        'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
        'à' | 'â' | 'ä' | 'Ä' => 'a',
        'ô' | 'ö' | 'Ö' => 'o',
        'ü' | 'û' | 'Ü' => 'u',
        'ç' => 'c',
        'î' | 'ï' => 'i',
        _ => c,
    }
}

pub(crate) fn invoice(rng: &mut ChaCha8Rng) -> Invoice {
    let lang = pick(rng, &[Lang::Fr, Lang::De, Lang::Uk, Lang::Us]);
    let (fmt, currency_code) = match lang {
        Lang::Fr => (MoneyFormat { thousands: " ", decimal: ',', symbol: "€", prefix: false, spaced: true }, "EUR"),
        Lang::De => {
            let symbol = pick(rng, &["€", "EUR"]);
            (MoneyFormat { thousands: ".", decimal: ',', symbol, prefix: false, spaced: true }, "EUR")
        }
        Lang::Uk => {
            if rng.random_bool(0.25) {
                (MoneyFormat { thousands: ",", decimal: '.', symbol: "€", prefix: true, spaced: false }, "EUR")
            } else {
                (MoneyFormat { thousands: ",", decimal: '.', symbol: "£", prefix: true, spaced: false }, "GBP")
            }
        }
        Lang::Us => (MoneyFormat { thousands: ",", decimal: '.', symbol: "$", prefix: true, spaced: false }, "USD"),
    };
    let cap = captions(rng, lang);
    let date_style = rng.random_range(0..4);
    // 2021-01-01 .. 2025-12-31, as days since 1970-01-01.
    let issued = rng.random_range(18_628..20_453);
    let due = rng.random_bool(0.75).then(|| format_date(lang, date_style, issued + pick(rng, &[10, 14, 30, 45])));
    let year = civil_from_days(issued).0;
    let number = match rng.random_range(0..4) {
        0 => format!("FA-{year}-{}", digits(rng, 4)),
        1 => format!("{year}{}", digits(rng, 5)),
        2 => format!("INV-{}", digits(rng, 6)),
        _ => format!("{}/{}", digits(rng, 3), year % 100),
    };

    let names = match lang {
        Lang::Fr => ITEMS_FR,
        Lang::De => ITEMS_DE,
        Lang::Uk | Lang::Us => ITEMS_EN,
    };
    let n_items = rng.random_range(1..=12);
    // Per invoice, not per row: a column either carries the currency sign or it does not.
    let with_symbol = rng.random_bool(0.5);
    let mut subtotal = 0i64;
    let items = (0..n_items)
        .map(|_| {
            let (name, service) = pick(rng, names);
            let description = name.to_string();
            let hourly = service && rng.random_bool(0.5);
            let qty_tenths: i64 = if hourly { rng.random_range(1..=16) * 5 } else { rng.random_range(1..=12) * 10 };
            let unit_cents: i64 = rng.random_range(150..250_000);
            let amount = (qty_tenths * unit_cents + 5) / 10;
            subtotal += amount;
            let qty = fmt.decimal_str(qty_tenths);
            let quantity = match (hourly, lang) {
                (true, _) => format!("{qty} h"),
                (false, _) if rng.random_bool(0.2) => {
                    let unit = match lang {
                        Lang::Fr => "pce",
                        Lang::De => "Stk.",
                        _ => "pcs",
                    };
                    format!("{qty} {unit}")
                }
                (false, _) => qty,
            };
            let show = |c| if with_symbol { fmt.money(c) } else { fmt.number(c) };
            Item { description, quantity, unit_price: show(unit_cents), amount: show(amount) }
        })
        .collect();
    // Basis points (1/100 %) so 5,5 % and 8.25 % stay exact.
    let rate_bp: i64 = match lang {
        Lang::Fr => pick(rng, &[2000, 1000, 550]),
        Lang::De => pick(rng, &[1900, 1900, 700]),
        Lang::Uk => 2000,
        Lang::Us => pick(rng, &[825, 600, 725]),
    };
    let tax = (subtotal * rate_bp + 5000) / 10_000;
    let sep = if matches!(lang, Lang::Us | Lang::Uk) { '.' } else { ',' };
    let rate_text = match (rate_bp % 100, rate_bp % 10) {
        (0, _) => (rate_bp / 100).to_string(),
        (_, 0) => format!("{}{sep}{}", rate_bp / 100, (rate_bp % 100) / 10),
        _ => format!("{}{sep}{:02}", rate_bp / 100, rate_bp % 100),
    };
    let tax_rate = if rng.random_bool(0.5) { format!("{rate_text} %") } else { format!("{rate_text}%") };

    let country = match (lang, currency_code) {
        (Lang::Fr, _) => "FR",
        (Lang::De, _) => "DE",
        (Lang::Uk, "EUR") => "IE",
        _ => "GB",
    };
    let (iban, bic, ach) = if lang == Lang::Us {
        (None, None, Some(format!("ACH routing {} · Account {}", digits(rng, 9), digits(rng, 10))))
    } else {
        let bank = match country {
            "FR" => pick(rng, &["BNPA", "SOGE", "AGRI", "CCBP"]),
            "DE" => pick(rng, &["COBA", "DEUT", "GENO", "BYLA"]),
            "IE" => pick(rng, &["AIBK", "BOFI"]),
            _ => pick(rng, &["NWBK", "BARC", "LOYD"]),
        };
        let bic = format!("{bank}{country}{}XXX", digits(rng, 2));
        (Some(iban(rng, country)), Some(bic), None)
    };
    let bank_name = match lang {
        Lang::Fr => pick(rng, &["Crédit Agricole", "BNP Paribas", "Société Générale", "Banque Populaire"]),
        Lang::De => pick(rng, &["Sparkasse Köln", "Commerzbank", "Deutsche Bank", "Volksbank Würzburg"]),
        Lang::Uk if country == "IE" => pick(rng, &["AIB", "Bank of Ireland"]),
        Lang::Uk => pick(rng, &["NatWest", "Barclays", "Lloyds Bank"]),
        Lang::Us => pick(rng, &["Chase", "Wells Fargo", "Bank of America"]),
    }
    .to_string();
    let vendor_name = company(rng, lang);
    let domain: String = vendor_name
        .split_whitespace()
        .next()
        .unwrap_or("example")
        .chars()
        .map(ascii_fold)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    let legal = match lang {
        Lang::Fr => Some(format!("{vendor_name} – RCS Lyon {} – Capital social 10 000 €", digits(rng, 9))),
        Lang::De => Some(format!("Amtsgericht Köln HRB {} · Geschäftsführer: {}", digits(rng, 5), person(rng, lang))),
        Lang::Uk => Some(format!("Registered in England and Wales No. {}", digits(rng, 8))),
        Lang::Us => None,
    };
    let vendor = Party {
        name: vendor_name,
        address: address(rng, lang),
        tax_id: rng.random_bool(0.85).then(|| tax_id(rng, lang)),
        phone: rng.random_bool(0.7).then(|| match lang {
            Lang::Fr => format!("04 {} {} {} {}", digits(rng, 2), digits(rng, 2), digits(rng, 2), digits(rng, 2)),
            Lang::De => format!("+49 221 {}", digits(rng, 6)),
            Lang::Uk => format!("020 {} {}", digits(rng, 4), digits(rng, 4)),
            Lang::Us => format!("(415) {}-{}", digits(rng, 3), digits(rng, 4)),
        }),
        email: rng.random_bool(0.6).then(|| {
            let tld = match lang {
                Lang::Fr => "fr",
                Lang::De => "de",
                Lang::Uk => "co.uk",
                Lang::Us => "com",
            };
            format!("{}@{domain}.{tld}", pick(rng, &["contact", "info", "billing", "compta"]))
        }),
    };
    let customer = Party {
        name: loop {
            let name = if rng.random_bool(0.5) { company(rng, lang) } else { person(rng, lang) };
            if name != vendor.name {
                break name;
            }
        },
        address: address(rng, lang),
        tax_id: rng.random_bool(0.3).then(|| tax_id(rng, lang)),
        phone: None,
        email: None,
    };
    Invoice {
        lang,
        cap,
        vendor,
        customer,
        number,
        customer_no: rng.random_bool(0.4).then(|| format!("C{}", digits(rng, 5))),
        date: format_date(lang, date_style, issued),
        due,
        currency_code,
        items,
        subtotal: fmt.money(subtotal),
        tax_rate,
        tax_amount: fmt.money(tax),
        total: fmt.money(subtotal + tax),
        bank_name,
        iban,
        bic,
        ach,
        legal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn money_is_grouped_per_locale() {
        let fr = MoneyFormat { thousands: " ", decimal: ',', symbol: "€", prefix: false, spaced: true };
        let us = MoneyFormat { thousands: ",", decimal: '.', symbol: "$", prefix: true, spaced: false };
        assert_eq!(fr.money(123_450), "1 234,50 €");
        assert_eq!(fr.money(5), "0,05 €");
        assert_eq!(us.money(123_456_789), "$1,234,567.89");
        assert_eq!(us.money(99_900), "$999.00");
    }

    #[test]
    fn dates_match_the_documented_styles() {
        let nov3 = 20_030; // 2024-11-03
        assert_eq!(civil_from_days(nov3), (2024, 11, 3));
        assert_eq!(format_date(Lang::Fr, 1, nov3), "03/11/2024");
        assert_eq!(format_date(Lang::De, 0, nov3), "2024-11-03");
        assert_eq!(format_date(Lang::De, 2, nov3), "3. November 2024");
        assert_eq!(format_date(Lang::Fr, 2, nov3), "03 nov. 2024");
        assert_eq!(format_date(Lang::Us, 2, nov3), "November 3, 2024");
    }

    #[test]
    fn ibans_carry_valid_check_digits() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for country in ["FR", "DE", "GB", "IE"] {
            let printed = iban(&mut rng, country);
            let compact: String = printed.chars().filter(|c| !c.is_whitespace()).collect();
            let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
            let rem = rearranged.chars().fold(0u32, |rem, ch| {
                let v = ch.to_digit(36).unwrap();
                if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 }
            });
            assert_eq!(rem, 1, "{printed}");
        }
    }
}
