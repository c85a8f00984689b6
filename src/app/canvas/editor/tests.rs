//! State-machine tests: gestures driven by synthetic events, asserting on the intents.

use super::*;
use crate::app::canvas::events::Key;
use crate::app::canvas::viewport::ScreenRect;
use crate::domain::LinkKind;

pub(crate) const NONE: Modifiers = Modifiers::NONE;
pub(crate) const SHIFT: Modifiers = Modifiers::SHIFT;
pub(crate) const CMD: Modifiers = Modifiers::COMMAND;

/// A 1000×800 page shown at zoom 1 with its origin at the screen origin, so screen = image px.
pub(crate) fn editor(boxes: &[CanvasBox]) -> Editor {
    let mut e = Editor::new(Viewport::new(1000, 800, ScreenRect::new(0.0, 0.0, 1000.0, 800.0)));
    assert_eq!(e.viewport.zoom(), 1.0);
    assert_eq!(e.viewport.pan(), ScreenPos::new(0.0, 0.0));
    e.set_boxes(boxes.to_vec());
    e
}

pub(crate) fn bx(id: i64, x0: f32, y0: f32, x1: f32, y1: f32) -> CanvasBox {
    CanvasBox::new(AnnId(id), Rect::new(x0, y0, x1, y1))
}

pub(crate) fn sp(x: f32, y: f32) -> ScreenPos {
    ScreenPos::new(x, y)
}

pub(crate) fn down(e: &mut Editor, x: f32, y: f32, mods: Modifiers) -> Vec<Intent> {
    e.handle(CanvasEvent::PointerDown { pos: sp(x, y), button: PointerButton::Primary, mods })
}

pub(crate) fn mv(e: &mut Editor, x: f32, y: f32) -> Vec<Intent> {
    e.handle(CanvasEvent::PointerMove { pos: sp(x, y), mods: NONE })
}

pub(crate) fn up(e: &mut Editor, x: f32, y: f32) -> Vec<Intent> {
    e.handle(CanvasEvent::PointerUp { pos: sp(x, y), button: PointerButton::Primary, mods: NONE })
}

pub(crate) fn click(e: &mut Editor, x: f32, y: f32, mods: Modifiers) -> Vec<Intent> {
    let mut out = down(e, x, y, mods);
    out.extend(up(e, x, y));
    out
}

/// Press, move in ten steps, release; returns every intent emitted on the way.
pub(crate) fn drag(e: &mut Editor, from: (f32, f32), to: (f32, f32), mods: Modifiers) -> Vec<Intent> {
    let mut out = down(e, from.0, from.1, mods);
    for i in 1..=10 {
        let t = i as f32 / 10.0;
        out.extend(mv(e, from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t));
    }
    out.extend(up(e, to.0, to.1));
    out
}

pub(crate) fn key(e: &mut Editor, key: Key, mods: Modifiers) -> Vec<Intent> {
    e.handle(CanvasEvent::Key { key, pressed: true, mods })
}

pub(crate) fn sel(ids: &[i64]) -> Intent {
    let ids: Vec<AnnId> = ids.iter().map(|&i| AnnId(i)).collect();
    let primary = ids.last().copied();
    Intent::SelectionChanged { ids, primary }
}

pub(crate) fn selected(e: &Editor) -> Vec<i64> {
    e.selection().iter().map(|id| id.0).collect()
}

pub(crate) fn without_selection(intents: Vec<Intent>) -> Vec<Intent> {
    intents.into_iter().filter(|i| !matches!(i, Intent::SelectionChanged { .. })).collect()
}

// ---- drawing ---------------------------------------------------------------------------------

#[test]
fn drag_on_empty_space_draws_one_snapped_box() {
    let mut e = editor(&[]);
    let out = drag(&mut e, (100.4, 200.6), (250.2, 260.0), NONE);
    assert_eq!(out, vec![Intent::AddBox { rect: Rect::new(100.0, 201.0, 250.0, 260.0), as_drawn: false }]);
    assert!(!e.is_gesture_active());
}

