//! Workspaces written by every past schema version (`tests/fixtures/workspaces/v{N}.sqlite`,
//! made once by `examples/make_old_workspaces.rs` and frozen) open with today's code: migrated
//! to the latest version, every value read back as it was written, the edit log still parsed
//! and undoable, and the stats report computed. The expected values are spelled out here, not
//! taken from the generator, so a change on either side shows up as a failure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use facture::app::export::{Manifest, Naming, RecordedOptions};
use facture::app::schema;
use facture::app::stats::{StatsQuery, report};
use facture::app::{Command, CommandError, Session};
use facture::domain::{
    AnnId, AnnState, Annotation, BoxVerdict, Change, Comment, CommentId, DocId, DocMeta, DocStatus, DocVerdict, Edit,
    EditId, EditKind, GoldBox, GoldScore, Label, LabelId, Link, LinkId, LinkKind, Point, Quad, Rect, ReviewRound, Role,
    RoundId, Shelf, Source, UndoStacks, User, UserId, Verdict,
};
use facture::store::stats::ObjectiveRow;
use facture::store::{DocFilter, LATEST_VERSION, ShelfFilter, Store};
use sha2::{Digest, Sha256};

/// The versions there are fixtures of.
const VERSIONS: [i64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// 2026-11-27 08:00 UTC and 2026-11-28 09:00 UTC: the two days of the fixtures' story.
const T0: i64 = 1_795_766_400_000;
const DAY2: i64 = 1_795_856_400_000;

fn at(base: i64, secs: i64) -> i64 {
    base + secs * 1000
}

const ANNA: UserId = UserId(1);
const BRUNO: UserId = UserId(2);
const CHLOE: UserId = UserId(3);
const D1: DocId = DocId(1);
const D2: DocId = DocId(2);
const D3: DocId = DocId(3);
/// The seeded label the lead retires in version 8, and the one she adds.
const IBAN: LabelId = LabelId(14);
const ORDER_NUMBER: LabelId = LabelId(20);

/// Every document, archived or deleted ones included.
fn every_doc() -> DocFilter {
    DocFilter { shelved: ShelfFilter::All, ..Default::default() }
}

fn fixture(version: i64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workspaces").join(format!("v{version}.sqlite"))
}

/// A private copy of a fixture in a fresh folder: the fixture itself is never opened for writing.
fn copy_of(version: i64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("v{version}.sqlite"));
    std::fs::copy(fixture(version), &path).unwrap();
    (dir, path)
}

fn open_copy(version: i64) -> (tempfile::TempDir, PathBuf, Store) {
    let (dir, path) = copy_of(version);
    let store = Store::open(&path).unwrap_or_else(|e| panic!("v{version}: {e}"));
    (dir, path, store)
}

#[test]
fn there_is_a_fixture_of_every_version_and_its_user_version_is_the_one_in_its_name() {
    assert_eq!(
        VERSIONS.last().copied(),
        Some(LATEST_VERSION),
        "schema version {LATEST_VERSION} has shipped without a fixture: add it to examples/make_old_workspaces.rs \
         and run it (see tests/fixtures/workspaces/README.md)"
    );
    for v in VERSIONS {
        let path = fixture(v);
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(user_version, v, "{}", path.display());
        // one self-contained file: a rollback journal, so no -wal file can be missing
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "delete", "{}", path.display());
        let quick: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
        assert_eq!(quick, "ok", "{}", path.display());
    }
}

#[test]
fn every_old_workspace_opens_migrated_with_everything_it_held() {
    for v in VERSIONS {
        let (_dir, _path, store) = open_copy(v);
        assert_eq!(store.schema_version().unwrap(), LATEST_VERSION, "v{v}");
        check_people_and_labels(&store, v);
        check_documents(&store, v);
        check_boxes_and_links(&store, v);
        check_edit_log(&store, v);
        check_activity(&store, v);
        check_review(&store, v);
        check_objectives_and_exports(&store, v);
    }
}

#[test]
fn opening_a_migrated_workspace_again_changes_nothing() {
    for v in VERSIONS {
        let original = std::fs::read(fixture(v)).unwrap();
        let (_dir, path) = copy_of(v);
        drop(Store::open(&path).unwrap());
        let migrated = std::fs::read(&path).unwrap();
        if v < LATEST_VERSION {
            assert_ne!(migrated, original, "v{v}: opening migrates it");
        }
        drop(Store::open(&path).unwrap());
        assert!(std::fs::read(&path).unwrap() == migrated, "v{v}: the second opening changed the file");
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        assert!(!Path::new(&wal).exists(), "v{v}: a -wal file was left behind");
        assert!(std::fs::read(fixture(v)).unwrap() == original, "v{v}: the fixture itself was changed");
    }
}

