//! The workspace's box style in the app: learned from accepted documents' boxes (on demand and
//! whenever the label model retrains), with whether captions and values are boxed apart, and
//! the snap of a drawn box to its ink plus padding. The measuring and learning themselves are
//! [`crate::prelabel::boxstyle`].

use std::sync::Mutex;

use crossbeam_channel::Receiver;
use image::RgbImage;
use serde::Serialize;

use super::loader::LoadedPage;
use super::pages::PageRef;
use crate::domain::box_style::{CaptionConvention, CaptionEvidence};
use crate::domain::{AnnState, BoxStyle, DocId, LearnedBoxStyle, Rect, TimestampMs, WorkspaceBoxStyle};
use crate::prelabel::Proposal;
use crate::prelabel::boxstyle::{self, DEFAULT_DRAWN, MIN_SAMPLES, Sample, captions};
use crate::store::{Store, StoreError, Workspace};

/// At most this many accepted documents, the most recent, are measured: a few thousand boxes
/// give a steady median, and each page must be decoded (a background run stays short).
pub const MAX_STYLE_DOCUMENTS: usize = 40;

/// What learning from the accepted boxes found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnReport {
    /// Accepted documents measured.
    pub documents: usize,
    /// Their boxes with clear ink.
    pub boxes: usize,
    /// The style learned and stored; `None` with too few boxes (nothing was changed).
    pub learned: Option<BoxStyle>,
    /// What the boxes showed about captions and values (learned with the style).
    pub captions: CaptionEvidence,
    /// Pages that could not be read: (document, why).
    pub skipped: Vec<(DocId, String)>,
}

impl LearnReport {
    pub fn summary(&self) -> String {
        let mut s = match &self.learned {
            Some(st) => format!(
                "box style learned from {} box(es) on {} accepted document(s): padding {} (L,T,R,B in line heights); \
                 {}",
                self.boxes,
                self.documents,
                st,
                captions_learned(&self.captions)
            ),
            None => format!(
                "box style not learned: {} box(es) with clear ink on {} accepted document(s), at least {MIN_SAMPLES} \
                 are needed; nothing was changed",
                self.boxes, self.documents
            ),
        };
        if !self.skipped.is_empty() {
            s.push_str(&format!(" ({} page(s) could not be read)", self.skipped.len()));
        }
        s
    }
}

/// `captions: one box per caption and value (learned from 3 joined, 0 split)`, as reports and
/// settings say what was learned.
pub fn captions_learned(e: &CaptionEvidence) -> String {
    let seen = format!("{} joined, {} split", e.joined, e.split);
    match e.convention() {
        Some(c) => format!("captions: {} (learned from {seen})", convention_words(c)),
        None => format!("captions: undecided, suggestions stay as read ({seen})"),
    }
}

/// What a convention means, in words.
pub fn convention_words(c: CaptionConvention) -> &'static str {
    match c {
        CaptionConvention::Joined => "one box per caption and value",
        CaptionConvention::Split => "caption and value in boxes of their own",
    }
}

/// Measures the active axis-aligned boxes of the most recent accepted documents on their
/// pages, learns the padding they show and, from their texts and places, whether the team
/// boxes captions apart from their values, and stores both as the workspace's learned style
/// (a lead's hand-set style and convention stay in force).
pub fn learn_workspace(store: &mut Store, now: TimestampMs) -> Result<LearnReport, StoreError> {
    let dataset = store.reviewed_dataset()?;
    let docs = super::labels::recent_accepted(store, MAX_STYLE_DOCUMENTS)?;
    let mut samples: Vec<Sample> = Vec::new();
    let mut report = LearnReport {
        documents: 0,
        boxes: 0,
        learned: None,
        captions: CaptionEvidence::default(),
        skipped: Vec::new(),
    };
    for (doc, anns, _) in store.documents_with_boxes(&docs)? {
        // texts and places only: no pixels needed
        report.captions += captions::evidence(
            anns.iter().filter(|a| a.state == AnnState::Active && a.quad.is_none()).map(|a| (a.rect, a.text.as_str())),
        );
        let rects: Vec<Rect> =
            anns.iter().filter(|a| a.state == AnnState::Active && a.quad.is_none()).map(|a| a.rect).collect();
        if rects.is_empty() {
            continue;
        }
        let page = match PageRef::of(store, &doc).decode(Some(store)) {
            Ok(p) => p.into_rgb8(),
            Err(e) => {
                report.skipped.push((doc.id, e.to_string()));
                continue;
            }
        };
        report.documents += 1;
        samples.extend(boxstyle::measure(&page, &rects));
    }
    report.boxes = samples.len();
    if let Some((style, n)) = boxstyle::learn(&samples) {
        store.set_learned_box_style(&LearnedBoxStyle {
            style,
            samples: n,
            dataset,
            learned_ms: now,
            captions: Some(report.captions),
        })?;
        report.learned = Some(style);
    }
    Ok(report)
}

