//! Mapping between rows and domain types, in one place.

use super::db::{DbError, DbErrorKind, DbResult, Row};

use crate::domain::{
    AnnId, AnnState, Annotation, BoxFlags, DocId, DocStatus, Document, Edit, EditId, EditKind, Label, LabelId, Link,
    LinkId, LinkKind, Quad, Rect, Role, Shelf, User, UserId,
};

fn corrupt(col: usize, msg: impl Into<String>) -> DbError {
    DbError::new(DbErrorKind::Type, format!("column {col}: {}", msg.into()))
}

pub(crate) const ANN_COLS: &str = "id, doc_id, x0, y0, x1, y1, quad, label_id, text, source, text_source, confidence, state, author, created_ms, updated_ms, label_suggested, label_conf, flags";

pub(crate) fn annotation(r: &Row) -> DbResult<Annotation> {
    let quad = r.opt_text(6)?;
    let quad = match quad {
        Some(s) => Some(serde_json::from_str::<Quad>(&s).map_err(|e| corrupt(6, e.to_string()))?),
        None => None,
    };
    let source = r.text(9)?;
    let text_source = r.text(10)?;
    let state = r.text(12)?;
    Ok(Annotation {
        id: AnnId(r.get(0)?),
        doc: DocId(r.get(1)?),
        rect: Rect::new(r.f64(2)? as f32, r.f64(3)? as f32, r.f64(4)? as f32, r.f64(5)? as f32),
        quad,
        label: r.opt_i64(7)?.map(LabelId),
        text: r.get(8)?,
        source: source.parse().map_err(|e: String| corrupt(9, e))?,
        text_source: text_source.parse().map_err(|e: String| corrupt(10, e))?,
        confidence: r.opt_f64(11)?.map(|c| c as f32),
        state: match state.as_str() {
            "suggested" => AnnState::Suggested,
            "active" => AnnState::Active,
            other => return Err(corrupt(12, format!("unknown state {other}"))),
        },
        author: r.opt_i64(13)?.map(UserId),
        created_ms: r.get(14)?,
        updated_ms: r.get(15)?,
        label_suggested: r.opt_i64(16)?.map(LabelId),
        label_conf: r.opt_f64(17)?.map(|c| c as f32),
        flags: BoxFlags(u8::try_from(r.i64(18)?).map_err(|_| corrupt(18, "bad flags"))?),
    })
}

pub(crate) fn state_str(s: AnnState) -> &'static str {
    match s {
        AnnState::Suggested => "suggested",
        AnnState::Active => "active",
    }
}

pub(crate) fn quad_json(q: &Option<Quad>) -> Option<String> {
    q.as_ref().and_then(|q| serde_json::to_string(q).ok())
}

pub(crate) const DOC_COLS: &str = "id, path, sha256, page, width, height, status, assignee, is_gold, imported_ms, reviewer, shelved, priority, tags, rotation, exif";

pub(crate) fn document(r: &Row) -> DbResult<Document> {
    let status = r.text(6)?;
    Ok(Document {
        id: DocId(r.get(0)?),
        path: r.get(1)?,
        sha256: r.get(2)?,
        page: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        status: status.parse::<DocStatus>().map_err(|e| corrupt(6, e))?,
        assignee: r.opt_i64(7)?.map(UserId),
        is_gold: r.get(8)?,
        imported_ms: r.get(9)?,
        reviewer: r.opt_i64(10)?.map(UserId),
        shelved: match r.opt_text(11)? {
            None => None,
            Some(s) => Some(Shelf::parse(&s).ok_or_else(|| corrupt(11, format!("bad shelf {s}")))?),
        },
        priority: r.i64(12)?,
        tags: {
            let t = r.text(13)?;
            serde_json::from_str(&t).map_err(|e| corrupt(13, format!("bad tags {t}: {e}")))?
        },
        rotation: u8::try_from(r.i64(14)?).ok().filter(|q| *q < 4).ok_or_else(|| corrupt(14, "bad rotation"))?,
        exif: r.bool(15)?,
    })
}

pub(crate) const LABEL_COLS: &str = "id, name, color, hotkey, guideline, position, retired";

pub(crate) fn label(r: &Row) -> DbResult<Label> {
    let color = r.text(2)?;
    Ok(Label {
        id: LabelId(r.get(0)?),
        name: r.get(1)?,
        color: parse_color(&color).ok_or_else(|| corrupt(2, format!("bad colour {color}")))?,
        hotkey: r.get(3)?,
        guideline: r.get(4)?,
        position: r.get(5)?,
        retired: r.bool(6)?,
    })
}

pub(crate) fn color_hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

pub(crate) fn parse_color(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

pub(crate) const LINK_COLS: &str = "id, doc_id, from_id, to_id, kind";

pub(crate) fn link(r: &Row) -> DbResult<Link> {
    let kind = r.text(4)?;
    Ok(Link {
        id: LinkId(r.get(0)?),
        doc: DocId(r.get(1)?),
        from: AnnId(r.get(2)?),
        to: AnnId(r.get(3)?),
        kind: LinkKind::parse(&kind).ok_or_else(|| corrupt(4, format!("unknown link kind {kind}")))?,
    })
}

pub(crate) fn user(r: &Row) -> DbResult<User> {
    let role = r.text(2)?;
    Ok(User { id: UserId(r.get(0)?), name: r.get(1)?, role: role.parse::<Role>().map_err(|e| corrupt(2, e))? })
}

pub(crate) const EDIT_COLS: &str = "id, ts_ms, user_id, doc_id, action, kind, target, changes";

pub(crate) fn edit(r: &Row) -> DbResult<Edit> {
    let kind = r.text(5)?;
    let target = r.opt_i64(6)?;
    let kind = match (kind.as_str(), target) {
        // a `do` row with a target continues that edit (older builds read it as plain `do`)
        ("do", None) => EditKind::Do,
        ("do", Some(t)) => EditKind::Continues(EditId(t)),
        ("undo", Some(t)) => EditKind::Undo(EditId(t)),
        ("redo", Some(t)) => EditKind::Redo(EditId(t)),
        (other, _) => return Err(corrupt(5, format!("bad edit kind {other}"))),
    };
    let changes = r.text(7)?;
    Ok(Edit {
        id: EditId(r.get(0)?),
        ts_ms: r.get(1)?,
        user: r.opt_i64(2)?.map(UserId),
        doc: r.opt_i64(3)?.map(DocId),
        action: r.get(4)?,
        kind,
        changes: serde_json::from_str(&changes).map_err(|e| corrupt(7, e.to_string()))?,
    })
}

pub(crate) fn kind_parts(k: EditKind) -> (&'static str, Option<i64>) {
    match k {
        EditKind::Do => ("do", None),
        EditKind::Continues(t) => ("do", Some(t.0)),
        EditKind::Undo(t) => ("undo", Some(t.0)),
        EditKind::Redo(t) => ("redo", Some(t.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_color(&color_hex([1, 128, 255])), Some([1, 128, 255]));
        assert_eq!(parse_color("#12345"), None);
        assert_eq!(parse_color("123456"), None);
        assert_eq!(parse_color("#éé3456"), None);
    }
}
