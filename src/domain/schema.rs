//! The label schema: field labels with colour, hotkey and annotation guideline.

use serde::{Deserialize, Serialize};

use super::LabelId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub id: LabelId,
    /// Machine name, e.g. `total_amount`; unique in a workspace.
    pub name: String,
    /// sRGB colour the boxes of this label are drawn in.
    pub color: [u8; 3],
    /// Key that assigns this label to the selected boxes: "1".."9", "0", "shift+1"…
    pub hotkey: Option<String>,
    /// What to box and what text to type, shown to annotators on F1.
    pub guideline: String,
    /// Order in the palette.
    pub position: i64,
    /// Retired: stays on the boxes that have it (and in exports), but cannot be given anew.
    /// (Absent in edit logs written before schema 8.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

/// The document tags a workspace uses: each tag with the values it may take, in the order
/// they are offered. A document carries at most one value per tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagSchema {
    pub tags: Vec<TagDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagDef {
    pub name: String,
    pub values: Vec<String>,
}

impl Default for TagSchema {
    /// Document type, language and scan quality: what teams filter and balance datasets by.
    fn default() -> Self {
        let def = |name: &str, values: &[&str]| TagDef {
            name: name.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        TagSchema {
            tags: vec![
                def("document_type", &["invoice", "credit_note", "receipt", "delivery_note", "other"]),
                def("language", &["de", "en", "es", "fr", "it", "nl", "pl", "pt", "other"]),
                def("scan_quality", &["good", "fair", "poor"]),
            ],
        }
    }
}

impl TagSchema {
    /// Why `tags` does not fit the schema (an unknown tag or value), if it does not.
    pub fn problem(&self, tags: &std::collections::BTreeMap<String, String>) -> Option<String> {
        for (name, value) in tags {
            let Some(def) = self.tags.iter().find(|t| &t.name == name) else {
                let names: Vec<&str> = self.tags.iter().map(|t| t.name.as_str()).collect();
                return Some(format!("'{name}' is not a document tag of this workspace ({})", names.join(", ")));
            };
            if !def.values.contains(value) {
                return Some(format!("'{value}' is not a value of {name} ({})", def.values.join(", ")));
            }
        }
        None
    }
}

/// A crop pinned to a label's guideline by a lead: "this is one" (`good`) or "this is not".
/// The crop is kept as PNG bytes so the guide does not depend on the page's file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelExample {
    pub id: super::ExampleId,
    pub label: LabelId,
    /// The document it was cut from (None once that document is gone from the workspace).
    pub doc: Option<super::DocId>,
    /// Where on that page, in its pixels.
    pub rect: super::Rect,
    /// The box's text when it was pinned.
    pub text: String,
    pub good: bool,
    /// Why it is (not) one, shown under the crop.
    pub note: String,
    #[serde(with = "hex_bytes")]
    pub crop_png: Vec<u8>,
    pub author: Option<super::UserId>,
    pub created_ms: super::TimestampMs,
}

/// Bytes as lower-case hex in the edit log (JSON has no byte strings).
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

impl Label {
    /// "total_amount" → "Total amount".
    pub fn display_name(&self) -> String {
        let mut s = self.name.replace('_', " ");
        if let Some(first) = s.get(0..1) {
            let upper = first.to_uppercase();
            s.replace_range(0..1, &upper);
        }
        s
    }
}