static LAST: Mutex<Option<String>> = Mutex::new(None);

/// Relearns the style unless it already learned from `dataset` (the reviewed dataset version):
/// run beside the label model's training. Never fails the caller: what happened is kept for
/// [`last_note`] (on a server only a lead's session may store it).
pub fn relearn_if_changed(store: &mut Store, dataset: &str, now: TimestampMs) {
    let note = match store.box_style() {
        // a style stored before captions were learned is learned again
        Ok(ws) if ws.learned.as_ref().is_some_and(|l| l.dataset == dataset && l.captions.is_some()) => return,
        Ok(_) => match learn_workspace(store, now) {
            Ok(r) => r.summary(),
            Err(e) => format!("box style not learned: {e}"),
        },
        Err(e) => format!("box style not learned: {e}"),
    };
    if let Ok(mut last) = LAST.lock() {
        *last = Some(note);
    }
}

/// What the last background learning said, if it ran in this process.
pub fn last_note() -> Option<String> {
    LAST.lock().ok().and_then(|l| l.clone())
}

/// What the window asks of the workspace's box style.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StyleAction {
    Read,
    /// "Learn from accepted boxes" now.
    Learn,
    /// A lead's hand-set style.
    Set(BoxStyle),
    /// Drop the hand-set style: the learned one is in force again.
    UseLearned,
    /// A lead's caption convention, or with `None` the learned one again.
    SetCaptions(Option<CaptionConvention>),
}

/// The workspace's style after an action, and the sentence for the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct StyleAnswer {
    pub style: WorkspaceBoxStyle,
    pub message: Option<String>,
}

/// Runs `action` on a thread with a connection of its own (learning decodes pages: never on
/// the window's thread, nor on its store worker, which must stay free for edits).
pub fn spawn_action(ws: Workspace, action: StyleAction) -> Receiver<Result<StyleAnswer, String>> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let run = || -> Result<StyleAnswer, StoreError> {
            let mut store = Store::connect(&ws)?;
            let message = match action {
                StyleAction::Read => None,
                StyleAction::Learn => Some(learn_workspace(&mut store, super::commands::system_now_ms())?.summary()),
                StyleAction::Set(style) => {
                    store.set_box_style(Some(style))?;
                    Some(format!("Box padding set by hand to {style} (L,T,R,B in line heights)."))
                }
                StyleAction::UseLearned => {
                    store.set_box_style(None)?;
                    Some("Box padding: the learned style is in force again.".to_string())
                }
                StyleAction::SetCaptions(c) => {
                    store.set_caption_convention(c)?;
                    Some(match c {
                        Some(c) => format!("Captions set by hand: {}.", convention_words(c)),
                        None => "Captions: the learned convention is in force again.".to_string(),
                    })
                }
            };
            Ok(StyleAnswer { style: store.box_style()?, message })
        };
        let _ = tx.send(run().map_err(|e| e.to_string()));
    });
    rx
}

/// How machine suggestions are redrawn in a workspace: the padding in force, and whether a
/// line read as a caption and its value is cut in two.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SuggestionStyle {
    pub padding: Option<BoxStyle>,
    pub split_captions: bool,
}

impl SuggestionStyle {
    pub fn of(ws: &WorkspaceBoxStyle) -> SuggestionStyle {
        SuggestionStyle { padding: ws.effective(), split_captions: ws.captions() == Some(CaptionConvention::Split) }
    }

    /// Suggestions stay exactly as the source made them (no need for the page's pixels).
    pub fn changes_nothing(&self) -> bool {
        self.padding.is_none() && !self.split_captions
    }

