//! Page rotation and EXIF orientation: a page turned in quarter turns takes its boxes with it
//! (exactly), swaps its size, undoes in one step, and every reader of its pixels (the export,
//! pre-annotation, the window) sees it turned; a photo whose EXIF says "rotated" is imported
//! and shown upright, mirrored orientations included.

use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Output};
use std::time::Duration;

use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::app::pages::PageRef;
use facture::app::{Command, Session};
use facture::domain::{DocId, Rect, Role};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, PageState, ScriptedDialogs};
use image::{Rgb, RgbImage};

const RED: Rgb<u8> = Rgb([220, 20, 20]);
const GREEN: Rgb<u8> = Rgb([20, 200, 20]);
const PAPER: Rgb<u8> = Rgb([250, 250, 250]);

fn facture(args: &[&str]) -> Output {
    Proc::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = facture(args);
    assert!(out.status.success(), "facture {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn is_red(p: Rgb<u8>) -> bool {
    p.0[0] > 170 && p.0[1] < 90 && p.0[2] < 90
}

fn is_green(p: Rgb<u8>) -> bool {
    p.0[1] > 150 && p.0[0] < 90 && p.0[2] < 90
}

/// A workspace with the pages `files` imported, a lead (lea) and an annotator (ann).
fn workspace(dir: &Path, files: &[PathBuf]) -> PathBuf {
    let ws = dir.join("ws.sqlite");
    let mut store = Store::create(&ws).unwrap();
    let report = import_paths(&mut store, files, 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), files.len(), "{report:?}");
    store.add_user("lea", Role::Lead).unwrap();
    store.add_user("ann", Role::Annotator).unwrap();
    ws
}

fn session(ws: &Path, user: &str) -> Session {
    let store = Store::open(ws).unwrap();
    let user = store.user_by_name(user).unwrap().unwrap();
    Session::new(store, user)
}

fn only_doc(ws: &Path) -> DocId {
    Store::open(ws).unwrap().documents(&DocFilter::default()).unwrap()[0].id
}

/// A 300×200 page with a red block where the box `MARK` is.
const MARK: Rect = Rect::new(20.0, 10.0, 40.0, 30.0);

fn marked_page(path: &Path) {
    RgbImage::from_fn(300, 200, |x, y| if (20..40).contains(&x) && (10..30).contains(&y) { RED } else { PAPER })
        .save(path)
        .unwrap();
}

/// The image a COCO export wrote for its only page, and that page's one box (COCO leaves
/// unlabelled boxes out).
fn exported(out: &Path) -> (RgbImage, [f64; 4], (u64, u64)) {
    let coco: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("annotations.json")).unwrap()).unwrap();
    let image = &coco["images"][0];
    let name = image["file_name"].as_str().unwrap();
    let file = [out.join(name), out.join("images").join(name)].into_iter().find(|p| p.is_file()).unwrap();
    let bbox: Vec<f64> =
        coco["annotations"][0]["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let size = (image["width"].as_u64().unwrap(), image["height"].as_u64().unwrap());
    (image::open(file).unwrap().to_rgb8(), [bbox[0], bbox[1], bbox[2], bbox[3]], size)
}

