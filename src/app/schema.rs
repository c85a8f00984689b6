//! The label schema as leads shape it: add a label, rename it, recolour it, give it a hotkey,
//! move it in the palette, retire it, merge it into another. Every operation is checked here,
//! then written as one edit of the log (doc-less, action `label_*`), so the schema has a
//! history of its own: undone and redone step by step, and versioned (the version is the
//! number of schema edits, recorded by exports).

use std::collections::HashMap;

use crate::domain::{AnnId, Change, Edit, EditId, EditKind, Label, LabelId, Role, UndoStacks};
use crate::store::{NewEdit, Store, StoreError};

use super::commands::{CommandError, Session};

/// The longest label name accepted (names end up as class names in exported datasets).
pub const MAX_NAME_CHARS: usize = 64;

/// One change a lead makes to the schema.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaOp {
    /// A new label at the end of the palette. Without a colour it gets one unlike the others'.
    Add {
        name: String,
        color: Option<[u8; 3]>,
        hotkey: Option<String>,
        guideline: String,
    },
    Rename {
        label: LabelId,
        to: String,
    },
    SetColor {
        label: LabelId,
        color: [u8; 3],
    },
    /// `None` takes the hotkey away.
    SetHotkey {
        label: LabelId,
        hotkey: Option<String>,
    },
    SetGuideline {
        label: LabelId,
        text: String,
    },
    /// Moves a label to this 0-based place in the palette; the others close up.
    Move {
        label: LabelId,
        to: usize,
    },
    /// The label stays on the boxes that have it but can no longer be given; its hotkey is freed.
    Retire {
        label: LabelId,
    },
    /// A retired label can be given again (its old hotkey is not restored: it may be taken).
    Reinstate {
        label: LabelId,
    },
    /// Every box (and gold answer) labelled `from` is labelled `into`, and `from` is removed.
    Merge {
        from: LabelId,
        into: LabelId,
    },
}

impl SchemaOp {
    /// The edit log's action name.
    pub fn action(&self) -> &'static str {
        match self {
            SchemaOp::Add { .. } => "label_add",
            SchemaOp::Rename { .. } => "label_rename",
            SchemaOp::SetColor { .. } => "label_color",
            SchemaOp::SetHotkey { .. } => "label_hotkey",
            SchemaOp::SetGuideline { .. } => "label_guideline",
            SchemaOp::Move { .. } => "label_move",
            SchemaOp::Retire { .. } => "label_retire",
            SchemaOp::Reinstate { .. } => "label_reinstate",
            SchemaOp::Merge { .. } => "label_merge",
        }
    }
}

/// Whether an edit of the log changed the schema (the actions of [`SchemaOp`], the older
/// `edit_label`, and their undos and redos).
pub fn is_schema_action(action: &str) -> bool {
    action.starts_with("label_") || action == "edit_label"
}

/// "Shift+3", "shift+3", "S+3" → "shift+3"; "3" → "3". Hotkeys are the digit keys, alone or
/// with Shift (letters are the canvas's own shortcuts).
pub fn normalise_hotkey(key: &str) -> Result<String, String> {
    let k = key.trim().to_lowercase().replace(' ', "");
    let (shift, digit) = match k.split_once('+') {
        Some(("shift" | "s", d)) => (true, d),
        Some(_) => return Err(format!("'{key}' is not a label hotkey: use a digit 0–9, or shift+digit")),
        None => (false, k.as_str()),
    };
    if digit.len() != 1 || !digit.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("'{key}' is not a label hotkey: use a digit 0–9, or shift+digit"));
    }
    Ok(if shift { format!("shift+{digit}") } else { digit.to_string() })
}

/// "#1f77b4" or "1f77b4" → [31, 119, 180].
pub fn parse_color(s: &str) -> Result<[u8; 3], String> {
    let h = s.trim().trim_start_matches('#');
    let ok = h.len() == 6 && h.chars().all(|c| c.is_ascii_hexdigit());
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap_or(0);
    if ok { Ok([byte(0), byte(2), byte(4)]) } else { Err(format!("'{s}' is not a colour: use #rrggbb")) }
}