#[test]
fn read_only_opening_refuses_to_migrate_and_leaves_the_file_alone() {
    for v in VERSIONS {
        let (_dir, path) = copy_of(v);
        let before = std::fs::read(&path).unwrap();
        match Store::open_read_only(&path) {
            Ok(store) => {
                assert_eq!(v, LATEST_VERSION, "v{v}: opened read-only without being migrated");
                assert_eq!(store.users().unwrap().len(), 3);
            }
            Err(e) => {
                assert!(v < LATEST_VERSION, "v{v}: {e}");
                assert!(e.to_string().contains("older Facture"), "v{v}: {e}");
            }
        }
        assert!(std::fs::read(&path).unwrap() == before, "v{v}: reading changed the file");
    }
}

#[test]
fn the_stats_report_works_on_old_workspaces() {
    for v in VERSIONS {
        let (_dir, _path, mut store) = open_copy(v);
        let r = report(&mut store, &StatsQuery::default()).unwrap_or_else(|e| panic!("v{v}: {e}"));
        let anna = r.annotators.iter().find(|a| a.user == ANNA).unwrap_or_else(|| panic!("v{v}: no row for anna"));
        assert_eq!(anna.name, "anna");
        // doc 1 and, from v2 on, doc 3 (gold) were submitted; doc 2 is still in progress
        assert_eq!(anna.docs_submitted, if v >= 2 { 2 } else { 1 }, "v{v}");
        assert!(anna.active_secs > 0, "v{v}: anna's activity was read");
        if v >= 2 {
            // the first round rejected doc 1, the second accepted it
            assert_eq!((anna.rounds_reviewed, anna.rounds_rejected), (2, 1), "v{v}");
            assert_eq!((anna.first_pass_reviewed, anna.first_pass_accepted), (1, 0), "v{v}");
            assert_eq!(anna.gold_docs, 1, "v{v}");
            assert_eq!(anna.gold_cer, Some(0.125), "v{v}");
            let bruno = r.reviewers.iter().find(|x| x.user == BRUNO).unwrap_or_else(|| panic!("v{v}: no bruno"));
            assert_eq!((bruno.rounds_reviewed, bruno.rounds_rejected), (2, 1), "v{v}");
        } else {
            assert_eq!((anna.rounds_reviewed, anna.gold_docs), (0, 0), "v{v}");
        }
        let objectives = if v >= 3 { 2 } else { 0 };
        assert_eq!(r.objectives.iter().filter(|o| o.user == ANNA).count(), objectives, "v{v}");
        // a second report over the caches the first one filled says the same
        let again = report(&mut store, &StatsQuery::default()).unwrap();
        assert_eq!((again.annotators, again.reviewers, again.daily), (r.annotators, r.reviewers, r.daily), "v{v}");
    }
}

#[test]
fn an_old_edit_log_can_still_be_undone_and_redone() {
    for v in VERSIONS {
        let (_dir, _path, store) = open_copy(v);
        let anna = store.user(ANNA).unwrap();
        let mut session = Session::new(store, anna);
        // anna's last step on doc 2 labelled the date box; undo checks the row against the
        // logged snapshot, so this also proves the two agree to the bit
        session.apply(Command::Undo { doc: D2 }).unwrap_or_else(|e| panic!("v{v}: {e}"));
        assert_eq!(session.store().annotation(AnnId(6)).unwrap().label, None, "v{v}");
        session.apply(Command::Redo { doc: D2 }).unwrap_or_else(|e| panic!("v{v}: {e}"));
        assert_eq!(session.store().annotation(AnnId(6)).unwrap().label, Some(LabelId(2)), "v{v}");
    }
}

#[test]
fn an_old_label_schema_history_can_be_undone_and_redone() {
    for v in VERSIONS {
        let (_dir, _path, store) = open_copy(v);
        let chloe = store.user(CHLOE).unwrap();
        let mut session = Session::new(store, chloe);
        if v < 8 {
            assert!(matches!(schema::undo(&mut session), Err(CommandError::NothingToUndo)), "v{v}");
            continue;
        }
        // undo checks each label row against the logged snapshot: they agree to the bit
        assert_eq!(schema::undo(&mut session).unwrap(), "label_add", "v{v}");
        assert!(session.store().labels().unwrap().iter().all(|l| l.id != ORDER_NUMBER), "v{v}");
        assert_eq!(schema::undo(&mut session).unwrap(), "label_retire", "v{v}");
        assert_eq!(session.store().label(IBAN).unwrap(), iban_live(), "v{v}");
        assert_eq!(schema::redo(&mut session).unwrap(), "label_retire", "v{v}");
        assert_eq!(schema::redo(&mut session).unwrap(), "label_add", "v{v}");
        let labels = session.store().labels().unwrap();
        assert_eq!(labels.last(), Some(&order_number()), "v{v}");
        assert_eq!(labels[13], Label { hotkey: None, retired: true, ..iban_live() }, "v{v}");
        assert_eq!(schema::schema_version(session.store()).unwrap(), 6, "v{v}");
    }
}

