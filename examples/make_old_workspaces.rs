//! Writes `tests/fixtures/workspaces/v{1..=8}.sqlite`: small workspaces as Facture at each past
//! schema version wrote them, which `tests/old_workspaces.rs` opens with today's code.
//!
//! `cargo run --example make_old_workspaces [-- [--overwrite] [DIR]]`. Existing files are kept
//! unless `--overwrite` is given: a fixture is frozen once its version has shipped (see the
//! README next to them). Everything here is a historical record, not shared with the library:
//! the migration texts, the seed rows and the scenario are copies of what those versions did,
//! so that later changes to the library cannot silently change what "an old workspace" is.
//! Every value is fixed (no clock, no randomness): running it twice gives identical files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use facture::domain::{
    AnnId, AnnState, Annotation, BoxVerdict, Change, Comment, CommentId, DocId, DocMeta, DocStatus, DocVerdict, EditId,
    EditKind, GoldBox, GoldScore, Label, LabelId, Link, LinkId, LinkKind, Point, Quad, Rect, ReviewRound, RoundId,
    Shelf, Source, UserId, Verdict,
};
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};

/// The migrations as they shipped: entry `i` takes the schema from version `i` to `i + 1`.
/// Copied verbatim from `src/store/migrations.rs`; never edit an entry, only append.
const MIGRATIONS: &[&str] = &[
    // 1: the foundation.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE users (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        name       TEXT NOT NULL UNIQUE,
        role       TEXT NOT NULL CHECK (role IN ('annotator', 'reviewer', 'lead')),
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE labels (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        name      TEXT NOT NULL UNIQUE,
        color     TEXT NOT NULL,
        hotkey    TEXT,
        guideline TEXT NOT NULL,
        position  INTEGER NOT NULL
    );
    CREATE TABLE documents (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        path        TEXT NOT NULL,
        sha256      TEXT NOT NULL,
        page        INTEGER NOT NULL,
        width       INTEGER NOT NULL,
        height      INTEGER NOT NULL,
        status      TEXT NOT NULL,
        assignee    INTEGER REFERENCES users(id),
        is_gold     INTEGER NOT NULL DEFAULT 0,
        imported_ms INTEGER NOT NULL,
        UNIQUE (sha256, page)
    );
    CREATE INDEX documents_status ON documents(status);
    CREATE INDEX documents_assignee ON documents(assignee);
    CREATE TABLE annotations (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id      INTEGER NOT NULL REFERENCES documents(id),
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        quad        TEXT,
        label_id    INTEGER REFERENCES labels(id),
        text        TEXT NOT NULL,
        source      TEXT NOT NULL,
        text_source TEXT NOT NULL,
        confidence  REAL,
        state       TEXT NOT NULL CHECK (state IN ('suggested', 'active')),
        author      INTEGER REFERENCES users(id),
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL
    );
    CREATE INDEX annotations_doc ON annotations(doc_id);
    CREATE INDEX annotations_author ON annotations(author);
    CREATE TABLE links (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id  INTEGER NOT NULL REFERENCES documents(id),
        from_id INTEGER NOT NULL REFERENCES annotations(id),
        to_id   INTEGER NOT NULL REFERENCES annotations(id),
        kind    TEXT NOT NULL
    );
    CREATE INDEX links_doc ON links(doc_id);
    CREATE TABLE edits (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms   INTEGER NOT NULL,
        user_id INTEGER REFERENCES users(id),
        doc_id  INTEGER REFERENCES documents(id),
        action  TEXT NOT NULL,
        kind    TEXT NOT NULL CHECK (kind IN ('do', 'undo', 'redo')),
        target  INTEGER REFERENCES edits(id),
        changes TEXT NOT NULL
    );
    CREATE INDEX edits_doc_user ON edits(doc_id, user_id, id);
    CREATE INDEX edits_user_ts ON edits(user_id, ts_ms);
    CREATE TABLE activity (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ms   INTEGER NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        doc_id  INTEGER REFERENCES documents(id),
        kind    TEXT NOT NULL
    );
    CREATE INDEX activity_user_ts ON activity(user_id, ts_ms);
    "#,
    // 2: review rounds, per-box verdicts, comments, reviewer assignment, gold answers and scores.
    r#"
    ALTER TABLE documents ADD COLUMN reviewer INTEGER REFERENCES users(id);
    CREATE TABLE review_rounds (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id      INTEGER NOT NULL REFERENCES documents(id),
        number      INTEGER NOT NULL,
        reviewer    INTEGER NOT NULL REFERENCES users(id),
        annotator   INTEGER REFERENCES users(id),
        started_ms  INTEGER NOT NULL,
        finished_ms INTEGER,
        verdict     TEXT CHECK (verdict IN ('accept', 'reject')),
        comment     TEXT NOT NULL DEFAULT '',
        start_edit  INTEGER NOT NULL,
        UNIQUE (doc_id, number)
    );
    CREATE INDEX review_rounds_reviewer ON review_rounds(reviewer, started_ms);
    CREATE INDEX review_rounds_annotator ON review_rounds(annotator, started_ms);
    CREATE TABLE box_verdicts (
        round_id INTEGER NOT NULL REFERENCES review_rounds(id),
        ann_id   INTEGER NOT NULL,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        verdict  TEXT NOT NULL,
        comment  TEXT NOT NULL,
        reviewer INTEGER NOT NULL REFERENCES users(id),
        ts_ms    INTEGER NOT NULL,
        PRIMARY KEY (round_id, ann_id)
    );
    CREATE TABLE comments (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        doc_id   INTEGER NOT NULL REFERENCES documents(id),
        round_id INTEGER REFERENCES review_rounds(id),
        ann_id   INTEGER,
        author   INTEGER NOT NULL REFERENCES users(id),
        ts_ms    INTEGER NOT NULL,
        text     TEXT NOT NULL
    );
    CREATE INDEX comments_doc ON comments(doc_id);
    CREATE TABLE gold_boxes (
        doc_id   INTEGER NOT NULL REFERENCES documents(id),
        position INTEGER NOT NULL,
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        label_id INTEGER REFERENCES labels(id),
        text     TEXT NOT NULL,
        PRIMARY KEY (doc_id, position)
    );
    CREATE TABLE gold_scores (
        doc_id         INTEGER NOT NULL REFERENCES documents(id),
        user_id        INTEGER NOT NULL REFERENCES users(id),
        ts_ms          INTEGER NOT NULL,
        precision      REAL NOT NULL,
        recall         REAL NOT NULL,
        f1             REAL NOT NULL,
        label_accuracy REAL NOT NULL,
        cer            REAL NOT NULL,
        PRIMARY KEY (doc_id, user_id, ts_ms)
    );
    "#,
    // 3: objectives for the stats panel, recorded dataset exports, indexes for stats queries.
    r#"
    CREATE TABLE objectives (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER REFERENCES users(id),
        metric  TEXT NOT NULL,
        op      TEXT NOT NULL CHECK (op IN ('>=', '<=')),
        target  REAL NOT NULL,
        UNIQUE (user_id, metric)
    );
    CREATE TABLE dataset_versions (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        number          INTEGER NOT NULL UNIQUE,
        created_ms      INTEGER NOT NULL,
        user_id         INTEGER REFERENCES users(id),
        format          TEXT NOT NULL,
        options         TEXT NOT NULL,
        manifest        TEXT NOT NULL,
        manifest_sha256 TEXT NOT NULL
    );
    CREATE INDEX edits_ts ON edits(ts_ms);
    CREATE INDEX edits_action ON edits(action, doc_id);
    CREATE INDEX annotations_label ON annotations(label_id);
    "#,
    // 4: caches of the stats panel (derived from the log, rebuilt at will) and covering indexes
    // so refreshing them never reads the edits' JSON except for documents that changed.
    r#"
    CREATE TABLE stats_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE stats_doc_facts (
        doc_id INTEGER NOT NULL, user_id INTEGER NOT NULL, day INTEGER NOT NULL, label_id INTEGER NOT NULL,
        boxes INTEGER NOT NULL, sugg_unchanged INTEGER NOT NULL, sugg_adjusted INTEGER NOT NULL,
        sugg_replaced INTEGER NOT NULL, sugg_rejected INTEGER NOT NULL,
        v_ok INTEGER NOT NULL, v_wrong_box INTEGER NOT NULL, v_wrong_label INTEGER NOT NULL,
        v_wrong_text INTEGER NOT NULL, v_missing INTEGER NOT NULL, v_spurious INTEGER NOT NULL,
        PRIMARY KEY (doc_id, user_id, day, label_id)
    ) WITHOUT ROWID;
    CREATE TABLE stats_facts (
        user_id INTEGER NOT NULL, day INTEGER NOT NULL, label_id INTEGER NOT NULL,
        boxes INTEGER NOT NULL, sugg_unchanged INTEGER NOT NULL, sugg_adjusted INTEGER NOT NULL,
        sugg_replaced INTEGER NOT NULL, sugg_rejected INTEGER NOT NULL,
        v_ok INTEGER NOT NULL, v_wrong_box INTEGER NOT NULL, v_wrong_label INTEGER NOT NULL,
        v_wrong_text INTEGER NOT NULL, v_missing INTEGER NOT NULL, v_spurious INTEGER NOT NULL,
        PRIMARY KEY (day, user_id, label_id)
    ) WITHOUT ROWID;
    CREATE TABLE stats_agreement (
        doc_id         INTEGER PRIMARY KEY,
        annotator      INTEGER,
        round_number   INTEGER NOT NULL,
        accepted_ms    INTEGER NOT NULL,
        matched        INTEGER NOT NULL, gt INTEGER NOT NULL, pred INTEGER NOT NULL,
        labels_correct INTEGER NOT NULL, labels_total INTEGER NOT NULL,
        cer_edits      INTEGER NOT NULL, cer_ref_chars INTEGER NOT NULL
    );
    CREATE INDEX stats_agreement_accepted ON stats_agreement(accepted_ms);
    CREATE TABLE stats_active (
        idle_ms INTEGER NOT NULL, user_id INTEGER NOT NULL, day INTEGER NOT NULL, doc_id INTEGER NOT NULL,
        phase INTEGER NOT NULL, active_ms INTEGER NOT NULL,
        PRIMARY KEY (idle_ms, user_id, day, doc_id, phase)
    ) WITHOUT ROWID;
    CREATE TABLE stats_active_day (
        idle_ms INTEGER NOT NULL, user_id INTEGER NOT NULL, day INTEGER NOT NULL, phase INTEGER NOT NULL,
        active_ms INTEGER NOT NULL,
        PRIMARY KEY (idle_ms, day, user_id, phase)
    ) WITHOUT ROWID;
    CREATE TABLE stats_active_doc (
        idle_ms INTEGER NOT NULL, user_id INTEGER NOT NULL, doc_id INTEGER NOT NULL, phase INTEGER NOT NULL,
        active_ms INTEGER NOT NULL,
        PRIMARY KEY (idle_ms, user_id, doc_id, phase)
    ) WITHOUT ROWID;
    CREATE TABLE stats_active_state (
        idle_ms     INTEGER PRIMARY KEY,
        edit_wm     INTEGER NOT NULL,
        activity_wm INTEGER NOT NULL
    );
    CREATE INDEX edits_stats_events ON edits(user_id, ts_ms, doc_id, action);
    CREATE INDEX edits_stats_actions ON edits(action, ts_ms, user_id, doc_id, kind);
    CREATE INDEX edits_target ON edits(target) WHERE target IS NOT NULL;
    CREATE INDEX activity_stats_events ON activity(user_id, ts_ms, doc_id, kind);
    CREATE INDEX review_rounds_finished ON review_rounds(finished_ms, number, annotator, reviewer, verdict, started_ms);
    "#,
    // 5: stats caches that the report reads in one short range scan each: review rounds and
    // agreement per (user, day), and per-document work time joined ahead of time.
    r#"
    CREATE TABLE stats_doc_rounds (
        doc_id INTEGER NOT NULL, user_id INTEGER NOT NULL, day INTEGER NOT NULL,
        rounds_a INTEGER NOT NULL, rejected_a INTEGER NOT NULL, fp_a INTEGER NOT NULL, fp_acc_a INTEGER NOT NULL,
        rounds_r INTEGER NOT NULL, rejected_r INTEGER NOT NULL, agr_docs INTEGER NOT NULL,
        matched INTEGER NOT NULL, gt INTEGER NOT NULL, pred INTEGER NOT NULL,
        labels_correct INTEGER NOT NULL, labels_total INTEGER NOT NULL,
        cer_edits INTEGER NOT NULL, cer_ref_chars INTEGER NOT NULL,
        PRIMARY KEY (doc_id, user_id, day)
    ) WITHOUT ROWID;
    CREATE TABLE stats_rounds (
        user_id INTEGER NOT NULL, day INTEGER NOT NULL,
        rounds_a INTEGER NOT NULL, rejected_a INTEGER NOT NULL, fp_a INTEGER NOT NULL, fp_acc_a INTEGER NOT NULL,
        rounds_r INTEGER NOT NULL, rejected_r INTEGER NOT NULL, agr_docs INTEGER NOT NULL,
        matched INTEGER NOT NULL, gt INTEGER NOT NULL, pred INTEGER NOT NULL,
        labels_correct INTEGER NOT NULL, labels_total INTEGER NOT NULL,
        cer_edits INTEGER NOT NULL, cer_ref_chars INTEGER NOT NULL,
        PRIMARY KEY (day, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE stats_doc_people (
        doc_id INTEGER NOT NULL, role INTEGER NOT NULL, user_id INTEGER NOT NULL, day INTEGER NOT NULL,
        wall_ms INTEGER NOT NULL,
        PRIMARY KEY (doc_id, role, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX stats_doc_people_user ON stats_doc_people(user_id);
    CREATE TABLE stats_doc_time (
        idle_ms INTEGER NOT NULL, role INTEGER NOT NULL, day INTEGER NOT NULL, user_id INTEGER NOT NULL,
        doc_id INTEGER NOT NULL, work_ms INTEGER NOT NULL, wall_ms INTEGER NOT NULL,
        PRIMARY KEY (idle_ms, role, day, user_id, doc_id)
    ) WITHOUT ROWID;
    CREATE INDEX stats_doc_time_user ON stats_doc_time(idle_ms, user_id);
    "#,
    // 6: leases: who is working on which document, until when (not workspace content: a
    // copy of the workspace starts with none); passphrases for signing in on a shared
    // workstation.
    r#"
    CREATE TABLE leases (
        doc_id     INTEGER PRIMARY KEY REFERENCES documents(id),
        holder     INTEGER NOT NULL REFERENCES users(id),
        taken_ms   INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    );
    CREATE INDEX leases_holder ON leases(holder);
    -- a person's passphrase (argon2id PHC string) when the workspace asks for sign-in
    ALTER TABLE users ADD COLUMN passphrase TEXT;
    "#,
    // 7: field-label suggestions. A box keeps the label a machine suggested for it (so stats
    // can say how often suggestions were kept) and, while its label is still that unconfirmed
    // suggestion, the suggestion's confidence. The workspace's label model, every version of
    // it, with the dataset it learned from.
    r#"
    ALTER TABLE annotations ADD COLUMN label_suggested INTEGER REFERENCES labels(id);
    ALTER TABLE annotations ADD COLUMN label_conf REAL;
    CREATE TABLE label_models (
        id          INTEGER PRIMARY KEY,
        trained_ms  INTEGER NOT NULL,
        dataset     TEXT NOT NULL,
        documents   INTEGER NOT NULL,
        examples    INTEGER NOT NULL,
        model       BLOB NOT NULL,
        report      TEXT NOT NULL
    );
    "#,
    // 8: leads shape the workspace. A retired label stays on the boxes that have it but cannot
    // be given anew. A document can be archived or deleted (a soft delete: queues, exports and
    // stats skip it until it is restored), and given a priority the annotation queue follows.
    // Guidelines get pinned examples (a crop of an accepted box: "this is one" or "this is
    // not"), kept as PNG so the exported guide survives moved images. Boxes get flags
    // (difficult, illegible, handwritten: a bit mask), documents tags (a JSON object of the
    // workspace's tag schema) and a rotation in quarter turns clockwise (0–3) applied to the
    // page's pixels when it is shown, pre-annotated and exported. `exif` says whether the
    // file's EXIF (or TIFF) orientation is applied to its pixels: 1 for every page imported
    // from now on (its size and boxes are those of the upright page), 0 for the pages already
    // there, which earlier versions measured and boxed as stored.
    r#"
    ALTER TABLE labels ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN shelved TEXT CHECK (shelved IN ('archived', 'deleted'));
    ALTER TABLE documents ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE documents ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE documents ADD COLUMN rotation INTEGER NOT NULL DEFAULT 0 CHECK (rotation BETWEEN 0 AND 3);
    ALTER TABLE documents ADD COLUMN exif INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE annotations ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE label_examples (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        label_id   INTEGER NOT NULL REFERENCES labels(id),
        doc_id     INTEGER REFERENCES documents(id),
        x0 REAL NOT NULL, y0 REAL NOT NULL, x1 REAL NOT NULL, y1 REAL NOT NULL,
        text       TEXT NOT NULL,
        good       INTEGER NOT NULL,
        note       TEXT NOT NULL,
        crop       BLOB NOT NULL,
        author     INTEGER REFERENCES users(id),
        created_ms INTEGER NOT NULL
    );
    CREATE INDEX label_examples_label ON label_examples(label_id);
    "#,
];

/// The labels every new workspace was seeded with, versions 1 to 8 alike: (name, colour,
/// hotkey, guideline); position is the index. Copied from `default_invoice_schema`.
const SEED_LABELS: &[(&str, &str, &str, &str)] = &[
    (
        "invoice_number",
        "#e6194b",
        "1",
        "Box the invoice number only, not its caption ('Invoice No.', 'Rechnungsnr.', 'N° de facture'). Type it exactly as printed, keeping letters, dashes and slashes; do not add or drop leading zeros.",
    ),
    (
        "invoice_date",
        "#3cb44b",
        "2",
        "Box the date the invoice was issued, without its caption. Type it exactly as printed (e.g. '03/11/2024', '3. November 2024', '03 nov. 2024'); do not reformat it.",
    ),
    (
        "due_date",
        "#0082c8",
        "3",
        "Box the payment due date, without its caption ('Due date', 'Fällig am', 'Échéance'). Type it as printed. If only a payment term is printed ('30 days net'), box nothing.",
    ),
    (
        "vendor_name",
        "#f58230",
        "4",
        "Box the legal name of the company that issued the invoice, usually in the header or letterhead. One box per line if the name wraps. Logos without text are not boxed.",
    ),
    (
        "vendor_address",
        "#911eb4",
        "5",
        "Box the issuer's postal address, one box per printed line (street, postcode and city, country). Type each line as printed.",
    ),
    (
        "vendor_tax_id",
        "#46f0f0",
        "6",
        "Box the issuer's VAT or tax identifier (e.g. 'DE123456789', 'FR 12 345678901', 'GB123 4567 89') without its caption. Type it exactly, keeping spaces as printed.",
    ),
    (
        "customer_name",
        "#f032e6",
        "7",
        "Box the name of the billed customer (person or company) in the 'Bill to' / 'Rechnungsempfänger' / 'Facturé à' block, without the caption.",
    ),
    (
        "customer_address",
        "#d2f53c",
        "8",
        "Box the customer's postal address, one box per printed line. Delivery addresses that differ from the billing address are labelled other_text.",
    ),
    (
        "currency",
        "#fabed4",
        "9",
        "Box a standalone currency code or symbol that applies to the whole document ('EUR', 'Currency: GBP'). Symbols attached to an amount stay inside that amount's box instead.",
    ),
    (
        "subtotal",
        "#008080",
        "0",
        "Box the net amount before tax, without its caption ('Subtotal', 'Zwischensumme', 'Total HT'). Type it exactly as printed, with its currency sign and separators ('1 234,50 €').",
    ),
    (
        "tax_rate",
        "#dcbeff",
        "shift+1",
        "Box the tax percentage only ('20 %', '19%'), not the caption 'VAT' or 'MwSt.'. Several rates: one box each.",
    ),
    (
        "tax_amount",
        "#aa6e28",
        "shift+2",
        "Box the tax amount without its caption. Type it exactly as printed, with currency sign and separators.",
    ),
    (
        "total_amount",
        "#c80000",
        "shift+3",
        "Box the amount due only, not the label 'Total:' / 'Gesamtbetrag' / 'Total TTC'; type it exactly as printed ('1 234,50 €'). If the total is printed twice, box the one in the totals block.",
    ),
    (
        "iban",
        "#808000",
        "shift+4",
        "Box the IBAN without its caption. Type it as printed, keeping the groups of four separated by the spaces printed on the page.",
    ),
    (
        "line_item_description",
        "#000080",
        "shift+5",
        "Box the description of one line item, one box per printed line of that cell. Type it as printed, including article numbers that are part of the description.",
    ),
    (
        "line_item_quantity",
        "#ff8c5a",
        "shift+6",
        "Box the quantity of one line item, with its unit if printed in the same cell ('3', '2,5 h', '10 pcs').",
    ),
    (
        "line_item_unit_price",
        "#5aa0ff",
        "shift+7",
        "Box the unit price of one line item, without the column header. Type it exactly as printed.",
    ),
    (
        "line_item_amount",
        "#14c88c",
        "shift+8",
        "Box the line total of one line item (quantity × unit price as printed), without the column header.",
    ),
    (
        "other_text",
        "#969696",
        "shift+9",
        "Any other printed text worth keeping for OCR training (captions, headers, notes, footers). Use it for text that carries no field above; never for handwriting you cannot read.",
    ),
];

/// Bytes per database page. SQLite's default (what Facture's files use) is 4096; the fixtures
/// use 1024 to stay small in the repository. The page size is invisible above SQLite.
const PAGE_SIZE: u32 = 1024;

/// 2026-11-27 08:00 UTC: the workspace is created and the first day's work done.
const T0: i64 = 1_795_766_400_000;
/// 2026-11-28 09:00 UTC: the second day (review, rework, gold), from version 2 on.
const DAY2: i64 = 1_795_856_400_000;

/// `secs` seconds after `base`.
const fn at(base: i64, secs: i64) -> i64 {
    base + secs * 1000
}

const ANNA: UserId = UserId(1);
const BRUNO: UserId = UserId(2);
const CHLOE: UserId = UserId(3);
const D1: DocId = DocId(1);
const D2: DocId = DocId(2);
const D3: DocId = DocId(3);
/// Ids of seeded labels (id = position + 1).
const INVOICE_DATE: LabelId = LabelId(2);
const VENDOR_NAME: LabelId = LabelId(4);
const TOTAL_AMOUNT: LabelId = LabelId(13);
const IBAN: LabelId = LabelId(14);
const OTHER_TEXT: LabelId = LabelId(19);
/// The label the lead adds in version 8: the first id after the seeded ones.
const ORDER_NUMBER: LabelId = LabelId(20);
const MODEL: &str = "ppocr-v5";

/// (made-up sha256, width, height) of /old/scans/invoice_000N.png.
const DOCS: [(&str, u32, u32); 3] = [
    ("65d7228a1d4baca58c0681c752400b445e22c7c980512d86bef2cfc96ab17540", 1654, 2339),
    ("51ff0068de3fb0f70f4a47831dc64b46f569c952f3e146eb56a1afc772f306c7", 2480, 3508),
    ("dde0f566bc0904befa89f597caffebcea65637f3abc41e5c882615e1f5f27fb9", 1240, 1754),
];

/// The manifest of the recorded export, as the export of that time wrote it (pretty JSON).
const MANIFEST: &str = r#"{
  "facture_version": "0.1.0",
  "dataset_version": 1,
  "created_ms": {created_ms},
  "workspace_id": "{workspace_id}",
  "format": "coco",
  "filters": {
    "status": "accepted"
  },
  "options": {
    "format": "coco",
    "all": false,
    "split": {
      "train": 80,
      "val": 10,
      "test": 10
    },
    "seed": 7,
    "link_images": false,
    "augment": null,
    "as_of_edit": {as_of_edit},
    "doc_ids": [
      1
    ]
  },
  "documents": [
    {
      "doc_id": 1,
      "source_sha256": "65d7228a1d4baca58c0681c752400b445e22c7c980512d86bef2cfc96ab17540",
      "page": 0,
      "split": "train",
      "image": "train/images/invoice_0001.png",
      "image_sha256": "aa923b5140ab3f53140e924e0f4538f96324999feba4c456e828bd767648d1d0",
      "boxes": 3,
      "augmented": []
    }
  ],
  "label_counts": {
    "other_text": 2,
    "total_amount": 1
  },
  "split_counts": {
    "train": 1
  },
  "skipped_unlabelled_boxes": 0,
  "files": {
    "train/annotations.json": "a028b8af639a4c9aa07c55a2cb954784d837d013ffd33209ccbeab4365746ed7",
    "train/images/invoice_0001.png": "aa923b5140ab3f53140e924e0f4538f96324999feba4c456e828bd767648d1d0"
  }
}
"#;

fn main() -> anyhow::Result<()> {
    let mut overwrite = false;
    let mut dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/workspaces"));
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--overwrite" => overwrite = true,
            a if a.starts_with('-') => bail!("unknown option {a}; usage: make_old_workspaces [--overwrite] [DIR]"),
            a => dir = PathBuf::from(a),
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for version in 1..=MIGRATIONS.len() as i64 {
        let path = dir.join(format!("v{version}.sqlite"));
        if path.exists() && !overwrite {
            println!("{}: kept (frozen; --overwrite replaces it)", path.display());
            continue;
        }
        // written under another name first, so an interrupted run leaves no half fixture
        let tmp = dir.join(format!("v{version}.sqlite.partial"));
        if tmp.exists() {
            std::fs::remove_file(&tmp)?;
        }
        write_workspace(&tmp, version).with_context(|| format!("writing version {version}"))?;
        std::fs::rename(&tmp, &path)?;
        println!("{}: {} bytes", path.display(), std::fs::metadata(&path)?.len());
    }
    Ok(())
}

fn workspace_id(version: i64) -> String {
    format!("0123456789abcd{version:02x}")
}

/// A new workspace of `version`, created as `Store::create` of that version did, then used.
fn write_workspace(path: &Path, version: i64) -> anyhow::Result<()> {
    let mut conn = Connection::open(path)?;
    // One self-contained file: rollback journal, not WAL (Facture switches to WAL on opening).
    let mode: String = conn.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    ensure!(mode == "delete", "journal mode {mode}");
    conn.execute_batch(&format!("PRAGMA page_size={PAGE_SIZE}; PRAGMA foreign_keys=ON;"))?;
    // Every migration up to this version, the seed rows and the version, in one transaction.
    let tx = conn.transaction()?;
    for sql in &MIGRATIONS[..version as usize] {
        tx.execute_batch(sql)?;
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('workspace_id', ?1), ('created_ms', ?2)",
        params![workspace_id(version), T0.to_string()],
    )?;
    for (position, (name, color, hotkey, guideline)) in SEED_LABELS.iter().enumerate() {
        tx.execute(
            "INSERT INTO labels (name, color, hotkey, guideline, position) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![name, color, hotkey, guideline, position as i64],
        )?;
    }
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()?;

    let mut ws = Ws { conn, version };
    ws.people_and_pages()?;
    let boxes = ws.day_one()?;
    if version >= 2 {
        ws.day_two(&boxes)?;
    }
    if version >= 3 {
        ws.objectives_and_export()?;
    }
    if version >= 7 {
        ws.label_suggestion(&boxes)?;
    }
    if version >= 8 {
        ws.housekeeping()?;
    }
    let problems: i64 = ws.conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
    ensure!(problems == 0, "{problems} rows break a foreign key");
    ws.conn.close().map_err(|(_, e)| e)?;
    Ok(())
}

/// Boxes of day one as they stand at its end, which day two changes.
struct DayOne {
    a1: Annotation,
    a2: Annotation,
    a3: Annotation,
    i7: Annotation,
    i8: Annotation,
    /// The suggestion on page 2 nobody accepted or rejected.
    s5: Annotation,
}

struct Ws {
    conn: Connection,
    version: i64,
}

impl Ws {
    fn people_and_pages(&mut self) -> anyhow::Result<()> {
        for (name, role, secs) in [("anna", "annotator", 10), ("bruno", "reviewer", 20), ("chloé", "lead", 30)] {
            self.conn.execute(
                "INSERT INTO users (name, role, created_ms) VALUES (?1, ?2, ?3)",
                params![name, role, at(T0, secs)],
            )?;
        }
        for (i, (sha256, width, height)) in DOCS.iter().enumerate() {
            self.conn.execute(
                "INSERT INTO documents (path, sha256, page, width, height, status, imported_ms)
                 VALUES (?1, ?2, 0, ?3, ?4, 'new', ?5)",
                params![format!("/old/scans/invoice_{:04}.png", i + 1), sha256, width, height, at(T0, 60)],
            )?;
        }
        // the lead assigned all three to anna (assignment was not logged then)
        self.conn.execute("UPDATE documents SET assignee=?1", [ANNA.0])?;
        Ok(())
    }

    fn day_one(&mut self) -> anyhow::Result<DayOne> {
        use DocStatus::*;
        let anna = Some(ANNA);
        // Document 1: anna boxes it by hand, links a caption to its amount, undoes and redoes
        // a move, and submits.
        self.activity(at(T0, 600), ANNA, Some(D1), "open")?;
        let t = at(T0, 610);
        let a1 = manual(1, D1, Rect::new(120.0, 96.0, 610.0, 140.0), None, "", t);
        self.edit(t, anna, D1, "add_box", EditKind::Do, &[insert(&a1), status(D1, New, InProgress)])?;
        let a1_labelled = Annotation { label: Some(OTHER_TEXT), updated_ms: at(T0, 625), ..a1.clone() };
        self.edit(at(T0, 625), anna, D1, "set_label", EditKind::Do, &[update(&a1, &a1_labelled)])?;
        let a1_typed =
            Annotation { text: "Rechnung Nr. 2024-0113".into(), updated_ms: at(T0, 650), ..a1_labelled.clone() };
        self.edit(at(T0, 650), anna, D1, "set_text", EditKind::Do, &[update(&a1_labelled, &a1_typed)])?;
        self.activity(at(T0, 680), ANNA, Some(D1), "input")?;
        let t = at(T0, 700);
        let a2 = manual(2, D1, Rect::new(1210.0, 1878.0, 1440.0, 1922.0), Some(TOTAL_AMOUNT), "1.234,50 €", t);
        self.edit(t, anna, D1, "add_box", EditKind::Do, &[insert(&a2)])?;
        // from version 2 on the caption has a typo, which the review finds
        let caption = if self.version >= 2 { "Gesamtbtrag:" } else { "Gesamtbetrag:" };
        let t = at(T0, 730);
        let a3 = manual(3, D1, Rect::new(960.0, 1880.0, 1190.0, 1924.0), Some(OTHER_TEXT), caption, t);
        self.edit(t, anna, D1, "add_box", EditKind::Do, &[insert(&a3)])?;
        let link = Link { id: LinkId(1), doc: D1, from: AnnId(3), to: AnnId(2), kind: LinkKind::KeyValue };
        self.edit(
            at(T0, 745),
            anna,
            D1,
            "add_link",
            EditKind::Do,
            &[Change::Link { before: None, after: Some(link) }],
        )?;
        let a2_moved = Annotation { rect: a2.rect.translated(0.0, 2.0), updated_ms: at(T0, 760), ..a2.clone() };
        let moved = self.edit(at(T0, 760), anna, D1, "move_boxes", EditKind::Do, &[update(&a2, &a2_moved)])?;
        self.edit(at(T0, 765), anna, D1, "undo", EditKind::Undo(moved), &[update(&a2_moved, &a2)])?;
        self.edit(at(T0, 770), anna, D1, "redo", EditKind::Redo(moved), &[update(&a2, &a2_moved)])?;
        self.edit(at(T0, 800), anna, D1, "submit", EditKind::Do, &[status(D1, InProgress, Submitted)])?;
        self.activity(at(T0, 802), ANNA, Some(D1), "close")?;

        // Document 2: a machine pass (`facture prelabel` without a user) suggests three boxes
        // and fills in the text it read; anna accepts and labels two, one stays a suggestion.
        let t = at(T0, 900);
        let skewed = Quad([
            Point::new(180.0, 210.0),
            Point::new(802.0, 198.0),
            Point::new(804.0, 246.0),
            Point::new(182.0, 258.0),
        ]);
        let s4 = Annotation {
            id: AnnId(4),
            doc: D2,
            rect: skewed.bounds(),
            quad: Some(skewed),
            label: None,
            text: "Müller & Söhne GmbH".into(),
            source: Source::Model(MODEL.into()),
            text_source: Source::Model(MODEL.into()),
            confidence: Some(0.875),
            label_suggested: None,
            label_conf: None,
            state: AnnState::Suggested,
            author: None,
            created_ms: t,
            updated_ms: t,
            flags: Default::default(),
        };
        let s5 = Annotation {
            id: AnnId(5),
            rect: Rect::new(1500.0, 300.0, 2100.0, 344.0),
            quad: None,
            text: "Rechnungsdatum: 27.11.2024".into(),
            confidence: Some(0.75),
            label_suggested: None,
            label_conf: None,
            ..s4.clone()
        };
        let s6 = Annotation {
            id: AnnId(6),
            rect: Rect::new(1500.0, 360.0, 1800.0, 404.0),
            quad: None,
            text: String::new(),
            source: Source::Cv,
            text_source: Source::Cv,
            confidence: Some(0.5),
            label_suggested: None,
            label_conf: None,
            ..s4.clone()
        };
        let pass = self.edit(t, None, D2, "add_suggestions", EditKind::Do, &[insert(&s4), insert(&s5), insert(&s6)])?;
        // from version 5 on a model pass streams the lines it read as part of the same step
        let kind = if self.version >= 5 { EditKind::Continues(pass) } else { EditKind::Do };
        let s6_read = Annotation {
            text: "27.11.2024".into(),
            text_source: Source::Model(MODEL.into()),
            confidence: Some(0.9375),
            label_suggested: None,
            label_conf: None,
            updated_ms: at(T0, 905),
            ..s6.clone()
        };
        self.edit(at(T0, 905), None, D2, "fill_text", kind, &[update(&s6, &s6_read)])?;
        self.activity(at(T0, 1000), ANNA, Some(D2), "open")?;
        let t = at(T0, 1030);
        let s4_ok = Annotation { state: AnnState::Active, updated_ms: t, ..s4.clone() };
        let s6_ok = Annotation { state: AnnState::Active, updated_ms: t, ..s6_read.clone() };
        let accept = [update(&s4, &s4_ok), update(&s6_read, &s6_ok), status(D2, New, InProgress)];
        self.edit(t, anna, D2, "accept_suggestions", EditKind::Do, &accept)?;
        let s4_labelled = Annotation { label: Some(VENDOR_NAME), updated_ms: at(T0, 1060), ..s4_ok.clone() };
        self.edit(at(T0, 1060), anna, D2, "set_label", EditKind::Do, &[update(&s4_ok, &s4_labelled)])?;
        let s6_labelled = Annotation { label: Some(INVOICE_DATE), updated_ms: at(T0, 1075), ..s6_ok.clone() };
        self.edit(at(T0, 1075), anna, D2, "set_label", EditKind::Do, &[update(&s6_ok, &s6_labelled)])?;
        self.activity(at(T0, 1100), ANNA, Some(D2), "blur")?;

        // Document 3: the lead imports its ground truth.
        let t = at(T0, 1500);
        let i7 = Annotation {
            id: AnnId(7),
            doc: D3,
            rect: Rect::new(96.0, 120.0, 520.0, 168.0),
            quad: None,
            label: Some(VENDOR_NAME),
            text: "Papeterie Étoile SARL".into(),
            source: Source::Import,
            text_source: Source::Import,
            confidence: None,
            label_suggested: None,
            label_conf: None,
            state: AnnState::Active,
            author: Some(CHLOE),
            created_ms: t,
            updated_ms: t,
            flags: Default::default(),
        };
        let i8 = Annotation {
            id: AnnId(8),
            rect: Rect::new(900.0, 1500.0, 1100.0, 1540.0),
            label: Some(TOTAL_AMOUNT),
            text: "€ 189,90".into(),
            ..i7.clone()
        };
        self.edit(t, Some(CHLOE), D3, "import_gt", EditKind::Do, &[insert(&i7), insert(&i8)])?;
        self.activity(at(T0, 1510), CHLOE, None, "focus")?;
        self.activity(at(T0, 1520), CHLOE, Some(D3), "open")?;
        self.activity(at(T0, 1540), CHLOE, Some(D3), "close")?;
        Ok(DayOne { a1: a1_typed, a2: a2_moved, a3, i7, i8, s5 })
    }

    /// Version 2 on: document 1 is reviewed (rejected for the caption's typo, fixed, accepted)
    /// and document 3 becomes a gold document that anna then answers.
    fn day_two(&mut self, b: &DayOne) -> anyhow::Result<()> {
        use DocStatus::*;
        let (anna, bruno) = (Some(ANNA), Some(BRUNO));
        let t = at(DAY2, 0);
        self.activity(t, BRUNO, Some(D1), "open")?;
        let round1 = ReviewRound {
            id: RoundId(1),
            doc: D1,
            number: 1,
            reviewer: BRUNO,
            annotator: Some(ANNA),
            started_ms: t,
            finished_ms: None,
            verdict: None,
            comment: String::new(),
            start_edit: self.last_edit()?,
        };
        let meta = DocMeta { assignee: Some(ANNA), reviewer: None, is_gold: false, ..Default::default() };
        let start = [
            status(D1, Submitted, InReview),
            Change::Round { before: None, after: Some(round1.clone()) },
            Change::Meta { doc: D1, before: meta, after: DocMeta { reviewer: Some(BRUNO), ..meta } },
        ];
        self.edit(t, bruno, D1, "start_review", EditKind::Do, &start)?;
        let t = at(DAY2, 40);
        let typo = verdict(1, &b.a3, Verdict::WrongText, "Tippfehler: „Gesamtbetrag“", t);
        self.edit(t, bruno, D1, "set_verdict", EditKind::Do, &[typo])?;
        let t = at(DAY2, 55);
        let rest = [verdict(1, &b.a1, Verdict::Ok, "", t), verdict(1, &b.a2, Verdict::Ok, "", t)];
        self.edit(t, bruno, D1, "accept_remaining", EditKind::Do, &rest)?;
        let t = at(DAY2, 70);
        let comment = Comment {
            id: CommentId(1),
            doc: D1,
            round: Some(RoundId(1)),
            ann: Some(AnnId(3)),
            author: BRUNO,
            ts_ms: t,
            text: "Bitte die Beschriftung der Summe korrigieren.".into(),
        };
        self.edit(
            t,
            bruno,
            D1,
            "add_comment",
            EditKind::Do,
            &[Change::Comment { before: None, after: Some(comment) }],
        )?;
        let t = at(DAY2, 90);
        let rejected = ReviewRound {
            finished_ms: Some(t),
            verdict: Some(DocVerdict::Reject),
            comment: "Ein Tippfehler in der Summenzeile, sonst gut.".into(),
            ..round1.clone()
        };
        let finish = [Change::Round { before: Some(round1), after: Some(rejected) }, status(D1, InReview, Rejected)];
        self.edit(t, bruno, D1, "finish_review", EditKind::Do, &finish)?;
        self.activity(at(DAY2, 92), BRUNO, Some(D1), "close")?;

        self.activity(at(DAY2, 600), ANNA, Some(D1), "open")?;
        let t = at(DAY2, 630);
        let a3_fixed = Annotation { text: "Gesamtbetrag:".into(), updated_ms: t, ..b.a3.clone() };
        self.edit(t, anna, D1, "set_text", EditKind::Do, &[update(&b.a3, &a3_fixed), status(D1, Rejected, Rework)])?;
        self.edit(at(DAY2, 660), anna, D1, "submit", EditKind::Do, &[status(D1, Rework, Submitted)])?;
        self.activity(at(DAY2, 662), ANNA, Some(D1), "close")?;

        let t = at(DAY2, 900);
        self.activity(t, BRUNO, Some(D1), "open")?;
        let round2 = ReviewRound {
            id: RoundId(2),
            doc: D1,
            number: 2,
            reviewer: BRUNO,
            annotator: Some(ANNA),
            started_ms: t,
            finished_ms: None,
            verdict: None,
            comment: String::new(),
            start_edit: self.last_edit()?,
        };
        let start = [status(D1, Submitted, InReview), Change::Round { before: None, after: Some(round2.clone()) }];
        self.edit(t, bruno, D1, "start_review", EditKind::Do, &start)?;
        let t = at(DAY2, 930);
        let all_ok = [
            verdict(2, &b.a1, Verdict::Ok, "", t),
            verdict(2, &b.a2, Verdict::Ok, "", t),
            verdict(2, &a3_fixed, Verdict::Ok, "", t),
        ];
        self.edit(t, bruno, D1, "accept_remaining", EditKind::Do, &all_ok)?;
        let t = at(DAY2, 945);
        let accepted = ReviewRound { finished_ms: Some(t), verdict: Some(DocVerdict::Accept), ..round2.clone() };
        let finish = [Change::Round { before: Some(round2), after: Some(accepted) }, status(D1, InReview, Accepted)];
        self.edit(t, bruno, D1, "finish_review", EditKind::Do, &finish)?;
        self.activity(at(DAY2, 947), BRUNO, Some(D1), "close")?;

        let t = at(DAY2, 1200);
        let gold: Vec<GoldBox> =
            [&b.i7, &b.i8].iter().map(|a| GoldBox { rect: a.rect, label: a.label, text: a.text.clone() }).collect();
        let meta = DocMeta { assignee: Some(ANNA), reviewer: None, is_gold: false, ..Default::default() };
        let mark = [
            Change::Gold { doc: D3, before: vec![], after: gold },
            Change::Meta { doc: D3, before: meta, after: DocMeta { is_gold: true, ..meta } },
        ];
        self.edit(t, Some(CHLOE), D3, "mark_gold", EditKind::Do, &mark)?;
        self.activity(at(DAY2, 1500), ANNA, Some(D3), "open")?;
        let t = at(DAY2, 1530);
        let i8_typed =
            Annotation { text: "€ 189,80".into(), text_source: Source::Manual, updated_ms: t, ..b.i8.clone() };
        self.edit(t, anna, D3, "set_text", EditKind::Do, &[update(&b.i8, &i8_typed), status(D3, New, InProgress)])?;
        let t = at(DAY2, 1560);
        // one wrong character of eight: CER 0.125, everything else right
        let score = GoldScore {
            doc: D3,
            user: ANNA,
            ts_ms: t,
            precision: 1.0,
            recall: 1.0,
            f1: 1.0,
            label_accuracy: 1.0,
            cer: 0.125,
        };
        let submit = [status(D3, InProgress, Submitted), Change::GoldScore { before: None, after: Some(score) }];
        self.edit(t, anna, D3, "submit", EditKind::Do, &submit)?;
        self.activity(at(DAY2, 1562), ANNA, Some(D3), "close")?;
        Ok(())
    }

    /// Version 3 on: two objectives and one recorded dataset export.
    fn objectives_and_export(&mut self) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO objectives (user_id, metric, op, target) VALUES (NULL, 'boxes_per_hour', '>=', 40.0)",
            [],
        )?;
        self.conn
            .execute("INSERT INTO objectives (user_id, metric, op, target) VALUES (?1, 'cer', '<=', 0.02)", [ANNA.0])?;
        let as_of_edit = self.last_edit()?;
        let created_ms = at(DAY2, 2000);
        let options = format!(
            r#"{{"format":"coco","all":false,"split":{{"train":80,"val":10,"test":10}},"seed":7,"link_images":false,"augment":null,"as_of_edit":{as_of_edit},"doc_ids":[1]}}"#
        );
        let manifest = MANIFEST
            .replace("{created_ms}", &created_ms.to_string())
            .replace("{workspace_id}", &workspace_id(self.version))
            .replace("{as_of_edit}", &as_of_edit.to_string());
        let manifest_sha256 = hex::encode(Sha256::digest(manifest.as_bytes()));
        self.conn.execute(
            "INSERT INTO dataset_versions (number, created_ms, user_id, format, options, manifest, manifest_sha256)
             VALUES (1, ?1, ?2, 'coco', ?3, ?4, ?5)",
            params![created_ms, CHLOE.0, options, manifest, manifest_sha256],
        )?;
        Ok(())
    }

    /// Version 7 on: the machine suggests a field label for the suggestion still open on page 2.
    fn label_suggestion(&mut self, b: &DayOne) -> anyhow::Result<()> {
        let t = at(DAY2, 4000);
        let labelled = Annotation {
            label: Some(INVOICE_DATE),
            label_suggested: Some(INVOICE_DATE),
            label_conf: Some(0.4375),
            updated_ms: t,
            ..b.s5.clone()
        };
        self.edit(t, None, D2, "suggest_labels", EditKind::Do, &[update(&b.s5, &labelled)])?;
        Ok(())
    }

    /// Version 8 on: the lead shapes the workspace. She retires `iban` (its hotkey is freed),
    /// adds `order_number` with that hotkey, archives page 2 and puts page 3 first in the queue.
    fn housekeeping(&mut self) -> anyhow::Result<()> {
        let chloe = Some(CHLOE);
        let iban = seed_label(IBAN)?;
        let retired = Label { hotkey: None, retired: true, ..iban.clone() };
        let retire = [Change::Label { before: Some(iban), after: Some(retired) }];
        self.log(at(DAY2, 5000), chloe, None, "label_retire", EditKind::Do, &retire)?;
        let order_number = Label {
            id: ORDER_NUMBER,
            name: "order_number".into(),
            color: [67, 99, 216],
            hotkey: Some("shift+4".into()),
            guideline: "Box the buyer's purchase order number without its caption ('PO No.', 'Bestellnummer', \
                        'N° de commande'). Type it exactly as printed."
                .into(),
            position: SEED_LABELS.len() as i64,
            retired: false,
        };
        let add = [Change::Label { before: None, after: Some(order_number) }];
        self.log(at(DAY2, 5060), chloe, None, "label_add", EditKind::Do, &add)?;
        let d2 = DocMeta { assignee: Some(ANNA), reviewer: None, is_gold: false, ..Default::default() };
        let archive = [Change::Meta { doc: D2, before: d2, after: DocMeta { shelved: Some(Shelf::Archived), ..d2 } }];
        self.edit(at(DAY2, 5200), chloe, D2, "doc_archive", EditKind::Do, &archive)?;
        let d3 = DocMeta { assignee: Some(ANNA), reviewer: None, is_gold: true, ..Default::default() };
        let priority = [Change::Meta { doc: D3, before: d3, after: DocMeta { priority: 5, ..d3 } }];
        self.edit(at(DAY2, 5260), chloe, D3, "doc_priority", EditKind::Do, &priority)?;
        Ok(())
    }

    fn last_edit(&self) -> rusqlite::Result<i64> {
        self.conn.query_row("SELECT coalesce(max(id), 0) FROM edits", [], |r| r.get(0))
    }

    fn activity(&mut self, ts: i64, user: UserId, doc: Option<DocId>, kind: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO activity (ts_ms, user_id, doc_id, kind) VALUES (?1, ?2, ?3, ?4)",
            params![ts, user.0, doc.map(|d| d.0), kind],
        )?;
        Ok(())
    }

    /// Applies `changes` to the rows and appends them to the edit log, in one transaction, as
    /// the store did. Returns the new edit's id.
    fn edit(
        &mut self,
        ts: i64,
        user: Option<UserId>,
        doc: DocId,
        action: &str,
        kind: EditKind,
        changes: &[Change],
    ) -> anyhow::Result<EditId> {
        self.log(ts, user, Some(doc), action, kind, changes)
    }

    /// [`Ws::edit`], also for the edits on no document (the label schema's, from version 8).
    fn log(
        &mut self,
        ts: i64,
        user: Option<UserId>,
        doc: Option<DocId>,
        action: &str,
        kind: EditKind,
        changes: &[Change],
    ) -> anyhow::Result<EditId> {
        let tx = self.conn.transaction()?;
        for change in changes {
            apply(&tx, change)?;
        }
        let (kind, target) = match kind {
            EditKind::Do => ("do", None),
            EditKind::Continues(t) => ("do", Some(t.0)),
            EditKind::Undo(t) => ("undo", Some(t.0)),
            EditKind::Redo(t) => ("redo", Some(t.0)),
        };
        tx.execute(
            "INSERT INTO edits (ts_ms, user_id, doc_id, action, kind, target, changes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![ts, user.map(|u| u.0), doc.map(|d| d.0), action, kind, target, serde_json::to_string(changes)?],
        )?;
        let id = EditId(tx.last_insert_rowid());
        tx.commit()?;
        Ok(id)
    }
}