/// A label name must be one token a dataset format can carry as a class name.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a label needs a name".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("'{name}' is longer than {MAX_NAME_CHARS} characters"));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))) {
        return Err(format!(
            "'{name}' has '{}' in it: use letters, digits, '_', '-' or '.' (e.g. due_date)",
            c.escape_default()
        ));
    }
    Ok(())
}

/// A colour far from every colour in `taken` (the most distant of a fixed set of candidates).
fn fresh_color(taken: &[[u8; 3]]) -> [u8; 3] {
    let mut best = ([31, 119, 180], -1i64);
    for i in 0..64u32 {
        // golden-angle hues at two lightness levels: distinct and deterministic
        let hue = (i as f32 * 137.508) % 360.0;
        let (s, v) = if i % 2 == 0 { (0.75, 0.85) } else { (0.55, 0.65) };
        let c = hsv(hue, s, v);
        let dist = taken
            .iter()
            .map(|t| (0..3).map(|k| (t[k] as i64 - c[k] as i64).pow(2)).sum::<i64>())
            .min()
            .unwrap_or(i64::MAX);
        if dist > best.1 {
            best = (c, dist);
        }
    }
    best.0
}

fn hsv(h: f32, s: f32, v: f32) -> [u8; 3] {
    let c = v * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = v - c;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let u = |f: f32| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [u(r), u(g), u(b)]
}

/// The schema's history: every schema edit, oldest first.
pub fn schema_edits(store: &Store) -> Result<Vec<Edit>, StoreError> {
    Ok(store.workspace_edits()?.into_iter().filter(|e| is_schema_action(&e.action)).collect())
}

/// The schema's version: how many times it has changed since the workspace was made (0 for
/// the default schema untouched). Exports record it.
pub fn schema_version(store: &Store) -> Result<i64, StoreError> {
    schema_version_as_of(store, None)
}

/// The schema's version as it was just after edit `upto` of the log (`None`: now).
pub fn schema_version_as_of(store: &Store, upto: Option<i64>) -> Result<i64, StoreError> {
    Ok(schema_edits(store)?.iter().filter(|e| upto.is_none_or(|u| e.id.0 <= u)).count() as i64)
}

/// What undo and redo of the schema would act on.
pub fn schema_stacks(store: &Store) -> Result<UndoStacks, CommandError> {
    Ok(UndoStacks::replay(&schema_edits(store)?))
}

