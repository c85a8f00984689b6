//! Keyboard handling of the canvas: tools, selection, delete, duplicate, nudge, Tab order, zoom.

use std::collections::BTreeSet;

use super::{DUPLICATE_OFFSET_SCREEN_PX, Editor, Gesture, KEY_ZOOM_FACTOR, NUDGE_SHIFT_PX};
use crate::app::canvas::events::{Intent, Key, Modifiers, Tool};
use crate::app::canvas::order::reading_order;
use crate::domain::{AnnId, LinkKind};

impl Editor {
    pub(super) fn key(&mut self, key: Key, pressed: bool, mods: Modifiers, out: &mut Vec<Intent>) {
        if key == Key::Space {
            self.space_held = pressed;
            return;
        }
        if !pressed {
            return;
        }
        if key == Key::Escape {
            self.escape(out);
            return;
        }
        if self.is_gesture_active() {
            return; // no edits under a running drag
        }
        match key {
            Key::W => self.toggle_tool(Tool::DrawBox),
            Key::Q => self.toggle_tool(Tool::DrawQuad),
            Key::L => self.toggle_tool(Tool::Link(if mods.shift { LinkKind::Row } else { LinkKind::KeyValue })),
            Key::A if mods.command => {
                let all: BTreeSet<AnnId> = self.boxes.iter().map(|b| b.id).collect();
                if all != self.selection {
                    self.selection = all;
                    if self.primary.is_none() {
                        self.primary = self.selection.iter().next().copied();
                    }
                    out.push(self.selection_changed());
                }
            }
            Key::D if mods.command && !self.selection.is_empty() => {
                let (w, h) = self.viewport.image_size();
                let off = self.viewport.screen_len_to_image(DUPLICATE_OFFSET_SCREEN_PX).round().max(1.0);
                let b = self.selection_bounds().unwrap_or_default();
                // keep the copies on the page: go up/left instead when down/right has no room
                let dx = if b.x1 + off <= w { off } else { -off.min(b.x0.max(0.0)) };
                let dy = if b.y1 + off <= h { off } else { -off.min(b.y0.max(0.0)) };
                out.push(Intent::DuplicateBoxes { ids: self.selection_ids(), dx, dy });
            }
            Key::Delete | Key::Backspace if !self.selection.is_empty() => {
                out.push(Intent::DeleteBoxes { ids: self.selection_ids() });
                self.selection.clear();
                self.primary = None;
                out.push(self.selection_changed());
            }
            Key::ArrowLeft | Key::ArrowRight | Key::ArrowUp | Key::ArrowDown => self.arrow(key, mods, out),
            Key::Tab => self.tab(!mods.shift, out),
            Key::Plus => self.viewport.zoom_at(self.zoom_anchor(), KEY_ZOOM_FACTOR),
            Key::Minus => self.viewport.zoom_at(self.zoom_anchor(), 1.0 / KEY_ZOOM_FACTOR),
            Key::Num0 if mods.command => self.viewport.fit_page(),
            Key::Num1 if mods.command => self.viewport.one_to_one(),
            Key::Num2 if mods.command => self.viewport.fit_width(),
            _ => {}
        }
    }

    fn escape(&mut self, out: &mut Vec<Intent>) {
        if self.is_gesture_active() {
            self.gesture = Gesture::Idle;
        } else if self.tool != Tool::Select {
            self.set_tool(Tool::Select);
        } else if !self.selection.is_empty() {
            self.selection.clear();
            self.primary = None;
            out.push(self.selection_changed());
        }
        self.refresh_hover();
    }

    fn toggle_tool(&mut self, tool: Tool) {
        self.set_tool(if self.tool == tool { Tool::Select } else { tool });
    }

    /// Nudges the selection by whole pixels, or pans the view when nothing is selected.
    fn arrow(&mut self, key: Key, mods: Modifiers, out: &mut Vec<Intent>) {
        let (ux, uy) = match key {
            Key::ArrowLeft => (-1.0, 0.0),
            Key::ArrowRight => (1.0, 0.0),
            Key::ArrowUp => (0.0, -1.0),
            _ => (0.0, 1.0),
        };
        let Some(b) = self.selection_bounds() else {
            let sr = self.viewport.screen_rect();
            let step = if mods.shift { 0.5 } else { 0.1 };
            // arrow right shows more to the right: the image moves left
            self.viewport.pan_by(-ux * sr.width() * step, -uy * sr.height() * step);
            return;
        };
        let step = if mods.shift { NUDGE_SHIFT_PX } else { 1.0 };
        let (w, h) = self.viewport.image_size();
        let dx = (ux * step).clamp((-b.x0).min(0.0), (w - b.x1).max(0.0));
        let dy = (uy * step).clamp((-b.y0).min(0.0), (h - b.y1).max(0.0));
        if dx != 0.0 || dy != 0.0 {
            out.push(Intent::Nudge { ids: self.selection_ids(), dx, dy });
        }
    }

    /// Selects the next (or previous) box in reading order after the primary one, wrapping,
    /// and scrolls it into view.
    fn tab(&mut self, forward: bool, out: &mut Vec<Intent>) {
        if self.boxes.is_empty() {
            return;
        }
        let order = reading_order(&self.boxes);
        let n = order.len();
        let current = self.primary.and_then(|id| self.by_id.get(id)).and_then(|i| order.iter().position(|&j| j == i));
        let next = match (current, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(k), true) => (k + 1) % n,
            (Some(k), false) => (k + n - 1) % n,
        };
        let b = self.boxes[order[next]];
        self.select_only(b.id);
        self.viewport.reveal(&b.rect);
        out.push(self.selection_changed());
    }
}

#[cfg(test)]
mod tests;
