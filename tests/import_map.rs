//! Label mapping on import: a dataset whose label names the schema lacks imports only when each
//! is mapped (`--map Foreign=label`, `--map Foreign=` for no label); otherwise it stops, naming
//! them, with the workspace unchanged. The window asks for the mapping instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use facture::domain::{DocId, Role};
use facture::store::{DocFilter, Store};

fn facture(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facture")).args(args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A COCO dataset made with another tool's label names: two pages, `Total` on each, `Datum`
/// and `Stempel` once, and one `total_amount` box (a name the schema has).
fn foreign_coco(dir: &Path) -> PathBuf {
    let root = dir.join("coco");
    std::fs::create_dir_all(root.join("images")).unwrap();
    common::write_png(&root.join("images/a.png"), 200, 100, 1);
    common::write_png(&root.join("images/b.png"), 200, 100, 2);
    let ann = |id: u32, image: u32, cat: u32, x: f32| {
        let bbox = [x, 10.0, 20.0, 10.0];
        serde_json::json!({"id": id, "image_id": image, "category_id": cat, "bbox": bbox})
    };
    let coco = serde_json::json!({
        "categories": [{"id": 1, "name": "Total"}, {"id": 2, "name": "Datum"}, {"id": 3, "name": "Stempel"},
                       {"id": 4, "name": "total_amount"}],
        "images": [{"id": 1, "width": 200, "height": 100, "file_name": "a.png"},
                   {"id": 2, "width": 200, "height": 100, "file_name": "b.png"}],
        "annotations": [ann(1, 1, 1, 10.0), ann(2, 1, 2, 40.0), ann(3, 1, 3, 70.0), ann(4, 2, 1, 10.0),
                        ann(5, 2, 4, 40.0)],
    });
    std::fs::write(root.join("annotations.json"), coco.to_string()).unwrap();
    root
}

/// A new workspace file with a lead, and the foreign dataset beside it.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let ws = dir.join("ws.sqlite");
    Store::create(&ws).unwrap().add_user("lea", Role::Lead).unwrap();
    (ws, foreign_coco(dir))
}

/// Each document's box labels (by name, `None` for unlabelled), left to right, documents in
/// image-name order.
fn labels(ws: &Path) -> Vec<Vec<Option<String>>> {
    let store = Store::open(ws).unwrap();
    let mut docs = store.documents(&DocFilter::default()).unwrap();
    docs.sort_by(|a, b| a.path.cmp(&b.path));
    let of = |d: DocId| {
        let mut anns = store.annotations(d).unwrap();
        anns.sort_by(|a, b| a.rect.x0.total_cmp(&b.rect.x0));
        anns.iter().map(|a| a.label.map(|l| store.label(l).unwrap().name)).collect()
    };
    docs.iter().map(|d| of(d.id)).collect()
}

fn some(name: &str) -> Option<String> {
    Some(name.to_string())
}

fn document_count(ws: &Path) -> usize {
    Store::open(ws).unwrap().document_count().unwrap() as usize
}

/// Fails unless the command failed with one line on stderr; returns the line.
fn fails_in_one_line(args: &[&str]) -> String {
    let out = facture(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} should fail; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line expected, got:\n{err}");
    err.trim_end().to_string()
}

#[test]
fn mapped_names_import_with_the_schema_labels_and_the_summary_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, data) = setup(dir.path());
    // repeated, and comma-separated; `Stempel=` leaves those boxes unlabelled
    let out = facture(&[
        "import-dataset",
        s(&ws),
        "--format",
        "coco",
        s(&data),
        "--map",
        "Total=total_amount",
        "--map",
        "Datum=invoice_date,Stempel=",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout.trim_end(),
        "2 document(s), 5 box(es), 0 link(s) imported; 3 box(es) mapped: Datum as invoice_date (1), Total as \
         total_amount (2); 1 box(es) imported unlabelled as mapped: Stempel (1)"
    );
    assert_eq!(
        labels(&ws),
        vec![vec![some("total_amount"), some("invoice_date"), None], vec![some("total_amount"), some("total_amount")]]
    );
}