/// Checks `op` against the schema as it is and turns it into the changes that carry it out.
pub fn changes_for(store: &Store, op: &SchemaOp) -> Result<Vec<Change>, CommandError> {
    let labels = store.labels()?;
    let find = |id: LabelId| -> Result<&Label, CommandError> {
        labels.iter().find(|l| l.id == id).ok_or_else(|| CommandError::Refused(format!("there is no label {id}")))
    };
    let refuse = |m: String| Err(CommandError::Refused(m));
    let name_taken = |name: &str, except: Option<LabelId>| {
        labels.iter().find(|l| Some(l.id) != except && l.name.to_lowercase() == name.to_lowercase())
    };
    let hotkey_taken = |key: &str, except: Option<LabelId>| {
        labels.iter().find(|l| Some(l.id) != except && !l.retired && l.hotkey.as_deref() == Some(key))
    };
    let check_hotkey = |key: &Option<String>, except: Option<LabelId>| -> Result<Option<String>, CommandError> {
        let Some(k) = key else { return Ok(None) };
        let k = normalise_hotkey(k).map_err(CommandError::Refused)?;
        if let Some(other) = hotkey_taken(&k, except) {
            return Err(CommandError::Refused(format!("hotkey {k} is already {}'s", other.name)));
        }
        Ok(Some(k))
    };
    let set = |l: &Label, f: &dyn Fn(&mut Label)| {
        let mut after = l.clone();
        f(&mut after);
        vec![Change::Label { before: Some(l.clone()), after: Some(after) }]
    };
    Ok(match op {
        SchemaOp::Add { name, color, hotkey, guideline } => {
            let name = name.trim();
            check_name(name).map_err(CommandError::Refused)?;
            if let Some(other) = name_taken(name, None) {
                let retired = if other.retired { " (retired; reinstate it instead)" } else { "" };
                return refuse(format!("there is already a label named {}{retired}", other.name));
            }
            let hotkey = check_hotkey(hotkey, None)?;
            let taken: Vec<[u8; 3]> = labels.iter().map(|l| l.color).collect();
            let label = Label {
                id: LabelId(0),
                name: name.to_string(),
                color: color.unwrap_or_else(|| fresh_color(&taken)),
                hotkey,
                guideline: guideline.trim().to_string(),
                position: labels.iter().map(|l| l.position + 1).max().unwrap_or(0),
                retired: false,
            };
            vec![Change::Label { before: None, after: Some(label) }]
        }
        SchemaOp::Rename { label, to } => {
            let l = find(*label)?;
            let to = to.trim();
            check_name(to).map_err(CommandError::Refused)?;
            if let Some(other) = name_taken(to, Some(l.id)) {
                return refuse(format!("there is already a label named {}", other.name));
            }
            set(l, &|a| a.name = to.to_string())
        }
        SchemaOp::SetColor { label, color } => set(find(*label)?, &|a| a.color = *color),
        SchemaOp::SetHotkey { label, hotkey } => {
            let l = find(*label)?;
            if l.retired && hotkey.is_some() {
                return refuse(format!("{} is retired: reinstate it before giving it a hotkey", l.name));
            }
            let key = check_hotkey(hotkey, Some(l.id))?;
            set(l, &|a| a.hotkey = key.clone())
        }
        SchemaOp::SetGuideline { label, text } => set(find(*label)?, &|a| a.guideline = text.trim().to_string()),
        SchemaOp::Move { label, to } => {
            let l = find(*label)?;
            let mut order: Vec<&Label> = labels.iter().filter(|x| x.id != l.id).collect();
            order.insert((*to).min(order.len()), l);
            order
                .iter()
                .enumerate()
                .filter(|(i, x)| x.position != *i as i64)
                .map(|(i, x)| Change::Label {
                    before: Some((*x).clone()),
                    after: Some(Label { position: i as i64, ..(*x).clone() }),
                })
                .collect()
        }
        SchemaOp::Retire { label } => {
            let l = find(*label)?;
            if l.retired {
                return refuse(format!("{} is already retired", l.name));
            }
            set(l, &|a| {
                a.retired = true;
                a.hotkey = None;
            })
        }
        SchemaOp::Reinstate { label } => {
            let l = find(*label)?;
            if !l.retired {
                return refuse(format!("{} is not retired", l.name));
            }
            set(l, &|a| a.retired = false)
        }
        SchemaOp::Merge { from, into } => {
            let (f, i) = (find(*from)?, find(*into)?);
            if f.id == i.id {
                return refuse(format!("cannot merge {} into itself", f.name));
            }
            if i.retired {
                return refuse(format!("{} is retired: reinstate it before merging into it", i.name));
            }
            let mut changes = Vec::new();
            let swap = |l: Option<LabelId>| if l == Some(f.id) { Some(i.id) } else { l };
            for a in store.annotations_with_label(f.id)? {
                let after = crate::domain::Annotation {
                    label: swap(a.label),
                    label_suggested: swap(a.label_suggested),
                    ..a.clone()
                };
                changes.push(Change::Annotation { before: Some(a), after: Some(after) });
            }
            let mut gold: HashMap<crate::domain::DocId, _> = HashMap::new();
            for doc in store.gold_docs_with_label(f.id)? {
                gold.insert(doc, store.gold_boxes(doc)?);
            }
            let mut gold: Vec<_> = gold.into_iter().collect();
            gold.sort_by_key(|(d, _)| *d);
            for (doc, before) in gold {
                let after =
                    before.iter().map(|g| crate::domain::GoldBox { label: swap(g.label), ..g.clone() }).collect();
                changes.push(Change::Gold { doc, before, after });
            }
            // its guideline examples follow it
            for e in store.label_examples(f.id)? {
                let after = crate::domain::LabelExample { label: i.id, ..e.clone() };
                changes.push(Change::Example { before: Some(e), after: Some(after) });
            }
            changes.push(Change::Label { before: Some(f.clone()), after: None });
            changes
        }
    })
}

/// What a schema edit did, for a status line.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaOutcome {
    pub edit: EditId,
    /// Boxes relabelled (by a merge).
    pub boxes: usize,
    /// The label added, if the op added one.
    pub added: Option<LabelId>,
}