#[test]
fn shift_held_when_a_drag_ends_keeps_the_box_as_drawn() {
    let mut e = editor(&[]);
    down(&mut e, 100.0, 100.0, NONE);
    mv(&mut e, 200.0, 150.0);
    let out = e.handle(CanvasEvent::PointerUp { pos: sp(200.0, 150.0), button: PointerButton::Primary, mods: SHIFT });
    assert_eq!(out, vec![Intent::AddBox { rect: Rect::new(100.0, 100.0, 200.0, 150.0), as_drawn: true }]);
}

#[test]
fn box_drawn_towards_the_top_left_is_normalised_and_clamped_to_the_page() {
    let mut e = editor(&[]);
    e.viewport.pan_by(50.0, 50.0); // page origin now at screen (50, 50)
    let out = drag(&mut e, (300.0, 300.0), (10.0, 20.0), NONE);
    assert_eq!(out, vec![Intent::AddBox { rect: Rect::new(0.0, 0.0, 250.0, 250.0), as_drawn: false }]);
}

#[test]
fn preview_shows_the_box_being_drawn() {
    let mut e = editor(&[]);
    down(&mut e, 10.0, 10.0, NONE);
    mv(&mut e, 60.0, 40.0);
    assert_eq!(e.preview(), Preview::NewRect(Rect::new(10.0, 10.0, 60.0, 40.0)));
    assert_eq!(e.cursor(), CursorHint::Crosshair);
    up(&mut e, 60.0, 40.0);
    assert_eq!(e.preview(), Preview::None);
}

#[test]
fn movement_under_the_threshold_is_a_click() {
    let mut e = editor(&[bx(1, 500.0, 500.0, 600.0, 600.0)]);
    click(&mut e, 550.0, 550.0, NONE);
    assert_eq!(selected(&e), vec![1]);
    // 2.9 px of wobble on empty space: a click, which clears the selection and draws nothing
    let out = drag(&mut e, (100.0, 100.0), (102.0, 102.0), NONE);
    assert_eq!(out, vec![sel(&[])]);
}

#[test]
fn tiny_drags_draw_nothing() {
    let mut e = editor(&[]);
    // past the click threshold but flat: no box
    assert_eq!(drag(&mut e, (100.0, 100.0), (140.0, 101.0), NONE), vec![]);
    // zoomed in 32×: 20 screen px is well under a 2 px box
    e.viewport.set_zoom_at(sp(500.0, 400.0), 32.0);
    assert_eq!(drag(&mut e, (500.0, 400.0), (520.0, 420.0), NONE), vec![]);
}

#[test]
fn w_draws_a_box_even_on_top_of_another_and_is_one_shot() {
    let mut e = editor(&[bx(1, 0.0, 0.0, 1000.0, 800.0)]);
    key(&mut e, Key::W, NONE);
    assert_eq!(e.tool(), Tool::DrawBox);
    assert_eq!(e.cursor(), CursorHint::Crosshair);
    let out = drag(&mut e, (100.0, 100.0), (200.0, 150.0), NONE);
    assert_eq!(out, vec![Intent::AddBox { rect: Rect::new(100.0, 100.0, 200.0, 150.0), as_drawn: false }]);
    assert_eq!(e.tool(), Tool::Select);
    // now the same drag moves the big box instead
    let out = without_selection(drag(&mut e, (100.0, 100.0), (200.0, 150.0), NONE));
    assert!(matches!(out.as_slice(), [Intent::MoveBoxes { .. }]) || out.is_empty(), "{out:?}");
}

// ---- selection -------------------------------------------------------------------------------

#[test]
fn click_selects_click_on_empty_space_clears() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0), bx(2, 300.0, 100.0, 400.0, 150.0)]);
    assert_eq!(click(&mut e, 150.0, 120.0, NONE), vec![sel(&[1])]);
    assert_eq!(click(&mut e, 150.0, 120.0, NONE), vec![], "clicking the selected box again changes nothing");
    assert_eq!(click(&mut e, 350.0, 120.0, NONE), vec![sel(&[2])]);
    assert_eq!(e.primary(), Some(AnnId(2)));
    assert_eq!(click(&mut e, 600.0, 600.0, NONE), vec![sel(&[])]);
    assert_eq!(click(&mut e, 600.0, 600.0, NONE), vec![], "already empty");
}