#[test]
fn a_turned_page_takes_its_boxes_along_exports_turned_pixels_and_undoes_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("page.png");
    marked_page(&png);
    let ws = workspace(dir.path(), &[png]);
    let doc = only_doc(&ws);
    let mut lea = session(&ws, "lea");
    let label = Some(lea.store().label_by_name("total_amount").unwrap().unwrap().id);
    lea.apply(Command::AddBox { doc, rect: MARK, quad: None, label, text: "mark".into() }).unwrap();
    let w = ws.to_str().unwrap();

    let said = ok(&["rotate", w, &doc.0.to_string(), "--by", "90", "--as", "lea"]);
    assert!(said.contains("rotated 1 document(s) by 90°"), "{said}");
    let store = Store::open(&ws).unwrap();
    let d = store.document(doc).unwrap();
    assert_eq!((d.rotation, d.width, d.height), (1, 200, 300));
    // a quarter turn clockwise of a 300×200 page: (x, y) → (200 − y, x)
    let turned = Rect::new(170.0, 20.0, 190.0, 40.0);
    assert_eq!(store.annotations(doc).unwrap()[0].rect, turned);
    // every reader of the page sees it turned: the marker is under the box
    let page = PageRef::of(&store, &d).decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!(page.dimensions(), (200, 300));
    assert!(is_red(*page.get_pixel(180, 30)) && !is_red(*page.get_pixel(30, 20)));

    // the export writes the turned pixels (a turned PNG is not copied as is)
    let out = dir.path().join("coco");
    ok(&["export", w, "--format", "coco", "--all", "--out", out.to_str().unwrap()]);
    let (img, [x, y, bw, bh], size) = exported(&out);
    assert_eq!((img.dimensions(), size), ((200, 300), (200, 300)));
    assert_eq!([x, y, bw, bh], [170.0, 20.0, 20.0, 20.0]);
    assert!(is_red(*img.get_pixel((x + bw / 2.0) as u32, (y + bh / 2.0) as u32)));
    assert!(!is_red(*img.get_pixel(30, 20)), "the unturned spot is blank");

    // three more quarters (counter-clockwise by one) through --quarters, then undo it: one step
    ok(&["rotate", w, &doc.0.to_string(), "--quarters", "3", "--as", "lea"]);
    let d = store.document(doc).unwrap();
    assert_eq!((d.rotation, d.width, d.height), (0, 300, 200));
    assert_eq!(store.annotations(doc).unwrap()[0].rect, MARK);
    let mut lea = session(&ws, "lea");
    lea.apply(Command::Undo { doc }).unwrap();
    let d = store.document(doc).unwrap();
    assert_eq!((d.rotation, d.width, d.height), (1, 200, 300));
    assert_eq!(store.annotations(doc).unwrap()[0].rect, turned);
    lea.apply(Command::Undo { doc }).unwrap();
    let d = store.document(doc).unwrap();
    assert_eq!((d.rotation, d.width, d.height), (0, 300, 200), "undone: size and rotation are back");
    assert_eq!(store.annotations(doc).unwrap()[0].rect, MARK, "undone: the box is back");

    // bad input is one line, and changes nothing
    let out = facture(&["rotate", w, &doc.0.to_string(), "--quarters", "2", "--as", "nobody"]);
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    let out = facture(&["rotate", w, "999", "--quarters", "1", "--as", "lea"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document 999"));
    assert_eq!(store.document(doc).unwrap().rotation, 0);
}

/// `img` as a JPEG whose EXIF APP1 segment (built by hand: a big-endian TIFF header and one
/// IFD entry, 0x0112 Orientation) says `orientation`.
fn jpeg_with_orientation(img: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 95).encode_image(img).unwrap();
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec(); // header, IFD at offset 8
    tiff.extend([0x00, 0x01]); // one entry
    tiff.extend([0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]); // Orientation, SHORT, count 1
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0x00, 0x00]); // value padding
    tiff.extend([0x00, 0x00, 0x00, 0x00]); // no next IFD
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend(tiff);
    let mut out = plain[..2].to_vec(); // SOI
    out.extend([0xFF, 0xE1]);
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

/// 60×40 as stored: a red block at the stored top-left corner, a green one at the top-right.
fn stored_corners() -> RgbImage {
    RgbImage::from_fn(60, 40, |x, y| match (x, y) {
        (0..12, 0..12) => RED,
        (48..60, 0..12) => GREEN,
        _ => PAPER,
    })
}

