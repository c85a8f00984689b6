//! The canvas's editing logic as plain Rust over our own input events: viewport math, texture
//! tiling, a spatial index, hit-testing, the gesture state machine and reading order.
//!
//! Nothing here depends on the GUI toolkit (CI checks that). The widget in `ui` maps pointer and key input
//! to [`CanvasEvent`]s, feeds them to [`Editor::handle`], turns the returned [`Intent`]s into
//! commands, and draws [`Editor::visible_boxes`] through [`Editor::displayed`] plus
//! [`Editor::preview`].

mod editor;
mod events;
mod hit;
mod index;
mod order;
mod tiles;
mod viewport;

pub use editor::{DRAG_THRESHOLD_SCREEN_PX, Editor, HANDLE_RADIUS_SCREEN_PX, MIN_BOX_SIDE_PX, Preview};
pub use events::{CanvasEvent, CursorHint, Intent, Key, Modifiers, PointerButton, Tool};
pub use hit::{Handle, Hit, HitParams, QuadHandle, quad_handles, visible_handles};
pub use index::SpatialIndex;
pub use order::reading_order;
pub use tiles::{PixelRect, Tile, TileGrid, TileKey, level_for_zoom};
pub use viewport::{MAX_ZOOM, MIN_ZOOM, ScreenPos, ScreenRect, Viewport};

use crate::domain::{AnnId, Quad, Rect};

/// One box as the canvas sees it; everything else about an annotation (label, text) stays with
/// the app and is looked up by `id` when drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CanvasBox {
    /// Store ids grow with creation, so a larger id means a more recently created box; hit-testing
    /// uses that to break ties between boxes of equal area.
    pub id: AnnId,
    /// Bounds in image pixels (for a quad: the quad's bounds).
    pub rect: Rect,
    /// Corners of a skewed box, clockwise from top-left; `None` for an axis-aligned box.
    pub quad: Option<Quad>,
}

impl CanvasBox {
    pub fn new(id: AnnId, rect: Rect) -> Self {
        Self { id, rect: rect.normalized(), quad: None }
    }

    pub fn with_quad(id: AnnId, quad: Quad) -> Self {
        Self { id, rect: quad.bounds(), quad: Some(quad) }
    }
}
