//! PDF invoices: import page by page, the text layer as a suggestion source, synthetic PDFs
//! with ground truth, and what bad PDFs do (one line naming the file, nothing half-imported).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use facture::app::Session;
use facture::domain::{AnnState, Source};
use facture::pdf::write::{Page, PageContent, TextRun};
use facture::store::{DocFilter, Store, Workspace};

/// PDFium is provisioned by the build; CI requires it (FACTURE_REQUIRE_MODELS=1).
fn pdfium() -> bool {
    match facture::pdf::available() {
        Ok(()) => true,
        Err(e) if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") => panic!("{e}"),
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

fn facture(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A three-page born-digital PDF: A4, A5 landscape, US letter; a line of text on each.
fn three_pages() -> Vec<u8> {
    let page = |w: f32, h: f32, text: &'static str| Page {
        width_pt: w,
        height_pt: h,
        content: PageContent::Text {
            runs: vec![TextRun { x_pt: 50.0, baseline_pt: 80.0, size_pt: 14.0, font: 0, rgb: [0, 0, 0], text }],
        },
    };
    facture::pdf::write::pdf(
        &[page(595.0, 842.0, "Rechnung 1"), page(595.0, 420.0, "Facture 2"), page(612.0, 792.0, "Invoice 3")],
        &[],
    )
    .unwrap()
}

fn new_workspace(dir: &Path) -> (Workspace, String) {
    let path = dir.join("ws.sqlite");
    let s = path.to_string_lossy().into_owned();
    ok(&facture(&["init", &s]));
    (Workspace::parse(&s).unwrap(), s)
}

fn documents(ws: &Workspace) -> Vec<facture::domain::Document> {
    Store::connect(ws).unwrap().documents(&DocFilter::default()).unwrap()
}

#[test]
fn a_pdf_imports_as_one_document_per_page_in_pixels_at_its_dpi_and_only_once() {
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    let pdf = dir.path().join("scans").join("three.pdf");
    std::fs::create_dir_all(pdf.parent().unwrap()).unwrap();
    std::fs::write(&pdf, three_pages()).unwrap();
    // a folder import finds PDFs beside images
    common::write_png(&dir.path().join("scans").join("one.png"), 300, 200, 1);
    let out = ok(&facture(&["import", &wss, &dir.path().join("scans").to_string_lossy()]));
    assert!(out.contains("4"), "{out}");
    let docs = documents(&ws);
    let pages: Vec<_> = docs.iter().filter(|d| d.path.ends_with("three.pdf")).collect();
    assert_eq!(pages.len(), 3);
    let sizes: Vec<(u32, u32, u32)> = pages.iter().map(|d| (d.page, d.width, d.height)).collect();
    // 200 dpi: 595 × 842 pt → 1653 × 2339 px, A5 landscape, letter 1700 × 2200
    assert_eq!(sizes, vec![(0, 1653, 2339), (1, 1653, 1167), (2, 1700, 2200)]);
    let sha = facture::imageio::sha256_hex(&std::fs::read(&pdf).unwrap());
    assert!(pages.iter().all(|d| d.sha256 == sha), "each page remembers the PDF's sha256");
    // again: nothing new
    ok(&facture(&["import", &wss, &pdf.to_string_lossy()]));
    assert_eq!(documents(&ws).len(), 4);
    // the window's loader renders a page at exactly the size the document recorded
    let store = Store::connect(&ws).unwrap();
    let page = facture::app::pages::PageRef::of(&store, pages[1]).decode(Some(&store)).unwrap();
    assert_eq!((page.width(), page.height()), (1653, 1167));

    // another workspace, at 100 dpi: half the pixels
    let dir2 = tempfile::tempdir().unwrap();
    let (ws2, wss2) = new_workspace(dir2.path());
    ok(&facture(&["import", &wss2, "--dpi", "100", &pdf.to_string_lossy()]));
    let sizes: Vec<(u32, u32)> = documents(&ws2).iter().map(|d| (d.width, d.height)).collect();
    assert_eq!(sizes, vec![(826, 1169), (826, 583), (850, 1100)]);
    let bad = facture(&["import", &wss2, "--dpi", "5000", &pdf.to_string_lossy()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("outside 50–600"));

    // a workspace set to 300 dpi imports at 300 without being told; pages in keep theirs
    let dir3 = tempfile::tempdir().unwrap();
    let (ws3, wss3) = new_workspace(dir3.path());
    assert_eq!(ok(&facture(&["settings", &wss3])).lines().next(), Some("pdf-dpi 200"));
    ok(&facture(&["settings", &wss3, "pdf-dpi", "300"]));
    assert!(!facture(&["settings", &wss3, "pdf-dpi", "9000"]).status.success());
    assert_eq!(ok(&facture(&["settings", &wss3])).lines().next(), Some("pdf-dpi 300"));
    ok(&facture(&["import", &wss3, &pdf.to_string_lossy()]));
    let sizes: Vec<(u32, u32)> = documents(&ws3).iter().map(|d| (d.width, d.height)).collect();
    assert_eq!(sizes, vec![(2479, 3508), (2479, 1750), (2550, 3300)]);
}

#[test]
fn the_text_layer_suggests_exact_lines_undoably_and_never_over_a_persons_box() {
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    let set = dir.path().join("set");
    ok(&facture(&["synth", "--count", "2", "--format", "pdf", "--out", &set.to_string_lossy()]));
    ok(&facture(&["import", &wss, &set.join("invoice_0001.pdf").to_string_lossy()]));
    ok(&facture(&["users", &wss, "add", "ann", "--role", "annotator"]));
    let doc = documents(&ws)[0].id;
    // a person drew one box first, over the first line of the ground truth
    let gt = facture::formats::gt::GroundTruth::load(&set.join("invoice_0001.json")).unwrap();
    let first = &gt.boxes[0];
    let mut s = common::session(&ws, "ann");
    let mine = facture::app::Command::AddBox {
        doc,
        rect: first.rect(),
        quad: None,
        label: None,
        text: "typed by a person".into(),
    };
    s.apply(mine).unwrap();
    drop(s);
    let out = ok(&facture(&["prelabel", &wss, "--source", "pdf-text", "--user", "ann"]));
    assert!(out.contains("suggestion(s) added on 1 document(s)"), "{out}");
    let anns = Store::connect(&ws).unwrap().annotations(doc).unwrap();
    let suggested: Vec<_> = anns.iter().filter(|a| a.state == AnnState::Suggested).collect();
    assert_eq!(suggested.len(), gt.boxes.len() - 1, "every line but the one a person already boxed");
    assert!(suggested.iter().all(|a| a.source == Source::PdfText && a.text_source == Source::PdfText));
    let person = anns.iter().find(|a| a.source == Source::Manual).unwrap();
    assert_eq!(person.text, "typed by a person", "a person's box is never overwritten");
    for b in gt.boxes.iter().skip(1) {
        assert!(suggested.iter().any(|a| a.text == b.text), "no suggestion reads {:?}", b.text);
    }
    // one undo step takes them all away
    let mut s = common::session(&ws, "ann");
    s.apply(facture::app::Command::Undo { doc }).unwrap();
    let left = Store::connect(&ws).unwrap().annotations(doc).unwrap();
    assert_eq!(left.len(), 1);
    drop(s);
    // an image has no text layer: said per document, and the command fails
    common::write_png(&dir.path().join("scan.png"), 400, 300, 3);
    ok(&facture(&["import", &wss, &dir.path().join("scan.png").to_string_lossy()]));
    let out = facture(&["prelabel", &wss, "--source", "pdf-text"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a PDF page"), "{err}");
}

#[test]
fn eval_of_the_text_layer_on_synthetic_born_digital_pdfs_meets_its_targets() {
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    ok(&facture(&["synth", "--count", "4", "--seed", "11", "--format", "pdf", "--out", &set.to_string_lossy()]));
    let out = ok(&facture(&["eval", "--gt", &set.to_string_lossy(), "--source", "pdf-text", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["documents"], 4);
    assert!(v["precision"].as_f64().unwrap() >= 0.99, "{out}");
    assert!(v["recall"].as_f64().unwrap() >= 0.99, "{out}");
    assert!(v["cer"].as_f64().unwrap() <= 0.002, "{out}");
    // the ground truth names the PDF and its page
    let gt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("invoice_0001.json")).unwrap()).unwrap();
    assert_eq!((gt["image"].as_str(), gt["page"].as_u64()), (Some("invoice_0001.pdf"), Some(1)));
    // scanned PDFs have no text layer: nothing to evaluate, said so
    let scans = dir.path().join("scans");
    ok(&facture(&["synth", "--count", "1", "--format", "scanned-pdf", "--out", &scans.to_string_lossy()]));
    let out = facture(&["eval", "--gt", &scans.to_string_lossy(), "--source", "pdf-text"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no text layer"));
}

#[test]
fn import_gt_takes_pdf_ground_truth_onto_the_right_page_at_its_resolution() {
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    let set = dir.path().join("set");
    ok(&facture(&["synth", "--count", "1", "--format", "scanned-pdf", "--out", &set.to_string_lossy()]));
    let out = ok(&facture(&["import-gt", &wss, &set.to_string_lossy()]));
    assert!(out.contains("on 1 document(s)"), "{out}");
    let gt = facture::formats::gt::GroundTruth::load(&set.join("invoice_0001_scan.json")).unwrap();
    let docs = documents(&ws);
    assert_eq!(docs.len(), 1);
    // a scan's PDF page is in the scan's own pixels (150 dpi)
    assert_eq!((docs[0].width, docs[0].height), (gt.width, gt.height));
    let anns = Store::connect(&ws).unwrap().annotations(docs[0].id).unwrap();
    assert_eq!(anns.len(), gt.boxes.len());
}

/// Each kind of bad PDF: one line naming the file, a non-zero exit, and no document added.
#[test]
fn bad_pdfs_are_refused_with_one_line_each_and_leave_the_workspace_as_it_was() {
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    let good = three_pages();
    let empty = facture::pdf::write::pdf(&[], &[]).unwrap();
    let huge = facture::pdf::write::pdf(
        &[Page { width_pt: 14_173.0, height_pt: 14_173.0, content: PageContent::Text { runs: vec![] } }],
        &[],
    )
    .unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut.pdf", good[..good.len() / 2].to_vec(), "not a readable PDF"),
        ("zero.pdf", empty, "has no pages"),
        ("huge.pdf", huge, "5000 × 5000 mm"),
        ("fake.pdf", b"%PDF-1.7\nthis is not a PDF at all".to_vec(), "not a readable PDF"),
        ("text.pdf", b"just text, named .pdf".to_vec(), "not a supported page file"),
    ];
    for (name, bytes, why) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = facture(&["import", &wss, &path.to_string_lossy()]);
        assert!(!out.status.success(), "{name} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(name)).collect();
        assert_eq!(lines.len(), 1, "{name}: {err}");
        assert!(lines[0].contains(why), "{name}: {err}");
        assert!(documents(&ws).is_empty(), "{name} left documents behind");
    }
}

/// Mutations of a real PDF (bytes flipped, cut short, spliced) never panic, and an import
/// either takes the whole file or leaves the workspace exactly as it was.
#[test]
fn mutated_pdfs_never_panic_and_never_half_import() {
    use rand::{Rng, SeedableRng};
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::File(dir.path().join("ws.sqlite"));
    let mut store = Store::create_at(&ws).unwrap();
    let good = three_pages();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(17);
    let path: PathBuf = dir.path().join("m.pdf");
    for round in 0..60 {
        let mut bytes = good.clone();
        match round % 3 {
            0 => {
                for _ in 0..rng.random_range(1..20) {
                    let i = rng.random_range(0..bytes.len());
                    bytes[i] = rng.random();
                }
            }
            1 => bytes.truncate(rng.random_range(5..bytes.len())),
            _ => {
                let a = rng.random_range(0..bytes.len());
                let b = rng.random_range(a..bytes.len());
                bytes.drain(a..b);
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let before = store.documents(&DocFilter::default()).unwrap().len();
        let report = facture::app::import::import_paths(&mut store, std::slice::from_ref(&path), 0, |_, _| {})
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let after = store.documents(&DocFilter::default()).unwrap().len();
        if report.failed.is_empty() {
            // taken: whole (every page of what PDFium could read), or a duplicate of pages in
            let pages = facture::pdf::page_sizes(&bytes).map(|p| p.len()).unwrap_or(0);
            assert!(after == before + pages || after == before, "round {round}: {before} → {after} of {pages}");
        } else {
            assert_eq!(after, before, "round {round}: a refused file added documents");
            assert_eq!(report.failed.len(), 1);
            assert!(!report.failed[0].1.contains('\n'), "one line: {}", report.failed[0].1);
        }
        // whatever went in renders or says why, without a panic
        for d in store.documents(&DocFilter::default()).unwrap().iter().skip(before) {
            let _ = facture::app::pages::PageRef::of(&store, d).decode(Some(&store));
        }
    }
    let _ = Session::machine(store);
}

/// The window: Workspace → Import pages… takes a PDF (on a worker, progress in the status
/// area), its pages join the queue, a page shows at its recorded size, and "Text layer"
/// puts its lines on the canvas as suggestions.
#[test]
fn the_window_imports_a_pdf_and_suggests_its_text_layer() {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use facture::ui::{FactureApp, PageState, PrelabelPanel, ScriptedDialogs};
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    ok(&facture(&["users", &wss, "add", "lea", "--role", "lead"]));
    let set = dir.path().join("set");
    ok(&facture(&["synth", "--count", "1", "--format", "pdf", "--out", &set.to_string_lossy()]));
    let pdf = set.join("invoice_0001.pdf");
    let dialogs = ScriptedDialogs::new([Some(pdf.clone())]);
    let mut app = FactureApp::with_user(ws.clone(), "lea", None, Box::new(dialogs)).unwrap();
    app.add_extension(Box::new(PrelabelPanel::new(Default::default())));
    let mut h = common::window(app, [1400.0, 900.0]);
    h.run();
    assert!(h.state().annotator().unwrap().queue().is_empty());
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Import pages…").click();
    h.run();
    let until = |h: &mut Harness<'_, FactureApp>, f: &dyn Fn(&FactureApp) -> bool| common::until_window(h, 60, f);
    assert!(until(&mut h, &|a| a.annotator().unwrap().queue().len() == 1), "the PDF's page never reached the queue");
    let status = format!("{:?}", h.state().annotator().unwrap().status());
    assert!(status.contains("1 page(s) added"), "{status}");
    let doc = h.state().annotator().unwrap().queue()[0].clone();
    assert_eq!((doc.width, doc.height), (1653, 2339));
    h.state_mut().annotator_mut().unwrap().open_document(doc.id);
    assert!(
        until(
            &mut h,
            &|a| matches!(a.annotator().unwrap().page(), PageState::Ready(p) if (p.width, p.height) == (1653, 2339))
        ),
        "the page never rendered: {:?}",
        h.state().annotator().unwrap().page()
    );
    h.get_by_label("Text layer").click();
    h.run();
    let gt = facture::formats::gt::GroundTruth::load(&set.join("invoice_0001.json")).unwrap();
    assert!(
        until(&mut h, &|a| a.annotator().unwrap().annotations().len() == gt.boxes.len()),
        "got {} suggestions for {} lines",
        h.state().annotator().unwrap().annotations().len(),
        gt.boxes.len()
    );
    let anns = h.state().annotator().unwrap().annotations().to_vec();
    assert!(anns.iter().all(|a| a.state == AnnState::Suggested && a.source == Source::PdfText));
    assert!(gt.boxes.iter().all(|b| anns.iter().any(|a| a.text == b.text)));
}

/// On a team server the PDF itself is stored in the workspace (once per content) and every
/// workstation renders its pages from there; no file path is involved.
#[test]
fn a_pdf_on_a_server_workspace_renders_from_the_workspace_itself() {
    if !pdfium() {
        return;
    }
    let Some(server) = common::pg::PgServer::private(common::pg::Mode::Fast) else { return };
    let ws = Workspace::parse(&server.create_database()).unwrap();
    let mut store = Store::create_at(&ws).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("three.pdf");
    std::fs::write(&pdf, three_pages()).unwrap();
    let report = facture::app::import::import_paths(&mut store, std::slice::from_ref(&pdf), 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 3, "{report:?}");
    std::fs::remove_file(&pdf).unwrap(); // gone from disk: the workspace has it
    let docs = store.documents(&DocFilter::default()).unwrap();
    let last = docs.iter().find(|d| d.page == 2).unwrap();
    let page = facture::app::pages::PageRef::of(&store, last).decode(Some(&store)).unwrap();
    assert_eq!((page.width(), page.height()), (1700, 2200));
}

/// A PDF of 10,000 pages is refused up front, with the limit stated; nothing is added.
#[test]
fn ten_thousand_pages_are_refused_with_the_limit_named() {
    if !pdfium() {
        return;
    }
    let blank = |_| Page { width_pt: 100.0, height_pt: 100.0, content: PageContent::Text { runs: vec![] } };
    let pages: Vec<Page<'_>> = (0..10_000).map(blank).collect();
    let bytes = facture::pdf::write::pdf(&pages, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    let path = dir.path().join("long.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = facture(&["import", &wss, &path.to_string_lossy()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("10000 pages") && err.contains("at most 5000"), "{err}");
    assert!(documents(&ws).is_empty());
}

/// A password-protected copy of `plain`, made with qpdf (CI installs it).
fn locked(plain: &Path, out: &Path, password: &str) -> bool {
    match Command::new("qpdf").args(["--encrypt", password, "owner-pw", "256", "--"]).arg(plain).arg(out).status() {
        Ok(s) if s.success() => true,
        _ if std::env::var("FACTURE_REQUIRE_MODELS").is_ok_and(|v| v == "1") => panic!("qpdf is needed for this test"),
        _ => {
            eprintln!("skipped: no qpdf");
            false
        }
    }
}

fn import_with_password(wss: &str, pdf: &Path, password: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_facture"));
    cmd.args(["import", wss, "--password-stdin"]).arg(pdf);
    common::output_with_stdin(&mut cmd, &format!("{password}\n"))
}

#[test]
fn a_protected_pdf_needs_its_password_which_is_never_kept() {
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    let set = dir.path().join("set");
    ok(&facture(&["synth", "--count", "1", "--format", "pdf", "--out", &set.to_string_lossy()]));
    let pdf = dir.path().join("locked.pdf");
    if !locked(&set.join("invoice_0001.pdf"), &pdf, "s3cret-pw") {
        return;
    }
    // without the password: one line that says so, nothing added
    let out = facture(&["import", &wss, &pdf.to_string_lossy()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("locked.pdf") && err.contains("password-protected"), "{err}");
    assert!(documents(&ws).is_empty());
    // a wrong one: said, nothing added
    let out = import_with_password(&wss, &pdf, "guess");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));
    assert!(documents(&ws).is_empty());
    // the right one: the page, read from an unprotected copy beside the workspace
    ok(&import_with_password(&wss, &pdf, "s3cret-pw"));
    let docs = documents(&ws);
    assert_eq!(docs.len(), 1);
    assert!(docs[0].path.contains("ws.sqlite.unlocked"), "{}", docs[0].path);
    assert_eq!((docs[0].width, docs[0].height), (1653, 2339));
    ok(&facture(&["users", &wss, "add", "ann", "--role", "annotator"]));
    let out = ok(&facture(&["prelabel", &wss, "--source", "pdf-text"]));
    assert!(!out.starts_with("0 "), "{out}");
    // again: the same copy, nothing new
    ok(&import_with_password(&wss, &pdf, "s3cret-pw"));
    assert_eq!(documents(&ws).len(), 1);
    // the password is nowhere in the workspace or beside it
    let mut files = vec![dir.path().join("ws.sqlite")];
    files.extend(std::fs::read_dir(dir.path().join("ws.sqlite.unlocked")).unwrap().flatten().map(|e| e.path()));
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(9).any(|w| w == b"s3cret-pw"), "{} holds the password", f.display());
    }
}

/// The window asks for a protected PDF's password, imports it with the answer, and keeps
/// nothing of the answer.
#[test]
fn the_window_asks_for_a_protected_pdfs_password() {
    use eframe::egui::Role;
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use facture::ui::{FactureApp, ScriptedDialogs};
    use std::time::Duration;
    if !pdfium() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ws, wss) = new_workspace(dir.path());
    ok(&facture(&["users", &wss, "add", "lea", "--role", "lead"]));
    let set = dir.path().join("set");
    ok(&facture(&["synth", "--count", "1", "--format", "pdf", "--out", &set.to_string_lossy()]));
    let pdf = dir.path().join("locked.pdf");
    if !locked(&set.join("invoice_0001.pdf"), &pdf, "pw-42") {
        return;
    }
    let dialogs = ScriptedDialogs::new([Some(pdf.clone())]);
    let app = FactureApp::with_user(ws.clone(), "lea", None, Box::new(dialogs)).unwrap();
    let mut h = common::window(app, [1400.0, 900.0]);
    h.run();
    h.get_by_label("Workspace").click();
    h.run();
    h.get_by_label("Import pages…").click();
    h.run();
    let until = |h: &mut Harness<'_, FactureApp>, what: &str| {
        let t0 = std::time::Instant::now();
        while t0.elapsed() < Duration::from_secs(60) {
            h.step();
            if h.query_by_label_contains(what).is_some() {
                h.run();
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    };
    assert!(until(&mut h, "need(s) a password to open: locked.pdf"), "the window never asked");
    assert!(documents(&ws).is_empty());
    h.get_by_role(Role::PasswordInput).type_text("pw-42");
    h.run();
    h.get_by_label("Import with this password").click();
    h.run();
    let t0 = std::time::Instant::now();
    while h.state().annotator().unwrap().queue().is_empty() && t0.elapsed() < Duration::from_secs(60) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(documents(&ws).len(), 1, "{:?}", h.state().annotator().unwrap().status());
    assert!(h.query_by_label_contains("need(s) a password").is_none(), "the question is gone");
}

/// A PDF whose JavaScript and links point at a server: importing, rendering and reading its
/// text runs none of it and fetches nothing (a listener on that address sees no one).
#[test]
fn a_pdfs_javascript_and_links_are_never_run_or_fetched() {
    if !pdfium() {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://127.0.0.1:{}/", listener.local_addr().unwrap().port());
    let content = "BT /F1 12 Tf 10 50 Td (Total 12,00) Tj ET";
    let pdf = format!(
        "%PDF-1.7\n\
         1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R /AA << /WC 4 0 R >> >> endobj\n\
         2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
         3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 5 0 R \
         /Resources << /Font << /F1 6 0 R >> /XObject << /X 8 0 R >> >> /Annots [7 0 R] >> endobj\n\
         4 0 obj << /S /JavaScript /JS (app.launchURL\\(\"{url}js\"\\); this.submitForm\\(\"{url}form\"\\);) >> endobj\n\
         5 0 obj << /Length {} >> stream\n{content}\nendstream endobj\n\
         6 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n\
         7 0 obj << /Type /Annot /Subtype /Link /Rect [0 0 200 100] /A << /S /URI /URI ({url}link) >> >> endobj\n\
         8 0 obj << /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Ref << /F << /FS /URL /F ({url}ref.pdf) >> /Page 0 >> /Length 0 >> stream\n\nendstream endobj\n\
         trailer << /Root 1 0 R >>\n%%EOF\n",
        content.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("active.pdf");
    std::fs::write(&path, pdf).unwrap();
    let ws = Workspace::File(dir.path().join("ws.sqlite"));
    let mut store = Store::create_at(&ws).unwrap();
    let report = facture::app::import::import_paths(&mut store, std::slice::from_ref(&path), 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 1, "{report:?}");
    let d = store.document(report.added[0]).unwrap();
    let page = facture::app::pages::PageRef::of(&store, &d).decode(Some(&store)).unwrap();
    assert_eq!((page.width(), page.height()), (d.width, d.height));
    let bytes = std::fs::read(&path).unwrap();
    let chars = facture::pdf::text_chars(&bytes, 0, (d.width, d.height)).unwrap();
    let lines = facture::prelabel::pdftext::lines(&chars);
    assert_eq!(lines.iter().filter_map(|l| l.text.as_deref()).collect::<Vec<_>>(), vec!["Total 12,00"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("something connected to the PDF's address: {other:?}"),
    }
}
