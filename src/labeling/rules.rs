//! String-level detectors for one invoice text box (FR/DE/EN): value patterns, caption cues and
//! caption/value splitting. No layout here: the neighbour/column logic builds on these.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// Declares a fieldless enum with `ALL` (declaration order) and `as_str`: stable snake_case names
/// that feature vectors and saved models refer to, so they must not change with variant names.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: [$name; [$($s),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
    };
}

named_enum! {
    /// Value patterns a box's text can match.
    Pattern {
        Date = "date", Amount = "amount", Percent = "percent", Iban = "iban", Bic = "bic", VatId = "vat_id",
        InvoiceNumber = "invoice_number", Currency = "currency", Postcode = "postcode", Phone = "phone",
        Email = "email", Url = "url", Integer = "integer",
    }
}

/// A set of patterns (bitflags over Pattern as u16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Patterns(pub u16);

impl Patterns {
    /// The one pattern that best describes a value (for rules): the most specific first.
    pub fn main(self) -> Option<Pattern> {
        use Pattern::*;
        [Iban, Bic, VatId, Email, Url, Date, Percent, Amount, Phone, InvoiceNumber, Currency, Postcode, Integer]
            .into_iter()
            .find(|p| self.contains(*p))
    }

    fn bit(p: Pattern) -> u16 {
        1u16 << (p as u16)
    }
    pub fn contains(self, p: Pattern) -> bool {
        self.0 & Self::bit(p) != 0
    }
    pub fn insert(&mut self, p: Pattern) {
        self.0 |= Self::bit(p);
    }
    pub fn iter(self) -> impl Iterator<Item = Pattern> {
        Pattern::ALL.into_iter().filter(move |&p| self.contains(p))
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    fn put(&mut self, p: Pattern, on: bool) {
        if on {
            self.insert(p);
        }
    }
}

named_enum! {
    /// Caption keywords ("cues") that announce a field, found in a box's text.
    Cue {
        InvoiceNumber = "invoice_number", InvoiceDate = "invoice_date", DueDate = "due_date", Date = "date",
        Subtotal = "subtotal", Tax = "tax", Total = "total", Iban = "iban", Bic = "bic", VatId = "vat_id",
        Customer = "customer", Vendor = "vendor", Currency = "currency", Description = "description",
        Quantity = "quantity", UnitPrice = "unit_price", LineAmount = "line_amount", Phone = "phone", Email = "email",
        Address = "address", Bank = "bank", Company = "company",
    }
}

impl Cue {
    /// Cues whose value is numeric: a caption of these followed only by words ("Total amount due",
    /// "Date Due") is a longer caption, not caption + value.
    fn wants_digits(self) -> bool {
        use Cue::*;
        !matches!(self, Customer | Vendor | Currency | Description | Email | Address | Bank | Bic | Company)
    }
}

/// Keywords by cue (`as_str` name), folded, `|`-separated. Tokens are compared whole, so "tel" never
/// fires inside "hotel"; a token with a trailing '.' needs that dot in the text ("s. a." must not
/// match "it's a"); a leading '^' needs upper-case text ("EIN" but not German "ein"); a trailing
/// ':' needs a colon right after the keyword and a value that looks like the field's (the
/// one-letter captions of a letterhead, `T: 020 4657 9939`, `E: info@example.com`). `none` lists
/// stop phrases: they report nothing but still hide the keywords inside them ("Tax Invoice" is a
/// receipt title, "Service client" no customer).
const CUE_WORDS: &str = "\
    invoice_number = invoice no|invoice nr|invoice number|invoice #|invoice id|inv no|inv #|inv nr|rechnungsnr|\
        rechnungsnummer|rechnung nr|rechnungs nr|re nr|facture n °|facture no|facture numero|n ° de facture|\
        no de facture|numero de facture|numero facture|bill no|bill #|bill number|receipt no|receipt #|\
        receipt number|doc no|document no|beleg nr|belegnr|belegnummer
    invoice_date = invoice date|inv date|date of issue|issue date|issued|issued on|date issued|rechnungsdatum|\
        datum der rechnung|belegdatum|ausstellungsdatum|date de facture|date de facturation|date d emission|\
        date emission|emise le|emis le
    due_date = due date|date due|payment due|due|due on|payable by|fallig am|fallig|falligkeit|falligkeitsdatum|\
        zahlbar bis|zahlungsziel|echeance|date d echeance|date echeance|a payer avant le|payable avant le|\
        date limite de paiement
    date = date|datum|lieferdatum|leistungsdatum|bestelldatum|delivery date|order date|date de livraison
    subtotal = subtotal|sub total|netto|net amount|net total|total net|total excl|total exkl|zwischensumme|nettobetrag|\
        summe netto|gesamt netto|total ht|montant ht|sous total|total hors taxes
    tax = vat|tax|sales tax|gst|sst|mwst|ust|umsatzsteuer|mehrwertsteuer|tva|vat rate|tax rate|steuersatz|total tva|\
        total vat|total tax|tax total|montant tva|mwst betrag|ust betrag|zzgl mwst|zzgl. mwst|zzgl ust|zzgl. ust|\
        zuzuglich mwst|inkl mwst|inkl. mwst|plus vat|plus tax
    total = total|grand total|brutto|amount due|balance due|total due|total amount|total amount due|amount payable|\
        total payable|gesamtbetrag|gesamtsumme|rechnungsbetrag|endbetrag|bruttobetrag|gesamt brutto|summe brutto|\
        summe|zu zahlen|total ttc|net a payer|montant ttc|montant total|montant a payer|rounded total|total incl|\
        total inkl
    iban = iban
    bic = bic|swift|bic swift|swift bic|swift code|bic code
    vat_id = vat no|vat nr|vat number|vat id|vat reg|vat reg no|vat registration|ust idnr|ust id|ust id nr|ustidnr|\
        ustid|steuernummer|steuer nr|st. nr|mwst nr|n ° tva|no tva|numero tva|tva intracommunautaire|tva intra|\
        n ° tva intra|^ein|gst id|gst reg|gst reg no|gst no|tax id|tax no|tax number|^tin|^uid
    customer = bill to|billed to|invoice to|issued to|sold to|customer|customer no|customer number|client|\
        n ° client|no client|numero client|rechnungsempfanger|kunde|kundennr|kundennummer|kunden nr|facture a|\
        facturer a|adresse a|billing address
    vendor = from|seller|supplier|vendor|sold by|lieferant|verkaufer|fournisseur|emetteur
    currency = currency|wahrung|devise
    description = description|item|items|details|article|articles|designation|libelle|bezeichnung|beschreibung|\
        artikel|leistung|product|produit
    quantity = qty|quantity|units|hours|hrs|stunden|std|heures|qte|quantite|menge|anzahl|stk|total qty|\
        total quantity|total items|no of items|item count|nb articles
    unit_price = unit price|unit cost|u p|price|rate|u. price|prix unitaire|p. u.|pu ht|^pu|prix|prix ht|einzelpreis|\
        stuckpreis|preis|e preis
    line_amount = amount|line total|total price|montant|betrag|gesamt|gesamtpreis|prix total
    phone = tel|phone|telephone|telefon|fax|mobile|mob|handy|^t:|^f:|^m:
    email = email|e mail|mail|courriel|email address|^e:
    address = address|adresse|anschrift|ship to|deliver to|lieferadresse|adresse de livraison
    bank = bankverbindung|bankverbindungen|bank details|bank name|bank account|banking details|bank connection|\
        payment details|payment information|bankname|name der bank|kreditinstitut|geldinstitut|\
        coordonnees bancaires|domiciliation|domiciliation bancaire|nom de la banque|banque domiciliataire
    company = sdn bhd|bhd|gmbh|^ug|co. kg|^ag|sarl|s.a.r.l.|^sas|^sa|s. a.|ltd|limited|inc|llc|corp|plc|enterprise|\
        enterprises|trading|e. k.
    none = tax invoice|simplified tax invoice|customer service|customer care|service client|kundenservice";

struct Keyword {
    cue: Option<Cue>,
    toks: Vec<(String, bool)>,
    upper: bool,
    /// Only with a colon after it, and a value that looks like the field's.
    colon: bool,
    chars: usize,
}

/// All keywords, and their indices by first token, so a box costs one hash lookup per token.
type KeywordIndex = (Vec<Keyword>, HashMap<String, Vec<usize>>);

static KEYWORDS: LazyLock<KeywordIndex> = LazyLock::new(|| {
    let mut kws = Vec::new();
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for line in CUE_WORDS.lines() {
        let Some((name, specs)) = line.split_once('=') else { continue };
        let cue = Cue::ALL.into_iter().find(|c| c.as_str() == name.trim());
        for spec in specs.split('|').map(str::trim) {
            let (upper, spec) = spec.strip_prefix('^').map_or((false, spec), |s| (true, s));
            let (colon, spec) = spec.strip_suffix(':').map_or((false, spec), |s| (true, s));
            let toks: Vec<(String, bool)> =
                tokens(spec, spec, None).iter().map(|t| (spec[t.f.0..t.f.1].to_string(), t.dot)).collect();
            let Some(first) = toks.first() else { continue };
            index.entry(first.0.clone()).or_default().push(kws.len());
            let chars = toks.iter().map(|t| t.0.len()).sum();
            kws.push(Keyword { cue, toks, upper, colon, chars });
        }
    }
    (kws, index)
});

/// Lower-case, accents folded (é→e, ä→a, ß→ss, ü→u...), punctuation kept: used for matching keywords.
/// Exotic spaces, apostrophes and dashes become their ASCII forms and 'º' becomes '°', since
/// scans print "Nº", "d’émission" and "03–11–2024" interchangeably with the plain forms.
pub fn fold(text: &str) -> String {
    fold_map(text).0
}

/// `fold` plus, for every folded byte, the byte offset in `text` of the char it came from, so
/// matches on the folded form can be sliced out of the original.
fn fold_map(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        for l in c.to_lowercase() {
            let mut buf = [0; 4];
            let folded = match l {
                '\u{0300}'..='\u{036f}' => "", // combining accents of decomposed text
                c if c.is_whitespace() => " ",
                c if c.is_ascii() => c.encode_utf8(&mut buf),
                c => FOLD_MAP.get(&c).copied().unwrap_or_else(|| c.encode_utf8(&mut buf)),
            };
            map.extend(std::iter::repeat_n(i, folded.len()));
            out.push_str(folded);
        }
    }
    (out, map)
}

