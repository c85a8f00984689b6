//! The canvas's gesture state machine: [`CanvasEvent`]s in, [`Intent`]s out.
//!
//! Pointer gestures (Select tool):
//! - press on a box body selects it (Shift/Command+click toggles instead); dragging it moves the
//!   whole selection, Command+drag duplicates it; one intent on release.
//! - press on a handle of a selected box and drag: resize (quad boxes: move one corner, or
//!   one whole edge from its midpoint).
//! - drag on empty space draws a box (as `W` does anywhere); Shift+drag on empty space
//!   rubber-bands, adding the boxes entirely inside the band to the selection.
//! - click (less than 3 screen px of movement) on empty space clears the selection.
//! - middle button, or Space held with the primary button, pans.
//!
//! Geometry leaving the editor is snapped to whole image pixels and kept inside the page. Esc
//! cancels the current gesture (nothing is emitted), then the armed tool, then the selection.

use std::collections::BTreeSet;

use super::CanvasBox;
use super::events::{CanvasEvent, CursorHint, Intent, Modifiers, PointerButton, Tool};
use super::hit::{self, Handle, Hit, HitParams, QuadHandle};
use super::index::SpatialIndex;
use super::viewport::{ScreenPos, Viewport};
use crate::domain::{AnnId, Point, Quad, Rect};

/// Movement below this is a click, not a drag.
pub const DRAG_THRESHOLD_SCREEN_PX: f32 = 3.0;
/// Handles are hit (and should be drawn) this size around their centre.
pub const HANDLE_RADIUS_SCREEN_PX: f32 = 6.0;
/// Boxes are hit this far outside their edges.
const BODY_TOLERANCE_SCREEN_PX: f32 = 2.0;
/// Drawn or resized boxes smaller than this on either side are dropped.
pub const MIN_BOX_SIDE_PX: f32 = 2.0;
/// Arrow keys move by 1 image px, with Shift by this many.
const NUDGE_SHIFT_PX: f32 = 10.0;
/// Command+D puts copies this far (on screen) down-right of the originals.
const DUPLICATE_OFFSET_SCREEN_PX: f32 = 12.0;
/// `+`/`-` zoom step.
const KEY_ZOOM_FACTOR: f32 = 1.25;

#[derive(Debug, Clone, PartialEq)]
enum Gesture {
    Idle,
    /// A button is down but has not moved past the click threshold.
    Pressed {
        at: ScreenPos,
        at_img: Point,
        button: PointerButton,
        mods: Modifiers,
        target: Option<Hit>,
    },
    DrawRect {
        from: Point,
        to: Point,
    },
    RubberBand {
        from: Point,
        to: Point,
    },
    Move {
        from: Point,
        dx: f32,
        dy: f32,
        duplicate: bool,
        bounds: Rect,
    },
    Resize {
        id: AnnId,
        handle: Handle,
        original: Rect,
        grab: (f32, f32),
        current: Rect,
    },
    QuadDrag {
        id: AnnId,
        handle: QuadHandle,
        original: Quad,
        grab: (f32, f32),
        current: Quad,
    },
    Pan {
        button: PointerButton,
        last: ScreenPos,
    },
}

/// Transient shapes the widget draws on top of the boxes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Preview<'a> {
    None,
    /// A box being drawn.
    NewRect(Rect),
    /// The rubber band.
    RubberBand(Rect),
    /// Quad corners clicked so far, and the pointer (for a rubber line to it).
    NewQuad {
        points: &'a [Point],
        pointer: Option<Point>,
    },
    /// A link being made from `from` to the pointer.
    Link {
        from: AnnId,
        pointer: Option<Point>,
    },
    /// Command+drag: the selected boxes stay where they are (as [`Editor::displayed`] says) and
    /// copies are drawn translated by this much.
    Copies {
        dx: f32,
        dy: f32,
    },
}

