//! The command line: a contract scripts can trust. A command that did not do everything it
//! was asked exits non-zero; every error is one line on stderr (`facture: …`) naming the file
//! and what to do; nothing panics when its output is closed (`facture docs WS | head -1`).

mod about;
mod args;
mod data;
mod guide;
mod lead;
mod people;
mod prelabel;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;

pub use args::{Cli, Cmd, command_names};

use crate::app::open_targets::OpenTargets;
use crate::store::{Store, StoreError, Workspace};

/// Writes one line to stdout; a closed pipe ends the command quietly (see [`main`]).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}
pub(crate) use say;

/// One line on stderr. Errors writing it are ignored: there is nowhere left to report them.
pub(crate) fn warn(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "facture: {line}");
}

/// The command did part of what was asked and has already reported, one line each on stderr,
/// what it could not do; the process exits non-zero without another line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Reported(pub String);

/// Reports each failure on its own line; an error (exit non-zero) when there were any.
pub(crate) fn report_failures<P: std::fmt::Display>(failures: &[(P, String)], what: &str) -> Result<()> {
    for (item, reason) in failures {
        // most reasons start with the path already; do not say it twice
        let item = item.to_string();
        if reason.starts_with(&item) { warn(reason) } else { warn(format_args!("{item}: {reason}")) }
    }
    if failures.is_empty() { Ok(()) } else { Err(Reported(format!("{} {what} failed", failures.len())).into()) }
}

/// Opens a workspace for a command that writes: refused when SQLite finds it damaged.
pub(crate) fn open_write(ws: &Workspace) -> Result<Store> {
    Ok(Store::connect_verified(ws)?)
}

/// Opens a workspace for a command that only reads: read-only when it cannot be written.
pub(crate) fn open_read(ws: &Workspace) -> Result<Store> {
    Ok(Store::connect_for_reading(ws)?)
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    let workspace = cli.command.as_ref().and_then(Cmd::workspace);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // the reader closed the pipe: it has what it wanted, and there is no one to tell
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Reported>().is_some() => ExitCode::FAILURE,
        Err(e) => {
            warn(one_line(&e, workspace.as_deref()));
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The error and its causes as one line: a cause whose text the line already holds is not
/// repeated, multi-line texts are folded, and a store error that does not name its file gets
/// the workspace's path in front.
pub fn one_line(e: &anyhow::Error, workspace: Option<&str>) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text: Vec<String> =
            cause.to_string().lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        let text = text.join(" ");
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if line.is_empty() {
            line = text;
        } else {
            line = format!("{line}: {text}");
        }
    }
    // errors about the workspace file that do not name it themselves
    let about_workspace = e.chain().any(|c| store_error(c).is_some_and(StoreError::lacks_workspace_name));
    if let Some(ws) = workspace
        && about_workspace
        && !line.contains(ws)
    {
        line = format!("{ws}: {line}");
    }
    line
}

/// The store error inside `e`, also when a layer above wraps it transparently.
fn store_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a StoreError> {
    use crate::app::{CommandError, dataset::ImportError, export::ExportError, stats::StatsError};
    if let Some(s) = e.downcast_ref::<StoreError>() {
        Some(s)
    } else if let Some(CommandError::Store(s)) = e.downcast_ref::<CommandError>() {
        Some(s)
    } else if let Some(ExportError::Store(s)) = e.downcast_ref::<ExportError>() {
        Some(s)
    } else if let Some(ImportError::Store(s)) = e.downcast_ref::<ImportError>() {
        Some(s)
    } else if let Some(StatsError::Store(s)) = e.downcast_ref::<StatsError>() {
        Some(s)
    } else {
        None
    }
}

/// clap's errors, one line (its usage block goes; `--help` still prints in full).
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    // a value clap could not take is echoed in its message: never a password
    let text = redact_passwords(&e.render().to_string());
    let usage = text.lines().find_map(|l| l.trim().strip_prefix("Usage: ")).unwrap_or("facture --help").to_string();
    let body: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim_start().starts_with("Usage:"))
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
        .collect();
    let body = body.join(" ");
    let body = body.trim_start_matches("error: ").trim();
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand || body.is_empty() {
        warn(format_args!("incomplete command; usage: {usage} (see --help)"));
    } else {
        warn(format_args!("{body} (usage: {usage})"));
    }
    ExitCode::from(2)
}