/// Accented and typographic forms (after lower-casing) and what they fold to.
static FOLD_MAP: LazyLock<HashMap<char, &'static str>> = LazyLock::new(|| {
    let groups = "àáâãäåāăą:a çćč:c èéêëēėęě:e ìíîïīįı:i ñńň:n òóôõöøōő:o ùúûüūůűų:u ýÿ:y śšşș:s źżž:z ł:l ř:r \
        ťț:t ďđ:d ß:ss æ:ae œ:oe º:° ’‘´`:' ‐‑‒–—−:-";
    let pairs = groups.split(' ').filter_map(|g| g.split_once(':'));
    pairs.flat_map(|(from, to)| from.chars().map(move |c| (c, to))).collect()
});

/// A word of folded text: a run of alphanumerics, or a lone '#'/'°' (they carry meaning in "Invoice #", "N°").
struct Tok {
    /// Byte range in the folded text.
    f: (usize, usize),
    /// Byte range in the original text.
    o: (usize, usize),
    /// Followed directly by '.', as in abbreviations.
    dot: bool,
}

fn tokens(folded: &str, orig: &str, map: Option<&[usize]>) -> Vec<Tok> {
    let to_orig = |fb: usize| map.and_then(|m| m.get(fb).copied()).unwrap_or(fb);
    let orig_end = |fb_last: usize| {
        let s = to_orig(fb_last);
        s + orig.get(s..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8)
    };
    let mut out = Vec::new();
    let mut it = folded.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let end = if c.is_alphanumeric() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = it.peek() {
                if !d.is_alphanumeric() {
                    break;
                }
                end = j + d.len_utf8();
                it.next();
            }
            end
        } else if c == '#' || c == '°' {
            i + c.len_utf8()
        } else {
            continue;
        };
        let dot = folded[end..].starts_with('.');
        out.push(Tok { f: (i, end), o: (to_orig(i), orig_end(end - 1)), dot });
    }
    out
}

struct CueMatch {
    cue: Option<Cue>,
    start: usize,
    end: usize,
    chars: usize,
    /// A keyword that needs a colon after it and a value that looks like the field's.
    strict: bool,
}

fn find_cues(text: &str) -> (Vec<CueMatch>, Vec<Tok>) {
    let (folded, map) = fold_map(text);
    let toks = tokens(&folded, text, Some(&map));
    let (kws, index) = &*KEYWORDS;
    let mut found = Vec::new();
    for i in 0..toks.len() {
        let Some(ids) = index.get(&folded[toks[i].f.0..toks[i].f.1]) else { continue };
        for kw in ids.iter().filter_map(|&k| kws.get(k)) {
            let Some(window) = toks.get(i..i + kw.toks.len()) else { continue };
            let words_ok =
                window.iter().zip(&kw.toks).all(|(t, (w, dot))| &folded[t.f.0..t.f.1] == w && (t.dot || !dot));
            // Words of one caption sit close together; a colon ends a caption ("Date: Due on receipt").
            let gaps_ok = window.windows(2).all(|p| {
                let gap = &folded[p[0].f.1..p[1].f.0];
                gap.len() <= 3 && !gap.contains(':')
            });
            let upper_ok = !kw.upper
                || window.iter().all(|t| text.get(t.o.0..t.o.1).is_some_and(|w| !w.contains(char::is_lowercase)));
            // `T: …` and `T : …`, not `T. Müller` or `T 12`
            let colon_ok = !kw.colon
                || window.last().is_some_and(|t| {
                    let after = &folded[t.f.1..];
                    after.strip_prefix(' ').unwrap_or(after).starts_with(':')
                });
            if words_ok && gaps_ok && upper_ok && colon_ok {
                let (start, end, chars) = (i, i + kw.toks.len(), kw.chars);
                found.push(CueMatch { cue: kw.cue, start, end, chars, strict: kw.colon });
            }
        }
    }
    (found, toks)
}

/// The cues whose keywords appear in `text`, longest/most specific first, without duplicates.
/// A keyword inside a longer one is dropped ("Total" in "Total HT", "due" in "Amount due"), and the
/// generic Date goes when a specific date cue is present.
pub fn cues(text: &str) -> Vec<Cue> {
    let (found, _) = find_cues(text);
    let len = |m: &CueMatch| m.end - m.start;
    let mut outer: Vec<&CueMatch> = found
        .iter()
        .filter(|m| !found.iter().any(|o| o.start <= m.start && m.end <= o.end && len(o) > len(m)))
        .collect();
    outer.sort_by(|a, b| (len(b), b.chars, a.start).cmp(&(len(a), a.chars, b.start)));
    let mut out: Vec<Cue> = Vec::new();
    for cue in outer.into_iter().filter_map(|m| m.cue) {
        if !out.contains(&cue) {
            out.push(cue);
        }
    }
    if out.iter().any(|c| matches!(c, Cue::InvoiceDate | Cue::DueDate)) {
        out.retain(|&c| c != Cue::Date);
    }
    out
}

