//! Keyboard tests: Esc, delete, duplicate, select all, nudge, Tab order.

use crate::app::canvas::editor::tests::*;
use crate::app::canvas::events::{Intent, Key, Tool};
use crate::domain::{AnnId, Rect};

#[test]
fn ctrl_a_selects_all_and_set_boxes_prunes_deleted_ids() {
    let mut e = editor(&[bx(1, 0.0, 0.0, 10.0, 10.0), bx(2, 20.0, 0.0, 30.0, 10.0)]);
    assert_eq!(without_selection(key(&mut e, Key::A, CMD)), vec![]);
    assert_eq!(selected(&e), vec![1, 2]);
    assert!(e.set_boxes(vec![bx(2, 20.0, 0.0, 30.0, 10.0)]));
    assert_eq!(selected(&e), vec![2]);
    assert!(!e.set_boxes(vec![bx(2, 20.0, 0.0, 30.0, 10.0)]));
}

#[test]
fn ctrl_d_duplicates_with_an_offset_that_stays_on_the_page() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0), bx(2, 900.0, 700.0, 1000.0, 800.0)]);
    click(&mut e, 150.0, 120.0, NONE);
    assert_eq!(key(&mut e, Key::D, CMD), vec![Intent::DuplicateBoxes { ids: vec![AnnId(1)], dx: 12.0, dy: 12.0 }]);
    click(&mut e, 950.0, 750.0, NONE);
    assert_eq!(key(&mut e, Key::D, CMD), vec![Intent::DuplicateBoxes { ids: vec![AnnId(2)], dx: -12.0, dy: -12.0 }]);
}

#[test]
fn escape_cancels_the_gesture_then_the_selection() {
    let b = bx(1, 100.0, 100.0, 200.0, 150.0);
    let mut e = editor(&[b]);
    down(&mut e, 150.0, 120.0, NONE);
    mv(&mut e, 250.0, 220.0);
    assert_eq!(key(&mut e, Key::Escape, NONE), vec![]);
    assert_eq!(e.displayed(&b), b);
    assert!(!e.is_gesture_active());
    assert_eq!(mv(&mut e, 260.0, 230.0), vec![]);
    assert_eq!(up(&mut e, 260.0, 230.0), vec![], "the release after Esc does nothing");
    assert_eq!(key(&mut e, Key::Escape, NONE), vec![sel(&[])]);
    // Esc while drawing: no box
    down(&mut e, 400.0, 400.0, NONE);
    mv(&mut e, 500.0, 500.0);
    key(&mut e, Key::Escape, NONE);
    assert_eq!(up(&mut e, 500.0, 500.0), vec![]);
    // Esc drops an armed tool
    key(&mut e, Key::W, NONE);
    key(&mut e, Key::Escape, NONE);
    assert_eq!(e.tool(), Tool::Select);
}

#[test]
fn arrows_nudge_by_one_or_ten_and_stop_at_the_page_edge() {
    let mut e = editor(&[bx(1, 5.0, 100.0, 50.0, 150.0)]);
    click(&mut e, 20.0, 120.0, NONE);
    assert_eq!(key(&mut e, Key::ArrowRight, NONE), vec![Intent::Nudge { ids: vec![AnnId(1)], dx: 1.0, dy: 0.0 }]);
    assert_eq!(key(&mut e, Key::ArrowUp, SHIFT), vec![Intent::Nudge { ids: vec![AnnId(1)], dx: 0.0, dy: -10.0 }]);
    assert_eq!(key(&mut e, Key::ArrowLeft, SHIFT), vec![Intent::Nudge { ids: vec![AnnId(1)], dx: -5.0, dy: 0.0 }]);
    // the editor does not move boxes itself; the app does and calls set_boxes
    e.set_boxes(vec![bx(1, 0.0, 100.0, 45.0, 150.0)]);
    assert_eq!(key(&mut e, Key::ArrowLeft, NONE), vec![]);
    assert_eq!(key(&mut e, Key::ArrowDown, NONE), vec![Intent::Nudge { ids: vec![AnnId(1)], dx: 0.0, dy: 1.0 }]);
}

#[test]
fn arrows_without_selection_pan() {
    let mut e = editor(&[]);
    e.viewport.one_to_one();
    e.viewport.set_zoom_at(sp(500.0, 400.0), 4.0);
    let before = e.viewport.pan();
    assert_eq!(key(&mut e, Key::ArrowRight, NONE), vec![]);
    assert!((e.viewport.pan().x - (before.x - 100.0)).abs() < 1e-3);
}

#[test]
fn delete_emits_delete_and_clears_selection() {
    let mut e = editor(&[bx(1, 100.0, 100.0, 200.0, 150.0), bx(2, 300.0, 100.0, 400.0, 150.0)]);
    assert_eq!(key(&mut e, Key::Delete, NONE), vec![], "nothing selected");
    click(&mut e, 150.0, 120.0, NONE);
    click(&mut e, 350.0, 120.0, SHIFT);
    assert_eq!(
        key(&mut e, Key::Backspace, NONE),
        vec![Intent::DeleteBoxes { ids: vec![AnnId(1), AnnId(2)] }, sel(&[])]
    );
}

#[test]
fn tab_walks_reading_order_and_wraps() {
    // an invoice header: name + title on one line, number + date below, total further down
    let mut e = editor(&[
        bx(10, 600.0, 118.0, 900.0, 140.0), // INVOICE
        bx(11, 100.0, 100.0, 400.0, 160.0), // ACME GmbH
        bx(12, 300.0, 202.0, 450.0, 228.0), // 2024-0117
        bx(13, 100.0, 200.0, 250.0, 225.0), // Invoice no.
        bx(14, 700.0, 600.0, 900.0, 630.0), // 1 234,50 €
        bx(15, 500.0, 603.0, 650.0, 625.0), // Total:
    ]);
    let mut seen = Vec::new();
    for _ in 0..7 {
        key(&mut e, Key::Tab, NONE);
        seen.push(e.primary().unwrap().0);
    }
    assert_eq!(seen, vec![11, 10, 13, 12, 15, 14, 11]);
    key(&mut e, Key::Tab, SHIFT);
    assert_eq!(e.primary(), Some(AnnId(14)));
    assert_eq!(selected(&e), vec![14]);
}

#[test]
fn tab_scrolls_the_box_into_view() {
    let mut e = editor(&[bx(1, 900.0, 700.0, 990.0, 790.0)]);
    e.viewport.set_zoom_at(sp(0.0, 0.0), 4.0);
    key(&mut e, Key::Tab, NONE);
    let s = e.viewport.rect_to_screen(&Rect::new(900.0, 700.0, 990.0, 790.0));
    let view = e.viewport.screen_rect();
    assert!(view.contains(sp(s.x0, s.y0)) && view.contains(sp(s.x1, s.y1)), "{s:?}");
}