#[test]
fn shift_or_command_click_toggles() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0), bx(2, 300.0, 100.0, 400.0, 150.0)]);
    click(&mut e, 150.0, 120.0, NONE);
    assert_eq!(click(&mut e, 350.0, 120.0, SHIFT), vec![sel(&[1, 2])]);
    assert_eq!(e.primary(), Some(AnnId(2)));
    assert_eq!(
        click(&mut e, 150.0, 120.0, CMD),
        vec![Intent::SelectionChanged { ids: vec![AnnId(2)], primary: Some(AnnId(2)) }]
    );
    // shift-click on empty space keeps the selection
    assert_eq!(click(&mut e, 600.0, 600.0, SHIFT), vec![]);
    assert_eq!(selected(&e), vec![2]);
    // a plain click on one of several selected boxes narrows to it
    click(&mut e, 150.0, 120.0, SHIFT);
    assert_eq!(click(&mut e, 150.0, 120.0, NONE), vec![sel(&[1])]);
}

#[test]
fn nested_boxes_click_reaches_the_innermost() {
    let table = bx(1, 50.0, 50.0, 950.0, 750.0);
    let line = bx(2, 100.0, 100.0, 600.0, 140.0);
    let word = bx(3, 110.0, 105.0, 180.0, 135.0);
    let mut e = editor(&[table, line, word]);
    assert_eq!(click(&mut e, 150.0, 120.0, NONE), vec![sel(&[3])]);
    assert_eq!(click(&mut e, 400.0, 120.0, NONE), vec![sel(&[2])]);
    assert_eq!(click(&mut e, 400.0, 500.0, NONE), vec![sel(&[1])]);
}

#[test]
fn shift_drag_on_empty_space_rubber_bands_boxes_fully_inside() {
    let mut e = editor(&[
        bx(1, 100.0, 100.0, 200.0, 150.0),
        bx(2, 300.0, 100.0, 400.0, 150.0),
        bx(3, 380.0, 100.0, 700.0, 150.0), // only partly inside
        bx(4, 100.0, 600.0, 200.0, 650.0),
    ]);
    click(&mut e, 150.0, 625.0, NONE); // box 4 selected first
    down(&mut e, 50.0, 50.0, SHIFT);
    mv(&mut e, 300.0, 120.0);
    assert_eq!(e.preview(), Preview::RubberBand(Rect::new(50.0, 50.0, 300.0, 120.0)));
    let out = {
        let mut out = mv(&mut e, 450.0, 200.0);
        out.extend(up(&mut e, 450.0, 200.0));
        out
    };
    assert_eq!(
        out,
        vec![Intent::SelectionChanged { ids: vec![AnnId(1), AnnId(2), AnnId(4)], primary: Some(AnnId(4)) }]
    );
}

// ---- moving ----------------------------------------------------------------------------------

#[test]
fn move_emits_exactly_one_intent_on_release_with_the_total_delta() {
    let b = bx(1, 100.0, 100.0, 200.0, 150.0);
    let mut e = editor(&[b]);
    let mut during = down(&mut e, 150.0, 120.0, NONE);
    assert_eq!(during, vec![sel(&[1])], "pressing an unselected box selects it at once");
    during.clear();
    for i in 1..=30 {
        during.extend(mv(&mut e, 150.0 + i as f32, 120.0 + i as f32 * 0.5));
    }
    assert!(during.is_empty(), "nothing is emitted while dragging: {during:?}");
    assert_eq!(e.displayed(&b).rect, Rect::new(130.0, 115.0, 230.0, 165.0), "preview follows the pointer");
    assert_eq!(e.cursor(), CursorHint::Move);
    let out = up(&mut e, 180.0, 135.0);
    assert_eq!(out, vec![Intent::MoveBoxes { ids: vec![AnnId(1)], dx: 30.0, dy: 15.0 }]);
    assert_eq!(e.displayed(&b), b, "after release the app's boxes are the truth again");
}

#[test]
fn dragging_one_of_several_selected_moves_them_all() {
    let mut e = editor(&[
        bx(1, 100.0, 100.0, 200.0, 150.0),
        bx(2, 300.0, 100.0, 400.0, 150.0),
        bx(3, 500.0, 500.0, 600.0, 550.0),
    ]);
    click(&mut e, 150.0, 120.0, NONE);
    click(&mut e, 350.0, 120.0, SHIFT);
    let out = drag(&mut e, (350.0, 120.0), (340.0, 160.0), NONE);
    assert_eq!(out, vec![Intent::MoveBoxes { ids: vec![AnnId(1), AnnId(2)], dx: -10.0, dy: 40.0 }]);
}

