//! Box flags and document tags end to end: the tag schema set and shown through `facture
//! settings`; a difficult box and a tagged page exported to PPOCR, COCO and Facture JSON with
//! the flags and tags where each format keeps them, and read back by `import-dataset`; a tag
//! value the workspace lacks refused in one line; `search --tag/--flag`; and in the window
//! (egui_kittest, headless) the flag checkboxes and the tag choices, undone with Ctrl+Z.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Output};

use eframe::egui::accesskit::Role as AkRole;
use eframe::egui::{self, Event, Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use facture::app::import::import_paths;
use facture::app::{Command, Session};
use facture::domain::{AnnId, Annotation, BoxFlags, DocId, Point, Rect, Role};
use facture::store::{DocFilter, Store};
use facture::ui::{FactureApp, ScriptedDialogs};
use serde_json::Value;

const SPEC: &str = "document_type=invoice,credit_note;language=de,en,fr";

fn facture(args: &[&str]) -> Output {
    Proc::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = facture(args);
    assert!(out.status.success(), "facture {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails with exactly one line on stderr that contains `wanted`.
fn fails(args: &[&str], wanted: &str) {
    let out = facture(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "facture {args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(wanted), "{args:?}: wanted '{wanted}' in: {err}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A workspace at `dir/name` with the tag schema [`SPEC`], lea (lead) and one 400×300 page per
/// entry of `pages`: each a list of (label, text, flags) boxes and the page's tags.
#[allow(clippy::type_complexity)]
fn workspace(dir: &Path, name: &str, pages: &[(&[(&str, &str, BoxFlags)], &[(&str, &str)])]) -> PathBuf {
    let ws = dir.join(name);
    ok(&["init", s(&ws)]);
    ok(&["settings", s(&ws), "doc-tags", SPEC]);
    let mut store = Store::open(&ws).unwrap();
    let lea = store.add_user("lea", Role::Lead).unwrap();
    let mut pngs = Vec::new();
    for i in 0..pages.len() {
        let png = dir.join(format!("{name}_page{i}.png"));
        let shade = 200 + 10 * i as u8;
        image::RgbImage::from_pixel(400, 300, image::Rgb([shade, shade, 250])).save(&png).unwrap();
        pngs.push(png);
    }
    if !pngs.is_empty() {
        import_paths(&mut store, &pngs, 0, |_, _| {}).unwrap();
    }
    let docs: Vec<DocId> = store.documents(&DocFilter::default()).unwrap().iter().map(|d| d.id).collect();
    let mut session = Session::new(store, lea);
    for (doc, (boxes, tags)) in docs.into_iter().zip(pages) {
        for (k, (label, text, flags)) in boxes.iter().enumerate() {
            let label = session.store().label_by_name(label).unwrap().map(|l| l.id);
            let y = 20.0 + 40.0 * k as f32;
            let rect = Rect::new(20.0, y, 200.0, y + 25.0);
            let made = session.apply(Command::AddBox { doc, rect, quad: None, label, text: text.to_string() }).unwrap();
            for (flag, _) in BoxFlags::ALL.iter().filter(|(f, _)| flags.contains(*f)) {
                session.apply(Command::SetFlags { doc, ids: made.created_boxes(), flag: *flag, on: true }).unwrap();
            }
        }
        if !tags.is_empty() {
            let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            session.apply(Command::SetTags { doc, tags }).unwrap();
        }
    }
    ws
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The only document's tags and its boxes' (text, flags), by text.
fn read_back(ws: &Path) -> (BTreeMap<String, String>, Vec<(String, BoxFlags)>) {
    let store = Store::open(ws).unwrap();
    let docs = store.documents(&DocFilter::default()).unwrap();
    assert_eq!(docs.len(), 1);
    let mut boxes: Vec<(String, BoxFlags)> =
        store.annotations(docs[0].id).unwrap().into_iter().map(|a| (a.text, a.flags)).collect();
    boxes.sort_by(|a, b| a.0.cmp(&b.0));
    (docs[0].tags.clone(), boxes)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn flags_and_tags_go_where_each_format_keeps_them_and_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let hard = BoxFlags::DIFFICULT.with(BoxFlags::HANDWRITTEN, true);
    let page_tags = [("document_type", "credit_note"), ("language", "fr")];
    let ws = workspace(
        d,
        "ws.sqlite",
        &[(&[("total_amount", "9.00", hard), ("vendor_name", "ACME", BoxFlags::default())], &page_tags)],
    );
    // the settings list shows the schema as it is typed
    assert!(ok(&["settings", s(&ws)]).lines().any(|l| l == format!("doc-tags {SPEC}")));

    // PPOCRLabel's own `difficult`
    let ppocr = d.join("ppocr");
    ok(&["export", s(&ws), "--format", "ppocr", "--out", s(&ppocr), "--all"]);
    let label_txt = std::fs::read_to_string(ppocr.join("images/Label.txt")).unwrap();
    let (_, boxes) = label_txt.trim_end().split_once('\t').unwrap();
    let boxes: Value = serde_json::from_str(boxes).unwrap();
    let difficult = |text: &str| {
        boxes.as_array().unwrap().iter().find(|b| b["transcription"] == text).unwrap()["difficult"].clone()
    };
    assert_eq!((difficult("9.00"), difficult("ACME")), (Value::Bool(true), Value::Bool(false)), "{label_txt}");

    // COCO: boolean attributes beside the text, the tags on the image entry
    let coco = d.join("coco");
    ok(&["export", s(&ws), "--format", "coco", "--out", s(&coco), "--all"]);
    let c = json(&coco.join("annotations.json"));
    let attrs: Vec<&Value> = c["annotations"].as_array().unwrap().iter().map(|a| &a["attributes"]).collect();
    assert!(attrs.contains(&&serde_json::json!({"text": "9.00", "difficult": true, "handwritten": true})), "{attrs:?}");
    assert!(attrs.contains(&&serde_json::json!({"text": "ACME"})), "{attrs:?}");
    assert_eq!(c["images"][0]["attributes"], serde_json::json!({"document_type": "credit_note", "language": "fr"}));

    // Facture JSON: a flags list per box, the tags per page
    let fj = d.join("fj");
    ok(&["export", s(&ws), "--format", "facture-json", "--out", s(&fj), "--all"]);
    let page = json(&fj.join("ws.sqlite_page0.json"));
    assert_eq!(page["tags"], serde_json::json!({"document_type": "credit_note", "language": "fr"}));
    let flags_of = |text: &str| {
        page["boxes"].as_array().unwrap().iter().find(|b| b["text"] == text).unwrap().get("flags").cloned()
    };
    assert_eq!(flags_of("9.00"), Some(serde_json::json!(["difficult", "handwritten"])));
    assert_eq!(flags_of("ACME"), None, "no flags, no key: older versions stay byte for byte");

    // each read back into a fresh workspace, as far as the format keeps them
    let back = |name: &str, format: &str, path: &Path| {
        let ws2 = workspace(d, name, &[]);
        ok(&["import-dataset", s(&ws2), "--format", format, s(path)]);
        read_back(&ws2)
    };
    let both = vec![("9.00".to_string(), hard), ("ACME".to_string(), BoxFlags::default())];
    assert_eq!(back("from_fj.sqlite", "facture-json", &fj), (tags(&page_tags), both.clone()));
    assert_eq!(back("from_coco.sqlite", "coco", &coco), (tags(&page_tags), both));
    let only_difficult = vec![("9.00".to_string(), BoxFlags::DIFFICULT), ("ACME".to_string(), BoxFlags::default())];
    assert_eq!(back("from_ppocr.sqlite", "ppocr", &ppocr), (BTreeMap::new(), only_difficult));
}

#[test]
fn a_version_reproduces_the_flags_and_tags_it_was_made_with() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ws = workspace(d, "ws.sqlite", &[(&[("total_amount", "9.00", BoxFlags::DIFFICULT)], &[("language", "de")])]);
    let v1 = d.join("v1");
    ok(&["export", s(&ws), "--format", "facture-json", "--out", s(&v1), "--all"]);
    // later edits: another tag, the flag off, a new one on
    let store = Store::open(&ws).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    let ids: Vec<AnnId> = store.annotations(doc).unwrap().iter().map(|a| a.id).collect();
    let mut session = Session::new(store, Store::open(&ws).unwrap().user_by_name("lea").unwrap().unwrap());
    session.apply(Command::SetTags { doc, tags: tags(&[("language", "en")]) }).unwrap();
    session.apply(Command::SetFlags { doc, ids: ids.clone(), flag: BoxFlags::DIFFICULT, on: false }).unwrap();
    session.apply(Command::SetFlags { doc, ids, flag: BoxFlags::ILLEGIBLE, on: true }).unwrap();
    let now = d.join("now");
    ok(&["export", s(&ws), "--format", "facture-json", "--out", s(&now), "--all"]);
    let page = |dir: &Path| std::fs::read_to_string(dir.join("ws.sqlite_page0.json")).unwrap();
    assert!(page(&now).contains("\"language\": \"en\"") && page(&now).contains("\"illegible\""), "{}", page(&now));
    let again = d.join("again");
    ok(&["export", s(&ws), "--version", "1", "--out", s(&again)]);
    assert_eq!(page(&again), page(&v1));
    assert!(page(&again).contains("\"language\": \"de\"") && page(&again).contains("\"difficult\""));
}

#[test]
fn a_tag_value_the_workspace_lacks_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ws = workspace(d, "ws.sqlite", &[(&[("total_amount", "9.00", BoxFlags::DIFFICULT)], &[("language", "de")])]);
    let fj = d.join("fj");
    ok(&["export", s(&ws), "--format", "facture-json", "--out", s(&fj), "--all"]);
    let file = fj.join("ws.sqlite_page0.json");
    let text = std::fs::read_to_string(&file).unwrap().replace("\"language\": \"de\"", "\"language\": \"xx\"");
    std::fs::write(&file, text).unwrap();
    let ws2 = workspace(d, "ws2.sqlite", &[]);
    fails(
        &["import-dataset", s(&ws2), "--format", "facture-json", s(&fj)],
        "'xx' is not a value of language (de, en, fr)",
    );
    assert!(Store::open(&ws2).unwrap().documents(&DocFilter::default()).unwrap().is_empty(), "nothing imported");
    // a schema that cannot be read is refused too, and the old one stays
    fails(&["settings", s(&ws2), "doc-tags", "language"], "doc-tags 'language' has no '='");
    fails(&["settings", s(&ws2), "doc-tags", "language=de,de"], "language: de is given twice");
    assert!(ok(&["settings", s(&ws2)]).contains(&format!("doc-tags {SPEC}")));
    ok(&["settings", s(&ws2), "doc-tags", "default"]);
    assert!(ok(&["settings", s(&ws2)]).contains("doc-tags document_type=invoice,credit_note,receipt"));
}

#[test]
fn search_finds_documents_by_tag_and_boxes_by_flag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ws = workspace(
        d,
        "ws.sqlite",
        &[
            (
                &[("total_amount", "9.00", BoxFlags::DIFFICULT), ("vendor_name", "ACME", BoxFlags::ILLEGIBLE)],
                &[("language", "de")],
            ),
            (&[("total_amount", "7.00", BoxFlags::default())], &[("language", "en"), ("document_type", "invoice")]),
        ],
    );
    let docs = |out: &str| -> Vec<String> {
        out.lines().filter(|l| !l.starts_with('\t')).map(|l| l.split('\t').next().unwrap().to_string()).collect()
    };
    let de = ok(&["search", s(&ws), "--tag", "language=de"]);
    assert_eq!(docs(&de), ["1"], "{de}");
    assert!(de.lines().next().unwrap().ends_with("\tlanguage=de"), "{de}");
    let both = ok(&["search", s(&ws), "--tag", "language=en", "--tag", "document_type=invoice"]);
    assert_eq!(docs(&both), ["2"], "{both}");
    assert!(docs(&ok(&["search", s(&ws), "--tag", "language=fr"])).is_empty());

    let difficult = ok(&["search", s(&ws), "--flag", "difficult"]);
    assert_eq!(docs(&difficult), ["1"], "{difficult}");
    let box_lines: Vec<&str> = difficult.lines().filter(|l| l.starts_with("\tbox")).collect();
    assert_eq!(box_lines.len(), 1, "only the difficult box: {difficult}");
    assert!(box_lines[0].ends_with("\t9.00\t(difficult)"), "{difficult}");
    // box-level parts hold for one and the same box
    assert!(docs(&ok(&["search", s(&ws), "--flag", "difficult", "--text", "ACME"])).is_empty());
    let hits: Value = serde_json::from_str(&ok(&["search", s(&ws), "--flag", "illegible", "--json"])).unwrap();
    assert_eq!(hits[0]["tags"], serde_json::json!({"language": "de"}));
    assert_eq!(hits[0]["boxes"][0]["flags"], serde_json::json!(["illegible"]));

    fails(&["search", s(&ws), "--tag", "language=xx"], "'xx' is not a value of language");
    fails(&["search", s(&ws), "--tag", "language"], "--tag language: write NAME=VALUE");
    fails(&["search", s(&ws), "--flag", "blurry"], "--flag blurry: not a flag (use difficult, illegible, handwritten)");
}

// ---- the window ----------------------------------------------------------------------------

fn open_window(ws: &Path, user: &str) -> Harness<'static, FactureApp> {
    let app = FactureApp::with_user(ws, user, None, Box::new(ScriptedDialogs::default())).unwrap();
    let mut h = Harness::builder().with_size([1280.0, 900.0]).with_max_steps(200).build_ui_state(
        |ui, app: &mut FactureApp| {
            app.frame_ui(ui);
            app.wait_for_answers();
        },
        app,
    );
    for _ in 0..500 {
        h.step();
        if h.state().annotator().is_some_and(|a| a.page_settled()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.run();
    h
}

fn boxes(ws: &Path) -> Vec<Annotation> {
    let store = Store::open(ws).unwrap();
    let doc = store.documents(&DocFilter::default()).unwrap()[0].id;
    store.annotations(doc).unwrap()
}

fn doc_tags(ws: &Path) -> BTreeMap<String, String> {
    Store::open(ws).unwrap().documents(&DocFilter::default()).unwrap()[0].tags.clone()
}

/// A click on the page at image point (x, y).
fn click_page(h: &mut Harness<'_, FactureApp>, x: f32, y: f32) {
    let p = h.state().annotator().unwrap().editor().viewport.to_screen(Point::new(x, y));
    let pos = Pos2::new(p.x, p.y);
    h.event(Event::PointerMoved(pos));
    for pressed in [true, false] {
        h.event(Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
    }
    h.run();
}

#[test]
fn the_window_toggles_a_flag_undoes_it_and_sets_a_tag() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path(), "ws.sqlite", &[(&[("total_amount", "9.00", BoxFlags::default())], &[])]);
    Store::open(&ws).unwrap().add_user("alice", Role::Annotator).unwrap();
    let mut h = open_window(&ws, "alice");
    assert!(h.query_by_label("Difficult").is_none(), "no box selected, no flags");

    click_page(&mut h, 100.0, 32.0);
    let id: AnnId = boxes(&ws)[0].id;
    assert_eq!(h.state().annotator().unwrap().selection(), [id]);
    h.get_by_label("Difficult").click();
    h.run();
    assert_eq!(boxes(&ws)[0].flags, BoxFlags::DIFFICULT);
    h.get_by_label("Handwritten").click();
    h.run();
    assert_eq!(boxes(&ws)[0].flags, BoxFlags::DIFFICULT.with(BoxFlags::HANDWRITTEN, true));

    // each toggle is one undo step
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(boxes(&ws)[0].flags, BoxFlags::DIFFICULT);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(boxes(&ws)[0].flags, BoxFlags::default());

    // the document's tags, as the workspace defines them, "(none)" first
    assert!(h.query_by_role_and_label(AkRole::ComboBox, "Scan quality").is_none(), "not in this workspace's schema");
    h.get_by_role_and_label(AkRole::ComboBox, "Language").click();
    h.run();
    h.get_by_label("fr").click();
    h.run();
    assert_eq!(doc_tags(&ws), tags(&[("language", "fr")]));
    h.get_by_role_and_label(AkRole::ComboBox, "Document type").click();
    h.run();
    h.get_by_label("credit_note").click();
    h.run();
    assert_eq!(doc_tags(&ws), tags(&[("document_type", "credit_note"), ("language", "fr")]));
    h.get_by_role_and_label(AkRole::ComboBox, "Language").click();
    h.run();
    h.get_by_label("(none)").click();
    h.run();
    assert_eq!(doc_tags(&ws), tags(&[("document_type", "credit_note")]));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert_eq!(doc_tags(&ws), tags(&[("document_type", "credit_note"), ("language", "fr")]));
}