#[test]
fn an_unmapped_name_stops_the_import_naming_each_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, data) = setup(dir.path());
    let before = std::fs::read(&ws).unwrap();
    let err = fails_in_one_line(&["import-dataset", s(&ws), "--format", "coco", s(&data)]);
    assert_eq!(
        err,
        "facture: labels not in the schema: Datum (1), Stempel (1), Total (2); map them with --map \
         Total=total_amount (or --map Total= to import those boxes unlabelled) — nothing was imported"
    );
    // one name mapped is not enough: the others are still named
    let err =
        fails_in_one_line(&["import-dataset", s(&ws), "--format", "coco", s(&data), "--map", "Total=total_amount"]);
    assert!(err.starts_with("facture: labels not in the schema: Datum (1), Stempel (1); map them with"), "{err}");
    assert_eq!(document_count(&ws), 0);
    assert_eq!(std::fs::read(&ws).unwrap(), before, "the workspace file is untouched");
}

#[test]
fn a_name_mapped_to_nothing_imports_its_boxes_unlabelled() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, data) = setup(dir.path());
    let out = facture(&["import-dataset", s(&ws), "--format", "coco", s(&data), "--map", "Total=,Datum=,Stempel="]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("; 4 box(es) imported unlabelled as mapped: Datum (1), Stempel (1), Total (2)"),
        "{stdout}"
    );
    assert_eq!(labels(&ws), vec![vec![None, None, None], vec![None, some("total_amount")]]);
}

#[test]
fn a_mapping_to_a_label_the_schema_lacks_fails_and_a_malformed_pair_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, data) = setup(dir.path());
    let import = |map: &str| {
        fails_in_one_line(&[
            "import-dataset",
            s(&ws),
            "--format",
            "coco",
            s(&data),
            "--map",
            "Datum=,Stempel=",
            "--map",
            map,
        ])
    };
    assert_eq!(
        import("Total=totl_amount"),
        "facture: --map Total=totl_amount: the schema has no label named 'totl_amount'; did you mean total_amount?"
    );
    let err = import("Total=grand_sum");
    assert!(err.contains("no label named 'grand_sum'; `facture labels WORKSPACE list` shows the labels"), "{err}");
    let out = facture(&["import-dataset", s(&ws), "--format", "coco", s(&data), "--map", "Total"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("'--map <FOREIGN=LABEL>'") && err.contains("no '=' in it; expected FOREIGN=LABEL"), "{err}");
    let err = import("Total=a,Total=b");
    assert_eq!(err, "facture: --map Total is given twice, as Total=a and Total=b");
    assert_eq!(document_count(&ws), 0);
}

