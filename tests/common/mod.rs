//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod backend;
pub mod pg;
use std::path::Path;

use facture::app::Session;
use facture::domain::{DocId, Role};
use facture::store::{NewDocument, Store, Workspace};

/// Creates a workspace at `ws` with one annotator and `n` blank 1000×800 documents.
pub fn workspace(ws: &Workspace, n: usize) -> Vec<DocId> {
    let mut store = Store::create_at(ws).unwrap_or_else(|e| panic!("{ws}: {e}"));
    store.add_user("ann", Role::Annotator).unwrap();
    (0..n)
        .map(|i| {
            store
                .add_document(
                    &NewDocument {
                        path: format!("/nowhere/doc{i}.png"),
                        sha256: format!("{i:064}"),
                        page: 0,
                        width: 1000,
                        height: 800,
                    },
                    0,
                )
                .unwrap()
                .unwrap()
        })
        .collect()
}

/// `user`'s session on a connection of its own to `ws`.
pub fn session(ws: &Workspace, user: &str) -> Session {
    let store = Store::connect(ws).unwrap_or_else(|e| panic!("{ws}: {e}"));
    let user = store.user_by_name(user).unwrap().unwrap();
    // A clock that advances one second per reading, so timestamps are distinct and ordered.
    let clock = std::sync::atomic::AtomicI64::new(1_700_000_000_000);
    Session::new(store, user).with_clock(move || clock.fetch_add(1000, std::sync::atomic::Ordering::Relaxed))
}

pub fn write_png(path: &Path, w: u32, h: u32, seed: u8) {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x as u8) ^ seed, y as u8, seed]));
    img.save(path).unwrap();
}

/// Runs a prepared command with `stdin` written to its standard input (a password, say);
/// its output captured.
pub fn output_with_stdin(cmd: &mut std::process::Command, stdin: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The window in a headless harness, each frame followed by the store answers it asked for
/// (so runs stay deterministic while the real worker threads run).
pub fn window(app: facture::ui::FactureApp, size: [f32; 2]) -> egui_kittest::Harness<'static, facture::ui::FactureApp> {
    egui_kittest::Harness::builder().with_size(size).with_max_steps(200).build_ui_state(
        |ui, app: &mut facture::ui::FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    )
}

/// Steps a window's harness (sleeping between frames, as workers answer) until `done` holds,
/// then settles it; false after `secs` seconds.
pub fn until_window(
    h: &mut egui_kittest::Harness<'_, facture::ui::FactureApp>,
    secs: u64,
    done: &dyn Fn(&facture::ui::FactureApp) -> bool,
) -> bool {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < std::time::Duration::from_secs(secs) {
        h.step();
        if done(h.state()) {
            h.run();
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}