#[test]
fn shift_drag_on_an_unselected_box_adds_it_and_moves_all() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0), bx(2, 300.0, 100.0, 400.0, 150.0)]);
    click(&mut e, 150.0, 120.0, NONE);
    let out = drag(&mut e, (350.0, 120.0), (360.0, 120.0), SHIFT);
    assert_eq!(out, vec![sel(&[1, 2]), Intent::MoveBoxes { ids: vec![AnnId(1), AnnId(2)], dx: 10.0, dy: 0.0 }]);
}

#[test]
fn move_is_clamped_to_the_page_and_a_round_trip_emits_nothing() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0)]);
    let out = without_selection(drag(&mut e, (150.0, 120.0), (-500.0, 900.0), NONE));
    assert_eq!(out, vec![Intent::MoveBoxes { ids: vec![AnnId(1)], dx: -100.0, dy: 650.0 }]);
    down(&mut e, 150.0, 120.0, NONE);
    mv(&mut e, 250.0, 220.0);
    mv(&mut e, 150.4, 120.3);
    assert_eq!(up(&mut e, 150.4, 120.3), vec![], "back where it started: no empty undo step");
}

#[test]
fn command_drag_duplicates_instead_of_moving() {
    let b = bx(1, 100.0, 100.0, 200.0, 150.0);
    let mut e = editor(&[b]);
    click(&mut e, 150.0, 120.0, NONE);
    down(&mut e, 150.0, 120.0, CMD);
    mv(&mut e, 170.0, 140.0);
    assert_eq!(e.preview(), Preview::Copies { dx: 20.0, dy: 20.0 });
    assert_eq!(e.displayed(&b), b, "originals stay put");
    assert_eq!(up(&mut e, 170.0, 140.0), vec![Intent::DuplicateBoxes { ids: vec![AnnId(1)], dx: 20.0, dy: 20.0 }]);
}

// ---- resizing --------------------------------------------------------------------------------

#[test]
fn each_of_the_eight_handles_resizes_its_edges() {
    let original = Rect::new(100.0, 100.0, 300.0, 200.0);
    for handle in Handle::ALL {
        let mut e = editor(&[CanvasBox::new(AnnId(1), original)]);
        click(&mut e, 200.0, 150.0, NONE);
        let at = handle.position(&original);
        e.handle(CanvasEvent::PointerMove { pos: sp(at.x, at.y), mods: NONE });
        assert_eq!(e.hover(), Some(Hit::Handle { id: AnnId(1), handle }));
        assert_eq!(e.cursor(), handle.cursor());
        let out = drag(&mut e, (at.x, at.y), (at.x + 10.0, at.y + 15.0), NONE);
        let want = handle.drag(&original, Point::new(at.x + 10.0, at.y + 15.0));
        assert_eq!(out, vec![Intent::ResizeBox { id: AnnId(1), rect: want }], "{handle:?}");
        assert_ne!(want, original);
    }
}

#[test]
fn dragging_a_handle_past_the_opposite_edge_normalises() {
    let original = Rect::new(100.0, 100.0, 300.0, 200.0);
    let cases = [
        (Handle::Left, (400.0, 150.0), Rect::new(300.0, 100.0, 400.0, 200.0)),
        (Handle::Right, (50.0, 150.0), Rect::new(50.0, 100.0, 100.0, 200.0)),
        (Handle::Top, (200.0, 260.0), Rect::new(100.0, 200.0, 300.0, 260.0)),
        (Handle::Bottom, (200.0, 40.0), Rect::new(100.0, 40.0, 300.0, 100.0)),
        (Handle::TopLeft, (350.0, 250.0), Rect::new(300.0, 200.0, 350.0, 250.0)),
        (Handle::BottomRight, (60.0, 70.0), Rect::new(60.0, 70.0, 100.0, 100.0)),
        (Handle::TopRight, (60.0, 250.0), Rect::new(60.0, 200.0, 100.0, 250.0)),
        (Handle::BottomLeft, (320.0, 30.0), Rect::new(300.0, 30.0, 320.0, 100.0)),
    ];
    for (handle, to, want) in cases {
        let mut e = editor(&[CanvasBox::new(AnnId(1), original)]);
        click(&mut e, 200.0, 150.0, NONE);
        let at = handle.position(&original);
        let out = drag(&mut e, (at.x, at.y), to, NONE);
        assert_eq!(out, vec![Intent::ResizeBox { id: AnnId(1), rect: want }], "{handle:?}");
    }
}