/// If `text` starts with a caption followed by a value in the same box ("Invoice No: INV-123",
/// "Rechnungsnr. 2024-0117", "Total TTC 1 234,50 €", "Date: 12/03/2024"), returns the cue and the
/// value part (trimmed), a slice of `text`. The longest caption at the start wins. Numeric captions
/// need a digit in the value, so "Total amount due" or "Date Due" stay captions; legal-form words
/// ("GmbH") are never captions.
pub fn split_caption(text: &str) -> Option<(Cue, &str)> {
    let (found, toks) = find_cues(text);
    // A stop phrase at the start ("Tax Invoice 123") is the longest match and yields no caption.
    let m = found.iter().filter(|m| m.start == 0).max_by_key(|m| (m.end - m.start, m.chars))?;
    let cue = m.cue.filter(|&c| c != Cue::Company)?;
    let (first, last) = (toks.first()?, toks.get(m.end - 1)?);
    let after_cue = text.get(last.o.1..)?;
    let value = strip_filler(skip_separators(after_cue)).trim();
    // "Adresse de facturation", "Datum der Lieferung: 3.3.2024": the caption runs on past its
    // cue (no colon closed it); its value, if any, follows the colon that ends it
    let closed =
        after_cue.get(..value.as_ptr() as usize - after_cue.as_ptr() as usize).is_some_and(|s| s.contains(':'));
    let value = if !closed && starts_with_connector(value) {
        strip_filler(skip_separators(value.split_once(':')?.1)).trim()
    } else {
        value
    };
    // "(GST ID No: 000123456789)": the bracket closes the whole box, not the value.
    let bracketed = text.get(..first.o.0).is_some_and(|pre| pre.contains('(')) && !value.contains('(');
    let value = if bracketed { value.strip_suffix(')').unwrap_or(value).trim_end() } else { value };
    let has_content = value.chars().any(|c| c.is_alphanumeric() || "€$£¥".contains(c));
    let digits_ok = !cue.wants_digits() || value.chars().any(|c| c.is_ascii_digit());
    // a one-letter caption's value must say what it is: a phone number, an e-mail address
    let looks_right = !m.strict
        || match cue {
            Cue::Email => value.contains('@'),
            _ => value.chars().filter(char::is_ascii_digit).count() >= 6,
        };
    (has_content && digits_ok && looks_right).then_some((cue, value))
}

/// Where a second caption starts inside `text` (a byte offset), when `text` is a value
/// followed by a caption and its value: `(415) 733-3440 EIN: 12-4226835`, `IE61 BOFI 3045
/// SWIFT: AIBKIE55XXX`; or by a caption alone that ends the text, its value being the next
/// cell (`DE92 2204 1852 5512 9547 27 BIC:`), after a value with digits. Only a caption closed
/// by a colon counts (words
/// of a value, such as `Deutsche Bank` or `Total Energies`, are not taken for one), and what
/// follows it must be a caption with its value ([`split_caption`]) or all caption
/// ([`whole_caption`]). The earliest such caption.
pub fn later_caption(text: &str) -> Option<usize> {
    let (found, toks) = find_cues(text);
    found
        .iter()
        .filter(|m| m.start > 0 && m.cue.is_some_and(|c| c != Cue::Company))
        .filter(|m| {
            toks.get(m.end - 1).and_then(|t| text.get(t.o.1..)).is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .filter_map(|m| toks.get(m.start).map(|t| t.o.0))
        .filter(|&at| text.get(..at).is_some_and(|before| before.chars().any(char::is_alphanumeric)))
        .filter(|&at| {
            let Some((before, rest)) = text.get(..at).zip(text.get(at..)) else { return false };
            // a caption alone closes a value with digits (not `Payment due:`, one caption)
            let closes_value = || whole_caption(rest).is_some() && before.chars().any(|c| c.is_ascii_digit());
            split_caption(rest).is_some() || closes_value()
        })
        .min()
}

/// If all of `text` is one caption, with no value ("BIC:", "VAT Reg. No.:", "Telefon",
/// "N° client :", "Total"), its cue: one keyword from the first word to the last, followed by
/// nothing but separators. Stop phrases and legal-form words ("GmbH") are not captions.
pub fn whole_caption(text: &str) -> Option<Cue> {
    let (found, toks) = find_cues(text);
    let m = found.iter().filter(|m| m.start == 0 && m.end == toks.len()).max_by_key(|m| m.chars)?;
    let cue = m.cue.filter(|&c| c != Cue::Company)?;
    let (first, last) = (toks.first()?, toks.last()?);
    let before = text.get(..first.o.0)?;
    let after = text.get(last.o.1..)?;
    let separators = |s: &str| s.chars().all(|c| c.is_whitespace() || matches!(c, ':' | '.' | '=' | '|' | '°' | 'º'));
    (before.trim().is_empty() && separators(after)).then_some(cue)
}

fn skip_separators(mut s: &str) -> &str {
    loop {
        let t = s.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '.' | '=' | '°' | 'º' | '|'));
        // A dash is only a separator when spaced ("Total - 12,00"); "-12,00" is a negative value.
        let t = match t.strip_prefix(['-', '–', '—']) {
            Some(r) if r.starts_with(char::is_whitespace) => r,
            _ => t,
        };
        if t.len() == s.len() {
            return s;
        }
        s = t;
    }
}

/// Whether `s` starts with a lower-case word that carries a caption on ("de facturation",
/// "of issue", "für Rückfragen"), not a value.
fn starts_with_connector(s: &str) -> bool {
    const CONNECTORS: [&str; 14] =
        ["de", "du", "des", "d'", "d’", "of", "for", "der", "die", "das", "für", "von", "del", "di"];
    let Some(word) = s.split_whitespace().next() else { return false };
    let elided = ["d'", "d’"].iter().any(|d| word.starts_with(d) && word.len() > d.len());
    CONNECTORS.contains(&word) || elided
}

/// A rate's preposition between its caption and the rate belongs to the caption: `TVA à
/// 20 %`, `VAT at 20%`, `GST @6%`, `MwSt. zu 19 %`.
fn strip_rate_preposition(s: &str) -> &str {
    for p in ["à ", "at ", "zu ", "@"] {
        if let Some(rest) = s.strip_prefix(p)
            && rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
        {
            return rest.trim_start();
        }
    }
    s
}

/// Drops a rate's preposition or a number word between caption and value ("TVA à 20 %",
/// "Kunde Nr. 123", "Facture N° 12").
fn strip_filler(s: &str) -> &str {
    let s = strip_rate_preposition(s);
    let starts = |f: &str| s.get(..f.len()).is_some_and(|p| p.eq_ignore_ascii_case(f));
    for f in ["n°", "nº", "no.", "nr.", "num.", "no:", "nr:", "number:", "nummer:"] {
        if starts(f) {
            return skip_separators(&s[f.len()..]);
        }
    }
    for f in ["no ", "nr "] {
        if starts(f) && s[f.len()..].trim_start().starts_with(|c: char| c.is_ascii_digit()) {
            return skip_separators(&s[f.len()..]);
        }
    }
    s
}

fn re(pattern: &str) -> Regex {
    // Patterns are constants of this file, covered by the tests; input never reaches here.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad built-in regex {pattern}: {e}"))
}

const WEEKDAY: &str = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|\
    sat|sun|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim|montag|dienstag|\
    mittwoch|donnerstag|freitag|samstag|sonntag|mo|di|mi|do|fr|sa|so)";
const MONTH: &str = "(?:january|february|march|april|may|june|july|august|september|october|november|december|\
    janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre|januar|janner|februar|\
    marz|maerz|juni|juli|oktober|dezember|janv|fevr|fev|avr|juil|sept|jan|feb|mar|mrz|apr|jun|jul|aug|sep|oct|okt|\
    nov|dec|dez)";
const TIME: &str =
    r"(?:(?:\s+|,\s*|t)(?:(?:at|um|a|@)\s*)?\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s*(?:am|pm|a\.m\.|p\.m\.))?z?)?";