#[test]
fn an_old_archive_and_priority_can_be_undone() {
    let v = 8;
    let (_dir, _path, store) = open_copy(v);
    let chloe = store.user(CHLOE).unwrap();
    let mut session = Session::new(store, chloe);
    session.apply(Command::Undo { doc: D2 }).unwrap_or_else(|e| panic!("v{v}: {e}"));
    assert_eq!(session.store().document(D2).unwrap().shelved, None, "v{v}");
    assert_eq!(session.store().documents(&DocFilter::default()).unwrap().len(), 3, "v{v}");
    session.apply(Command::Redo { doc: D2 }).unwrap_or_else(|e| panic!("v{v}: {e}"));
    assert_eq!(session.store().document(D2).unwrap().shelved, Some(Shelf::Archived), "v{v}");
    session.apply(Command::Undo { doc: D3 }).unwrap_or_else(|e| panic!("v{v}: {e}"));
    assert_eq!(session.store().document(D3).unwrap().priority, 0, "v{v}");
}

// ---- what the fixtures hold ----

fn check_people_and_labels(store: &Store, v: i64) {
    assert_eq!(store.workspace_id().unwrap(), format!("0123456789abcd0{v}"), "v{v}");
    let users = vec![
        User { id: ANNA, name: "anna".into(), role: Role::Annotator },
        User { id: BRUNO, name: "bruno".into(), role: Role::Reviewer },
        User { id: CHLOE, name: "chloé".into(), role: Role::Lead },
    ];
    assert_eq!(store.users().unwrap(), users, "v{v}");

    const LABELS: [(&str, [u8; 3]); 19] = [
        ("invoice_number", [230, 25, 75]),
        ("invoice_date", [60, 180, 75]),
        ("due_date", [0, 130, 200]),
        ("vendor_name", [245, 130, 48]),
        ("vendor_address", [145, 30, 180]),
        ("vendor_tax_id", [70, 240, 240]),
        ("customer_name", [240, 50, 230]),
        ("customer_address", [210, 245, 60]),
        ("currency", [250, 190, 212]),
        ("subtotal", [0, 128, 128]),
        ("tax_rate", [220, 190, 255]),
        ("tax_amount", [170, 110, 40]),
        ("total_amount", [200, 0, 0]),
        ("iban", [128, 128, 0]),
        ("line_item_description", [0, 0, 128]),
        ("line_item_quantity", [255, 140, 90]),
        ("line_item_unit_price", [90, 160, 255]),
        ("line_item_amount", [20, 200, 140]),
        ("other_text", [150, 150, 150]),
    ];
    let labels = store.labels().unwrap();
    // from version 8 on the lead added one label after the seeded ones
    assert_eq!(labels.len(), if v >= 8 { 20 } else { 19 }, "v{v}");
    for (i, (l, (name, color))) in labels.iter().zip(LABELS).enumerate() {
        let hotkey = if i < 10 { format!("{}", (i + 1) % 10) } else { format!("shift+{}", (i - 9) % 10) };
        // from version 8 on iban is retired, which took its hotkey away
        let retired = v >= 8 && l.id == IBAN;
        let hotkey = (!retired).then_some(hotkey.as_str());
        assert_eq!(
            (l.id, l.name.as_str(), l.color, l.hotkey.as_deref(), l.position, l.retired),
            (LabelId(i as i64 + 1), name, color, hotkey, i as i64, retired),
            "v{v}"
        );
    }
    if v >= 8 {
        let iban = store.label(IBAN).unwrap();
        assert_eq!((iban.name.as_str(), iban.retired, iban.hotkey), ("iban", true, None), "v{v}");
        assert_eq!(labels[19], order_number(), "v{v}");
    } else {
        assert!(labels.iter().all(|l| !l.retired), "v{v}: migration 8 retired a label");
    }
    assert!(labels[0].guideline.starts_with("Box the invoice number only, not its caption ('Invoice No.',"));
    assert!(labels[18].guideline.ends_with("never for handwriting you cannot read."));
    // every seeded guideline, byte for byte: the sha256 of all of them joined by newlines
    let all: Vec<&str> = labels[..19].iter().map(|l| l.guideline.as_str()).collect();
    let digest = hex::encode(Sha256::digest(all.join("\n").as_bytes()));
    assert_eq!(digest, "2ed6629e6abc0a7d7c50b49239f20a7c04bb3a3512e3931d8764e9bda21326d3", "v{v}");
    // the schema's history: from version 8 on, the retirement and the addition
    assert_eq!(schema::schema_version(store).unwrap(), if v >= 8 { 2 } else { 0 }, "v{v}");
}

/// The label the lead added in version 8, as it was logged and stored.
fn order_number() -> Label {
    Label {
        id: ORDER_NUMBER,
        name: "order_number".into(),
        color: [67, 99, 216],
        hotkey: Some("shift+4".into()),
        guideline: "Box the buyer's purchase order number without its caption ('PO No.', 'Bestellnummer', \
                    'N° de commande'). Type it exactly as printed."
            .into(),
        position: 19,
        retired: false,
    }
}

