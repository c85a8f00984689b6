//! The canvas's input and output vocabulary: what the widget feeds in, what the app gets back.

use super::viewport::ScreenPos;
use crate::domain::{AnnId, LinkKind, Quad, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modifiers {
    pub shift: bool,
    /// Ctrl on Linux/Windows, Cmd on macOS.
    pub command: bool,
    pub alt: bool,
}

impl Modifiers {
    pub const NONE: Modifiers = Modifiers { shift: false, command: false, alt: false };
    pub const SHIFT: Modifiers = Modifiers { shift: true, command: false, alt: false };
    pub const COMMAND: Modifiers = Modifiers { shift: false, command: true, alt: false };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerButton {
    Primary,
    Secondary,
    Middle,
}

/// The keys the canvas reacts to; the widget maps only these and keeps the rest (label
/// hotkeys, A/D for next/previous document, …) for the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Draw one box.
    W,
    /// Draw one quad (4 clicks).
    Q,
    /// Link two boxes: key → value (Shift+L: same row).
    L,
    /// With Command: select all.
    A,
    /// With Command: duplicate.
    D,
    Escape,
    Delete,
    Backspace,
    Tab,
    /// Held: primary drag pans.
    Space,
    ArrowLeft,
    ArrowRight,
    ArrowUp,
    ArrowDown,
    /// `+` or `=`: zoom in.
    Plus,
    Minus,
    /// With Command: fit page.
    Num0,
    /// With Command: 1:1.
    Num1,
    /// With Command: fit width.
    Num2,
}

/// Input to [`super::Editor::handle`], in screen pixels (the editor owns the viewport).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CanvasEvent {
    PointerDown {
        pos: ScreenPos,
        button: PointerButton,
        mods: Modifiers,
    },
    /// Also sent while no button is down (hover, cursor shape, quad preview).
    PointerMove {
        pos: ScreenPos,
        mods: Modifiers,
    },
    PointerUp {
        pos: ScreenPos,
        button: PointerButton,
        mods: Modifiers,
    },
    /// The pointer left the canvas; gestures continue (the widget keeps sending moves while a
    /// drag is captured) but hover is cleared.
    PointerLeft,
    /// `pressed: false` matters only for Space; other keys act on press.
    Key {
        key: Key,
        pressed: bool,
        mods: Modifiers,
    },
    /// Mouse wheel with Ctrl, or pinch: multiply zoom by `factor` about `pos`.
    Zoom {
        pos: ScreenPos,
        factor: f32,
    },
    /// Plain wheel or two-finger scroll: pan by a screen delta.
    Scroll {
        dx: f32,
        dy: f32,
    },
    /// The window lost focus: drop a held Space and cancel any gesture.
    FocusLost,
}

/// What the app should do; it turns each into a command (one undo step each) and applies it.
/// Geometry is already clamped to the page and snapped to whole image pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// A new box. The app should call [`super::Editor::select_only`] with its id once created.
    /// `as_drawn`: Shift was held when the drag ended, so the box keeps exactly this extent
    /// (otherwise the app may snap it to the ink it encloses).
    AddBox {
        rect: Rect,
        as_drawn: bool,
    },
    /// A new skewed box, corners clockwise from top-left (its rect is `quad.bounds()`).
    AddQuad {
        quad: Quad,
    },
    /// Translate boxes (their quads too), emitted once when a move drag is released.
    MoveBoxes {
        ids: Vec<AnnId>,
        dx: f32,
        dy: f32,
    },
    /// An arrow-key nudge; the app may merge consecutive nudges of the same ids into one step.
    Nudge {
        ids: Vec<AnnId>,
        dx: f32,
        dy: f32,
    },
    ResizeBox {
        id: AnnId,
        rect: Rect,
    },
    /// A quad box with one corner dragged; the app also sets the rect to `quad.bounds()`.
    EditQuad {
        id: AnnId,
        quad: Quad,
    },
    DeleteBoxes {
        ids: Vec<AnnId>,
    },
    /// Copies translated by `(dx, dy)`; the app should select the copies once created.
    DuplicateBoxes {
        ids: Vec<AnnId>,
        dx: f32,
        dy: f32,
    },
    AddLink {
        from: AnnId,
        to: AnnId,
        kind: LinkKind,
    },
    /// The selection differs from before; `primary` is the box whose text/label the side
    /// editor shows (last clicked or Tab-ed to).
    SelectionChanged {
        ids: Vec<AnnId>,
        primary: Option<AnnId>,
    },
}

/// The current tool. Drawing tools are one-shot: after one shape they fall back to `Select`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tool {
    #[default]
    Select,
    DrawBox,
    DrawQuad,
    Link(LinkKind),
}

/// The pointer shape the widget should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CursorHint {
    #[default]
    Default,
    Crosshair,
    /// Over a box body: it can be moved.
    Move,
    /// Over the link tool's candidate.
    PointingHand,
    Grab,
    Grabbing,
    ResizeHorizontal,
    ResizeVertical,
    /// Top-left / bottom-right diagonal.
    ResizeNwSe,
    /// Top-right / bottom-left diagonal.
    ResizeNeSw,
}