// Date regexes run on folded text, so month names are matched without accents or case.
static DATE_NUM: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(r"^(?:{WEEKDAY}\.?,?\s+)?(\d{{1,2}})([./-])(\d{{1,2}})([./-])(\d{{4}}|\d{{2}}){TIME}$"))
});
static DATE_ISO: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^(\d{{4}})([./-])(\d{{1,2}})([./-])(\d{{1,2}}){TIME}$")));
static DATE_DMY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"^(?:{WEEKDAY}\.?,?\s+)?(\d{{1,2}})(?:er|st|nd|rd|th)?\.?[\s-]*{MONTH}\.?[\s,-]*(\d{{4}}|'?\d{{2}}){TIME}$"
    ))
});
static DATE_MDY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(r"^(?:{WEEKDAY}\.?,?\s+)?{MONTH}\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){TIME}$"))
});
// Word boundaries below are ASCII `(?-u:\b)`: a Unicode `\b` stops the regex DFA on any non-ASCII
// text ("€"), and the fallback engine made `patterns` four times slower.
static PERCENT: LazyLock<Regex> = LazyLock::new(|| re(r"^[-+]?\d{1,3}(?:[.,]\d{1,3})?\s*%$"));
static INTEGER: LazyLock<Regex> = LazyLock::new(|| re(r"^\d{1,6}$"));
static VAT_EU: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"^(?:DE\d{9}|FR[0-9A-Z]{2}\d{9}|(?:GB|XI)(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})|ATU\d{8}|BE[01]\d{9}|NL\d{9}B\d{2}|",
        r"IT\d{11}|ES[0-9A-Z]\d{7}[0-9A-Z]|CHE\d{9}(?:MWST|TVA|IVA)?|LU\d{8}|DK\d{8}|FI\d{8}|SE\d{10}01|PL\d{10}|",
        r"PT\d{9}|IE\d[0-9A-Z+*]\d{5}[A-W][A-IW]?|CZ\d{8,10}|EL\d{9}|SK\d{10}|SI\d{8}|HU\d{8}|RO\d{6,10}|",
        r"BG\d{9,10}|HR\d{11}|EE\d{9}|LV\d{11}|LT(?:\d{9}|\d{12})|MT\d{8}|CY\d{8}[A-Z]|00\d{10})$",
    ))
});
/// US EIN "99-3923604" and German Steuernummer "12/345/67890": their separators are part of the format.
static TAX_NO_SEPARATED: LazyLock<Regex> = LazyLock::new(|| re(r"^(?:\d{2}-\d{7}|\d{2,3}/\d{3,4}/\d{4,5})$"));
static INVOICE_NO: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(#?)(?:([A-Za-z]{1,5})[-_/.#]?)?(\d+(?:[-_/.]\d+)*)(?:[-/]?[A-Za-z]{1,2})?$"));
static BIC: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}(?:[A-Z0-9]{3})?$"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| re(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"));
static URL: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?-u:\b)(?:https?://|www\.)[^\s]+|(?-u:\b)[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*",
        r"\.(?:com|net|org|info|biz|io|eu|de|fr|ch|at|be|nl|lu|uk|my|sg|us|ca|es|it|co)(?-u:\b)(?:/\S*)?",
    ))
});
/// IBAN-shaped runs are blanked before phone/postcode search: their digit groups look like phone numbers.
static IBAN_LIKE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u:\b)[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?(?-u:\b)"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        // +49 30 1234567, 0049 (0)30 1234567
        r"(?:\+|(?-u:\b)00)[1-9]\d{0,2}[\s./-]?(?:\(0\)[\s./-]?)?\(?\d{1,5}\)?(?:[\s./-]?\d{1,5}){1,5}",
        // (415) 019-5190, 415-019-5190
        r"|\(\d{2,5}\)\s?\d{2,4}(?:[\s.-]?\d{2,4}){1,3}|(?-u:\b)\d{3}[-.]\d{3}[-.]\d{4}(?-u:\b)",
        // 01 23 45 67 89, 030 1234567, 03-1234 5678
        r"|(?-u:\b)0\d(?:[\s.]\d{2}){4}(?-u:\b)|(?-u:\b)0\d{1,4}[\s/-]\d{3,}(?:[\s-]\d{2,})*",
    ))
});
static POSTCODE_EU: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u:\b)(?:(?:[A-Z]{1,2}-)?\d{5}|(?:CH|AT?|BE?|LU?|DK|NO?)-\d{4})\s+(\p{Lu}[\p{L}'.-]+)"));
static POSTCODE_UK: LazyLock<Regex> = LazyLock::new(|| re(r"(?-u:\b)[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}(?-u:\b)"));
static POSTCODE_US: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?-u:\b)(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH",
        r"|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\s+\d{5}(?:-\d{4})?(?-u:\b)",
    ))
});

/// Symbols and codes, longest first so "US$" is stripped before "$".
static CURRENCIES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v: Vec<&str> =
        "€ $ £ ¥ ₹ ₽ ₺ ₩ ₪ ₫ ฿ ₱ US$ A$ C$ S$ HK$ NZ$ R$ CA$ AU$ USD EUR GBP CHF JPY CNY CAD AUD NZD \
        SEK NOK DKK PLN CZK HUF RON BGN MYR SGD HKD INR IDR THB PHP VND KRW ZAR BRL MXN TRY RUB AED SAR RM Rp Fr. \
        SFr. Euro Euros euro euros Eur"
            .split_whitespace()
            .collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.len()));
    v
});

/// Every pattern the text matches. Whole-text patterns (Date, Amount, Percent, Iban, Bic, VatId,
/// InvoiceNumber, Currency, Integer) look at the trimmed text minus a leading ": " (receipts print
/// "Date : 12/03/2024" as two boxes); Postcode, Phone, Email and Url may sit anywhere in it.
pub fn patterns(text: &str) -> Patterns {
    let mut out = Patterns::default();
    let t = text.trim_start_matches(|c: char| c == ':' || c.is_whitespace()).trim_end();
    if t.is_empty() {
        return out;
    }
    let has_digit = t.bytes().any(|b| b.is_ascii_digit());
    // Whole-text values are short; skipping long boxes keeps huge OCR lines cheap.
    let (whole, num) = (t.len() <= 64, t.len() <= 64 && has_digit);
    out.put(Pattern::Date, num && is_date(&fold(t)));
    out.put(Pattern::Amount, num && amount_value(t).is_some());
    out.put(Pattern::Percent, num && PERCENT.is_match(t));
    out.put(Pattern::Iban, num && iban_is_valid(t));
    out.put(Pattern::VatId, num && is_vat_id(t));
    out.put(Pattern::Integer, num && INTEGER.is_match(t));
    out.put(Pattern::Bic, whole && is_bic(t));
    out.put(Pattern::Currency, whole && CURRENCIES.contains(&t));
    let mut scrubbed = Cow::Borrowed(t);
    if t.contains('@') && EMAIL.is_match(t) {
        out.insert(Pattern::Email);
        scrubbed = Cow::Owned(EMAIL.replace_all(t, " ").into_owned());
    }
    if scrubbed.contains('.') && URL.is_match(&scrubbed) {
        out.insert(Pattern::Url);
        scrubbed = Cow::Owned(URL.replace_all(&scrubbed, " ").into_owned());
    }
    if has_digit {
        if IBAN_LIKE.is_match(&scrubbed) {
            scrubbed = Cow::Owned(IBAN_LIKE.replace_all(&scrubbed, " ").into_owned());
        }
        out.put(Pattern::Postcode, has_postcode(&scrubbed));
        let strong = [Pattern::Iban, Pattern::VatId, Pattern::Date, Pattern::Amount];
        out.put(Pattern::Phone, !strong.iter().any(|&p| out.contains(p)) && has_phone(&scrubbed));
        // Invoice numbers are the catch-all shape; any more specific reading wins.
        let winners = [Pattern::Date, Pattern::Amount, Pattern::Percent, Pattern::Phone, Pattern::Iban, Pattern::VatId];
        out.put(Pattern::InvoiceNumber, whole && !winners.iter().any(|&p| out.contains(p)) && is_invoice_number(t));
    }
    out
}