/// Seeded iban as it was until version 8 retired it.
fn iban_live() -> Label {
    Label {
        id: IBAN,
        name: "iban".into(),
        color: [128, 128, 0],
        hotkey: Some("shift+4".into()),
        guideline: "Box the IBAN without its caption. Type it as printed, keeping the groups of four separated by \
                    the spaces printed on the page."
            .into(),
        position: 13,
        retired: false,
    }
}

fn check_documents(store: &Store, v: i64) {
    let docs = store.documents(&every_doc()).unwrap();
    let expected = [
        (
            "/old/scans/invoice_0001.png",
            "65d7228a1d4baca58c0681c752400b445e22c7c980512d86bef2cfc96ab17540",
            (1654, 2339),
            if v >= 2 { DocStatus::Accepted } else { DocStatus::Submitted },
            (v >= 2).then_some(BRUNO),
            false,
        ),
        (
            "/old/scans/invoice_0002.png",
            "51ff0068de3fb0f70f4a47831dc64b46f569c952f3e146eb56a1afc772f306c7",
            (2480, 3508),
            DocStatus::InProgress,
            None,
            false,
        ),
        (
            "/old/scans/invoice_0003.png",
            "dde0f566bc0904befa89f597caffebcea65637f3abc41e5c882615e1f5f27fb9",
            (1240, 1754),
            if v >= 2 { DocStatus::Submitted } else { DocStatus::New },
            None,
            v >= 2,
        ),
    ];
    assert_eq!(docs.len(), 3, "v{v}");
    // from version 8 on the lead archived page 2 and gave page 3 priority 5; before, migration 8
    // leaves every document live at priority 0
    let shelved = [None, (v >= 8).then_some(Shelf::Archived), None];
    let priority = [0, 0, if v >= 8 { 5 } else { 0 }];
    for (i, d) in docs.iter().enumerate() {
        assert_eq!((d.shelved, d.priority), (shelved[i], priority[i]), "v{v}: document {}", d.id);
        assert_eq!((d.meta().shelved, d.meta().priority), (shelved[i], priority[i]), "v{v}: document {}", d.id);
    }
    let live: Vec<DocId> = store.documents(&DocFilter::default()).unwrap().iter().map(|d| d.id).collect();
    let on_shelf: Vec<DocId> = store
        .documents(&DocFilter { shelved: ShelfFilter::Shelved, ..Default::default() })
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    if v >= 8 {
        assert_eq!((live, on_shelf), (vec![D1, D3], vec![D2]), "v{v}");
        assert_eq!(store.document(D2).unwrap().shelved, Some(Shelf::Archived), "v{v}");
        assert_eq!(store.document(D3).unwrap().priority, 5, "v{v}");
    } else {
        assert_eq!((live, on_shelf), (vec![D1, D2, D3], vec![]), "v{v}");
    }
    for (i, (d, (path, sha, size, status, reviewer, gold))) in docs.iter().zip(expected).enumerate() {
        assert_eq!(d.id, DocId(i as i64 + 1), "v{v}");
        assert_eq!(
            (d.path.as_str(), d.sha256.as_str(), d.page, (d.width, d.height), d.status),
            (path, sha, 0, size, status),
            "v{v}"
        );
        assert_eq!(
            (d.assignee, d.reviewer, d.is_gold, d.imported_ms),
            (Some(ANNA), reviewer, gold, at(T0, 60)),
            "v{v}"
        );
        // pages already there keep being decoded as stored, as they were measured and boxed
        assert!(!d.exif, "v{v}: document {}", d.id);
    }
}

