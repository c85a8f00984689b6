//! The workspace's box style, in `meta` on either backend: the style learned from accepted
//! boxes and a lead's hand-set one under separate keys, so learning never overwrites the
//! lead's choice; the caption convention (one box or two for a caption and its value) is
//! learned with the style and set by hand under a key of its own. Values are JSON; one that
//! cannot be read counts as not set.

use super::db::{Sql, params};
use super::{Result, Store, StoreError};
use crate::domain::box_style::CaptionConvention;
use crate::domain::{BoxStyle, LearnedBoxStyle, WorkspaceBoxStyle};

const LEARNED_KEY: &str = "box_style_learned";
const SET_KEY: &str = "box_style_set";
/// Apart from `box_style_set`: a lead may set the convention and keep the learned padding.
const SET_CAPTIONS_KEY: &str = "box_captions_set";

impl Store {
    /// The learned and the hand-set box style (either may be missing).
    pub fn box_style(&self) -> Result<WorkspaceBoxStyle> {
        let read = |key: &str| self.conn.row_opt("SELECT value FROM meta WHERE key=?1", params![key], |r| r.text(0));
        let learned = read(LEARNED_KEY)?.and_then(|v| serde_json::from_str::<LearnedBoxStyle>(&v).ok());
        let set = read(SET_KEY)?.and_then(|v| serde_json::from_str::<BoxStyle>(&v).ok());
        let set_captions = read(SET_CAPTIONS_KEY)?.and_then(|v| serde_json::from_str::<CaptionConvention>(&v).ok());
        Ok(WorkspaceBoxStyle {
            learned: learned.filter(|l| l.style.problem().is_none()),
            set: set.filter(|s| s.problem().is_none()),
            set_captions,
        })
    }

    /// A lead sets whether a caption and its value are one box or two, or with `None` goes
    /// back to the learned convention.
    pub fn set_caption_convention(&mut self, convention: Option<CaptionConvention>) -> Result<()> {
        match convention {
            Some(c) => {
                let json = serde_json::to_string(&c).map_err(|e| StoreError::Invalid(e.to_string()))?;
                self.put_meta(SET_CAPTIONS_KEY, &json)
            }
            None => {
                self.conn.write(|tx| tx.exec("DELETE FROM meta WHERE key=?1", params![SET_CAPTIONS_KEY]))?;
                Ok(())
            }
        }
    }

    /// Stores a newly learned style (a hand-set one stays in force).
    pub fn set_learned_box_style(&mut self, learned: &LearnedBoxStyle) -> Result<()> {
        if let Some(why) = learned.style.problem() {
            return Err(StoreError::Invalid(format!("learned box style not stored: {why}")));
        }
        let json = serde_json::to_string(learned).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.put_meta(LEARNED_KEY, &json)
    }

    /// A lead sets the box style by hand, or with `None` goes back to the learned one.
    pub fn set_box_style(&mut self, style: Option<BoxStyle>) -> Result<()> {
        match style {
            Some(s) => {
                if let Some(why) = s.problem() {
                    return Err(StoreError::Invalid(format!("box padding not set: {why}")));
                }
                let json = serde_json::to_string(&s).map_err(|e| StoreError::Invalid(e.to_string()))?;
                self.put_meta(SET_KEY, &json)
            }
            None => {
                self.conn.write(|tx| tx.exec("DELETE FROM meta WHERE key=?1", params![SET_KEY]))?;
                Ok(())
            }
        }
    }

    fn put_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.write(|tx| {
            tx.exec(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
        })?;
        Ok(())
    }
}

const TAG_SCHEMA_KEY: &str = "doc_tag_schema";

impl Store {
    /// The workspace's document tags: set by a lead, else the default (type, language, scan
    /// quality). A value that cannot be read counts as not set.
    pub fn tag_schema(&self) -> Result<crate::domain::TagSchema> {
        let v = self.conn.row_opt("SELECT value FROM meta WHERE key=?1", params![TAG_SCHEMA_KEY], |r| r.text(0))?;
        Ok(v.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
    }

    /// A lead sets the workspace's document tags.
    pub fn set_tag_schema(&mut self, schema: &crate::domain::TagSchema) -> Result<()> {
        let json = serde_json::to_string(schema).map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.put_meta(TAG_SCHEMA_KEY, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::box_style::CaptionEvidence;

    #[test]
    fn learned_and_hand_set_styles_are_kept_apart() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.box_style().unwrap(), WorkspaceBoxStyle::default());
        let learned = LearnedBoxStyle {
            style: BoxStyle::new(0.1, 0.2, 0.3, 0.4),
            samples: 40,
            dataset: "2 docs @ edit 7".into(),
            learned_ms: 5,
            captions: Some(CaptionEvidence { joined: 0, split: 6 }),
        };
        store.set_learned_box_style(&learned).unwrap();
        store.set_box_style(Some(BoxStyle::new(0.5, 0.0, 0.5, 0.0))).unwrap();
        let relearned = LearnedBoxStyle { style: BoxStyle::new(0.2, 0.2, 0.2, 0.2), ..learned.clone() };
        store.set_learned_box_style(&relearned).unwrap();
        let got = store.box_style().unwrap();
        assert_eq!(got.learned, Some(relearned));
        assert_eq!(got.set, Some(BoxStyle::new(0.5, 0.0, 0.5, 0.0)));
        store.set_box_style(None).unwrap();
        assert_eq!(store.box_style().unwrap().effective(), Some(BoxStyle::new(0.2, 0.2, 0.2, 0.2)));
        assert!(store.set_box_style(Some(BoxStyle::new(9.0, 0.0, 0.0, 0.0))).is_err());
    }

    #[test]
    fn the_hand_set_caption_convention_is_kept_apart_from_the_learned_one() {
        let mut store = Store::open_in_memory().unwrap();
        let learned = LearnedBoxStyle {
            style: BoxStyle::new(0.1, 0.1, 0.1, 0.1),
            samples: 40,
            dataset: "2 docs @ edit 7".into(),
            learned_ms: 5,
            captions: Some(CaptionEvidence { joined: 0, split: 6 }),
        };
        store.set_learned_box_style(&learned).unwrap();
        assert_eq!(store.box_style().unwrap().captions(), Some(CaptionConvention::Split));
        store.set_caption_convention(Some(CaptionConvention::Joined)).unwrap();
        store.set_learned_box_style(&learned).unwrap();
        let got = store.box_style().unwrap();
        assert_eq!(
            (got.set_captions, got.captions()),
            (Some(CaptionConvention::Joined), Some(CaptionConvention::Joined))
        );
        assert_eq!(got.set, None, "the padding stays learned");
        store.set_caption_convention(None).unwrap();
        assert_eq!(store.box_style().unwrap().captions(), Some(CaptionConvention::Split));
    }
}