/// Which corner (TL, TR, BL, BR) of `img` holds a block of the colour `is`.
fn corner(img: &RgbImage, is: fn(Rgb<u8>) -> bool) -> &'static str {
    let (w, h) = img.dimensions();
    let found: Vec<&str> = [("TL", 6, 6), ("TR", w - 6, 6), ("BL", 6, h - 6), ("BR", w - 6, h - 6)]
        .into_iter()
        .filter(|&(_, x, y)| is(*img.get_pixel(x, y)))
        .map(|(c, _, _)| c)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0]
}

#[test]
fn exif_orientation_is_applied_at_import_and_at_every_decode_mirrored_ones_too() {
    let dir = tempfile::tempdir().unwrap();
    // EXIF value → upright size and where the stored top-left (red) and top-right (green) go
    let cases = [
        (1, (60, 40), "TL", "TR"),
        (2, (60, 40), "TR", "TL"),
        (3, (60, 40), "BR", "BL"),
        (4, (60, 40), "BL", "BR"),
        (5, (40, 60), "TL", "BL"),
        (6, (40, 60), "TR", "BR"),
        (7, (40, 60), "BR", "TR"),
        (8, (40, 60), "BL", "TL"),
    ];
    for (o, size, red, green) in cases {
        let bytes = jpeg_with_orientation(&stored_corners(), o);
        let path = dir.path().join(format!("photo{o}.jpg"));
        std::fs::write(&path, &bytes).unwrap();
        let probe = facture::imageio::probe_bytes(&path, &bytes).unwrap();
        assert_eq!(probe.pages, vec![size], "orientation {o}");
        let img = facture::imageio::decode_page_bytes(&path, &bytes, 0).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), size, "orientation {o}");
        assert_eq!((corner(&img, is_red), corner(&img, is_green)), (red, green), "orientation {o}");
        assert_eq!(facture::imageio::stored_upright(&bytes), o == 1, "orientation {o}");
    }

    // a TIFF's own Orientation tag too
    let tif = dir.path().join("scan.tif");
    {
        use tiff::encoder::{TiffEncoder, colortype};
        let mut f = std::fs::File::create(&tif).unwrap();
        let mut enc = TiffEncoder::new(&mut f).unwrap();
        let mut page = enc.new_image::<colortype::RGB8>(60, 40).unwrap();
        page.encoder().write_tag(tiff::tags::Tag::Orientation, 6u16).unwrap();
        page.write_data(stored_corners().as_raw()).unwrap();
    }
    let bytes = std::fs::read(&tif).unwrap();
    assert_eq!(facture::imageio::probe_bytes(&tif, &bytes).unwrap().pages, vec![(40, 60)]);
    let img = facture::imageio::decode_page_bytes(&tif, &bytes, 0).unwrap().to_rgb8();
    assert_eq!((corner(&img, is_red), corner(&img, is_green)), ("TR", "BR"));

    // imported through the command line: recorded upright, shown upright, exported upright
    let photo = dir.path().join("photo6.jpg");
    let ws = dir.path().join("ws.sqlite");
    let w = ws.to_str().unwrap();
    ok(&["init", w]);
    ok(&["import", w, photo.to_str().unwrap()]);
    let store = Store::open(&ws).unwrap();
    let d = store.documents(&DocFilter::default()).unwrap().remove(0);
    assert_eq!((d.width, d.height, d.rotation), (40, 60, 0), "the upright size is recorded");
    let page = PageRef::of(&store, &d).decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!((corner(&page, is_red), corner(&page, is_green)), ("TR", "BR"));
    let mut admin = Store::open(&ws).unwrap();
    let lea = admin.add_user("lea", Role::Lead).unwrap();
    let mut s = Session::new(admin, lea);
    s.apply(Command::AddBox {
        doc: d.id,
        rect: Rect::new(28.0, 0.0, 40.0, 12.0),
        quad: None,
        label: Some(s.store().label_by_name("total_amount").unwrap().unwrap().id),
        text: "r".into(),
    })
    .unwrap();
    let out = dir.path().join("coco");
    ok(&["export", w, "--format", "coco", "--all", "--out", out.to_str().unwrap()]);
    // written upright as a JPEG under its own name: a reader that ignores EXIF sees it right
    let (img, [x, y, bw, bh], size) = exported(&out);
    assert_eq!((img.dimensions(), size), ((40, 60), (40, 60)));
    assert!(is_red(*img.get_pixel((x + bw / 2.0) as u32, (y + bh / 2.0) as u32)));
    assert!(!facture::imageio::stored_upright(&std::fs::read(&photo).unwrap()));
}