/// `scheme://user:secret@host` → `scheme://user:***@host`, wherever it stands in `text`.
pub fn redact_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c.is_whitespace() || c == '\'' || c == '"').unwrap_or(tail.len());
        let (authority, after) = tail.split_at(end);
        match authority.split_once('@') {
            Some((userinfo, host)) if userinfo.contains(':') => {
                let user = userinfo.split(':').next().unwrap_or_default();
                out.push_str(&format!("{user}:***@{host}"));
            }
            _ => out.push_str(authority),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn run(cli: Cli) -> Result<()> {
    if cli.version {
        say!("{}", about::version_text(cli.model.ort_lib.as_deref(), cli.model.model_dir.as_deref()));
        return Ok(());
    }
    let Some(cmd) = cli.command else {
        let targets = crate::app::open_targets::classify(&cli.open).map_err(|e| anyhow::anyhow!(e))?;
        if let Some(ws) = &targets.workspace {
            not_a_command(ws)?;
        }
        return open_window(targets, &cli.model);
    };
    match cmd {
        Cmd::Open { workspace } => {
            open_window(OpenTargets { workspace: Some(workspace), documents: vec![] }, &cli.model)
        }
        Cmd::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "facture", &mut out);
            std::io::stdout().write_all(&out)?;
            Ok(())
        }
        Cmd::Manpage => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
            std::io::stdout().write_all(&out)?;
            Ok(())
        }
        Cmd::Init { workspace } => {
            Store::create_at(&workspace)?;
            say!("created {workspace}");
            Ok(())
        }
        Cmd::Import { workspace, paths, dpi, password_stdin } => data::import(&workspace, &paths, dpi, password_stdin),
        Cmd::Settings { workspace, name, value } => settings(&workspace, name.as_deref(), value.as_deref()),
        Cmd::ImportGt { workspace, dir } => data::import_gt(&workspace, &dir),
        Cmd::ImportDataset { workspace, format, path, images, map } => {
            data::import_dataset(&workspace, &format, &path, &images, map)
        }
        Cmd::Relink { workspace, dir } => data::relink(&workspace, &dir),
        Cmd::Migrate { from, to } => {
            let report = crate::app::migrate::migrate(&from, &to)?;
            for line in report.lines(&from, &to) {
                say!("{line}");
            }
            Ok(())
        }
        Cmd::Recover { workspace, into } => {
            let report = crate::store::salvage(&workspace, &into)?;
            say!("{}: {}", into.display(), report.summary());
            Ok(())
        }
        Cmd::Export { workspace, format, out, all, split, seed, link_images, augment, version } => {
            let opts = data::ExportArgs { format, out, all, split, seed, link_images, augment, version };
            data::export(&workspace, opts)
        }
        Cmd::Versions { workspace } => data::versions(&workspace),
        Cmd::Guide { workspace, out } => guide::guide(&workspace, &out),
        Cmd::Docs { workspace, action, as_lead } => lead::docs(&workspace, action, as_lead.as_deref()),
        Cmd::Assign { workspace, to, status, folder, unassigned, vendor, imported, limit, as_lead } => lead::assign(
            &workspace,
            lead::AssignArgs { to, status, folder, unassigned, vendor, imported, limit, as_lead },
        ),
        Cmd::Rotate { workspace, docs, quarters, by, as_user } => {
            lead::rotate(&workspace, &docs, quarters, by.as_deref(), as_user.as_deref())
        }
        Cmd::Search { workspace, text, label, status, verdict, annotator, tags, flags, shelved, json } => lead::search(
            &workspace,
            lead::SearchArgs { text, label, status, verdict, annotator, tags, flags, shelved, json },
        ),
        Cmd::Users { workspace, action } => people::users(&workspace, action),
        Cmd::Labels { workspace, action, as_lead } => lead::labels(&workspace, action, as_lead.as_deref()),
        Cmd::Review { workspace, action } => people::review(&workspace, action),
        Cmd::Objectives { workspace, action } => people::objectives(&workspace, action),
        Cmd::Stats { workspace, from, to, csv, json } => people::stats(&workspace, from, to, csv, json),
        Cmd::Prelabel { workspace, source, doc, all: _, user, model } => {
            prelabel::prelabel(&workspace, &source, doc, user.as_deref(), &model)
        }
        Cmd::Accept { workspace, source, doc, all: _, min_score, user } => {
            prelabel::accept(&workspace, &source, doc, min_score, &user)
        }
        Cmd::Eval { gt, source, iou, json, labels, train, leave_one_out, no_box_style, model } => {
            let style = (!no_box_style && (!train.is_empty() || leave_one_out))
                .then(|| prelabel::StyleEval { train: train.clone(), leave_one_out });
            let labels = labels.then_some(prelabel::LabelEval { train, leave_one_out });
            prelabel::eval(&gt, &source, iou, json, labels, style, &model)
        }
        Cmd::TrainLabels { workspace, json } => prelabel::train_labels(&workspace, json),
        Cmd::Synth { count, out, seed, format, hard } => {
            let variety = if hard { crate::synth::Variety::Hard } else { crate::synth::Variety::Standard };
            let files = match format.as_str() {
                "pdf" => crate::synth::pdf::write_set_with(&out, count, seed, false, variety)?,
                "scanned-pdf" => crate::synth::pdf::write_set_with(&out, count, seed, true, variety)?,
                _ => crate::synth::write_set_with(&out, count, seed, variety)?,
            };
            say!("wrote {} invoice(s) with ground truth to {}", files.len(), out.display());
            Ok(())
        }
        Cmd::SynthWorkspace { workspace, users, documents, annotations, days, seed } => {
            let spec = crate::app::synth_workspace::SynthWorkspaceSpec {
                users,
                documents,
                annotations_target: annotations,
                days,
                seed,
            };
            let report = crate::app::synth_workspace::generate(workspace, &spec)?;
            say!("{report:?}");
            Ok(())
        }
        Cmd::ScriptEdits { workspace, doc, count, user } => {
            people::script_edits(&workspace, crate::domain::DocId(doc), count, &user)
        }
    }
}

