//! Opens review mode or the stats view on a demo workspace with a few days of annotation and
//! review history, for screenshots:
//! `cargo run --release --example review_look -- /tmp/review_look review|stats`.
//! Settings stay in memory (nothing is written to the config dir).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use eframe::egui;
use facture::app::stats::{ObjectiveOp, set_objective};
use facture::app::{Command, Session};
use facture::domain::{AnnId, DocId, DocVerdict, Rect, Role, Verdict};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, RfdDialogs, WorkView};

const DAY_MS: i64 = 86_400_000;

fn session(ws: &Path, name: &str, clock: &Arc<AtomicI64>, step_ms: i64) -> anyhow::Result<Session> {
    let store = Store::open(ws)?;
    let user = store.user_by_name(name)?.ok_or_else(|| anyhow::anyhow!("no user {name}"))?;
    let clock = clock.clone();
    Ok(Session::new(store, user).with_clock(move || clock.fetch_add(step_ms, Ordering::Relaxed)))
}

fn boxes(s: &Session, doc: DocId) -> anyhow::Result<Vec<AnnId>> {
    Ok(s.store().annotations(doc)?.iter().map(|a| a.id).collect())
}

/// History: days of annotation by alice and dan, reviews by bob, one rework loop, and the
/// first document left in review with some verdicts for the screenshot.
fn build(dir: &Path) -> anyhow::Result<PathBuf> {
    let ws = dir.join("workspace.sqlite");
    if ws.exists() {
        return Ok(ws);
    }
    let now = facture::app::commands::system_now_ms();
    let start = (now / DAY_MS - 5) * DAY_MS + 8 * 3_600_000;
    let ws = facture::app::demo::ensure_demo_workspace(dir, start - DAY_MS)?;
    let mut store = Store::open(&ws)?;
    store.add_user("dan", Role::Annotator)?;
    store.add_user("carl", Role::Annotator)?;
    drop(store);
    let docs: Vec<DocId> = Store::open(&ws)?.documents(&DocFilter::default())?.iter().map(|d| d.id).collect();
    let clock = Arc::new(AtomicI64::new(start));
    let mut lea = session(&ws, "lea", &clock, 5_000)?;
    let dan_id = lea.store().user_by_name("dan")?.map(|u| u.id);
    for d in docs.iter().skip(3).skip(1).step_by(2) {
        lea.apply(Command::Assign { doc: *d, annotator: dan_id })?;
    }
    set_objective(&mut lea, None, "boxes_per_hour", ObjectiveOp::AtLeast, 40.0)?;
    set_objective(&mut lea, None, "first_pass_acceptance", ObjectiveOp::AtLeast, 0.9)?;
    let mut alice = session(&ws, "alice", &clock, 18_000)?;
    let mut dan = session(&ws, "dan", &clock, 26_000)?;
    let mut bob = session(&ws, "bob", &clock, 9_000)?;
    // pages 3.. get boxes drawn by their annotator, a few pages a day
    for (k, doc) in docs.iter().enumerate().skip(1) {
        let day = (k as i64 - 1) / 3;
        clock.store(start + day * DAY_MS + (k as i64 % 3) * 2 * 3_600_000, Ordering::Relaxed);
        let who = if k >= 3 && k % 2 == 0 { &mut dan } else { &mut alice };
        if k >= 3 {
            for i in 0..(6 + (k % 4) * 3) {
                let y = 120.0 + 70.0 * i as f32;
                let rect = Rect::new(150.0, y, 700.0 + 30.0 * (i % 5) as f32, y + 40.0);
                who.apply(Command::AddBox { doc: *doc, rect, quad: None, label: None, text: format!("line {i}") })?;
            }
        }
        who.apply(Command::Submit { doc: *doc })?;
        if k == 11 {
            continue; // left waiting in the review queue
        }
        bob.apply(Command::StartReview { doc: *doc })?;
        let ids = boxes(&bob, *doc)?;
        let reject = k % 3 == 2;
        if reject && ids.len() > 2 {
            let (a, b) = (ids[1], ids[2]);
            bob.apply(Command::SetVerdict {
                doc: *doc,
                ann: a,
                verdict: Verdict::WrongText,
                comment: "digits".into(),
            })?;
            bob.apply(Command::SetVerdict { doc: *doc, ann: b, verdict: Verdict::WrongBox, comment: String::new() })?;
        } else if ids.len() > 3 && k % 2 == 1 {
            bob.apply(Command::SetVerdict {
                doc: *doc,
                ann: ids[3],
                verdict: Verdict::WrongLabel,
                comment: String::new(),
            })?;
        }
        bob.apply(Command::AcceptRemaining { doc: *doc })?;
        let verdict = if reject { DocVerdict::Reject } else { DocVerdict::Accept };
        bob.apply(Command::FinishReview { doc: *doc, verdict, comment: "Two lines misread.".into() })?;
        if reject && k < 9 {
            // rework the next morning and a second, accepted round
            clock.fetch_add(DAY_MS / 2, Ordering::Relaxed);
            let who = if k >= 3 && k % 2 == 0 { &mut dan } else { &mut alice };
            if let Some(a) = ids.get(1) {
                who.apply(Command::SetText { doc: *doc, id: *a, text: "fixed".into() })?;
            }
            who.apply(Command::Submit { doc: *doc })?;
            bob.apply(Command::StartReview { doc: *doc })?;
            bob.apply(Command::AcceptRemaining { doc: *doc })?;
            bob.apply(Command::FinishReview { doc: *doc, verdict: DocVerdict::Accept, comment: String::new() })?;
        }
    }
    // today: the first page submitted and half reviewed
    clock.store(now - 3_600_000, Ordering::Relaxed);
    let doc = docs[0];
    alice.apply(Command::Submit { doc })?;
    bob.apply(Command::StartReview { doc })?;
    let anns = bob.store().annotations(doc)?;
    let pick = |i: usize| anns.get(i).map(|a| a.id);
    for (i, verdict, comment) in [
        (0, Verdict::Ok, ""),
        (1, Verdict::Ok, ""),
        (2, Verdict::WrongText, "It is Bat. B, 2nd floor: the accent was read as a dot."),
        (3, Verdict::WrongLabel, ""),
        (4, Verdict::Ok, ""),
        (6, Verdict::WrongBox, "Include the currency sign."),
        (7, Verdict::Spurious, ""),
    ] {
        if let Some(ann) = pick(i) {
            bob.apply(Command::SetVerdict { doc, ann, verdict, comment: comment.into() })?;
        }
    }
    if let Some(a) = anns.get(5) {
        bob.apply(Command::AddComment { doc, ann: Some(a.id), text: "Is this the due date?".into() })?;
    }
    Ok(ws)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("/tmp/review_look", String::as_str));
    let stats = args.iter().any(|a| a == "stats");
    std::fs::create_dir_all(&dir)?;
    let ws = build(&dir)?;
    let user = if stats { "lea" } else { "bob" };
    let mut app = FactureApp::with_user(&ws, user, None, Box::new(RfdDialogs))?;
    if let Some(a) = app.annotator_mut() {
        if stats {
            a.set_view(WorkView::Stats);
        } else {
            a.set_view(WorkView::Review);
            a.set_always_show_text(false);
        }
    }
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1600.0, 1000.0]),
        ..Default::default()
    };
    struct Look {
        app: FactureApp,
        frames: u32,
        stats: bool,
    }
    impl eframe::App for Look {
        fn logic(&mut self, ctx: &egui::Context, _f: &mut eframe::Frame) {
            self.app.logic_step(ctx);
        }
        fn ui(&mut self, ui: &mut egui::Ui, _f: &mut eframe::Frame) {
            self.frames += 1;
            if self.frames == 20
                && !self.stats
                && let Some(a) = self.app.annotator_mut()
            {
                // the wrong-text box selected, the page width filling the canvas, the judged
                // boxes in view
                let r = a.review_state().doc.clone();
                let target = r.verdicts.values().find(|v| v.verdict == Verdict::WrongText).map(|v| v.ann);
                if let Some(id) = target {
                    a.editor_mut().set_selection([id], Some(id));
                }
                let rects: Vec<Rect> = r.verdicts.values().map(|v| v.rect).collect();
                let vp = &mut a.editor_mut().viewport;
                vp.fit_width();
                if let Some(first) = rects.first() {
                    let all = rects
                        .iter()
                        .fold(*first, |u, x| Rect::new(u.x0.min(x.x0), u.y0.min(x.y0), u.x1.max(x.x1), u.y1.max(x.y1)));
                    vp.reveal(&all);
                    let c = vp.to_screen(facture::domain::Point::new((all.x0 + all.x1) / 2.0, all.y0));
                    vp.zoom_at(c, 1.6);
                }
            }
            self.app.frame_ui(ui);
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }
    }
    eframe::run_native("Facture", native, Box::new(move |_cc| Ok(Box::new(Look { app, frames: 0, stats }))))
        .map_err(|e| anyhow::anyhow!("{e}"))
}