    /// `proposals` redrawn in this style on `page` ([`boxstyle::restyle_proposals`]).
    pub fn apply(&self, page: &image::DynamicImage, proposals: Vec<Proposal>) -> Vec<Proposal> {
        if self.changes_nothing() {
            return proposals;
        }
        let converted;
        let rgb = match page.as_rgb8() {
            Some(rgb) => rgb,
            None => {
                converted = page.to_rgb8();
                &converted
            }
        };
        boxstyle::restyle_proposals(rgb, proposals, self.padding.as_ref(), self.split_captions)
    }
}

/// `box-captions joined|split (set by hand | learned from …)`, as `settings` prints it.
pub fn captions_setting_line(ws: &WorkspaceBoxStyle) -> String {
    let learned = ws.learned.as_ref().and_then(|l| l.captions);
    let seen = |e: &CaptionEvidence| format!("{} joined, {} split", e.joined, e.split);
    match (ws.set_captions, learned) {
        (Some(c), Some(e)) => format!("box-captions {} (set by hand; learned from {})", c.as_str(), seen(&e)),
        (Some(c), None) => format!("box-captions {} (set by hand)", c.as_str()),
        (None, Some(e)) => match e.convention() {
            Some(c) => format!("box-captions {} (learned from {})", c.as_str(), seen(&e)),
            None => format!("box-captions undecided (learned from {}: suggestions stay as read)", seen(&e)),
        },
        (None, None) => "box-captions undecided (suggestions stay as read; learned once documents are accepted)".into(),
    }
}

/// `facture settings WS box-captions joined|split|learned`: sets (or drops) a lead's caption
/// convention and says what is in force now; an unknown value is an error naming the choices.
pub fn set_captions_setting(store: &mut Store, value: &str) -> Result<String, StoreError> {
    let choice = match value.trim() {
        "learned" => None,
        v => Some(
            CaptionConvention::parse(v)
                .ok_or_else(|| StoreError::Invalid(format!("box-captions '{v}': expected joined, split or learned")))?,
        ),
    };
    store.set_caption_convention(choice)?;
    let now = captions_setting_line(&store.box_style()?);
    Ok(match choice {
        Some(c) => format!("captions set by hand: {}; learning no longer changes it ({now})", convention_words(c)),
        None => format!("captions: the learned convention from now on ({now})"),
    })
}

/// Where a box drawn by hand goes: the ink it encloses plus the workspace's padding (a small
/// default without one), on whole pixels like every drawn box. A box drawn on blank paper, or
/// across nothing but a table rule, stays as drawn.
pub fn snap_drawn(page: &LoadedPage, rect: &Rect, style: Option<BoxStyle>) -> Rect {
    let style = style.unwrap_or(DEFAULT_DRAWN);
    let Some((crop, x0, y0)) = crop_full_res(page, rect) else { return *rect };
    let local = Rect::new(rect.x0 - x0 as f32, rect.y0 - y0 as f32, rect.x1 - x0 as f32, rect.y1 - y0 as f32);
    match boxstyle::text_ink_in(&crop, &local) {
        Some(ink) => {
            let r = boxstyle::apply(&ink.translated(x0 as f32, y0 as f32), &style);
            Rect::new(r.x0.floor(), r.y0.floor(), r.x1.ceil(), r.y1.ceil())
                .clamped(page.width as f32, page.height as f32)
        }
        None => *rect,
    }
}