fn is_date(folded: &str) -> bool {
    let num =
        |c: &regex::Captures, i: usize| c.get(i).and_then(|m| m.as_str().trim_start_matches('\'').parse::<u32>().ok());
    let day_month = |d: u32, m: u32| (1..=31).contains(&d) && (1..=12).contains(&m);
    let year_ok = |y: &str| y.len() != 4 || y.parse::<u32>().is_ok_and(|y| (1900..=2099).contains(&y));
    let same_sep = |c: &regex::Captures| c.get(2).map(|m| m.as_str()) == c.get(4).map(|m| m.as_str());
    if let Some(c) = DATE_NUM.captures(folded)
        && let (Some(a), Some(b), Some(y)) = (num(&c, 1), num(&c, 3), c.get(5))
    {
        return same_sep(&c) && (day_month(a, b) || day_month(b, a)) && year_ok(y.as_str());
    }
    if let Some(c) = DATE_ISO.captures(folded)
        && let (Some(y), Some(m), Some(d)) = (c.get(1), num(&c, 3), num(&c, 5))
    {
        return same_sep(&c) && day_month(d, m) && year_ok(y.as_str());
    }
    for re in [&*DATE_DMY, &*DATE_MDY] {
        if let Some(c) = re.captures(folded)
            && let (Some(d), Some(y)) = (num(&c, 1), c.get(2))
        {
            return (1..=31).contains(&d) && year_ok(y.as_str());
        }
    }
    false
}

/// Strips a currency symbol or code from the start (or end) of `s`. A code needs a word boundary
/// so "EURO" does not eat "EUROPA"; symbols need none.
fn strip_currency(s: &str, at_end: bool) -> Option<&str> {
    CURRENCIES.iter().find_map(|c| {
        let (rest, inner_edge) = if at_end {
            s.strip_suffix(c).map(|r| (r, r.chars().next_back()))?
        } else {
            s.strip_prefix(c).map(|r| (r, r.chars().next()))?
        };
        (!c.chars().all(char::is_alphabetic) || !inner_edge.is_some_and(char::is_alphabetic)).then_some(rest)
    })
}

/// Parses an amount as printed ("1 234,50 €", "1.234,50", "$1,234.50", "RM 15.00", "-12.00", "EUR 99")
/// into its value; None if not an amount. An amount has exactly two decimals, a currency, or the
/// German "12,–"; a bare "15" or "1,234" is not one. The decimal separator is whichever of '.' and
/// ',' comes last with exactly two digits after it; the other separators must group by three.
pub fn amount_value(text: &str) -> Option<f64> {
    let mut s = text.trim();
    if s.is_empty() || s.len() > 48 {
        return None;
    }
    let (mut neg, mut cur, mut dash) = (false, false, false);
    if let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        neg = true; // accounting style "(12.00)"
        s = inner.trim();
    }
    // Sign and currency come in either order: "-€12.00", "€ -12.00".
    for _ in 0..2 {
        if let Some(r) = s.strip_prefix(['-', '−', '–']) {
            neg = true;
            s = r.trim_start();
        } else if let Some(r) = s.strip_prefix('+') {
            s = r.trim_start();
        }
        if let Some(r) = strip_currency(s, false) {
            cur = true;
            s = r.trim_start();
        }
    }
    if let Some(r) = strip_currency(s, true) {
        cur = true;
        s = r.trim_end();
    }
    for suffix in [",--", ".--", ",-", ".-", ",–", ".–"] {
        if let Some(r) = s.strip_suffix(suffix) {
            dash = true;
            s = r;
            break;
        }
    }
    if !dash && let Some(r) = s.strip_suffix(['-', '−']).filter(|r| r.ends_with(|c: char| c.is_ascii_digit())) {
        neg = true; // trailing minus of German receipts "12,00-"
        s = r;
    }
    let (value, decimals) = parse_number(s)?;
    (decimals || cur || dash).then_some(if neg { -value } else { value })
}

/// Digits with one kind of thousands separator and optionally a '.' or ',' before exactly two
/// final digits. Returns the value and whether it had decimals.
fn parse_number(s: &str) -> Option<(f64, bool)> {
    let is_sep = |c: char| matches!(c, '.' | ',' | '\'' | '’' | ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}');
    if !s.starts_with(|c: char| c.is_ascii_digit())
        || !s.ends_with(|c: char| c.is_ascii_digit())
        || !s.chars().all(|c| c.is_ascii_digit() || is_sep(c))
    {
        return None;
    }
    let (int, frac, dec_sep) = match s.char_indices().rfind(|&(_, c)| is_sep(c)) {
        Some((i, c)) if matches!(c, '.' | ',') && s.len() - i - 1 == 2 => (&s[..i], &s[i + 1..], Some(c)),
        _ => (s, "", None),
    };
    let mut seps = int.chars().filter(|&c| is_sep(c));
    if let Some(first) = seps.next() {
        if Some(first) == dec_sep || seps.any(|c| c != first) {
            return None;
        }
        let mut groups = int.split(is_sep);
        let lead_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
        if !lead_ok || !groups.all(|g| g.len() == 3) {
            return None;
        }
    }
    let digits: String = int.chars().filter(char::is_ascii_digit).collect();
    if digits.len() > 15 {
        return None; // beyond f64's exact integers, and no invoice total is that large
    }
    let whole = digits.parse::<u64>().ok()? as f64;
    let cents = if frac.is_empty() { 0.0 } else { frac.parse::<u8>().ok()? as f64 / 100.0 };
    Some((whole + cents, dec_sep.is_some()))
}

/// IBAN lengths of the countries we meet; others only get the generic 15..=34 bound.
const IBAN_LENGTHS: &str = "AT20 BE16 BG22 CH21 CY28 CZ24 DE22 DK18 EE20 ES24 FI18 FR27 GB22 GR27 HR21 HU28 IE22 IS26 \
    IT27 LI21 LT20 LU20 LV21 MC27 MT31 NL18 NO15 PL28 PT25 RO24 SE24 SI19 SK24 SM27 TR26";

/// mod-97 check of an IBAN (spaces allowed).
pub fn iban_is_valid(text: &str) -> bool {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    let b = s.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let country = &s[..2];
    let known = IBAN_LENGTHS.split(' ').find(|e| e.starts_with(country));
    if known.is_some_and(|e| e[2..].parse::<usize>().ok() != Some(b.len())) {
        return false;
    }
    // Rearranged (country and check digits moved to the end), letters as 10..35, reduced on the fly.
    let rem = b[4..].iter().chain(&b[..4]).fold(0u32, |rem, &c| {
        let v = if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
        if v < 10 { (rem * 10 + v) % 97 } else { (rem * 100 + v) % 97 }
    });
    rem == 1
}

fn is_vat_id(t: &str) -> bool {
    if TAX_NO_SEPARATED.is_match(t) {
        return true;
    }
    // Printed VAT ids are grouped with spaces, dots or dashes ("CHE-123.456.789 MWST", "DE 123 456 789").
    let mut norm = String::with_capacity(t.len());
    for c in t.chars() {
        match c {
            c if c.is_ascii_alphanumeric() => norm.push(c.to_ascii_uppercase()),
            '.' | '-' => {}
            c if c.is_whitespace() => {}
            _ => return false,
        }
    }
    VAT_EU.is_match(&norm)
}

/// Countries accepted in a BIC: a short list on purpose, since every extra code lets more
/// upper-case words through ("CUSTOMER" would be Oman, "PLATINUM" India).
const BIC_COUNTRIES: &str = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE GB CH LI \
    NO IS MC SM US CA MX BR AU NZ JP CN HK SG MY TH ID PH AE TR ZA";

fn is_bic(t: &str) -> bool {
    let Some(c) = BIC.captures(t) else { return false };
    if !c.get(1).is_some_and(|cc| BIC_COUNTRIES.split(' ').any(|k| k == cc.as_str())) {
        return false;
    }
    if t.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    // All-letter BICs exist ("BNPAFRPP") but so do all-letter words; these rules drop the common
    // ones ("HANDLING", "COMMISSIONS") at the cost of all-letter 11-char BICs without an XXX branch.
    if t.len() == 11 { t.ends_with("XXX") } else { !t.ends_with("ING") }
}

