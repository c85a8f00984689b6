//! Packaging: the desktop entry, AppStream metainfo and icons agree with the binary, and (on CI,
//! `FACTURE_REQUIRE_PACKAGING=1`) the real .deb and .rpm are built and checked as a user meets
//! them, by `packaging/build-packages` and `packaging/check-packages`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn desktop_key<'a>(desktop: &'a str, key: &str) -> Option<&'a str> {
    desktop.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn desktop_entry_metainfo_and_window_share_one_app_id() {
    let id = facture::APP_ID;
    let desktop = read(&format!("packaging/linux/{id}.desktop"));
    assert_eq!(desktop_key(&desktop, "Icon"), Some(id));
    assert_eq!(desktop_key(&desktop, "StartupWMClass"), Some(id), "the window's app id is the WM class");
    assert_eq!(desktop_key(&desktop, "Exec"), Some("facture %F"), "files from the file manager reach the binary");
    assert_eq!(desktop_key(&desktop, "Categories"), Some("Office;Graphics;"));
    let mime = desktop_key(&desktop, "MimeType").unwrap_or_default();
    for t in ["application/pdf", "image/png", "image/jpeg", "image/tiff", "application/x-facture-workspace"] {
        assert!(mime.split(';').any(|m| m == t), "{t} not in MimeType={mime}");
    }
    let metainfo = read(&format!("packaging/linux/{id}.metainfo.xml"));
    assert!(metainfo.contains(&format!("<id>{id}</id>")));
    assert!(metainfo.contains(&format!("<launchable type=\"desktop-id\">{id}.desktop</launchable>")));
    // every screenshot the metainfo shows is one committed in docs/screenshots
    let shots: Vec<&str> = metainfo.split("<image>").skip(1).filter_map(|s| s.split("</image>").next()).collect();
    assert!(!shots.is_empty());
    for url in shots {
        let name = url.rsplit('/').next().unwrap_or_default();
        assert!(repo().join("docs/screenshots").join(name).is_file(), "{url}: no docs/screenshots/{name}");
    }
    // the release listed is this version
    assert!(metainfo.contains(&format!("<release version=\"{}\"", env!("CARGO_PKG_VERSION"))));
    assert!(read("packaging/linux/changelog").starts_with(&format!("facture ({}-1)", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn the_icons_decode_at_their_sizes_and_the_svg_is_the_same_drawing() {
    for px in [32u32, 48, 64, 128, 256] {
        let path = repo().join(format!("assets/icons/facture-{px}.png"));
        let img = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgba8();
        assert_eq!(img.dimensions(), (px, px));
        // transparent corners, an opaque page in the middle
        assert_eq!(img.get_pixel(0, 0).0[3], 0, "{px}: corner not transparent");
        assert_eq!(img.get_pixel(px / 2, px / 2).0[3], 255, "{px}: centre not opaque");
    }
    let svg = read("assets/icons/facture.svg");
    assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 256 256\""));
    // the window's compiled-in icon is the 256 px one
    let icon = facture::ui::window_icon();
    assert_eq!((icon.width, icon.height), (256, 256));
    assert_eq!(icon.rgba.len(), 256 * 256 * 4);
}

#[test]
fn every_packaged_source_file_exists_or_is_made_by_the_build_script() {
    let manifest = read("Cargo.toml");
    let generated = ["target/release/facture", "target/packaging/", "target/facture-runtime/"];
    let mut sources = 0;
    for line in manifest.lines().map(str::trim) {
        let src = if let Some(rest) = line.strip_prefix("[\"") {
            rest.split('"').next()
        } else if let Some(rest) = line.strip_prefix("{ source = \"") {
            rest.split('"').next()
        } else {
            None
        };
        let Some(src) = src else { continue };
        sources += 1;
        if generated.iter().any(|g| src.starts_with(g)) {
            continue;
        }
        assert!(repo().join(src).is_file(), "Cargo.toml packages {src}, which does not exist");
    }
    assert!(sources >= 30, "found only {sources} package assets in Cargo.toml");
}

fn tool(name: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {name}")]).output().is_ok_and(|o| o.status.success())
}

fn run_script(script: &Path, args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(script)
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
}

#[test]
fn the_sources_validate_with_the_desktop_tools() {
    let required = std::env::var("FACTURE_REQUIRE_PACKAGING").is_ok_and(|v| v == "1");
    for (tool_name, args, file) in [
        ("desktop-file-validate", vec![], "packaging/linux/org.facture.Facture.desktop"),
        ("appstreamcli", vec!["validate", "--no-net"], "packaging/linux/org.facture.Facture.metainfo.xml"),
    ] {
        if !tool(tool_name) {
            assert!(!required, "{tool_name} is not installed (FACTURE_REQUIRE_PACKAGING=1)");
            eprintln!("skipped: {tool_name} is not installed");
            continue;
        }
        let out = Command::new(tool_name).args(&args).arg(repo().join(file)).output().expect("run the validator");
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{tool_name} {file}: {text}");
        // hints and infos are advice; errors and warnings are not accepted
        let bad: Vec<&str> =
            text.lines().filter(|l| l.contains(": error:") || l.starts_with("E:") || l.starts_with("W:")).collect();
        assert!(bad.is_empty(), "{tool_name} {file}: {bad:?}");
    }
}

/// The whole package round: both packages of the binary these tests run, and every check in
/// packaging/check-packages (lintian, an unpacked root that runs a model pass and opens the
/// window, the rpm's file list). Needs cargo-deb, cargo-generate-rpm, lintian, rpm and Xvfb,
/// so it runs when asked (`FACTURE_REQUIRE_PACKAGING=1`, as CI does) and says so when not.
#[test]
fn the_deb_and_rpm_build_and_pass_their_checks() {
    if std::env::var("FACTURE_REQUIRE_PACKAGING").is_ok_and(|v| v == "1") {
        // the debug binary this `cargo test` built (a second, release build of everything
        // would not fit CI's time budget; `packaging/build-packages` alone builds release)
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_facture"));
        assert_eq!(bin, repo().join("target/debug/facture"), "the package manifests expect ./target");
        let build = run_script(&repo().join("packaging/build-packages"), &["--profile", "dev", "--no-build", "--fast"]);
        assert!(
            build.status.success(),
            "packaging/build-packages failed:\n{}\n{}",
            String::from_utf8_lossy(&build.stdout),
            String::from_utf8_lossy(&build.stderr)
        );
        let check = run_script(&repo().join("packaging/check-packages"), &[]);
        let report = format!("{}\n{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
        eprintln!("{report}");
        assert!(check.status.success(), "packaging/check-packages failed:\n{report}");
        assert!(report.contains("check-packages: all checks passed"));
    } else {
        eprintln!(
            "skipped: building and checking the .deb/.rpm needs the package tools; run with FACTURE_REQUIRE_PACKAGING=1 (CI does)"
        );
    }
}