/// The full-resolution pixels under `rect`, cut from the page's finest tiles, with the crop's
/// top-left corner in page pixels.
fn crop_full_res(page: &LoadedPage, rect: &Rect) -> Option<(RgbImage, u32, u32)> {
    let level = page.levels.first().filter(|l| l.grid.scale() == 1)?;
    let c = rect.normalized().clamped(page.width as f32, page.height as f32);
    let (x0, y0) = (c.x0.floor() as u32, c.y0.floor() as u32);
    let (x1, y1) = ((c.x1.ceil() as u32).min(page.width), (c.y1.ceil() as u32).min(page.height));
    if x1 <= x0 + 1 || y1 <= y0 + 1 {
        return None;
    }
    let mut crop = RgbImage::new(x1 - x0, y1 - y0);
    for t in level.grid.tiles() {
        let s = t.source;
        let (ox0, oy0) = (s.x.max(x0), s.y.max(y0));
        let (ox1, oy1) = ((s.x + s.w).min(x1), (s.y + s.h).min(y1));
        if ox0 >= ox1 || oy0 >= oy1 {
            continue;
        }
        let px = level.tile(t.key)?;
        for y in oy0..oy1 {
            for x in ox0..ox1 {
                let i = (((y - s.y) * px.w + (x - s.x)) * 4) as usize;
                let rgb = px.rgba.get(i..i + 3)?;
                crop.put_pixel(x - x0, y - y0, image::Rgb([rgb[0], rgb[1], rgb[2]]));
            }
        }
    }
    Some((crop, x0, y0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::loader::build_levels;

    fn loaded(img: image::RgbaImage, tile_side_px: u32) -> LoadedPage {
        let (width, height) = img.dimensions();
        let levels = build_levels(img, 64)
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let grid = crate::app::canvas::TileGrid::new(width, height, k as u8, tile_side_px);
                let tiles = grid
                    .tiles()
                    .map(|t| {
                        let s = t.source;
                        let sub = image::imageops::crop_imm(l, s.x, s.y, s.w, s.h).to_image();
                        crate::app::loader::TilePixels { key: t.key, w: s.w, h: s.h, rgba: sub.into_raw() }
                    })
                    .collect();
                crate::app::loader::Level { grid, tiles }
            })
            .collect();
        LoadedPage { doc: DocId(1), width, height, tile_side_px, levels }
    }

    #[test]
    fn the_captions_setting_is_set_shown_and_dropped_and_decides_whether_suggestions_are_cut() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(SuggestionStyle::of(&store.box_style().unwrap()), SuggestionStyle::default());
        assert!(SuggestionStyle::default().changes_nothing());
        assert!(captions_setting_line(&store.box_style().unwrap()).starts_with("box-captions undecided"));
        let learned = LearnedBoxStyle {
            style: BoxStyle::new(0.1, 0.1, 0.1, 0.1),
            samples: 40,
            dataset: "2 docs @ edit 7".into(),
            learned_ms: 5,
            captions: Some(CaptionEvidence { joined: 1, split: 9 }),
        };
        store.set_learned_box_style(&learned).unwrap();
        let ws = store.box_style().unwrap();
        assert_eq!(captions_setting_line(&ws), "box-captions split (learned from 1 joined, 9 split)");
        assert_eq!(
            SuggestionStyle::of(&ws),
            SuggestionStyle { padding: Some(BoxStyle::new(0.1, 0.1, 0.1, 0.1)), split_captions: true }
        );
        let said = set_captions_setting(&mut store, "joined").unwrap();
        assert!(said.contains("one box per caption and value"), "{said}");
        let ws = store.box_style().unwrap();
        assert_eq!(captions_setting_line(&ws), "box-captions joined (set by hand; learned from 1 joined, 9 split)");
        assert!(!SuggestionStyle::of(&ws).split_captions);
        let err = set_captions_setting(&mut store, "both").unwrap_err().to_string();
        assert!(err.contains("box-captions 'both'") && err.contains("joined, split or learned"), "{err}");
        assert_eq!(store.box_style().unwrap().set_captions, Some(CaptionConvention::Joined), "unchanged");
        set_captions_setting(&mut store, "learned").unwrap();
        assert!(SuggestionStyle::of(&store.box_style().unwrap()).split_captions);
    }

    #[test]
    fn a_drawn_box_snaps_to_its_ink_across_tiles_and_blank_paper_stays() {
        // ink across the corner of four 100-px tiles
        let img = image::RgbaImage::from_fn(300, 200, |x, y| {
            if (80..140).contains(&x) && (90..110).contains(&y) {
                image::Rgba([10, 10, 10, 255])
            } else {
                image::Rgba([250, 250, 250, 255])
            }
        });
        let page = loaded(img, 100);
        let drawn = Rect::new(60.0, 70.0, 170.0, 130.0);
        let style = BoxStyle::new(0.1, 0.1, 0.2, 0.0);
        assert_eq!(snap_drawn(&page, &drawn, Some(style)), Rect::new(78.0, 88.0, 144.0, 110.0));
        // no style yet: the default padding
        assert_eq!(snap_drawn(&page, &drawn, None), Rect::new(77.0, 87.0, 143.0, 113.0));
        let blank = Rect::new(200.0, 20.0, 280.0, 60.0);
        assert_eq!(snap_drawn(&page, &blank, Some(style)), blank);
    }
}