/// Boxes of every suggestion on `doc`, in reading order.
fn suggestion_rects(store: &Store, doc: DocId) -> Vec<[i32; 4]> {
    let mut r: Vec<[i32; 4]> = store
        .annotations(doc)
        .unwrap()
        .iter()
        .map(|a| [a.rect.x0, a.rect.y0, a.rect.x1, a.rect.y1].map(|v| v.round() as i32))
        .collect();
    r.sort_by_key(|b| (b[1], b[0]));
    r
}

#[test]
fn pre_annotation_reads_a_sideways_scan_turned_upright_as_it_reads_the_upright_one() {
    let dir = tempfile::tempdir().unwrap();
    let page = facture::synth::render_page(7, 1).image;
    let upright = dir.path().join("upright.png");
    page.save(&upright).unwrap();
    // scanned sideways: the text runs bottom to top
    let sideways = dir.path().join("sideways.png");
    image::imageops::rotate270(&page).save(&sideways).unwrap();
    let ws = workspace(dir.path(), &[upright.clone(), sideways]);
    let store = Store::open(&ws).unwrap();
    let docs = store.documents(&DocFilter::default()).unwrap();
    let id = |name: &str| docs.iter().find(|d| d.path.ends_with(name)).unwrap().id;
    let (up, side) = (id("upright.png"), id("sideways.png"));
    let w = ws.to_str().unwrap();
    ok(&["rotate", w, &side.0.to_string(), "--quarters", "1", "--as", "lea"]);
    let t0 = std::time::Instant::now();
    ok(&["prelabel", w, "--source", "cv"]);
    eprintln!("cv on two pages: {:.1} s", t0.elapsed().as_secs_f64());
    let (a, b) = (suggestion_rects(&store, up), suggestion_rects(&store, side));
    assert!(a.len() >= 10, "{} lines on the upright page", a.len());
    assert_eq!(a, b, "the turned page's lines are the upright page's");
    let wide = b.iter().filter(|r| r[2] - r[0] > 2 * (r[3] - r[1])).count();
    assert!(wide * 10 >= b.len() * 9, "{wide} of {} proposals are horizontal lines", b.len());
}