/// The window: importing the dataset asks for the mapping (Cancel imports nothing), Import
/// stays off until every name has a choice, and the boxes come in with the labels chosen.
#[test]
fn the_window_asks_for_the_mapping_and_imports_with_it() {
    use eframe::egui::Key;
    use eframe::egui::accesskit::Role as A11y;
    use egui_kittest::Harness;
    use egui_kittest::kittest::{NodeT, Queryable};
    use facture::ui::{DatasetPanel, FactureApp, ScriptedDialogs, Status};

    /// Steps the window (workers answer meanwhile) until the dialog is up.
    fn until_asked(h: &mut Harness<'static, FactureApp>) {
        let t0 = std::time::Instant::now();
        while h.query_by_label("Map the dataset's labels").is_none() {
            assert!(t0.elapsed().as_secs() < 30, "the mapping dialog never opened");
            h.step();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        h.run();
    }

    let dir = tempfile::tempdir().unwrap();
    let (ws, data) = setup(dir.path());
    let mut app = FactureApp::with_user(ws.as_path(), "lea", None, Box::new(ScriptedDialogs::default())).unwrap();
    let folders = ScriptedDialogs::new([Some(data.clone()), Some(data.clone()), Some(data.clone())]);
    app.add_extension(Box::new(DatasetPanel::new(Box::new(folders))));
    let mut h = common::window(app, [1400.0, 1000.0]);
    h.run();

    // Escape closes an open list first, then the dialog; Cancel closes it too: nothing imported
    h.get_by_label("Import…").click();
    h.run();
    until_asked(&mut h);
    h.get_by_role_and_label(A11y::ComboBox, "Total").click();
    h.run();
    assert!(h.query_by_role(A11y::ListBox).is_some());
    h.key_press(Key::Escape);
    h.run();
    assert!(h.query_by_role(A11y::ListBox).is_none() && h.query_by_label("Map the dataset's labels").is_some());
    h.key_press(Key::Escape);
    h.run();
    assert!(h.query_by_label("Map the dataset's labels").is_none());
    h.get_by_label("Import…").click();
    h.run();
    until_asked(&mut h);
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.query_by_label("Map the dataset's labels").is_none());
    assert_eq!(document_count(&ws), 0, "cancelled: nothing imported");

    h.get_by_label("Import…").click();
    h.run();
    until_asked(&mut h);
    for name in ["Datum", "Stempel", "Total", "2 box(es)"] {
        assert!(h.query_by_label(name).is_some(), "{name} is not shown");
    }
    assert!(h.get_by_label("Import").accesskit_node().is_disabled(), "nothing chosen yet");
    let choose = |h: &mut Harness<'static, FactureApp>, name: &str, option: &str| {
        h.get_by_role_and_label(A11y::ComboBox, name).click();
        h.run();
        // the list scrolls: bring the option into view before clicking it
        h.get_by_role(A11y::ListBox).get_by_label(option).scroll_to_me();
        h.run();
        h.get_by_role(A11y::ListBox).get_by_label(option).click();
        h.run();
        assert_eq!(h.get_by_role_and_label(A11y::ComboBox, name).value().as_deref(), Some(option));
    };
    choose(&mut h, "Total", "total_amount");
    choose(&mut h, "Datum", "invoice_date");
    assert!(h.get_by_label("Import").accesskit_node().is_disabled(), "Stempel has no choice yet");
    choose(&mut h, "Stempel", "(no label)");
    h.get_by_label("Import").click();
    h.run();
    let said = |a: &FactureApp| {
        let status = a.annotator().unwrap().status();
        matches!(status, Status::Info(s) if s.starts_with("Import: 2 document(s)"))
    };
    assert!(common::until_window(&mut h, 30, &said), "{:?}", h.state().annotator().unwrap().status());
    let Status::Info(summary) = h.state().annotator().unwrap().status() else { unreachable!() };
    assert!(summary.contains("; 3 box(es) mapped: Datum as invoice_date (1), Total as total_amount (2)"), "{summary}");
    assert_eq!(
        labels(&ws),
        vec![vec![some("total_amount"), some("invoice_date"), None], vec![some("total_amount"), some("total_amount")]]
    );
}

/// Another tool's image attributes that are no document tag of the workspace are left out and
/// said so; a tag the workspace has keeps its value, and a value it does not allow stops the
/// import with the workspace unchanged.
#[test]
fn image_attributes_become_tags_only_where_the_workspace_has_the_tag() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, _) = setup(dir.path());
    let root = dir.path().join("attrs");
    std::fs::create_dir_all(root.join("images")).unwrap();
    common::write_png(&root.join("images/c.png"), 200, 100, 3);
    let coco = |language: &str| {
        serde_json::json!({
            "categories": [{"id": 1, "name": "total_amount"}],
            "images": [{"id": 1, "width": 200, "height": 100, "file_name": "c.png",
                        "attributes": {"occluded": "no", "language": language}}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10.0, 10.0, 20.0, 10.0]}],
        })
        .to_string()
    };
    std::fs::write(root.join("annotations.json"), coco("xx")).unwrap();
    let out = facture(&["import-dataset", s(&ws), "--format", "coco", s(&root)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'xx' is not a value of language"), "{err}");
    assert!(Store::open(&ws).unwrap().documents(&DocFilter::default()).unwrap().is_empty());

    std::fs::write(root.join("annotations.json"), coco("de")).unwrap();
    let out = facture(&["import-dataset", s(&ws), "--format", "coco", s(&root)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("page attributes that are no document tag here, left out: occluded (1)"), "{said}");
    let docs = Store::open(&ws).unwrap().documents(&DocFilter::default()).unwrap();
    assert_eq!(docs[0].tags.get("language").map(String::as_str), Some("de"));
    assert!(!docs[0].tags.contains_key("occluded"));
}