/// Writes one change's `after` into the rows (only the cases the scenario uses).
fn apply(tx: &Connection, change: &Change) -> anyhow::Result<()> {
    let n = match change {
        Change::Annotation { before, after: Some(a) } => {
            let quad = a.quad.as_ref().map(serde_json::to_string).transpose()?;
            let state = match a.state {
                AnnState::Suggested => "suggested",
                AnnState::Active => "active",
            };
            let sql = if before.is_none() {
                "INSERT INTO annotations (id, doc_id, x0, y0, x1, y1, quad, label_id, text, source, text_source,
                 confidence, state, author, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            } else {
                "UPDATE annotations SET doc_id=?2, x0=?3, y0=?4, x1=?5, y1=?6, quad=?7, label_id=?8, text=?9,
                 source=?10, text_source=?11, confidence=?12, state=?13, author=?14, created_ms=?15, updated_ms=?16
                 WHERE id=?1"
            };
            let n = tx.execute(
                sql,
                params![
                    a.id.0,
                    a.doc.0,
                    f64::from(a.rect.x0),
                    f64::from(a.rect.y0),
                    f64::from(a.rect.x1),
                    f64::from(a.rect.y1),
                    quad,
                    a.label.map(|l| l.0),
                    a.text,
                    a.source.to_string(),
                    a.text_source.to_string(),
                    a.confidence.map(f64::from),
                    state,
                    a.author.map(|u| u.0),
                    a.created_ms,
                    a.updated_ms
                ],
            )?;
            // the label suggestion's own columns (version 7 on) are written only when set
            if a.label_suggested.is_some() || a.label_conf.is_some() {
                tx.execute(
                    "UPDATE annotations SET label_suggested=?2, label_conf=?3 WHERE id=?1",
                    params![a.id.0, a.label_suggested.map(|l| l.0), a.label_conf.map(f64::from)],
                )?;
            }
            n
        }
        Change::Link { before: None, after: Some(l) } => tx.execute(
            "INSERT INTO links (id, doc_id, from_id, to_id, kind) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![l.id.0, l.doc.0, l.from.0, l.to.0, l.kind.as_str()],
        )?,
        Change::Status { doc, before, after } => tx.execute(
            "UPDATE documents SET status=?3 WHERE id=?1 AND status=?2",
            params![doc.0, before.as_str(), after.as_str()],
        )?,
        Change::Meta { doc, before, after } => {
            let n = tx.execute(
                "UPDATE documents SET assignee=?2, reviewer=?3, is_gold=?4 WHERE id=?1",
                params![doc.0, after.assignee.map(|u| u.0), after.reviewer.map(|u| u.0), after.is_gold],
            )?;
            // the housekeeping columns (version 8 on) are written only when either side sets them
            let housekeeping = |m: &DocMeta| m.shelved.is_some() || m.priority != 0;
            if housekeeping(before) || housekeeping(after) {
                tx.execute(
                    "UPDATE documents SET shelved=?2, priority=?3 WHERE id=?1",
                    params![doc.0, after.shelved.map(Shelf::as_str), after.priority],
                )?;
            }
            n
        }
        Change::Label { before, after: Some(l) } => {
            let sql = if before.is_none() {
                "INSERT INTO labels (id, name, color, hotkey, guideline, position, retired)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            } else {
                "UPDATE labels SET name=?2, color=?3, hotkey=?4, guideline=?5, position=?6, retired=?7 WHERE id=?1"
            };
            let color = format!("#{:02x}{:02x}{:02x}", l.color[0], l.color[1], l.color[2]);
            tx.execute(sql, params![l.id.0, l.name, color, l.hotkey, l.guideline, l.position, l.retired])?
        }
        Change::Round { before: None, after: Some(r) } => tx.execute(
            "INSERT INTO review_rounds (id, doc_id, number, reviewer, annotator, started_ms, start_edit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![r.id.0, r.doc.0, r.number, r.reviewer.0, r.annotator.map(|u| u.0), r.started_ms, r.start_edit],
        )?,
        Change::Round { before: Some(_), after: Some(r) } => {
            let verdict = match r.verdict {
                Some(DocVerdict::Accept) => Some("accept"),
                Some(DocVerdict::Reject) => Some("reject"),
                None => None,
            };
            tx.execute(
                "UPDATE review_rounds SET finished_ms=?2, verdict=?3, comment=?4 WHERE id=?1",
                params![r.id.0, r.finished_ms, verdict, r.comment],
            )?
        }
        Change::BoxVerdict { before: None, after: Some(v) } => tx.execute(
            "INSERT INTO box_verdicts (round_id, ann_id, x0, y0, x1, y1, verdict, comment, reviewer, ts_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                v.round.0,
                v.ann.0,
                f64::from(v.rect.x0),
                f64::from(v.rect.y0),
                f64::from(v.rect.x1),
                f64::from(v.rect.y1),
                v.verdict.as_str(),
                v.comment,
                v.reviewer.0,
                v.ts_ms
            ],
        )?,
        Change::Comment { before: None, after: Some(c) } => tx.execute(
            "INSERT INTO comments (id, doc_id, round_id, ann_id, author, ts_ms, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![c.id.0, c.doc.0, c.round.map(|r| r.0), c.ann.map(|a| a.0), c.author.0, c.ts_ms, c.text],
        )?,
        Change::Gold { doc, before, after } if before.is_empty() => {
            for (position, g) in after.iter().enumerate() {
                tx.execute(
                    "INSERT INTO gold_boxes (doc_id, position, x0, y0, x1, y1, label_id, text)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        doc.0,
                        position as i64,
                        f64::from(g.rect.x0),
                        f64::from(g.rect.y0),
                        f64::from(g.rect.x1),
                        f64::from(g.rect.y1),
                        g.label.map(|l| l.0),
                        g.text
                    ],
                )?;
            }
            1
        }
        Change::GoldScore { before: None, after: Some(s) } => tx.execute(
            "INSERT INTO gold_scores (doc_id, user_id, ts_ms, precision, recall, f1, label_accuracy, cer)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                s.doc.0,
                s.user.0,
                s.ts_ms,
                f64::from(s.precision),
                f64::from(s.recall),
                f64::from(s.f1),
                f64::from(s.label_accuracy),
                f64::from(s.cer)
            ],
        )?,
        other => bail!("the scenario has no use for {other:?}"),
    };
    ensure!(n == 1, "{change:?} changed {n} rows");
    Ok(())
}