/// The window on `ws` as `user`, once its page has been decoded.
fn window(ws: &Path, user: &str) -> egui_kittest::Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, user, None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = egui_kittest::Harness::builder().with_size([1280.0, 800.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    settle(&mut h, (300, 200));
    h
}

/// Steps until the window shows a decoded page of `size`.
fn settle(h: &mut egui_kittest::Harness<'static, FactureApp>, size: (u32, u32)) {
    let shown = |app: &FactureApp| match app.annotator().map(|a| a.page()) {
        Some(PageState::Ready(p)) => (p.width, p.height) == size,
        _ => false,
    };
    let t0 = std::time::Instant::now();
    while !shown(h.state()) && t0.elapsed() < Duration::from_secs(10) {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run();
    assert!(
        shown(h.state()),
        "the window never showed a {size:?} page: {:?}",
        h.state().annotator().map(|a| a.status())
    );
}

#[test]
fn the_rotate_button_turns_the_page_and_its_boxes_and_ctrl_z_turns_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("page.png");
    marked_page(&png);
    let ws = workspace(dir.path(), &[png]);
    let doc = only_doc(&ws);
    session(&ws, "ann")
        .apply(Command::AddBox { doc, rect: MARK, quad: None, label: None, text: String::new() })
        .unwrap();
    let mut h = window(&ws, "ann");
    let store = Store::open(&ws).unwrap();

    h.get_by_label("⟳").click();
    h.run();
    let d = store.document(doc).unwrap();
    assert_eq!((d.rotation, d.width, d.height), (1, 200, 300));
    assert_eq!(store.annotations(doc).unwrap()[0].rect, Rect::new(170.0, 20.0, 190.0, 40.0));
    settle(&mut h, (200, 300));
    let a = h.state().annotator().unwrap();
    assert_eq!(a.annotations()[0].rect, Rect::new(170.0, 20.0, 190.0, 40.0), "the canvas shows the turned box");
    assert_eq!(a.editor().viewport.image_size(), (200.0, 300.0), "the view fits the turned page");

    // the key turns it further, counter-clockwise; Ctrl+Z undoes that, then the button's turn
    h.key_press(Key::OpenBracket);
    h.run();
    assert_eq!(store.document(doc).unwrap().rotation, 0);
    settle(&mut h, (300, 200));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(store.document(doc).unwrap().rotation, 1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    let d = store.document(doc).unwrap();
    assert_eq!((d.rotation, d.width, d.height), (0, 300, 200));
    assert_eq!(store.annotations(doc).unwrap()[0].rect, MARK);
    settle(&mut h, (300, 200));
    assert_eq!(h.state().annotator().unwrap().annotations()[0].rect, MARK);
}

#[test]
fn a_turned_pdf_page_renders_at_its_size_and_its_text_layer_turns_with_it() {
    if let Err(e) = facture::pdf::available() {
        // PDFium is provisioned by the build; CI requires it
        assert!(std::env::var("FACTURE_REQUIRE_MODELS").as_deref() != Ok("1"), "{e}");
        eprintln!("skipped: {e}");
        return;
    }
    use facture::pdf::write::{Page, PageContent, TextRun};
    let run = |baseline_pt: f32, text: &'static str| TextRun {
        x_pt: 60.0,
        baseline_pt,
        size_pt: 14.0,
        font: 0,
        rgb: [0, 0, 0],
        text,
    };
    let page = Page {
        width_pt: 595.0,
        height_pt: 420.0,
        content: PageContent::Text { runs: vec![run(80.0, "Rechnung 2026-114"), run(140.0, "Gesamt 1 263,49 EUR")] },
    };
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("invoice.pdf");
    std::fs::write(&pdf, facture::pdf::write::pdf(&[page], &[]).unwrap()).unwrap();
    // the same page in two workspaces, turned in the second
    let read = |name: &str, quarters: u8| {
        let ws = dir.path().join(name);
        let w = ws.to_str().unwrap();
        ok(&["init", w]);
        ok(&["import", w, pdf.to_str().unwrap()]);
        Store::open(&ws).unwrap().add_user("lea", Role::Lead).unwrap();
        let doc = only_doc(&ws);
        if quarters > 0 {
            ok(&["rotate", w, &doc.0.to_string(), "--quarters", &quarters.to_string()]);
        }
        ok(&["prelabel", w, "--source", "pdf-text"]);
        let store = Store::open(&ws).unwrap();
        let d = store.document(doc).unwrap();
        let pixels = PageRef::of(&store, &d).decode(Some(&store)).unwrap().to_rgb8();
        let rects: Vec<Rect> = store.annotations(doc).unwrap().iter().map(|a| a.rect).collect();
        (d, pixels, rects)
    };
    let (d0, pixels0, rects0) = read("upright.sqlite", 0);
    let (d1, pixels1, rects1) = read("turned.sqlite", 1);
    assert_eq!((d1.width, d1.height), (d0.height, d0.width));
    assert_eq!(pixels1, image::imageops::rotate90(&pixels0), "rendered at the file page's size, then turned");
    assert_eq!(rects0.len(), 2, "{rects0:?}");
    let (w, h) = (d0.width as f32, d0.height as f32);
    let want: Vec<Rect> = rects0.iter().map(|r| r.turned(1, w, h)).collect();
    for (got, want) in rects1.iter().zip(&want) {
        let off = [got.x0 - want.x0, got.y0 - want.y0, got.x1 - want.x1, got.y1 - want.y1];
        assert!(off.iter().all(|d| d.abs() < 0.01), "{got:?} is not {want:?}");
    }
    assert_eq!(rects1.len(), want.len());
}

/// `jpeg_with_orientation(stored_corners(), 6)` at `path`, with one dark pixel at `(x, 20)` so
/// each file has its own hash: 60×40 as stored, 40×60 upright.
fn sideways_photo(path: &Path, x: u32) {
    let mut img = stored_corners();
    img.put_pixel(x, 20, Rgb([0, 0, 0]));
    std::fs::write(path, jpeg_with_orientation(&img, 6)).unwrap();
}

/// `path` added as a page the way versions before schema 8 added it: measured as stored
/// (60×40, EXIF orientation ignored) and `exif` 0 in its row.
fn add_as_before_schema_8(ws: &Path, path: &Path) -> DocId {
    let mut store = Store::open(ws).unwrap();
    let nd = facture::store::NewDocument {
        path: path.to_string_lossy().into_owned(),
        sha256: facture::imageio::sha256_file(path).unwrap(),
        page: 0,
        width: 60,
        height: 40,
    };
    let doc = store.add_document(&nd, 0).unwrap().unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(ws).unwrap();
    assert_eq!(conn.execute("UPDATE documents SET exif=0 WHERE id=?1", [doc.0]).unwrap(), 1);
    doc
}

#[test]
fn a_page_imported_before_exif_orientation_keeps_its_stored_pixels_wherever_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old6.jpg");
    sideways_photo(&old, 30);
    let ws = dir.path().join("ws.sqlite");
    Store::create(&ws).unwrap();
    let doc = add_as_before_schema_8(&ws, &old);
    let store = Store::open(&ws).unwrap();
    let d = store.document(doc).unwrap();
    assert_eq!((d.width, d.height, d.rotation, d.exif), (60, 40, 0, false));

    // decoded as stored: the size recorded, red still top-left and green top-right
    let source = PageRef::of(&store, &d);
    assert_eq!(source, PageRef::in_workspace(store.workspace().unwrap(), &d));
    let page = source.decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!(page.dimensions(), (60, 40));
    assert_eq!((corner(&page, is_red), corner(&page, is_green)), ("TL", "TR"));
    assert!(is_red(*page.get_pixel(5, 5)) && is_green(*page.get_pixel(54, 5)));
    let thumb = facture::app::thumbs::render(&source).unwrap();
    assert_eq!(thumb.dimensions(), (96, 64), "the thumbnail is the stored page too");
    // turned by the lead, it turns the stored pixels
    let turned = source.clone().turned(1).decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!(turned.dimensions(), (40, 60));
    assert_eq!((corner(&turned, is_red), corner(&turned, is_green)), ("TR", "BR"));

    // a box drawn on the red block exports onto it: the stored pixels, written without the tag
    let mut admin = Store::open(&ws).unwrap();
    let lea = admin.add_user("lea", Role::Lead).unwrap();
    let mut s = Session::new(admin, lea);
    let label = Some(s.store().label_by_name("total_amount").unwrap().unwrap().id);
    s.apply(Command::AddBox { doc, rect: Rect::new(0.0, 0.0, 12.0, 12.0), quad: None, label, text: "r".into() })
        .unwrap();
    let out = dir.path().join("coco");
    let w = ws.to_str().unwrap();
    ok(&["export", w, "--format", "coco", "--all", "--out", out.to_str().unwrap()]);
    let (img, [x, y, bw, bh], size) = exported(&out);
    assert_eq!((img.dimensions(), size), ((60, 40), (60, 40)));
    assert_eq!([x, y, bw, bh], [0.0, 0.0, 12.0, 12.0]);
    assert!(is_red(*img.get_pixel(6, 6)) && is_green(*img.get_pixel(54, 6)));
    let name = img_name(&out);
    let written = [out.join(&name), out.join("images").join(&name)].into_iter().find(|p| p.is_file()).unwrap();
    assert!(facture::imageio::stored_upright(&std::fs::read(&written).unwrap()), "no orientation tag left");

    // a file imported now, alike but for one pixel, is recorded and decoded upright
    let new = dir.path().join("new6.jpg");
    sideways_photo(&new, 31);
    let mut store = Store::open(&ws).unwrap();
    let report = import_paths(&mut store, std::slice::from_ref(&new), 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 1, "{report:?}");
    let fresh = store.documents(&DocFilter::default()).unwrap().into_iter().find(|d| d.id != doc).unwrap();
    assert_eq!((fresh.width, fresh.height, fresh.exif), (40, 60, true));
    let page = PageRef::of(&store, &fresh).decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!(page.dimensions(), (40, 60));
    assert_eq!((corner(&page, is_red), corner(&page, is_green)), ("TR", "BR"));
    let thumb = facture::app::thumbs::render(&PageRef::of(&store, &fresh)).unwrap();
    assert_eq!(thumb.dimensions(), (64, 96));
    // and the old page is as it was
    let d = store.document(doc).unwrap();
    assert_eq!((d.width, d.height, d.exif), (60, 40, false));
    assert_eq!(PageRef::of(&store, &d).decode(Some(&store)).unwrap().to_rgb8().dimensions(), (60, 40));
}