/// `facture WORD` where WORD is no file: most likely a mistyped command, not a workspace.
fn not_a_command(ws: &Workspace) -> Result<()> {
    let Some(p) = ws.file() else { return Ok(()) };
    let word = p.to_string_lossy();
    let bare = !word.is_empty() && word.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if p.exists() || !bare {
        return Ok(());
    }
    let names = command_names();
    let close = close_words(&word, &names);
    let hint = if close.is_empty() {
        format!("commands: {}", names.join(", "))
    } else {
        format!("did you mean {}?", close.join(" or "))
    };
    bail!("'{word}' is not a facture command ({hint}); to open a workspace file of that name: facture open {word}")
}

/// Names within a small edit distance of `word` (or that it is a prefix of), closest first.
pub fn close_words(word: &str, names: &[String]) -> Vec<String> {
    let word = word.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let d = edit_distance(&word, n);
            let near = d <= 2.max(n.chars().count() / 3);
            (near || (word.len() >= 2 && n.starts_with(&word))).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            row.push(sub.min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[b.len()]
}

/// `facture settings WS [NAME VALUE]`.
fn settings(ws: &Workspace, name: Option<&str>, value: Option<&str>) -> Result<()> {
    match (name, value) {
        (None, _) => {
            let store = open_read(ws)?;
            say!("pdf-dpi {}", store.pdf_dpi()?);
            say!("{}", box_padding_line(&store.box_style()?));
            say!("{}", crate::app::boxstyle::captions_setting_line(&store.box_style()?));
            say!("doc-tags {}", doc_tags_text(&store.tag_schema()?));
            Ok(())
        }
        (Some("doc-tags"), Some(v)) => {
            let schema = match v.trim() {
                "default" => crate::domain::TagSchema::default(),
                "none" => crate::domain::TagSchema { tags: Vec::new() },
                spec => parse_doc_tags(spec).map_err(|why| anyhow::anyhow!("doc-tags {why}"))?,
            };
            let mut store = open_write(ws)?;
            store.set_tag_schema(&schema)?;
            say!("document tags from now on: {}", doc_tags_text(&schema));
            let all = crate::store::DocFilter { shelved: crate::store::ShelfFilter::All, ..Default::default() };
            let stale = store.documents(&all)?.iter().filter(|d| schema.problem(&d.tags).is_some()).count();
            if stale > 0 {
                warn(format_args!(
                    "{stale} document(s) carry tags or values these lack: kept until the document's tags are next changed"
                ));
            }
            Ok(())
        }
        (Some("doc-tags"), None) => bail!(
            "doc-tags needs a value: TAG=VALUE,VALUE;TAG=… (e.g. `facture settings WS doc-tags 'document_type=invoice,credit_note;language=de,en,fr'`), `default` or `none`"
        ),
        (Some("box-captions"), Some(v)) => {
            say!("{}", crate::app::boxstyle::set_captions_setting(&mut open_write(ws)?, v)?);
            Ok(())
        }
        (Some("box-captions"), None) => bail!(
            "box-captions needs a value: joined (one box per caption and value), split (a box each) or learned, e.g. `facture settings WS box-captions split`"
        ),
        (Some("box-padding"), Some("learned")) => {
            let mut store = open_write(ws)?;
            store.set_box_style(None)?;
            say!("box padding: the learned style from now on ({})", box_padding_line(&store.box_style()?));
            Ok(())
        }
        (Some("box-padding"), Some(v)) => {
            let style = crate::domain::BoxStyle::parse(v).map_err(|why| anyhow::anyhow!("box-padding {why}"))?;
            open_write(ws)?.set_box_style(Some(style))?;
            say!("box padding set by hand to {style} (L,T,R,B in line heights); learning no longer changes it");
            Ok(())
        }
        (Some("box-padding"), None) => bail!(
            "box-padding needs a value: L,T,R,B in line heights (e.g. `facture settings WS box-padding 0.1,0.2,0.1,0.2`) or `learned`"
        ),
        (Some("pdf-dpi"), Some(v)) => {
            let dpi: u32 =
                v.parse().map_err(|_| anyhow::anyhow!("pdf-dpi {v}: expected a whole number of dots per inch"))?;
            open_write(ws)?.set_pdf_dpi(dpi)?;
            say!("PDF pages are imported at {dpi} dpi from now on");
            Ok(())
        }
        (Some("pdf-dpi"), None) => bail!("pdf-dpi needs a value, e.g. `facture settings WS pdf-dpi 300`"),
        (Some(other), _) => {
            bail!("unknown setting '{other}' (expected pdf-dpi, box-padding, box-captions or doc-tags)")
        }
    }
}

/// `document_type=invoice,credit_note;language=de,en` → the tag schema it names (tags and
/// values in the order given). Names and values are one token each, as label names are.
fn parse_doc_tags(spec: &str) -> std::result::Result<crate::domain::TagSchema, String> {
    let token = |what: &str, t: &str| {
        if !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            Ok(t.to_string())
        } else {
            Err(format!("'{t}' is not a {what}: use letters, digits, '_', '-' or '.'"))
        }
    };
    let mut tags: Vec<crate::domain::TagDef> = Vec::new();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, values)) = part.split_once('=') else {
            return Err(format!("'{part}' has no '=': write TAG=VALUE,VALUE (e.g. language=de,en)"));
        };
        let name = token("tag name", name.trim())?;
        if tags.iter().any(|t| t.name == name) {
            return Err(format!("{name} is given twice"));
        }
        let mut vals: Vec<String> = Vec::new();
        for v in values.split(',').map(str::trim) {
            let v = token("value", v).map_err(|why| format!("{name}: {why}"))?;
            if vals.contains(&v) {
                return Err(format!("{name}: {v} is given twice"));
            }
            vals.push(v);
        }
        tags.push(crate::domain::TagDef { name, values: vals });
    }
    if tags.is_empty() {
        return Err("names no tag: write TAG=VALUE,VALUE;TAG=… (or `none` for no document tags)".into());
    }
    Ok(crate::domain::TagSchema { tags })
}