#[test]
fn resize_keeps_the_grab_offset_and_clamps_to_the_page() {
    let original = Rect::new(100.0, 100.0, 300.0, 200.0);
    let mut e = editor(&[CanvasBox::new(AnnId(1), original)]);
    click(&mut e, 200.0, 150.0, NONE);
    // grab the right handle 3 px left of its centre: the edge moves by the pointer's delta
    let out = drag(&mut e, (297.0, 150.0), (337.0, 150.0), NONE);
    assert_eq!(out, vec![Intent::ResizeBox { id: AnnId(1), rect: Rect::new(100.0, 100.0, 340.0, 200.0) }]);
    let mut e = editor(&[CanvasBox::new(AnnId(1), original)]);
    click(&mut e, 200.0, 150.0, NONE);
    let out = drag(&mut e, (300.0, 200.0), (5000.0, 5000.0), NONE);
    assert_eq!(out, vec![Intent::ResizeBox { id: AnnId(1), rect: Rect::new(100.0, 100.0, 1000.0, 800.0) }]);
}

#[test]
fn resize_preview_and_collapsed_boxes() {
    let b = bx(1, 100.0, 100.0, 300.0, 200.0);
    let mut e = editor(&[b]);
    click(&mut e, 200.0, 150.0, NONE);
    down(&mut e, 300.0, 150.0, NONE);
    mv(&mut e, 250.0, 150.0);
    assert_eq!(e.displayed(&b).rect, Rect::new(100.0, 100.0, 250.0, 200.0));
    // released onto the opposite edge: a zero-width box is dropped
    mv(&mut e, 100.0, 150.0);
    assert_eq!(up(&mut e, 100.0, 150.0), vec![]);
}

#[test]
fn clicking_a_handle_changes_nothing() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 300.0, 200.0)]);
    click(&mut e, 200.0, 150.0, NONE);
    assert_eq!(click(&mut e, 300.0, 200.0, NONE), vec![]);
    assert_eq!(selected(&e), vec![1]);
}

#[test]
fn handle_size_is_in_screen_pixels() {
    let r = Rect::new(100.0, 100.0, 300.0, 200.0);
    let mut e = editor(&[CanvasBox::new(AnnId(1), r)]);
    click(&mut e, 200.0, 150.0, NONE);
    e.viewport.set_zoom_at(sp(300.0, 200.0), 4.0); // image (300, 200) stays at screen (300, 200)
    // 5 screen px right of the corner = 1.25 image px: still the handle
    mv(&mut e, 305.0, 200.0);
    assert_eq!(e.hover(), Some(Hit::Handle { id: AnnId(1), handle: Handle::BottomRight }));
    // 10 screen px away: outside the handle and outside the box
    mv(&mut e, 310.0, 200.0);
    assert_eq!(e.hover(), None);
}

#[test]
fn quad_corner_drag_emits_edit_quad() {
    let q =
        Quad([Point::new(100.0, 150.0), Point::new(300.0, 100.0), Point::new(310.0, 140.0), Point::new(110.0, 190.0)]);
    let b = CanvasBox::with_quad(AnnId(5), q);
    let mut e = editor(&[b]);
    click(&mut e, 200.0, 145.0, NONE);
    assert_eq!(selected(&e), vec![5]);
    let out = drag(&mut e, (310.0, 140.0), (320.0, 150.0), NONE);
    let mut want = q;
    want.0[2] = Point::new(320.0, 150.0);
    assert_eq!(out, vec![Intent::EditQuad { id: AnnId(5), quad: want }]);
}