fn is_invoice_number(t: &str) -> bool {
    let Some(c) = INVOICE_NO.captures(t) else { return false };
    let hash = c.get(1).is_some_and(|m| !m.as_str().is_empty());
    let prefix = c.get(2).map(|m| m.as_str().to_ascii_lowercase());
    let Some(body) = c.get(3).map(|m| m.as_str()) else { return false };
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    if digits < 3 {
        return false;
    }
    match prefix.as_deref() {
        // Caption words, not number prefixes: "No.12345" is a caption and its value.
        Some("n" | "no" | "nr" | "tel" | "fax" | "ust" | "vat" | "gst" | "tva" | "mwst" | "page") => false,
        Some(_) => true,
        None if hash => true,
        // Bare numbers: long enough not to be a count, and no '.' that would make it a decimal.
        None if body.bytes().all(|b| b.is_ascii_digit()) => digits >= 5,
        None => !body.contains('.') && body.split(['-', '/', '_']).next().is_some_and(|g| g.len() >= 3),
    }
}

fn has_postcode(s: &str) -> bool {
    // "15000 EUR" and "10000 Stk" are amounts and quantities, not a postcode and a town.
    const NOT_TOWNS: [&str; 9] = ["EUR", "Euro", "Euros", "USD", "CHF", "GBP", "MYR", "Stk", "Stück"];
    POSTCODE_EU.captures_iter(s).any(|c| c.get(1).is_some_and(|w| !NOT_TOWNS.contains(&w.as_str())))
        || POSTCODE_UK.is_match(s)
        || POSTCODE_US.is_match(s)
}

fn has_phone(s: &str) -> bool {
    PHONE.find_iter(s).any(|m| (8..=15).contains(&m.as_str().bytes().filter(u8::is_ascii_digit).count()))
}