fn lead_only(session: &Session) -> Result<(), CommandError> {
    if session.user().role != Role::Lead {
        return Err(CommandError::Refused("only a lead can change the label schema".into()));
    }
    Ok(())
}

/// Applies one schema operation as one edit.
pub fn apply(session: &mut Session, op: SchemaOp) -> Result<SchemaOutcome, CommandError> {
    lead_only(session)?;
    let changes = changes_for(session.store(), &op)?;
    let boxes: Vec<AnnId> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Annotation { after: Some(a), .. } => Some(a.id),
            _ => None,
        })
        .collect();
    if changes.iter().all(Change::is_noop) {
        return Err(CommandError::Refused("that changes nothing".into()));
    }
    let edit = write(session, op.action(), EditKind::Do, changes)?;
    let added = edit.changes.iter().find_map(|c| match c {
        Change::Label { before: None, after: Some(l) } => Some(l.id),
        _ => None,
    });
    Ok(SchemaOutcome { edit: edit.id, boxes: boxes.len(), added })
}

fn write(session: &mut Session, action: &str, kind: EditKind, changes: Vec<Change>) -> Result<Edit, CommandError> {
    let now = session.now();
    let user = Some(session.user().id);
    let changes: Vec<Change> = changes.into_iter().filter(|c| !c.is_noop()).collect();
    Ok(session.store_mut().apply(NewEdit { ts_ms: now, user, doc: None, action: action.into(), kind, changes })?)
}

/// Undoes the newest schema change not yet undone (by whichever lead made it); returns the
/// action it undid.
pub fn undo(session: &mut Session) -> Result<String, CommandError> {
    lead_only(session)?;
    let stacks = schema_stacks(session.store())?;
    let step = stacks.undoable.last().ok_or(CommandError::NothingToUndo)?.clone();
    let mut changes = Vec::new();
    let mut action = String::new();
    for &id in step.iter().rev() {
        let e = session.store().edit(id)?;
        action = e.action.clone();
        changes.extend(e.changes.iter().rev().map(Change::inverse));
    }
    write(session, &action, EditKind::Undo(step[0]), changes)?;
    Ok(action)
}

/// Redoes the schema change undone last.
pub fn redo(session: &mut Session) -> Result<String, CommandError> {
    lead_only(session)?;
    let stacks = schema_stacks(session.store())?;
    let step = stacks.redoable.last().ok_or(CommandError::NothingToRedo)?.clone();
    let mut changes = Vec::new();
    let mut action = String::new();
    for &id in &step {
        let e = session.store().edit(id)?;
        action = e.action.clone();
        changes.extend(e.changes);
    }
    write(session, &action, EditKind::Redo(step[0]), changes)?;
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotkeys_are_digits_with_or_without_shift() {
        assert_eq!(normalise_hotkey("3").unwrap(), "3");
        assert_eq!(normalise_hotkey("Shift+3").unwrap(), "shift+3");
        assert_eq!(normalise_hotkey(" shift + 0 ").unwrap(), "shift+0");
        for bad in ["", "a", "ctrl+1", "12", "shift+", "shift+x"] {
            assert!(normalise_hotkey(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn colours_parse_with_or_without_hash() {
        assert_eq!(parse_color("#1f77b4").unwrap(), [31, 119, 180]);
        assert_eq!(parse_color("FF0000").unwrap(), [255, 0, 0]);
        for bad in ["", "#fff", "#gg0000", "#1f77b4ff", "#ñ1234"] {
            assert!(parse_color(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_are_one_token() {
        assert!(check_name("due_date").is_ok());
        assert!(check_name("Fälligkeitsdatum").is_ok());
        assert!(check_name("line-item.qty").is_ok());
        for bad in ["", "due date", "a/b", "tab\there", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_fresh_colour_is_far_from_the_ones_taken() {
        let taken = [[230, 25, 75], [60, 180, 75], [0, 130, 200]];
        let c = fresh_color(&taken);
        let d = taken.iter().map(|t| (0..3).map(|k| (t[k] as i64 - c[k] as i64).pow(2)).sum::<i64>()).min();
        assert!(d.unwrap() > 60 * 60, "{c:?} is close to one taken");
        assert_ne!(fresh_color(&[]), [0, 0, 0]);
    }
}