#[test]
fn quad_edge_drag_moves_the_whole_edge() {
    let q =
        Quad([Point::new(100.0, 150.0), Point::new(300.0, 100.0), Point::new(310.0, 140.0), Point::new(110.0, 190.0)]);
    let b = CanvasBox::with_quad(AnnId(5), q);
    let mut e = editor(&[b]);
    click(&mut e, 200.0, 145.0, NONE);
    // the top edge's midpoint is (200, 125): drag it 10 px up
    let out = drag(&mut e, (200.0, 125.0), (200.0, 115.0), NONE);
    let mut want = q;
    want.0[0] = Point::new(100.0, 140.0);
    want.0[1] = Point::new(300.0, 90.0);
    assert_eq!(out, vec![Intent::EditQuad { id: AnnId(5), quad: want }]);
}

// ---- quads and links -------------------------------------------------------------------------

#[test]
fn quad_tool_takes_four_clicks_in_any_order() {
    let mut e = editor(&[]);
    key(&mut e, Key::Q, NONE);
    // clicked bottom-right, top-left, bottom-left, top-right
    assert_eq!(click(&mut e, 410.0, 190.0, NONE), vec![]);
    assert_eq!(click(&mut e, 100.0, 150.0, NONE), vec![]);
    assert_eq!(click(&mut e, 110.0, 200.0, NONE), vec![]);
    mv(&mut e, 300.0, 300.0);
    match e.preview() {
        Preview::NewQuad { points, pointer } => {
            assert_eq!(points.len(), 3);
            assert_eq!(pointer, Some(Point::new(300.0, 300.0)));
        }
        other => panic!("{other:?}"),
    }
    let out = click(&mut e, 400.0, 100.0, NONE);
    let want =
        Quad([Point::new(100.0, 150.0), Point::new(400.0, 100.0), Point::new(410.0, 190.0), Point::new(110.0, 200.0)]);
    assert_eq!(out, vec![Intent::AddQuad { quad: want }]);
    assert_eq!(e.tool(), Tool::Select);
}

#[test]
fn link_tool_connects_two_boxes() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0), bx(2, 300.0, 100.0, 400.0, 150.0)]);
    key(&mut e, Key::L, NONE);
    assert_eq!(click(&mut e, 150.0, 120.0, NONE), vec![]);
    assert!(matches!(e.preview(), Preview::Link { from: AnnId(1), .. }));
    assert_eq!(click(&mut e, 150.0, 120.0, NONE), vec![], "not to itself");
    assert_eq!(
        click(&mut e, 350.0, 120.0, NONE),
        vec![Intent::AddLink { from: AnnId(1), to: AnnId(2), kind: LinkKind::KeyValue }]
    );
    assert_eq!(e.tool(), Tool::Select);
    key(&mut e, Key::L, SHIFT);
    assert_eq!(e.tool(), Tool::Link(LinkKind::Row));
}

// ---- viewport through events -----------------------------------------------------------------

#[test]
fn middle_drag_and_space_drag_pan_without_editing() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0)]);
    e.viewport.set_zoom_at(sp(0.0, 0.0), 2.0);
    let before = e.viewport.pan();
    let mut out =
        e.handle(CanvasEvent::PointerDown { pos: sp(300.0, 300.0), button: PointerButton::Middle, mods: NONE });
    out.extend(mv(&mut e, 280.0, 250.0));
    assert_eq!(e.cursor(), CursorHint::Grabbing);
    out.extend(e.handle(CanvasEvent::PointerUp { pos: sp(280.0, 250.0), button: PointerButton::Middle, mods: NONE }));
    assert_eq!(out, vec![]);
    assert_eq!(e.viewport.pan(), ScreenPos::new(before.x - 20.0, before.y - 50.0));

    e.handle(CanvasEvent::Key { key: Key::Space, pressed: true, mods: NONE });
    assert_eq!(e.cursor(), CursorHint::Grab);
    let out = drag(&mut e, (300.0, 300.0), (340.0, 310.0), NONE); // starts on box 1 (image 150,150)
    e.handle(CanvasEvent::Key { key: Key::Space, pressed: false, mods: NONE });
    assert_eq!(out, vec![]);
    assert_eq!(e.viewport.pan(), ScreenPos::new(before.x + 20.0, before.y - 40.0));
}

#[test]
fn zoom_event_keeps_the_point_under_the_cursor() {
    let mut e = editor(&[]);
    let anchor = sp(321.0, 456.0);
    let p = e.viewport.to_image(anchor);
    e.handle(CanvasEvent::Zoom { pos: anchor, factor: 1.5 });
    e.handle(CanvasEvent::Zoom { pos: anchor, factor: 1.5 });
    assert!(e.viewport.to_screen(p).distance(anchor) < 1e-3);
    key(&mut e, Key::Num0, CMD);
    assert_eq!(e.viewport.zoom(), 1.0);
}