/// Every box as the fixture of version `v` ends, in id order.
fn expected_boxes(v: i64) -> Vec<Annotation> {
    let manual = |id: i64, doc: DocId, rect: Rect, label: i64, text: &str, created: i64, updated: i64| Annotation {
        id: AnnId(id),
        doc,
        rect,
        quad: None,
        label: Some(LabelId(label)),
        text: text.into(),
        source: Source::Manual,
        text_source: Source::Manual,
        confidence: None,
        label_suggested: None,
        label_conf: None,
        state: AnnState::Active,
        author: Some(ANNA),
        created_ms: created,
        updated_ms: updated,
        flags: Default::default(),
    };
    let model = Source::Model("ppocr-v5".into());
    let skewed =
        Quad([Point::new(180.0, 210.0), Point::new(802.0, 198.0), Point::new(804.0, 246.0), Point::new(182.0, 258.0)]);
    let s4 = Annotation {
        id: AnnId(4),
        doc: D2,
        rect: Rect::new(180.0, 198.0, 804.0, 258.0),
        quad: Some(skewed),
        label: Some(LabelId(4)),
        text: "Müller & Söhne GmbH".into(),
        source: model.clone(),
        text_source: model.clone(),
        confidence: Some(0.875),
        label_suggested: None,
        label_conf: None,
        state: AnnState::Active,
        author: None,
        created_ms: at(T0, 900),
        updated_ms: at(T0, 1060),
        flags: Default::default(),
    };
    let i7 = Annotation {
        id: AnnId(7),
        doc: D3,
        rect: Rect::new(96.0, 120.0, 520.0, 168.0),
        quad: None,
        label: Some(LabelId(4)),
        text: "Papeterie Étoile SARL".into(),
        source: Source::Import,
        text_source: Source::Import,
        confidence: None,
        label_suggested: None,
        label_conf: None,
        state: AnnState::Active,
        author: Some(CHLOE),
        created_ms: at(T0, 1500),
        updated_ms: at(T0, 1500),
        flags: Default::default(),
    };
    let a3_updated = if v >= 2 { at(DAY2, 630) } else { at(T0, 730) };
    vec![
        manual(1, D1, Rect::new(120.0, 96.0, 610.0, 140.0), 19, "Rechnung Nr. 2024-0113", at(T0, 610), at(T0, 650)),
        manual(2, D1, Rect::new(1210.0, 1880.0, 1440.0, 1924.0), 13, "1.234,50 €", at(T0, 700), at(T0, 760)),
        manual(3, D1, Rect::new(960.0, 1880.0, 1190.0, 1924.0), 19, "Gesamtbetrag:", at(T0, 730), a3_updated),
        s4.clone(),
        Annotation {
            id: AnnId(5),
            rect: Rect::new(1500.0, 300.0, 2100.0, 344.0),
            quad: None,
            // from version 7 the machine suggested a label for it, with a low confidence
            label: (v >= 7).then_some(LabelId(2)),
            text: "Rechnungsdatum: 27.11.2024".into(),
            confidence: Some(0.75),
            label_suggested: (v >= 7).then_some(LabelId(2)),
            label_conf: (v >= 7).then_some(0.4375),
            state: AnnState::Suggested,
            updated_ms: if v >= 7 { at(DAY2, 4000) } else { at(T0, 900) },
            ..s4.clone()
        },
        Annotation {
            id: AnnId(6),
            rect: Rect::new(1500.0, 360.0, 1800.0, 404.0),
            quad: None,
            label: Some(LabelId(2)),
            text: "27.11.2024".into(),
            source: Source::Cv,
            confidence: Some(0.9375),
            label_suggested: None,
            label_conf: None,
            updated_ms: at(T0, 1075),
            ..s4
        },
        i7.clone(),
        if v >= 2 {
            Annotation {
                id: AnnId(8),
                rect: Rect::new(900.0, 1500.0, 1100.0, 1540.0),
                label: Some(LabelId(13)),
                text: "€ 189,80".into(),
                text_source: Source::Manual,
                updated_ms: at(DAY2, 1530),
                ..i7
            }
        } else {
            Annotation {
                id: AnnId(8),
                rect: Rect::new(900.0, 1500.0, 1100.0, 1540.0),
                label: Some(LabelId(13)),
                text: "€ 189,90".into(),
                ..i7
            }
        },
    ]
}

fn all_boxes(store: &Store) -> Vec<Annotation> {
    [D1, D2, D3].into_iter().flat_map(|d| store.annotations(d).unwrap()).collect()
}

fn check_boxes_and_links(store: &Store, v: i64) {
    let boxes = all_boxes(store);
    let expected = expected_boxes(v);
    assert_eq!(boxes.len(), expected.len(), "v{v}");
    for (got, want) in boxes.iter().zip(&expected) {
        assert_eq!(got, want, "v{v}: box {}", want.id);
    }
    assert_eq!(store.annotation_count().unwrap(), 8, "v{v}");
    let suggested: Vec<AnnId> = boxes.iter().filter(|a| a.state == AnnState::Suggested).map(|a| a.id).collect();
    assert_eq!(suggested, [AnnId(5)], "v{v}");
    let link = Link { id: LinkId(1), doc: D1, from: AnnId(3), to: AnnId(2), kind: LinkKind::KeyValue };
    assert_eq!(store.links(D1).unwrap(), [link], "v{v}");
    assert!(store.links(D2).unwrap().is_empty() && store.links(D3).unwrap().is_empty(), "v{v}");
}