/// The name of the only image a COCO export at `out` lists.
fn img_name(out: &Path) -> String {
    let coco: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("annotations.json")).unwrap()).unwrap();
    coco["images"][0]["file_name"].as_str().unwrap().to_string()
}

#[test]
fn migrating_to_schema_8_leaves_an_old_page_measured_and_decoded_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("v7.sqlite");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/workspaces/v7.sqlite"), &ws).unwrap();
    let old = dir.path().join("old6.jpg");
    sideways_photo(&old, 30);
    // the row version 7 wrote on importing it: the stored size
    {
        let conn = rusqlite::Connection::open(&ws).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 7);
        conn.execute(
            "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms)
             VALUES (?1, ?2, 0, 60, 40, 'new', 0)",
            rusqlite::params![old.to_string_lossy(), facture::imageio::sha256_file(&old).unwrap()],
        )
        .unwrap();
    }
    let mut store = Store::open(&ws).unwrap();
    let docs = store.documents(&DocFilter::default()).unwrap();
    assert!(docs.iter().all(|d| !d.exif), "every page already there keeps its stored pixels");
    let d = docs.iter().find(|d| d.path.ends_with("old6.jpg")).unwrap();
    assert_eq!((d.width, d.height, d.rotation), (60, 40, 0), "the migration leaves the size alone");
    let page = PageRef::of(&store, d).decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!(page.dimensions(), (60, 40));
    assert_eq!((corner(&page, is_red), corner(&page, is_green)), ("TL", "TR"));

    // the migrated workspace imports new pages upright
    let new = dir.path().join("new6.jpg");
    sideways_photo(&new, 31);
    let report = import_paths(&mut store, std::slice::from_ref(&new), 0, |_, _| {}).unwrap();
    assert_eq!(report.added.len(), 1, "{report:?}");
    let fresh = store.documents(&DocFilter::default()).unwrap().into_iter().find(|d| d.path.ends_with("new6.jpg"));
    let fresh = fresh.unwrap();
    assert_eq!((fresh.width, fresh.height, fresh.exif), (40, 60, true));
    let page = PageRef::of(&store, &fresh).decode(Some(&store)).unwrap().to_rgb8();
    assert_eq!((corner(&page, is_red), corner(&page, is_green)), ("TR", "BR"));
}