/// Canvas state: viewport, boxes (with their index), selection, tool and current gesture.
#[derive(Debug, Clone)]
pub struct Editor {
    /// Public so the widget can set the screen rect each frame and the app can fit/zoom.
    pub viewport: Viewport,
    boxes: Vec<CanvasBox>,
    index: SpatialIndex,
    by_id: IdMap,
    selection: BTreeSet<AnnId>,
    primary: Option<AnnId>,
    tool: Tool,
    gesture: Gesture,
    space_held: bool,
    hover: Option<Hit>,
    pointer: Option<ScreenPos>,
    quad_points: Vec<Point>,
    link_from: Option<AnnId>,
    scratch: Vec<u32>,
}

impl Editor {
    pub fn new(viewport: Viewport) -> Self {
        Self {
            viewport,
            boxes: Vec::new(),
            index: SpatialIndex::default(),
            by_id: IdMap::default(),
            selection: BTreeSet::new(),
            primary: None,
            tool: Tool::Select,
            gesture: Gesture::Idle,
            space_held: false,
            hover: None,
            pointer: None,
            quad_points: Vec::new(),
            link_from: None,
            scratch: Vec::new(),
        }
    }

    // ---- state the app feeds in -------------------------------------------------------------

    /// Replaces the boxes (after any change to the document's annotations) and rebuilds the
    /// index. Pass them in creation order: that is the drawing order. Selected ids that no
    /// longer exist are dropped; returns true when that changed the selection.
    pub fn set_boxes(&mut self, boxes: Vec<CanvasBox>) -> bool {
        self.index = SpatialIndex::new(boxes.iter().map(|b| b.rect));
        self.by_id = IdMap::new(&boxes);
        self.boxes = boxes;
        let before = self.selection.len();
        let by_id = &self.by_id;
        self.selection.retain(|id| by_id.contains(*id));
        if self.primary.is_some_and(|p| !self.by_id.contains(p)) {
            self.primary = self.selection.iter().next_back().copied();
        }
        if self.link_from.is_some_and(|id| !self.by_id.contains(id)) {
            self.link_from = None;
        }
        let gesture_lost = match &self.gesture {
            Gesture::Resize { id, .. } | Gesture::QuadDrag { id, .. } => !self.by_id.contains(*id),
            Gesture::Move { .. } => self.selection.len() != before,
            _ => false,
        };
        if gesture_lost {
            self.gesture = Gesture::Idle;
        }
        self.hover = None;
        self.selection.len() != before
    }

    pub fn select_only(&mut self, id: AnnId) {
        self.selection.clear();
        self.selection.insert(id);
        self.primary = Some(id);
    }

    pub fn set_selection(&mut self, ids: impl IntoIterator<Item = AnnId>, primary: Option<AnnId>) {
        self.selection = ids.into_iter().collect();
        self.primary =
            primary.filter(|p| self.selection.contains(p)).or_else(|| self.selection.iter().next_back().copied());
    }

    pub fn set_tool(&mut self, tool: Tool) {
        self.gesture = Gesture::Idle;
        self.quad_points.clear();
        self.link_from = None;
        self.tool = tool;
    }

    // ---- state the widget reads -------------------------------------------------------------

    pub fn boxes(&self) -> &[CanvasBox] {
        &self.boxes
    }

    pub fn box_by_id(&self, id: AnnId) -> Option<&CanvasBox> {
        self.by_id.get(id).map(|i| &self.boxes[i])
    }

    pub fn index(&self) -> &SpatialIndex {
        &self.index
    }

    /// Indices into [`Editor::boxes`] of the boxes in view, in drawing order.
    pub fn visible_boxes(&self, out: &mut Vec<u32>) {
        self.index.query_rect(&self.viewport.visible_image_rect(), out);
    }

    pub fn selection(&self) -> &BTreeSet<AnnId> {
        &self.selection
    }

    pub fn is_selected(&self, id: AnnId) -> bool {
        self.selection.contains(&id)
    }