/// (name, colour, guideline) of the default invoice schema, in palette order.
const DEFAULT_LABELS: &[(&str, [u8; 3], &str)] = &[
    (
        "invoice_number",
        [230, 25, 75],
        "Box the invoice number only, not its caption ('Invoice No.', 'Rechnungsnr.', 'N° de facture'). Type it exactly as printed, keeping letters, dashes and slashes; do not add or drop leading zeros.",
    ),
    (
        "invoice_date",
        [60, 180, 75],
        "Box the date the invoice was issued, without its caption. Type it exactly as printed (e.g. '03/11/2024', '3. November 2024', '03 nov. 2024'); do not reformat it.",
    ),
    (
        "due_date",
        [0, 130, 200],
        "Box the payment due date, without its caption ('Due date', 'Fällig am', 'Échéance'). Type it as printed. If only a payment term is printed ('30 days net'), box nothing.",
    ),
    (
        "vendor_name",
        [245, 130, 48],
        "Box the legal name of the company that issued the invoice, usually in the header or letterhead. One box per line if the name wraps. Logos without text are not boxed.",
    ),
    (
        "vendor_address",
        [145, 30, 180],
        "Box the issuer's postal address, one box per printed line (street, postcode and city, country). Type each line as printed.",
    ),
    (
        "vendor_tax_id",
        [70, 240, 240],
        "Box the issuer's VAT or tax identifier (e.g. 'DE123456789', 'FR 12 345678901', 'GB123 4567 89') without its caption. Type it exactly, keeping spaces as printed.",
    ),
    (
        "customer_name",
        [240, 50, 230],
        "Box the name of the billed customer (person or company) in the 'Bill to' / 'Rechnungsempfänger' / 'Facturé à' block, without the caption.",
    ),
    (
        "customer_address",
        [210, 245, 60],
        "Box the customer's postal address, one box per printed line. Delivery addresses that differ from the billing address are labelled other_text.",
    ),
    (
        "currency",
        [250, 190, 212],
        "Box a standalone currency code or symbol that applies to the whole document ('EUR', 'Currency: GBP'). Symbols attached to an amount stay inside that amount's box instead.",
    ),
    (
        "subtotal",
        [0, 128, 128],
        "Box the net amount before tax, without its caption ('Subtotal', 'Zwischensumme', 'Total HT'). Type it exactly as printed, with its currency sign and separators ('1 234,50 €').",
    ),
    (
        "tax_rate",
        [220, 190, 255],
        "Box the tax percentage only ('20 %', '19%'), not the caption 'VAT' or 'MwSt.'. Several rates: one box each.",
    ),
    (
        "tax_amount",
        [170, 110, 40],
        "Box the tax amount without its caption. Type it exactly as printed, with currency sign and separators.",
    ),
    (
        "total_amount",
        [200, 0, 0],
        "Box the amount due only, not the label 'Total:' / 'Gesamtbetrag' / 'Total TTC'; type it exactly as printed ('1 234,50 €'). If the total is printed twice, box the one in the totals block.",
    ),
    (
        "iban",
        [128, 128, 0],
        "Box the IBAN without its caption. Type it as printed, keeping the groups of four separated by the spaces printed on the page.",
    ),
    (
        "line_item_description",
        [0, 0, 128],
        "Box the description of one line item, one box per printed line of that cell. Type it as printed, including article numbers that are part of the description.",
    ),
    (
        "line_item_quantity",
        [255, 140, 90],
        "Box the quantity of one line item, with its unit if printed in the same cell ('3', '2,5 h', '10 pcs').",
    ),
    (
        "line_item_unit_price",
        [90, 160, 255],
        "Box the unit price of one line item, without the column header. Type it exactly as printed.",
    ),
    (
        "line_item_amount",
        [20, 200, 140],
        "Box the line total of one line item (quantity × unit price as printed), without the column header.",
    ),
    (
        "other_text",
        [150, 150, 150],
        "Any other printed text worth keeping for OCR training (captions, headers, notes, footers). Use it for text that carries no field above; never for handwriting you cannot read.",
    ),
];

/// The hotkey of the n-th label (0-based): 1..9, 0, then shift+1..shift+9, shift+0.
pub fn default_hotkey(position: usize) -> Option<String> {
    const DIGITS: [&str; 10] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"];
    match position {
        0..=9 => Some(DIGITS[position].to_string()),
        10..=19 => Some(format!("shift+{}", DIGITS[position - 10])),
        _ => None,
    }
}

/// The schema every new workspace starts with (ids are assigned by the store).
pub fn default_invoice_schema() -> Vec<Label> {
    DEFAULT_LABELS
        .iter()
        .enumerate()
        .map(|(i, (name, color, guideline))| Label {
            id: LabelId(0),
            name: (*name).to_string(),
            color: *color,
            hotkey: default_hotkey(i),
            guideline: (*guideline).to_string(),
            position: i as i64,
            retired: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn default_schema_has_the_invoice_fields_with_unique_names_hotkeys_and_colours() {
        let labels = default_invoice_schema();
        assert_eq!(labels.len(), 19);
        for wanted in ["invoice_number", "total_amount", "iban", "line_item_amount", "other_text"] {
            assert!(labels.iter().any(|l| l.name == wanted), "{wanted} missing");
        }
        let names: HashSet<_> = labels.iter().map(|l| &l.name).collect();
        let keys: HashSet<_> = labels.iter().map(|l| l.hotkey.clone().unwrap()).collect();
        let colours: HashSet<_> = labels.iter().map(|l| l.color).collect();
        assert_eq!(names.len(), 19);
        assert_eq!(keys.len(), 19);
        assert_eq!(colours.len(), 19);
        assert!(labels.iter().all(|l| l.guideline.len() > 60));
    }

    #[test]
    fn display_name_is_readable() {
        let l = &default_invoice_schema()[12];
        assert_eq!(l.display_name(), "Total amount");
    }
}