fn check_edit_log(store: &Store, v: i64) {
    use EditKind::{Do, Redo, Undo};
    let (anna, bruno, chloe) = (Some(ANNA), Some(BRUNO), Some(CHLOE));
    let fill_kind = if v >= 5 { EditKind::Continues(EditId(11)) } else { Do };
    // (id, ts, user, doc, action, kind)
    let mut expected = vec![
        (1, at(T0, 610), anna, D1, "add_box", Do),
        (2, at(T0, 625), anna, D1, "set_label", Do),
        (3, at(T0, 650), anna, D1, "set_text", Do),
        (4, at(T0, 700), anna, D1, "add_box", Do),
        (5, at(T0, 730), anna, D1, "add_box", Do),
        (6, at(T0, 745), anna, D1, "add_link", Do),
        (7, at(T0, 760), anna, D1, "move_boxes", Do),
        (8, at(T0, 765), anna, D1, "undo", Undo(EditId(7))),
        (9, at(T0, 770), anna, D1, "redo", Redo(EditId(7))),
        (10, at(T0, 800), anna, D1, "submit", Do),
        (11, at(T0, 900), None, D2, "add_suggestions", Do),
        (12, at(T0, 905), None, D2, "fill_text", fill_kind),
        (13, at(T0, 1030), anna, D2, "accept_suggestions", Do),
        (14, at(T0, 1060), anna, D2, "set_label", Do),
        (15, at(T0, 1075), anna, D2, "set_label", Do),
        (16, at(T0, 1500), chloe, D3, "import_gt", Do),
    ];
    if v >= 2 {
        expected.extend([
            (17, at(DAY2, 0), bruno, D1, "start_review", Do),
            (18, at(DAY2, 40), bruno, D1, "set_verdict", Do),
            (19, at(DAY2, 55), bruno, D1, "accept_remaining", Do),
            (20, at(DAY2, 70), bruno, D1, "add_comment", Do),
            (21, at(DAY2, 90), bruno, D1, "finish_review", Do),
            (22, at(DAY2, 630), anna, D1, "set_text", Do),
            (23, at(DAY2, 660), anna, D1, "submit", Do),
            (24, at(DAY2, 900), bruno, D1, "start_review", Do),
            (25, at(DAY2, 930), bruno, D1, "accept_remaining", Do),
            (26, at(DAY2, 945), bruno, D1, "finish_review", Do),
            (27, at(DAY2, 1200), chloe, D3, "mark_gold", Do),
            (28, at(DAY2, 1530), anna, D3, "set_text", Do),
            (29, at(DAY2, 1560), anna, D3, "submit", Do),
        ]);
    }
    let mut expected: Vec<_> =
        expected.into_iter().map(|(id, ts, user, doc, action, kind)| (id, ts, user, Some(doc), action, kind)).collect();
    if v >= 7 {
        expected.push((30, at(DAY2, 4000), None, Some(D2), "suggest_labels", Do));
    }
    if v >= 8 {
        expected.extend([
            (31, at(DAY2, 5000), chloe, None, "label_retire", Do),
            (32, at(DAY2, 5060), chloe, None, "label_add", Do),
            (33, at(DAY2, 5200), chloe, Some(D2), "doc_archive", Do),
            (34, at(DAY2, 5260), chloe, Some(D3), "doc_priority", Do),
        ]);
    }
    let mut log: Vec<Edit> = [D1, D2, D3].into_iter().flat_map(|d| store.edits_on(d).unwrap()).collect();
    // the schema's edits are on no document
    log.extend(store.workspace_edits().unwrap());
    log.sort_by_key(|e| e.id);
    assert_eq!(store.edit_count().unwrap(), expected.len() as i64, "v{v}");
    assert_eq!(store.last_edit_id().unwrap(), Some(EditId(expected.len() as i64)), "v{v}");
    let got: Vec<_> = log.iter().map(|e| (e.id.0, e.ts_ms, e.user, e.doc, e.action.as_str(), e.kind)).collect();
    assert_eq!(got, expected, "v{v}");

    // the changes, as today's serde reads them: the undo is the inverse of the move, the redo
    // the move again
    let changes = |id: i64| log[id as usize - 1].changes.clone();
    let moved = changes(7);
    assert_eq!(moved.len(), 1, "v{v}");
    assert_eq!(changes(8), vec![moved[0].inverse()], "v{v}");
    assert_eq!(changes(9), moved, "v{v}");
    assert_eq!(changes(10), [Change::Status { doc: D1, before: DocStatus::InProgress, after: DocStatus::Submitted }]);
    assert!(matches!(&changes(1)[..], [Change::Annotation { before: None, after: Some(a) }, Change::Status { .. }]
        if a.id == AnnId(1) && a.text.is_empty()));
    if v >= 2 {
        let c = changes(29);
        assert!(matches!(&c[1], Change::GoldScore { before: None, after: Some(s) } if s.cer == 0.125), "v{v}");
        assert!(matches!(&changes(17)[1], Change::Round { before: None, after: Some(r) } if r.start_edit == 16));
    }
    if v >= 8 {
        let iban_retired = Label { hotkey: None, retired: true, ..iban_live() };
        assert_eq!(changes(31), [Change::Label { before: Some(iban_live()), after: Some(iban_retired) }], "v{v}");
        assert_eq!(changes(32), [Change::Label { before: None, after: Some(order_number()) }], "v{v}");
        let d2 = DocMeta { assignee: Some(ANNA), reviewer: None, is_gold: false, shelved: None, priority: 0 };
        let archived = DocMeta { shelved: Some(Shelf::Archived), ..d2 };
        assert_eq!(changes(33), [Change::Meta { doc: D2, before: d2, after: archived }], "v{v}");
        let d3 = DocMeta { assignee: Some(ANNA), reviewer: None, is_gold: true, shelved: None, priority: 0 };
        let first = DocMeta { priority: 5, ..d3 };
        assert_eq!(changes(34), [Change::Meta { doc: D3, before: d3, after: first }], "v{v}");
    }

    // replaying the log from an empty workspace gives the rows there are, and every change's
    // `before` is what the rows held at that point
    let mut boxes: BTreeMap<AnnId, Annotation> = BTreeMap::new();
    let mut status: BTreeMap<DocId, DocStatus> = [D1, D2, D3].into_iter().map(|d| (d, DocStatus::New)).collect();
    for e in &log {
        for c in &e.changes {
            match c {
                Change::Annotation { before, after } => {
                    let id = before.as_ref().or(after.as_ref()).unwrap().id;
                    assert_eq!(boxes.get(&id), before.as_ref(), "v{v}: edit {} box {id}", e.id);
                    match after {
                        Some(a) => boxes.insert(id, a.clone()),
                        None => boxes.remove(&id),
                    };
                }
                Change::Status { doc, before, after } => {
                    assert_eq!(status.insert(*doc, *after), Some(*before), "v{v}: edit {}", e.id);
                }
                _ => {}
            }
        }
    }
    assert_eq!(boxes.into_values().collect::<Vec<_>>(), all_boxes(store), "v{v}");
    let docs = store.documents(&every_doc()).unwrap();
    assert_eq!(status.into_values().collect::<Vec<_>>(), docs.iter().map(|d| d.status).collect::<Vec<_>>());

    // undo/redo stacks rebuilt from the log
    let steps = |ids: &[i64]| ids.iter().map(|&i| vec![EditId(i)]).collect::<Vec<_>>();
    let d1 = UndoStacks::replay(&store.edits_for(D1, ANNA).unwrap());
    let mut d1_steps = vec![1, 2, 3, 4, 5, 6, 7, 10];
    if v >= 2 {
        d1_steps.extend([22, 23]);
    }
    assert_eq!(d1, UndoStacks { undoable: steps(&d1_steps), redoable: vec![] }, "v{v}");
    let d2 = UndoStacks::replay(&store.edits_for(D2, ANNA).unwrap());
    assert_eq!(d2, UndoStacks { undoable: steps(&[13, 14, 15]), redoable: vec![] }, "v{v}");
}