    /// The box whose label and text the side editor shows.
    pub fn primary(&self) -> Option<AnnId> {
        self.primary
    }

    pub fn tool(&self) -> Tool {
        self.tool
    }

    /// What is under the pointer while no gesture runs (for hover labels and highlights).
    pub fn hover(&self) -> Option<Hit> {
        self.hover
    }

    pub fn is_gesture_active(&self) -> bool {
        !matches!(self.gesture, Gesture::Idle)
    }

    /// Handle radius in image pixels at the current zoom (draw handles this big).
    pub fn hit_params(&self) -> HitParams {
        HitParams {
            handle_radius: self.viewport.screen_len_to_image(HANDLE_RADIUS_SCREEN_PX),
            body_tolerance: self.viewport.screen_len_to_image(BODY_TOLERANCE_SCREEN_PX),
        }
    }

    /// Where to draw `b` this frame: moved or resized while a gesture previews it.
    pub fn displayed(&self, b: &CanvasBox) -> CanvasBox {
        match &self.gesture {
            Gesture::Move { dx, dy, duplicate: false, .. } if self.selection.contains(&b.id) => {
                CanvasBox { id: b.id, rect: b.rect.translated(*dx, *dy), quad: b.quad.map(|q| q.translated(*dx, *dy)) }
            }
            Gesture::Resize { id, current, .. } if *id == b.id => CanvasBox { rect: *current, ..*b },
            Gesture::QuadDrag { id, current, .. } if *id == b.id => {
                CanvasBox { id: b.id, rect: current.bounds(), quad: Some(*current) }
            }
            _ => *b,
        }
    }

