//! Schema migrations: an append-only list, tracked by `PRAGMA user_version`.
//! Never edit or remove a past entry; add a new one.

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
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

/// The schema version this build of Facture writes.
pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;

/// What the migrations up to `version` create: tables, and columns added to earlier tables.
struct Shape {
    /// (version that creates it, table)
    tables: Vec<(i64, String)>,
    /// (version that adds it, table, column)
    columns: Vec<(i64, String, String)>,
}

fn shape() -> Shape {
    let mut tables = Vec::new();
    let mut columns = Vec::new();
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        let words: Vec<&str> = sql.split(|c: char| c.is_whitespace() || c == '(' || c == ';').collect();
        let words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
        for w in words.windows(6) {
            if w[0] == "ALTER" && w[1] == "TABLE" && w[3] == "ADD" && w[4] == "COLUMN" {
                columns.push((version, w[2].to_string(), w[5].to_string()));
            }
        }
        for w in words.windows(3) {
            if w[0] == "CREATE" && w[1] == "TABLE" {
                tables.push((version, w[2].to_string()));
            }
        }
    }
    Shape { tables, columns }
}

/// Whether a file's tables are those of schema `version`: every table and added column of
/// that version and none of a later one (a file whose `user_version` was set back, or
/// edited by another tool, is refused instead of being migrated into a broken state).
/// The outer error is a database failure; the inner one describes the mismatch.
pub(crate) fn check_shape<E>(
    version: i64,
    present: &[String],
    mut columns_of: impl FnMut(&str) -> Result<Vec<String>, E>,
) -> Result<Result<(), String>, E> {
    let shape = shape();
    for (v, table) in &shape.tables {
        let there = present.iter().any(|t| t == table);
        if *v <= version && !there {
            return Ok(Err(format!("table {table} of version {v} is missing")));
        }
        if *v > version && there {
            return Ok(Err(format!("table {table} belongs to the later version {v}")));
        }
    }
    for (v, table, column) in &shape.columns {
        if !present.iter().any(|t| t == table) {
            continue;
        }
        let there = columns_of(table)?.iter().any(|c| c == column);
        if *v <= version && !there {
            return Ok(Err(format!("column {table}.{column} of version {v} is missing")));
        }
        if *v > version && there {
            return Ok(Err(format!("column {table}.{column} belongs to the later version {v}")));
        }
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shape_knows_every_table_and_added_column() {
        let s = shape();
        assert!(s.tables.contains(&(1, "edits".to_string())));
        assert!(s.tables.contains(&(2, "review_rounds".to_string())));
        assert!(s.tables.contains(&(5, "stats_doc_time".to_string())));
        assert!(s.columns.contains(&(2, "documents".to_string(), "reviewer".to_string())));
        let v1: Vec<String> = s.tables.iter().filter(|t| t.0 == 1).map(|t| t.1.clone()).collect();
        assert!(s.columns.contains(&(6, "users".to_string(), "passphrase".to_string())));
        assert!(s.tables.contains(&(7, "label_models".to_string())));
        assert!(s.columns.contains(&(7, "annotations".to_string(), "label_conf".to_string())));
        assert!(s.tables.contains(&(8, "label_examples".to_string())));
        assert!(s.columns.contains(&(8, "annotations".to_string(), "flags".to_string())));
        assert!(s.columns.contains(&(8, "documents".to_string(), "exif".to_string())));
        let no_cols = |_: &str| {
            Ok::<_, ()>(
                [
                    "reviewer",
                    "passphrase",
                    "label_suggested",
                    "label_conf",
                    "retired",
                    "shelved",
                    "priority",
                    "tags",
                    "rotation",
                    "exif",
                    "flags",
                ]
                .map(String::from)
                .to_vec(),
            )
        };
        // version 1's tables with version 2's column: set back
        assert!(check_shape(1, &v1, no_cols).unwrap().unwrap_err().contains("documents.reviewer"));
        let all: Vec<String> = s.tables.iter().map(|t| t.1.clone()).collect();
        assert!(check_shape(1, &all, no_cols).unwrap().unwrap_err().contains("later version 2"));
        assert_eq!(check_shape(LATEST_VERSION, &all, no_cols).unwrap(), Ok(()));
    }
}