/// The tag schema as `doc-tags` takes it (`none` when there are no tags).
fn doc_tags_text(schema: &crate::domain::TagSchema) -> String {
    if schema.tags.is_empty() {
        return "none".into();
    }
    schema.tags.iter().map(|t| format!("{}={}", t.name, t.values.join(","))).collect::<Vec<_>>().join(";")
}

/// `box-padding L,T,R,B (set by hand | learned from N boxes | none)`, as `settings` prints it.
fn box_padding_line(ws: &crate::domain::WorkspaceBoxStyle) -> String {
    match (&ws.set, &ws.learned) {
        (Some(s), Some(l)) => format!("box-padding {s} (set by hand; learned {} from {} boxes)", l.style, l.samples),
        (Some(s), None) => format!("box-padding {s} (set by hand)"),
        (None, Some(l)) => format!("box-padding {} (learned from {} boxes)", l.style, l.samples),
        (None, None) => {
            "box-padding none (machine boxes stay as the source made them; learned once documents are accepted)"
                .to_string()
        }
    }
}

fn open_window(targets: OpenTargets, model: &args::ModelArgs) -> Result<()> {
    let OpenTargets { workspace, documents } = targets;
    // documents without a workspace go to the last one used here, if it is still there
    let workspace = workspace.or_else(|| {
        let settings = crate::app::settings::Settings::default_path()
            .map(|p| crate::app::settings::Settings::load(&p))
            .unwrap_or_default();
        (!documents.is_empty()).then(|| crate::app::open_targets::last_workspace(&settings.recent())).flatten()
    });
    let (workspace, demo) = match workspace {
        Some(Workspace::File(p)) if !p.exists() => {
            bail!("{}: no such workspace (create one with `facture init {}`)", p.display(), p.display());
        }
        Some(ws) => (ws, false),
        None => {
            let dir = crate::app::demo::demo_dir()
                .ok_or_else(|| anyhow::anyhow!("cannot find a data directory for the demo"))?;
            warn(format_args!("opening the demo workspace in {}", dir.display()));
            (
                Workspace::File(crate::app::demo::ensure_demo_workspace(&dir, crate::app::commands::system_now_ms())?),
                true,
            )
        }
    };
    let panels: Vec<Box<dyn crate::ui::Extension>> = vec![
        Box::new(crate::ui::PrelabelPanel::new(model.config())),
        Box::new(crate::ui::DatasetPanel::new(Box::new(crate::ui::RfdDialogs))),
    ];
    crate::ui::run_with(crate::ui::RunOptions { workspace, demo, documents }, panels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            redact_passwords("invalid value 'postgres://lea:s3cret@db:5432/x' for '<WS>'"),
            "invalid value 'postgres://lea:***@db:5432/x' for '<WS>'"
        );
        assert_eq!(redact_passwords("postgres://lea@db/x and http://a:b@c"), "postgres://lea@db/x and http://a:***@c");
    }

    #[test]
    fn close_commands_are_suggested() {
        let names = command_names();
        assert!(names.contains(&"import-dataset".to_string()));
        assert!(!names.contains(&"script-edits".to_string()), "hidden commands are not offered");
        assert_eq!(close_words("imprt", &names).first().map(String::as_str), Some("import"));
        assert_eq!(close_words("expor", &names).first().map(String::as_str), Some("export"));
        assert!(close_words("frobnicate", &names).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn causes_already_in_the_line_are_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("{0} — nothing was imported")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("data.json:3: bad box")]
        struct Inner;
        let e = anyhow::Error::new(Outer(Inner));
        assert_eq!(one_line(&e, None), "data.json:3: bad box — nothing was imported");
        let store = anyhow::Error::new(StoreError::Busy);
        let line = one_line(&store, Some("/w/ws.sqlite"));
        assert!(line.starts_with("/w/ws.sqlite: another process"), "{line}");
        let multi = anyhow::anyhow!("first\n  second\n");
        assert_eq!(one_line(&multi, None), "first second");
    }

    #[test]
    fn doc_tags_read_and_print_the_same_way() {
        let spec = "document_type=invoice,credit_note;language=de,en,fr";
        let schema = parse_doc_tags(&format!(" {spec} ; ")).unwrap();
        assert_eq!(schema.tags[1].values, ["de", "en", "fr"]);
        assert_eq!(doc_tags_text(&schema), spec);
        assert_eq!(doc_tags_text(&crate::domain::TagSchema { tags: vec![] }), "none");
        for (bad, says) in [
            ("language", "has no '='"),
            ("language=de,,en", "'' is not a value"),
            ("language=de;language=en", "language is given twice"),
            ("language=de,de", "de is given twice"),
            ("scan quality=good", "'scan quality' is not a tag name"),
            (";", "names no tag"),
        ] {
            let e = parse_doc_tags(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