/// A coarse shape of the text for features: letters → 'a'/'A' (lower/upper), digits → '9', other
/// chars kept, runs longer than 2 collapsed to 2 ("INV-478434" → "AA-99", "12,50 €" → "99,99 €",
/// "Total:" → "Aaa:"). Max 12 chars. The text is trimmed and all whitespace maps to ' ', so NBSP
/// and thin spaces shape alike.
pub fn shape(text: &str) -> String {
    let mut out = String::new();
    let (mut prev, mut run, mut len) = ('\0', 0, 0);
    for c in text.trim().chars() {
        let s = match c {
            c if c.is_numeric() => '9',
            c if c.is_uppercase() => 'A',
            c if c.is_alphabetic() => 'a',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        run = if s == prev { run + 1 } else { 1 };
        prev = s;
        if run <= 2 {
            out.push(s);
            len += 1;
            if len == 12 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test tables are `|`-separated strings: one line per case would triple the file's length.
    fn items(list: &str) -> impl Iterator<Item = &str> {
        list.split('|').map(str::trim).filter(|s| !s.is_empty())
    }

    fn check(p: Pattern, yes: &str, no: &str) {
        for t in items(yes) {
            assert!(patterns(t).contains(p), "{t:?} should be {p:?}, got {:?}", patterns(t).iter().collect::<Vec<_>>());
        }
        for t in items(no) {
            assert!(!patterns(t).contains(p), "{t:?} should not be {p:?}");
        }
    }

    #[test]
    fn dates() {
        check(
            Pattern::Date,
            "03/11/2024 | 3.11.2024 | 03-11-24 | 2024-11-14 | 3. November 2024 | 14 Nov 2024 | Nov 14, 2024 | \
             03 nov. 2024 | 1er mars 2024 | 12 März 2024 | 12 Mär 2024 | 5 Mrz. 2024 | 28/12/2017 10:17:32 PM | \
             12/28/2017 | : 12/28/2017 | 3 févr. 2024 | 15 août 2024 | 2 déc. 2023 | 1. Dezember 2023 | 7 janv. 2024 | \
             Montag, 3. Juni 2024 | Lundi 4 mars 2024 | September 3rd, 2024 | 14-Nov-2024 | 2024-11-14T10:00:00 | \
             03.11.2024 14h30 | Mo, 3.11.2024 | 4 juil. 2024 | 9 Okt 2024",
            "2024 | +49 30 1234567 | 01 23 45 67 89 | 1.234,50 | 12.50 | 13/13/2024 | 2024-13-01 | 3.11-2024 | \
             12.34.56 | Nov | 14 Novembre | 12 Monkeys 2024 | 03/11/3024 | 32 Jan 2024 | 10:17 | 12.03.",
        );
    }

    #[test]
    fn amounts() {
        let cases = "1 234,50 € = 1234.5 | 1.234,50 = 1234.5 | 1,234.50 = 1234.5 | $1,234.50 = 1234.5 | \
            $125,001.73 = 125001.73 | € 99,00 = 99 | RM 15.00 = 15 | 15.00 = 15 | -12.00 = -12 | -12,00 = -12 | \
            12,50 EUR = 12.5 | EUR 99 = 99 | CHF 1'234.50 = 1234.5 | 1.234.567,89 = 1234567.89 | 12,00- = -12 | \
            (45.10) = -45.1 | 25,– € = 25 | €-3,50 = -3.5 | 0.99 = 0.99 | 1 234 € = 1234 | US$ 5.00 = 5";
        for (t, v) in items(cases).filter_map(|c| c.rsplit_once(" = ")) {
            let (got, want) = (amount_value(t), v.parse::<f64>().ok());
            assert!(got.zip(want).is_some_and(|(g, w)| (g - w).abs() < 1e-9), "{t:?}: {got:?} != {want:?}");
            assert!(patterns(t).contains(Pattern::Amount), "{t:?}");
        }
        assert_eq!(amount_value("1\u{202f}234,50\u{a0}€"), Some(1234.5));
        assert_eq!(amount_value("1\u{a0}234\u{a0}567,89"), Some(1234567.89));
        let no =
            "15 | 2024 | 12,5 | 1,234 | 3.11.2024 | 19 % | abc | € | 1,23,45 | 1.234,567 | EUROPA 12 | 1 234,50 € TTC";
        for t in items(no).chain([""]) {
            assert_eq!(amount_value(t), None, "{t:?}");
            assert!(!patterns(t).contains(Pattern::Amount), "{t:?}");
        }
    }

    #[test]
    fn percent_integer_currency() {
        check(Pattern::Percent, "19 % | 20% | 7,7 % | 5.5% | -2 % | 19,00 %", "19 | MwSt. 19 % | % | 1234 %");
        check(Pattern::Integer, "9 | 12 | 123456 | 42 ", "1234567 | 12.5 | 1 234 | -3 | twelve");
        assert!(patterns(" 42 ").contains(Pattern::Integer));
        check(
            Pattern::Currency,
            "EUR | € | USD | $ | GBP | £ | CHF | RM | MYR | Euro",
            "RM 15.00 | Europe | eur | Currency: EUR | EURO2024",
        );
    }

    #[test]
    fn ibans() {
        for t in ["DE89 3704 0044 0532 0130 00", "FR14 2004 1010 0505 0001 3M02 606", "GB29 NWBK 6016 1331 9268 19"] {
            assert!(iban_is_valid(t) && iban_is_valid(&t.replace(' ', "")) && iban_is_valid(&t.to_lowercase()), "{t}");
            let p = patterns(t);
            assert!(p.contains(Pattern::Iban) && !p.contains(Pattern::Phone) && !p.contains(Pattern::InvoiceNumber));
        }
        let bad = "DE89 3704 0044 0532 0130 01 | DE89 3704 0044 0532 0130 | GB29 NWBK 6016 1331 9268 18 | DE89 | XX | \
            DE89 3704 0044 0532 0130 00 1";
        assert!(items(bad).chain([""]).all(|t| !iban_is_valid(t)));
        // Its digit groups look like a phone number; inside a caption box they must not count as one.
        assert!(!patterns("IBAN: DE89 3704 0044 0532 0130 00").contains(Pattern::Phone));
    }

    #[test]
    fn bics_and_vat_ids() {
        check(
            Pattern::Bic,
            "COBADEFFXXX | BNPAFRPP | DEUTDEFF | BARCGB22 | MBBEMYKL | DEUTDEDB110",
            "HANDLING | CUSTOMER | SUBTOTAL | PLATINUM | QUANTITY | COMMISSIONS | bnpafrpp | BNPA FRPP | ABCDXXYY",
        );
        check(
            Pattern::VatId,
            "DE123456789 | DE 123 456 789 | FR 12 345678901 | FRXX345678901 | GB123 4567 89 | GB123456789012 | \
             GBGD123 | ATU12345678 | BE0123456789 | NL123456789B01 | IT12345678901 | ESX1234567X | \
             CHE-123.456.789 MWST | CHE-123.456.789 | 99-3923604 | 000123456789 | 12/345/67890",
            "DE12345678 | 12345678901 | FR123 | 123456789 | DE89 3704 0044 0532 0130 00 | DE123456789! | 12/03/2024",
        );
    }

    #[test]
    fn invoice_numbers() {
        check(
            Pattern::InvoiceNumber,
            "INV-478434 | RE-2024-0117 | F2024-00123 | FA-12345 | 2024/0042 | #10023 | INV/2024/117 | R240117 | \
             12345678 | INV-2024-0001",
            "12/03/2024 | 15.00 | No. 12345 | No.12345 | 12 | 2024 | +49 30 1234567 | 1.234 | AB-12 | DE123456789 | \
             INV 478434 x | 12/345/67890",
        );
    }

    #[test]
    fn contained_patterns() {
        check(
            Pattern::Postcode,
            "75008 Paris | 10115 Berlin | D-10115 Berlin | CH-8001 Zürich | SW1A 1AA | London EC1A 1BB | \
             San Francisco, CA 94103 | Austin TX 78701 | 40170 SHAH ALAM | No. 12, Jalan SS 2/24, 47300 Petaling Jaya",
            "15000 EUR | 12345 | 1234 Main Street | Paris | DE 123 456 789 | INV-478434",
        );
        check(
            Pattern::Phone,
            "+49 30 1234567 | (415) 019-5190 | 01 23 45 67 89 | Tel: 03-1234 5678 | Tél. +33 1 23 45 67 89 | \
             030 12345678 | 415-019-5190 | 0049 30 1234567",
            "12.03.2024 | RE-2024-0117 | 1 234 567,89 | 2024-11-14 | DE 123 456 789 | F2024-00123 | +49 12 | \
             10115 Berlin | GST Reg No : 000123456789",
        );
        check(
            Pattern::Email,
            "billing@acme.de | Mail: j.doe+inv@mail.example.co.uk",
            "@acme | billing at acme.de | a@b",
        );
        check(
            Pattern::Url,
            "www.acme.com | https://acme.example/invoices?id=3 | Web: acme.de | shop.acme.fr/cgv",
            "billing@acme.de | z.B. | 1.234,50 | S.A. | Acme Inc.",
        );
    }

    #[test]
    fn patterns_set() {
        let mut p = Patterns::default();
        assert!(p.is_empty());
        p.insert(Pattern::Url);
        p.insert(Pattern::Date);
        assert!(p.contains(Pattern::Url) && !p.contains(Pattern::Amount) && !p.is_empty());
        assert_eq!(p.iter().collect::<Vec<_>>(), [Pattern::Date, Pattern::Url]);
        assert_eq!(patterns("15").iter().collect::<Vec<_>>(), [Pattern::Integer]);
        assert_eq!(patterns("Total TTC"), Patterns::default());
        assert_eq!(
            (Pattern::ALL.len(), Pattern::Integer.as_str(), Cue::ALL.len(), Cue::VatId.as_str()),
            (13, "integer", 22, "vat_id")
        );
    }

    #[test]
    fn cue_keywords() {
        let cases = "Invoice No. = invoice_number | Rechnungsnr. = invoice_number | Rechnung Nr. = invoice_number | \
            Facture n° = invoice_number | N° de facture = invoice_number | Numéro de facture = invoice_number | \
            Beleg-Nr. = invoice_number | Invoice # = invoice_number | Invoice Date = invoice_date | \
            Date d’émission = invoice_date | Émise le = invoice_date | Datum der Rechnung = invoice_date | \
            Due Date = due_date | Fällig am = due_date | Date d'échéance = due_date | À payer avant le = due_date | \
            DATE = date | Datum = date | Lieferdatum = date | Invoice Date / Due Date = invoice_date due_date | \
            Total HT = subtotal | Total net = subtotal | Sub-total = subtotal | Zwischensumme = subtotal | \
            Total TTC = total | Net à payer = total | Gesamtbetrag = total | Amount due = total | \
            Balance Due = total | Total incl. GST = total tax | Total Qty = quantity | Total items = quantity | \
            Total TVA = tax | Netto = subtotal | Brutto = total | U/P = unit_price | Stunden = quantity | \
            MwSt. 19 % = tax | TAX INVOICE = | USt-IdNr. = vat_id | N° TVA intra. = vat_id | VAT Reg No = vat_id | \
            EIN = vat_id | Ein Kunde = customer | St.-Nr. = vat_id | BIC/SWIFT = bic | IBAN = iban | \
            Bill to = customer | Facturé à = customer | Rechnungsempfänger = customer | N° client = customer | \
            Customer Service = | Verkäufer = vendor | Währung = currency | Désignation = description | \
            Qté = quantity | Prix unitaire = unit_price | P.U. HT = unit_price | E-Preis = unit_price | \
            Prix total = line_amount | Betrag = line_amount | Tél. = phone | E-Mail = email | Anschrift = address | \
            Bankverbindung = bank | Coordonnées bancaires = bank | Payment details = bank | Deutsche Bank = | \
            ACME TRADING SDN BHD = company | Muster GmbH & Co. KG = company | Dupont S.A. = company | Hotel Berlin = | \
            it's a pleasure = | 5 KG = | Subtotals = | Invoice =";
        for (t, want) in items(cases).filter_map(|c| c.split_once(" =")) {
            let got: Vec<&str> = cues(t).into_iter().map(Cue::as_str).collect();
            assert_eq!(got.join(" "), want.trim(), "{t:?}");
        }
        assert!(cues("").is_empty());
        // A misspelt cue name in the table would silently turn its keywords into stop phrases.
        for (name, _) in CUE_WORDS.lines().filter_map(|l| l.split_once('=')) {
            assert!(name.trim() == "none" || Cue::ALL.iter().any(|c| c.as_str() == name.trim()), "{name}");
        }
        assert!(Cue::ALL.iter().all(|&c| KEYWORDS.0.iter().any(|k| k.cue == Some(c))));
        // The generic Date gives way to a specific one; a colon ends a caption ("net" is not "Total net").
        assert_eq!(cues("Datum / Fällig am"), [Cue::DueDate]);
        assert_eq!(cues("Total: net 30 days"), [Cue::Total]);
    }

    #[test]
    fn captions() {
        let cases = "Invoice No: INV-123 => invoice_number INV-123 | \
            Invoice No. INV-478434 => invoice_number INV-478434 | Rechnungsnr. 2024-0117 => invoice_number 2024-0117 | \
            Facture N° F2024-00123 => invoice_number F2024-00123 | Total TTC 1 234,50 € => total 1 234,50 € | \
            Total TTC : 1 234,50 € => total 1 234,50 € | Total: -12,00 => total -12,00 | \
            Total - 12,00 => total 12,00 | Date: 12/03/2024 => date 12/03/2024 | \
            DATE : 12/28/2017 => date 12/28/2017 | USt-IdNr.: DE123456789 => vat_id DE123456789 | \
            Échéance : 12/04/2024 => due_date 12/04/2024 | Fälligkeitsdatum 12.03.2024 => due_date 12.03.2024 | \
            Währung: EUR => currency EUR | Kunde Nr. 4711 => customer 4711 | \
            Bill to: Acme GmbH => customer Acme GmbH | GST ID: 000123456789 => vat_id 000123456789 | \
            MwSt. 19 % => tax 19 % | Tél. : 01 23 45 67 89 => phone 01 23 45 67 89 | \
            N° client : C-10023 => customer C-10023 | (GST ID No: 000123456789) => vat_id 000123456789 | \
            BIC: COBADEFFXXX => bic COBADEFFXXX | Date d'émission : 3 mars 2024 => invoice_date 3 mars 2024 | \
            Total => | Total (EUR) => | Payment due upon receipt => | Gesamtbetrag => | Total amount due => | \
            Date Due => | Total: => | Acme GmbH => | 12,00 Total => | Tax Invoice 123 => | Invoice: INV-77 => | \
            Bankverbindung Commerzbank => bank Commerzbank | Coordonnées bancaires BNP Paribas => bank BNP Paribas | \
            Payment details: Wells Fargo => bank Wells Fargo | Deutsche Bank => | Bank of America => | \
            Volksbank Würzburg => | Bankverbindung => | \
            TVA à 20 % => tax 20 % | VAT at 20% => tax 20% | GST @6% => tax 6% | MwSt. zu 19 % => tax 19 % | \
            Adresse de facturation => | Adresse d'expédition => | Bill to: de Vries BV => customer de Vries BV | \
            Date de facture : 12/03/2024 => invoice_date 12/03/2024 | Datum der Lieferung: 3.3.2024 => date 3.3.2024 | Date of issue: 3 March 2024 => invoice_date 3 March 2024 | \
            TVA à => | zzgl. MwSt. 19% => tax 19% | inkl. MwSt. 7 % => tax 7 % | zzgl. MwSt. => | \
            plus VAT 20% => tax 20% | \
            T: 020 4657 9939 => phone 020 4657 9939 | T : (415) 847-3630 => phone (415) 847-3630 | \
            M: +44 7700 900123 => phone +44 7700 900123 | F: 0221 123 456 => phone 0221 123 456 | \
            E: compta@blue.com => email compta@blue.com | T. Müller GmbH => | T 020 4657 9939 => | \
            t: 020 4657 9939 => | T: 12 => | E: 12 rue Victor Hugo => | M: Schmidt => ";
        for (t, want) in items(cases).filter_map(|c| c.split_once(" =>")) {
            let got = split_caption(t).map(|(c, v)| format!("{} {v}", c.as_str())).unwrap_or_default();
            assert_eq!(got, want.trim(), "{t:?}");
        }
        assert_eq!(split_caption(""), None);
        for (t, want) in [
            ("BIC:", Some(Cue::Bic)),
            ("VAT Reg. No.:", Some(Cue::VatId)),
            ("IBAN :", Some(Cue::Iban)),
            ("Telefon", Some(Cue::Phone)),
            ("Total", Some(Cue::Total)),
            ("BIC: COBADEFFXXX", None),
            ("Acme GmbH", None),
            ("Tax Invoice", None),
            ("Total (EUR)", None),
            ("Thank you", None),
            ("", None),
        ] {
            assert_eq!(whole_caption(t), want, "{t:?}");
        }
        // The value is a slice of the input: check the byte offsets survive multi-byte captions.
        let t = "Fälligkeitsdatum: 1. März 2024";
        assert_eq!(split_caption(t).map(|(_, v)| v.as_ptr() as usize - t.as_ptr() as usize), Some(19));
    }

    #[test]
    fn a_second_caption_after_a_value_is_found_where_it_starts() {
        for (t, want) in [
            ("(415) 733-3440 EIN: 12-4226835", Some("EIN: 12-4226835")),
            ("IE61 BOFI 3045 3557 2078 71 SWIFT: AIBKIE55XXX", Some("SWIFT: AIBKIE55XXX")),
            ("FR45 5000 7566 3081 5788 5799 603 BIC:SOGEFR36XXX", Some("BIC:SOGEFR36XXX")),
            ("Am Mühlbach 30 Telefon: +49 221 623199", Some("Telefon: +49 221 623199")),
            // the earliest of two
            ("DE02 7098 BIC: GENODE30XXX Tel: +49 30 123", Some("BIC: GENODE30XXX Tel: +49 30 123")),
            // a caption closed by a colon that ends the text: its value is the next cell
            ("12-4226835 EIN:", Some("EIN:")),
            ("DE92 2204 1852 5512 9547 27 BIC:", Some("BIC:")),
            ("FR45 5000 7566 3081 5788 5799 603 BIC :", Some("BIC :")),
            // a caption leading the line is split_caption's; words of a value without a
            // colon are not captions here, nor is a colon that closes no caption
            ("BIC: COBADEFFXXX", None),
            ("Bankverbindung Deutsche Bank", None),
            ("Zahlbar bis 14.03.2024 Total", None),
            ("DE92 2204 1852 5512 9547 27 BIC", None),
            ("Lieferung 12:30", None),
            // a caption of several words is one caption, and words are no value
            ("Payment due:", None),
            ("Invoice Date:", None),
            ("Date d'échéance :", None),
            ("E-mail :", None),
            ("Acme Ltd Tel:", None),
            ("", None),
        ] {
            assert_eq!(later_caption(t).and_then(|at| t.get(at..)), want, "{t:?}");
        }
    }

    #[test]
    fn fold_and_shape() {
        assert_eq!(fold("Fälligkeit Größe ÉCHÉANCE Nº d’émission"), "falligkeit grosse echeance n° d'emission");
        assert_eq!(fold("Cafe\u{301} 1\u{a0}234,50 €"), "cafe 1 234,50 €");
        let shapes =
            "INV-478434 = AA-99 | 12,50 € = 99,99 € | Total: = Aaa: | Größe = Aaa | a1b2c3d4e5f6g7h8 = a9a9a9a9a9a9";
        for (t, want) in items(shapes).filter_map(|c| c.split_once(" = ")) {
            assert_eq!(shape(t), want, "{t:?}");
        }
        assert_eq!(shape("  abcdefghij 1234567890 ABC  "), "aa 99 AA");
        assert_eq!(shape(""), "");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let long = "1".repeat(10_000);
        let mixed = "Total TTC 1 234,50 € ".repeat(500);
        let hostile = [
            "",
            " ",
            "\t\n ",
            "🧾",
            "💶 12,00 €",
            "e\u{301}\u{301}\u{301}",
            "\u{0300}",
            "İstanbul",
            "ẞ",
            "ﬁ",
            "N°",
            "#",
            "Total TTC",
            ":",
            "::::",
            "-",
            "(",
            "()",
            "(12",
            "€-",
            ",--",
            "00",
            "+",
            "%",
            "DE89",
            "\u{202f}",
            "Ａ１２",
            "١٢٣",
            "T\u{0}otal",
            "Nº\u{301}:",
            &long,
            &mixed,
        ];
        for t in hostile {
            let _ = (patterns(t), cues(t), amount_value(t), iban_is_valid(t), fold(t));
            assert!(split_caption(t).is_none_or(|(_, v)| !v.is_empty()));
            assert!(shape(t).chars().count() <= 12);
            // a later caption starts on a character boundary strictly inside the line
            assert!(later_caption(t).is_none_or(|at| at > 0 && at < t.len() && t.is_char_boundary(at)), "{t:?}");
        }
        assert!(patterns(&format!("{long} Tel +49 30 1234567")).contains(Pattern::Phone));
        // Every 3-piece mix of length-changing folds (ß→ss, İ→i, dropped accents) and captions: the
        // caption value must stay a slice of the input.
        let pieces =
            ["Straße", "İ", "e\u{301}", "N°", "Nº", " ", ":", "Total", "Fälligkeit", "12,50 €", "ẞ", "(", "-", "🧾"];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let t = format!("{a}{b}{c}");
                    let _ = (patterns(&t), cues(&t), amount_value(&t), shape(&t));
                    assert!(later_caption(&t).is_none_or(|at| t.is_char_boundary(at)), "{t:?}");
                    if let Some((_, v)) = split_caption(&t) {
                        let offset = v.as_ptr() as usize - t.as_ptr() as usize;
                        assert_eq!(t.get(offset..offset + v.len()), Some(v), "{t:?}");
                    }
                }
            }
        }
    }
}