#[test]
fn visible_boxes_are_culled_by_the_view() {
    let mut e = editor(&[bx(1, 10.0, 10.0, 20.0, 20.0), bx(2, 900.0, 700.0, 950.0, 750.0)]);
    e.viewport.set_zoom_at(sp(0.0, 0.0), 4.0);
    let mut out = Vec::new();
    e.visible_boxes(&mut out);
    assert_eq!(out, vec![0]);
}

// ---- robustness ------------------------------------------------------------------------------

#[test]
fn random_event_streams_only_emit_geometry_on_the_page() {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let boxes: Vec<CanvasBox> = (0..60)
        .map(|i| {
            let (x, y) = (rng.random_range(0.0..900.0f32).round(), rng.random_range(0.0..750.0f32).round());
            bx(i, x, y, x + rng.random_range(2.0..100.0f32).round(), y + rng.random_range(2.0..50.0f32).round())
        })
        .collect();
    let mut e = editor(&boxes);
    let keys = [
        Key::W,
        Key::Q,
        Key::L,
        Key::Escape,
        Key::Delete,
        Key::Tab,
        Key::ArrowLeft,
        Key::ArrowDown,
        Key::D,
        Key::A,
        Key::Plus,
        Key::Minus,
    ];
    let on_page =
        |r: &Rect| r.x0 >= 0.0 && r.y0 >= 0.0 && r.x1 <= 1000.0 && r.y1 <= 800.0 && r.x0 <= r.x1 && r.y0 <= r.y1;
    let whole = |v: f32| v.fract() == 0.0;
    for step in 0..20_000 {
        let pos = sp(rng.random_range(-50.0..1050.0), rng.random_range(-50.0..850.0));
        let mods = Modifiers { shift: rng.random_bool(0.2), command: rng.random_bool(0.1), alt: false };
        let button = match rng.random_range(0..10) {
            0 => PointerButton::Middle,
            1 => PointerButton::Secondary,
            _ => PointerButton::Primary,
        };
        let event = match rng.random_range(0..10) {
            0..=1 => CanvasEvent::PointerDown { pos, button, mods },
            2..=6 => CanvasEvent::PointerMove { pos, mods },
            7 => CanvasEvent::PointerUp { pos, button, mods },
            8 => CanvasEvent::Key { key: keys[rng.random_range(0..keys.len())], pressed: true, mods },
            _ => CanvasEvent::Zoom { pos, factor: rng.random_range(0.5..2.0) },
        };
        for intent in e.handle(event) {
            match &intent {
                Intent::AddBox { rect, .. } | Intent::ResizeBox { rect, .. } => {
                    assert!(
                        on_page(rect) && rect.width() >= MIN_BOX_SIDE_PX && rect.height() >= MIN_BOX_SIDE_PX,
                        "{step}: {intent:?}"
                    );
                    assert!(whole(rect.x0) && whole(rect.y0) && whole(rect.x1) && whole(rect.y1), "{step}: {intent:?}");
                }
                Intent::AddQuad { quad } | Intent::EditQuad { quad, .. } => {
                    assert!(on_page(&quad.bounds()), "{step}: {intent:?}")
                }
                Intent::MoveBoxes { ids, dx, dy }
                | Intent::Nudge { ids, dx, dy }
                | Intent::DuplicateBoxes { ids, dx, dy } => {
                    assert!(!ids.is_empty() && whole(*dx) && whole(*dy), "{step}: {intent:?}");
                    for id in ids {
                        let r = e.box_by_id(*id).expect("known id").rect.translated(*dx, *dy);
                        assert!(on_page(&r), "{step}: {intent:?} moves {id:?} off the page");
                    }
                }
                Intent::DeleteBoxes { ids } => assert!(!ids.is_empty()),
                Intent::AddLink { from, to, .. } => assert_ne!(from, to),
                Intent::SelectionChanged { ids, primary } => {
                    assert!(primary.is_none_or(|p| ids.contains(&p)), "{step}: {intent:?}");
                }
            }
        }
    }
}