/// Seeded label `id` as a new workspace had it (id = position + 1).
fn seed_label(id: LabelId) -> anyhow::Result<Label> {
    let position = id.0 - 1;
    let (name, color, hotkey, guideline) =
        *SEED_LABELS.get(position as usize).with_context(|| format!("no seeded label {id}"))?;
    let hex = color.strip_prefix('#').context("a colour without '#'")?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16);
    Ok(Label {
        id,
        name: name.into(),
        color: [byte(0)?, byte(2)?, byte(4)?],
        hotkey: Some(hotkey.into()),
        guideline: guideline.into(),
        position,
        retired: false,
    })
}

/// An active box anna drew by hand.
fn manual(id: i64, doc: DocId, rect: Rect, label: Option<LabelId>, text: &str, ts: i64) -> Annotation {
    Annotation {
        id: AnnId(id),
        doc,
        rect,
        quad: None,
        label,
        text: text.into(),
        source: Source::Manual,
        text_source: Source::Manual,
        confidence: None,
        label_suggested: None,
        label_conf: None,
        state: AnnState::Active,
        author: Some(ANNA),
        created_ms: ts,
        updated_ms: ts,
        flags: Default::default(),
    }
}

fn insert(a: &Annotation) -> Change {
    Change::Annotation { before: None, after: Some(a.clone()) }
}

fn update(before: &Annotation, after: &Annotation) -> Change {
    Change::Annotation { before: Some(before.clone()), after: Some(after.clone()) }
}

fn status(doc: DocId, before: DocStatus, after: DocStatus) -> Change {
    Change::Status { doc, before, after }
}

/// Bruno's verdict on a box in round `round`.
fn verdict(round: i64, a: &Annotation, verdict: Verdict, comment: &str, ts: i64) -> Change {
    let v = BoxVerdict {
        round: RoundId(round),
        ann: a.id,
        rect: a.rect,
        verdict,
        comment: comment.into(),
        reviewer: BRUNO,
        ts_ms: ts,
    };
    Change::BoxVerdict { before: None, after: Some(v) }
}