    pub fn preview(&self) -> Preview<'_> {
        let pointer = self.pointer.map(|p| self.viewport.to_image(p));
        match &self.gesture {
            Gesture::DrawRect { from, to } => {
                return Preview::NewRect(self.snap_rect(Rect::from_corners(*from, *to)));
            }
            Gesture::RubberBand { from, to } => {
                return Preview::RubberBand(Rect::from_corners(*from, *to));
            }
            Gesture::Move { dx, dy, duplicate: true, .. } => return Preview::Copies { dx: *dx, dy: *dy },
            _ => {}
        }
        match self.tool {
            Tool::DrawQuad if !self.quad_points.is_empty() => Preview::NewQuad { points: &self.quad_points, pointer },
            Tool::Link(_) => match self.link_from {
                Some(from) => Preview::Link { from, pointer },
                None => Preview::None,
            },
            _ => Preview::None,
        }
    }

    pub fn cursor(&self) -> CursorHint {
        match &self.gesture {
            Gesture::Pan { .. } => return CursorHint::Grabbing,
            Gesture::DrawRect { .. } | Gesture::RubberBand { .. } => return CursorHint::Crosshair,
            Gesture::Move { .. } => return CursorHint::Move,
            Gesture::Resize { handle, .. } => return handle.cursor(),
            Gesture::QuadDrag { .. } => return CursorHint::Crosshair,
            Gesture::Idle | Gesture::Pressed { .. } => {}
        }
        if self.space_held {
            return CursorHint::Grab;
        }
        match (self.tool, self.hover) {
            (Tool::DrawBox | Tool::DrawQuad, _) => CursorHint::Crosshair,
            (Tool::Link(_), Some(Hit::Body { .. })) => CursorHint::PointingHand,
            (Tool::Link(_), _) => CursorHint::Crosshair,
            (Tool::Select, Some(Hit::Handle { handle, .. })) => handle.cursor(),
            (Tool::Select, Some(Hit::Quad { .. })) => CursorHint::Crosshair,
            (Tool::Select, Some(Hit::Body { .. })) => CursorHint::Move,
            (Tool::Select, None) => CursorHint::Default,
        }
    }

    // ---- events ----------------------------------------------------------------------------

    /// Applies one input event; returns what the app should do, in order.
    pub fn handle(&mut self, event: CanvasEvent) -> Vec<Intent> {
        let mut out = Vec::new();
        match event {
            CanvasEvent::PointerDown { pos, button, mods } => {
                self.pointer = Some(pos);
                self.pointer_down(pos, button, mods, &mut out);
            }
            CanvasEvent::PointerMove { pos, .. } => {
                self.pointer = Some(pos);
                self.pointer_move(pos, &mut out);
            }
            CanvasEvent::PointerUp { pos, button, mods } => {
                self.pointer = Some(pos);
                self.pointer_move(pos, &mut out);
                self.pointer_up(pos, button, mods, &mut out);
            }
            CanvasEvent::PointerLeft => {
                self.hover = None;
                if !self.is_gesture_active() {
                    self.pointer = None;
                }
            }
            CanvasEvent::Key { key, pressed, mods } => self.key(key, pressed, mods, &mut out),
            CanvasEvent::Zoom { pos, factor } => {
                self.viewport.zoom_at(pos, factor);
                self.refresh_hover();
            }
            CanvasEvent::Scroll { dx, dy } => {
                self.viewport.pan_by(dx, dy);
                self.refresh_hover();
            }
            CanvasEvent::FocusLost => {
                self.space_held = false;
                self.gesture = Gesture::Idle;
            }
        }
        out
    }

    fn pointer_down(&mut self, pos: ScreenPos, button: PointerButton, mods: Modifiers, out: &mut Vec<Intent>) {
        if self.is_gesture_active() {
            return; // a second button during a drag
        }
        let at_img = self.viewport.to_image(pos);
        let pan = button == PointerButton::Middle || (button == PointerButton::Primary && self.space_held);
        if pan {
            self.gesture = Gesture::Pan { button, last: pos };
            return;
        }
        let target = match (button, self.tool) {
            (PointerButton::Middle, _) => return,
            (PointerButton::Secondary, _) => {
                // right-click selects what it is on, for the widget's context menu
                if let Some(id) = self.body_at(at_img)
                    && !self.selection.contains(&id)
                {
                    self.select_only(id);
                    out.push(self.selection_changed());
                }
                return;
            }
            (PointerButton::Primary, Tool::Select) => self.hit_at(at_img),
            (PointerButton::Primary, Tool::Link(_)) => self.body_at(at_img).map(|id| Hit::Body { id }),
            (PointerButton::Primary, Tool::DrawBox | Tool::DrawQuad) => None,
        };
        // Pressing an unselected box selects it at once so that dragging it moves it. A
        // selected box keeps the (multi-)selection until release, so the drag moves them all.
        if self.tool == Tool::Select
            && let Some(Hit::Body { id }) = target
            && !toggles(mods)
            && !self.selection.contains(&id)
        {
            self.select_only(id);
            out.push(self.selection_changed());
        }
        self.gesture = Gesture::Pressed { at: pos, at_img, button, mods, target };
    }

    fn pointer_move(&mut self, pos: ScreenPos, out: &mut Vec<Intent>) {
        let p = self.viewport.to_image(pos);
        let (w, h) = self.viewport.image_size();
        match &mut self.gesture {
            Gesture::Idle => self.refresh_hover(),
            Gesture::Pressed { at, .. } => {
                if at.distance(pos) >= DRAG_THRESHOLD_SCREEN_PX {
                    self.start_drag(out);
                    if !matches!(self.gesture, Gesture::Pressed { .. }) {
                        self.pointer_move(pos, out);
                    }
                }
            }
            Gesture::Pan { last, .. } => {
                let (dx, dy) = (pos.x - last.x, pos.y - last.y);
                *last = pos;
                self.viewport.pan_by(dx, dy);
            }
            Gesture::DrawRect { to, .. } | Gesture::RubberBand { to, .. } => *to = p,
            Gesture::Move { from, dx, dy, bounds, .. } => {
                // whole pixels, and the moved group's bounds stay on the page (without forcing
                // boxes that already stick out to jump in)
                *dx = (p.x - from.x).round().clamp((-bounds.x0).min(0.0), (w - bounds.x1).max(0.0));
                *dy = (p.y - from.y).round().clamp((-bounds.y0).min(0.0), (h - bounds.y1).max(0.0));
            }
            Gesture::Resize { handle, original, grab, current, .. } => {
                let target = Point::new(p.x - grab.0, p.y - grab.1);
                *current = handle.drag(original, snap(target, w, h));
            }
            Gesture::QuadDrag { handle, original, grab, current, .. } => {
                let target = Point::new(p.x - grab.0, p.y - grab.1);
                *current = handle.drag(original, target, |c| snap(c, w, h));
            }
        }
    }

    /// The pointer moved far enough while pressed: decide what the drag is.
    fn start_drag(&mut self, out: &mut Vec<Intent>) {
        let Gesture::Pressed { at_img, button, mods, target, .. } = self.gesture.clone() else {
            return;
        };
        if button != PointerButton::Primary {
            return;
        }
        self.gesture = match (self.tool, target) {
            (Tool::Select, None) if mods.shift => Gesture::RubberBand { from: at_img, to: at_img },
            (Tool::DrawBox, _) | (Tool::Select, None) => {
                Gesture::DrawRect { from: self.snap_point(at_img), to: at_img }
            }
            (Tool::Select, Some(Hit::Handle { id, handle })) => {
                let Some(b) = self.box_by_id(id) else { return };
                let h = handle.position(&b.rect);
                Gesture::Resize {
                    id,
                    handle,
                    original: b.rect,
                    grab: (at_img.x - h.x, at_img.y - h.y),
                    current: b.rect,
                }
            }
            (Tool::Select, Some(Hit::Quad { id, handle })) => {
                let Some(q) = self.box_by_id(id).and_then(|b| b.quad) else {
                    return;
                };
                let c = handle.position(&q);
                Gesture::QuadDrag { id, handle, original: q, grab: (at_img.x - c.x, at_img.y - c.y), current: q }
            }
            (Tool::Select, Some(Hit::Body { id })) => {
                if !self.selection.contains(&id) {
                    // Shift-press on an unselected box, then drag: take it along
                    self.selection.insert(id);
                    self.primary = Some(id);
                    out.push(self.selection_changed());
                }
                let bounds = self.selection_bounds().unwrap_or_default();
                Gesture::Move { from: at_img, dx: 0.0, dy: 0.0, duplicate: mods.command, bounds }
            }
            // quad and link tools work by clicks; a sloppy click is still a click
            (Tool::DrawQuad | Tool::Link(_), _) => return,
        };
    }

    fn pointer_up(&mut self, pos: ScreenPos, button: PointerButton, mods: Modifiers, out: &mut Vec<Intent>) {
        let ends = match &self.gesture {
            Gesture::Idle => false,
            Gesture::Pressed { button: b, .. } | Gesture::Pan { button: b, .. } => *b == button,
            _ => button == PointerButton::Primary,
        };
        if !ends {
            return;
        }
        let gesture = std::mem::replace(&mut self.gesture, Gesture::Idle);
        match gesture {
            Gesture::Idle | Gesture::Pan { .. } => {}
            Gesture::Pressed { target, mods: press_mods, .. } => self.click(pos, target, press_mods, out),
            Gesture::DrawRect { from, to } => {
                let r = self.snap_rect(Rect::from_corners(from, to));
                if r.width() >= MIN_BOX_SIDE_PX && r.height() >= MIN_BOX_SIDE_PX {
                    out.push(Intent::AddBox { rect: r, as_drawn: mods.shift });
                    self.tool = Tool::Select; // W is one-shot; a botched attempt keeps it armed
                }
            }
            Gesture::RubberBand { from, to } => {
                let band = Rect::from_corners(from, to);
                self.index.query_rect(&band, &mut self.scratch);
                let before = self.selection.clone();
                for &i in &self.scratch {
                    let b = &self.boxes[i as usize];
                    if contains_rect(&band, &b.rect) {
                        self.selection.insert(b.id);
                    }
                }
                if self.selection != before {
                    if self.primary.is_none() {
                        self.primary = self.selection.iter().next_back().copied();
                    }
                    out.push(self.selection_changed());
                }
            }
            Gesture::Move { dx, dy, duplicate, .. } => {
                if dx != 0.0 || dy != 0.0 {
                    let ids = self.selection_ids();
                    out.push(if duplicate {
                        Intent::DuplicateBoxes { ids, dx, dy }
                    } else {
                        Intent::MoveBoxes { ids, dx, dy }
                    });
                }
            }
            Gesture::Resize { id, original, current, .. } => {
                if current != original && current.width() >= MIN_BOX_SIDE_PX && current.height() >= MIN_BOX_SIDE_PX {
                    out.push(Intent::ResizeBox { id, rect: current });
                }
            }
            Gesture::QuadDrag { id, original, current, .. } => {
                if current != original && hit::quad_area(&current) >= MIN_BOX_SIDE_PX * MIN_BOX_SIDE_PX {
                    out.push(Intent::EditQuad { id, quad: current });
                }
            }
        }
        self.refresh_hover();
    }

    /// A press and release without (much) movement.
    fn click(&mut self, pos: ScreenPos, target: Option<Hit>, mods: Modifiers, out: &mut Vec<Intent>) {
        let p = self.viewport.to_image(pos);
        match self.tool {
            Tool::Select => match target {
                Some(Hit::Body { id }) if toggles(mods) => {
                    if !self.selection.remove(&id) {
                        self.selection.insert(id);
                        self.primary = Some(id);
                    } else if self.primary == Some(id) {
                        self.primary = self.selection.iter().next_back().copied();
                    }
                    out.push(self.selection_changed());
                }
                Some(Hit::Body { id }) => {
                    if self.selection.len() != 1 || self.primary != Some(id) {
                        self.select_only(id);
                        out.push(self.selection_changed());
                    }
                }
                Some(_) => {} // a click on a handle changes nothing
                None => {
                    if !toggles(mods) && !self.selection.is_empty() {
                        self.selection.clear();
                        self.primary = None;
                        out.push(self.selection_changed());
                    }
                }
            },
            Tool::DrawBox => {} // stays armed until a real drag
            Tool::DrawQuad => {
                self.quad_points.push(self.snap_point(p));
                if self.quad_points.len() == 4 {
                    let quad = clockwise_from_top_left([
                        self.quad_points[0],
                        self.quad_points[1],
                        self.quad_points[2],
                        self.quad_points[3],
                    ]);
                    if hit::quad_area(&quad) >= MIN_BOX_SIDE_PX * MIN_BOX_SIDE_PX {
                        out.push(Intent::AddQuad { quad });
                    }
                    self.set_tool(Tool::Select);
                }
            }
            Tool::Link(kind) => match (self.link_from, target) {
                (None, Some(Hit::Body { id })) => self.link_from = Some(id),
                (Some(from), Some(Hit::Body { id })) if id != from => {
                    out.push(Intent::AddLink { from, to: id, kind });
                    self.set_tool(Tool::Select);
                }
                _ => {}
            },
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    fn hit_at(&mut self, p: Point) -> Option<Hit> {
        let params = self.hit_params();
        let selected = self.selection.iter().filter_map(|id| self.by_id.get(*id)).map(|i| &self.boxes[i]);
        hit::hit_test(&self.boxes, &self.index, selected, p, &params, &mut self.scratch)
    }

    fn body_at(&mut self, p: Point) -> Option<AnnId> {
        let params = self.hit_params();
        hit::hit_body(&self.boxes, &self.index, p, &params, &mut self.scratch)
    }

    fn refresh_hover(&mut self) {
        let idle = matches!(self.gesture, Gesture::Idle);
        self.hover = match self.pointer {
            Some(pos) if idle && self.viewport.screen_rect().contains(pos) => {
                let p = self.viewport.to_image(pos);
                match self.tool {
                    Tool::Select => self.hit_at(p),
                    _ => self.body_at(p).map(|id| Hit::Body { id }),
                }
            }
            _ => None,
        };
    }

    fn zoom_anchor(&self) -> ScreenPos {
        self.pointer
            .filter(|p| self.viewport.screen_rect().contains(*p))
            .unwrap_or_else(|| self.viewport.screen_rect().center())
    }

    fn selection_ids(&self) -> Vec<AnnId> {
        self.selection.iter().copied().collect()
    }

    fn selection_changed(&self) -> Intent {
        Intent::SelectionChanged { ids: self.selection_ids(), primary: self.primary }
    }

    fn selection_bounds(&self) -> Option<Rect> {
        self.selection.iter().filter_map(|id| self.box_by_id(*id)).map(|b| b.rect).reduce(|a, b| a.union(&b))
    }

    /// Clamped to the page and rounded to whole pixels.
    fn snap_point(&self, p: Point) -> Point {
        let (w, h) = self.viewport.image_size();
        snap(p, w, h)
    }

    fn snap_rect(&self, r: Rect) -> Rect {
        Rect::from_corners(self.snap_point(Point::new(r.x0, r.y0)), self.snap_point(Point::new(r.x1, r.y1)))
    }
}

fn snap(p: Point, w: f32, h: f32) -> Point {
    Point::new(p.x.clamp(0.0, w).round(), p.y.clamp(0.0, h).round())
}

/// Box index by id: a sorted Vec, built in near-linear time because boxes usually arrive in
/// id order (a HashMap of 10,000 ids costs more than rebuilding the spatial index).
#[derive(Debug, Clone, Default)]
struct IdMap(Vec<(AnnId, u32)>);

impl IdMap {
    fn new(boxes: &[CanvasBox]) -> Self {
        let mut v: Vec<(AnnId, u32)> = boxes.iter().enumerate().map(|(i, b)| (b.id, i as u32)).collect();
        v.sort_unstable();
        Self(v)
    }

    fn get(&self, id: AnnId) -> Option<usize> {
        self.0.binary_search_by_key(&id, |&(k, _)| k).ok().map(|k| self.0[k].1 as usize)
    }

    fn contains(&self, id: AnnId) -> bool {
        self.get(id).is_some()
    }
}

/// Shift or Command on a click toggles a box in the selection.
fn toggles(mods: Modifiers) -> bool {
    mods.shift || mods.command
}

fn contains_rect(outer: &Rect, inner: &Rect) -> bool {
    inner.x0 >= outer.x0 && inner.y0 >= outer.y0 && inner.x1 <= outer.x1 && inner.y1 <= outer.y1
}

/// Orders four clicked corners clockwise (on screen, y down) starting from the top-left one,
/// whatever order they were clicked in.
fn clockwise_from_top_left(points: [Point; 4]) -> Quad {
    let cx = points.iter().map(|p| p.x).sum::<f32>() / 4.0;
    let cy = points.iter().map(|p| p.y).sum::<f32>() / 4.0;
    let mut pts = points;
    // with y down, increasing atan2 angle runs clockwise on screen
    pts.sort_by(|a, b| (a.y - cy).atan2(a.x - cx).total_cmp(&(b.y - cy).atan2(b.x - cx)));
    let start = (0..4).min_by(|&i, &j| (pts[i].x + pts[i].y).total_cmp(&(pts[j].x + pts[j].y))).unwrap_or(0);
    pts.rotate_left(start);
    Quad(pts)
}

mod keys;

#[cfg(test)]
mod tests;
