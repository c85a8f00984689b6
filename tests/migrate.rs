//! `facture migrate`: a workspace copied file → server → file gives exports byte-identical to
//! the original's, the same stats and the same content checksum on every side; a target that
//! is not empty is refused and the source is never changed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn facture(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facture")).args(args).env("FACTURE_CACHE_DIR", cache).output().unwrap()
}

fn ok(args: &[&str], cache: &Path) -> String {
    let out = facture(args, cache);
    assert!(out.status.success(), "facture {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir`, by relative path, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A stats report without its timings.
fn stats_of(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("refresh");
    o.remove("query_ms");
    v
}

fn checksums(report: &str) -> Vec<String> {
    report.lines().filter(|l| l.starts_with("checksum ")).map(|l| l.rsplit('\t').next().unwrap().to_string()).collect()
}

#[test]
fn a_workspace_goes_to_a_server_and_back_and_reproduces_its_exports_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cache = root.join("cache");
    let ws = {
        let ws = root.join("ws.sqlite");
        ok(&["synth", "--count", "4", "--out", s(&root.join("synth")), "--seed", "21"], &cache);
        ok(&["init", s(&ws)], &cache);
        ok(&["users", s(&ws), "add", "ann", "--role", "annotator"], &cache);
        ok(&["users", s(&ws), "add", "lea", "--role", "lead"], &cache);
        ok(&["import-gt", s(&ws), s(&root.join("synth"))], &cache);
        ok(&["prelabel", s(&ws), "--source", "cv", "--doc", "2"], &cache);
        ok(&["objectives", s(&ws), "set", "cer", "<=", "0.02", "--lead", "lea"], &cache);
        ok(&["export", s(&ws), "--all", "--format", "coco", "--out", s(&root.join("v1"))], &cache);
        ok(
            &["export", s(&ws), "--all", "--format", "ppocr", "--out", s(&root.join("v2")), "--split", "50,25,25"],
            &cache,
        );
        ws
    };
    let before = facture::store::Store::open(&ws).unwrap().content_checksum().unwrap();
    let stats = stats_of(&ok(&["stats", s(&ws), "--json"], &cache));

    // file → file first: needs no server
    let copy = root.join("copy.sqlite");
    let report = ok(&["migrate", s(&ws), s(&copy)], &cache);
    let sums = checksums(&report);
    assert_eq!(sums.len(), 2, "{report}");
    assert_eq!(sums[0], sums[1], "{report}");
    assert!(report.contains("documents\t4") && report.contains("edits\t"), "{report}");
    let refused = facture(&["migrate", s(&ws), s(&copy)], &cache);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists"));

    let Some(url) = common::pg::fresh_database() else { return };
    let to_server = ok(&["migrate", s(&ws), &url], &cache);
    assert_eq!(checksums(&to_server), sums, "the same content on the server: {to_server}");
    assert!(to_server.contains("images\t4"), "{to_server}");
    // the server now answers like the file did
    assert_eq!(stats_of(&ok(&["stats", &url, "--json"], &cache)), stats);
    let docs_file = ok(&["docs", s(&ws)], &cache);
    assert_eq!(ok(&["docs", &url], &cache), docs_file);
    // and an export from the server, of a version recorded by the file, is the same bytes
    let from_server = root.join("v1-from-server");
    ok(&["export", &url, "--version", "1", "--out", s(&from_server)], &cache);
    assert!(files(&from_server) == files(&root.join("v1")), "version 1 exported from the server differs");
    // a target that is not empty is refused, and left as it was
    let again = facture(&["migrate", s(&ws), &url], &cache);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(ok(&["docs", &url], &cache), docs_file);

    // back to a file, on a "workstation" that never saw the scans
    std::fs::rename(root.join("synth"), root.join("synth-gone")).unwrap();
    let back = root.join("back.sqlite");
    let to_file = ok(&["migrate", &url, s(&back)], &cache);
    assert_eq!(checksums(&to_file), sums, "{to_file}");
    assert!(root.join("back.images").is_dir());
    for (version, folder) in [("1", "v1"), ("2", "v2")] {
        let out = root.join(format!("again-{version}"));
        ok(&["export", s(&back), "--version", version, "--out", s(&out)], &cache);
        assert!(files(&out) == files(&root.join(folder)), "version {version} differs after the round trip");
    }
    assert_eq!(stats_of(&ok(&["stats", s(&back), "--json"], &cache)), stats);
    let after = facture::store::Store::open(&ws).unwrap().content_checksum().unwrap();
    assert_eq!(after, before, "the source is only read");
    assert_eq!(after, sums[0]);
}