fn check_activity(store: &Store, v: i64) {
    let row = |ts: i64, doc: Option<DocId>, kind: &str| (ts, doc, kind.to_string());
    let mut anna = vec![
        row(at(T0, 600), Some(D1), "open"),
        row(at(T0, 680), Some(D1), "input"),
        row(at(T0, 802), Some(D1), "close"),
        row(at(T0, 1000), Some(D2), "open"),
        row(at(T0, 1100), Some(D2), "blur"),
    ];
    let mut bruno = vec![];
    if v >= 2 {
        anna.extend([
            row(at(DAY2, 600), Some(D1), "open"),
            row(at(DAY2, 662), Some(D1), "close"),
            row(at(DAY2, 1500), Some(D3), "open"),
            row(at(DAY2, 1562), Some(D3), "close"),
        ]);
        bruno.extend([
            row(at(DAY2, 0), Some(D1), "open"),
            row(at(DAY2, 92), Some(D1), "close"),
            row(at(DAY2, 900), Some(D1), "open"),
            row(at(DAY2, 947), Some(D1), "close"),
        ]);
    }
    let chloe = vec![
        row(at(T0, 1510), None, "focus"),
        row(at(T0, 1520), Some(D3), "open"),
        row(at(T0, 1540), Some(D3), "close"),
    ];
    assert_eq!(store.activity(ANNA).unwrap(), anna, "v{v}");
    assert_eq!(store.activity(BRUNO).unwrap(), bruno, "v{v}");
    assert_eq!(store.activity(CHLOE).unwrap(), chloe, "v{v}");
}

