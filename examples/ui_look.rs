//! Opens the annotator on the demo workspace in DIR with a box selected, for screenshots:
//! `cargo run --release --example ui_look -- /tmp/ui_look [--zoom]`.
//! Settings go to the normal config dir (set XDG_CONFIG_HOME to keep them apart).

use std::path::PathBuf;

use eframe::egui;
use facture::app::commands::system_now_ms;
use facture::app::settings::Settings;
use facture::domain::Point;
use facture::ui::{FactureApp, RfdDialogs};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("/tmp/ui_look", String::as_str));
    let zoom = args.iter().any(|a| a == "--zoom");
    let ws = facture::app::demo::ensure_demo_workspace(&dir, system_now_ms())?;
    let settings_path = Settings::default_path();
    if let Some(p) = &settings_path {
        let mut s = Settings::load(p);
        s.remember_user(&(&ws).into(), "alice");
        s.save(p)?;
    }
    let mut app = FactureApp::new(&ws, true, settings_path, Box::new(RfdDialogs));
    // the same panels `facture` itself shows
    app.add_extension(Box::new(facture::ui::PrelabelPanel::new(Default::default())));
    app.add_extension(Box::new(facture::ui::DatasetPanel::new(Box::new(RfdDialogs))));
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1600.0, 1000.0]),
        ..Default::default()
    };
    struct Look<F: FnMut(&mut FactureApp, u32)> {
        app: FactureApp,
        script: F,
        frames: u32,
    }
    impl<F: FnMut(&mut FactureApp, u32)> eframe::App for Look<F> {
        fn logic(&mut self, ctx: &egui::Context, _f: &mut eframe::Frame) {
            self.app.logic_step(ctx);
        }
        fn ui(&mut self, ui: &mut egui::Ui, _f: &mut eframe::Frame) {
            self.frames += 1;
            (self.script)(&mut self.app, self.frames);
            self.app.frame_ui(ui);
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(200));
        }
    }
    let script = move |app: &mut FactureApp, frame: u32| {
        let Some(a) = app.annotator_mut() else { return };
        if frame == 20 {
            // the invoice-number box, zoomed so its text field shows beside it
            let target =
                a.annotations().iter().find(|x| x.text.chars().any(|c| c.is_ascii_digit())).map(|x| (x.id, x.rect));
            if let Some((id, r)) = target {
                a.editor_mut().set_selection([id], Some(id));
                if zoom {
                    let c = a.editor().viewport.to_screen(Point::new(r.center().x, r.center().y));
                    a.editor_mut().viewport.zoom_at(c, 2.5);
                }
            }
        }
    };
    eframe::run_native(
        "Facture",
        native,
        Box::new(move |_cc| {
            if let Some(a) = app.annotator_mut() {
                a.set_always_show_text(false);
            }
            Ok(Box::new(Look { app, script, frames: 0 }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}