fn check_review(store: &Store, v: i64) {
    if v < 2 {
        // the tables came with migration 2 and are empty
        assert!(store.rounds(D1).unwrap().is_empty() && store.comments(D1).unwrap().is_empty(), "v{v}");
        assert!(store.gold_boxes(D3).unwrap().is_empty() && store.gold_scores(None).unwrap().is_empty(), "v{v}");
        return;
    }
    let round =
        |id: i64, started: i64, finished: i64, verdict: DocVerdict, comment: &str, start_edit: i64| ReviewRound {
            id: RoundId(id),
            doc: D1,
            number: id as u32,
            reviewer: BRUNO,
            annotator: Some(ANNA),
            started_ms: started,
            finished_ms: Some(finished),
            verdict: Some(verdict),
            comment: comment.into(),
            start_edit,
        };
    let rounds = vec![
        round(1, at(DAY2, 0), at(DAY2, 90), DocVerdict::Reject, "Ein Tippfehler in der Summenzeile, sonst gut.", 16),
        round(2, at(DAY2, 900), at(DAY2, 945), DocVerdict::Accept, "", 23),
    ];
    assert_eq!(store.rounds(D1).unwrap(), rounds, "v{v}");
    assert!(store.rounds(D2).unwrap().is_empty() && store.rounds(D3).unwrap().is_empty(), "v{v}");

    let a1 = Rect::new(120.0, 96.0, 610.0, 140.0);
    let a2 = Rect::new(1210.0, 1880.0, 1440.0, 1924.0);
    let a3 = Rect::new(960.0, 1880.0, 1190.0, 1924.0);
    let verdict = |round: i64, ann: i64, rect: Rect, verdict: Verdict, comment: &str, ts: i64| BoxVerdict {
        round: RoundId(round),
        ann: AnnId(ann),
        rect,
        verdict,
        comment: comment.into(),
        reviewer: BRUNO,
        ts_ms: ts,
    };
    let first = vec![
        verdict(1, 1, a1, Verdict::Ok, "", at(DAY2, 55)),
        verdict(1, 2, a2, Verdict::Ok, "", at(DAY2, 55)),
        verdict(1, 3, a3, Verdict::WrongText, "Tippfehler: „Gesamtbetrag“", at(DAY2, 40)),
    ];
    let second = vec![
        verdict(2, 1, a1, Verdict::Ok, "", at(DAY2, 930)),
        verdict(2, 2, a2, Verdict::Ok, "", at(DAY2, 930)),
        verdict(2, 3, a3, Verdict::Ok, "", at(DAY2, 930)),
    ];
    assert_eq!(store.verdicts(RoundId(1)).unwrap(), first, "v{v}");
    assert_eq!(store.verdicts(RoundId(2)).unwrap(), second, "v{v}");

    let comment = Comment {
        id: CommentId(1),
        doc: D1,
        round: Some(RoundId(1)),
        ann: Some(AnnId(3)),
        author: BRUNO,
        ts_ms: at(DAY2, 70),
        text: "Bitte die Beschriftung der Summe korrigieren.".into(),
    };
    assert_eq!(store.comments(D1).unwrap(), [comment], "v{v}");

    let gold = vec![
        GoldBox {
            rect: Rect::new(96.0, 120.0, 520.0, 168.0),
            label: Some(LabelId(4)),
            text: "Papeterie Étoile SARL".into(),
        },
        GoldBox { rect: Rect::new(900.0, 1500.0, 1100.0, 1540.0), label: Some(LabelId(13)), text: "€ 189,90".into() },
    ];
    assert_eq!(store.gold_boxes(D3).unwrap(), gold, "v{v}");
    let score = GoldScore {
        doc: D3,
        user: ANNA,
        ts_ms: at(DAY2, 1560),
        precision: 1.0,
        recall: 1.0,
        f1: 1.0,
        label_accuracy: 1.0,
        cer: 0.125,
    };
    let scores = vec![score];
    assert_eq!(store.gold_scores(None).unwrap(), scores, "v{v}");
    assert_eq!(store.gold_scores(Some(ANNA)).unwrap(), scores, "v{v}");
    assert!(store.gold_scores(Some(BRUNO)).unwrap().is_empty(), "v{v}");
}

fn check_objectives_and_exports(store: &Store, v: i64) {
    if v < 3 {
        assert!(store.objectives().unwrap().is_empty() && store.dataset_versions().unwrap().is_empty(), "v{v}");
        assert_eq!(store.next_dataset_version().unwrap(), 1, "v{v}");
        return;
    }
    let objective = |id: i64, user: Option<UserId>, metric: &str, op: &str, target: f64| ObjectiveRow {
        id,
        user,
        metric: metric.into(),
        op: op.into(),
        target,
    };
    let objectives =
        vec![objective(1, None, "boxes_per_hour", ">=", 40.0), objective(2, Some(ANNA), "cer", "<=", 0.02)];
    assert_eq!(store.objectives().unwrap(), objectives, "v{v}");

    let versions = store.dataset_versions().unwrap();
    assert_eq!(versions.len(), 1, "v{v}");
    let d = &versions[0];
    assert_eq!((d.number, d.created_ms, d.user, d.format.as_str()), (1, at(DAY2, 2000), Some(CHLOE), "coco"), "v{v}");
    assert_eq!(
        d.options,
        r#"{"format":"coco","all":false,"split":{"train":80,"val":10,"test":10},"seed":7,"link_images":false,"augment":null,"as_of_edit":29,"doc_ids":[1]}"#,
        "v{v}"
    );
    assert_eq!(d.manifest_sha256, hex::encode(Sha256::digest(d.manifest.as_bytes())), "v{v}");
    assert_eq!(store.next_dataset_version().unwrap(), 2, "v{v}");
    // today's export code still reads what the export of that time recorded
    let options: RecordedOptions = serde_json::from_str(&d.options).unwrap();
    assert_eq!((options.as_of_edit, options.doc_ids.as_slice(), options.naming), (Some(29), &[1][..], Naming::Legacy));
    let manifest: Manifest = serde_json::from_str(&d.manifest).unwrap();
    assert_eq!(manifest.options, options, "v{v}");
    assert_eq!(manifest.dataset_version, Some(1), "v{v}");
    assert_eq!(manifest.workspace_id, format!("0123456789abcd0{v}"), "v{v}");
    assert_eq!(manifest.documents.len(), 1, "v{v}");
    assert_eq!(manifest.documents[0].source_sha256, store.document(D1).unwrap().sha256, "v{v}");
}
