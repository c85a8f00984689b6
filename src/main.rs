//! The `facture` binary: parses the command line, then opens the window or runs one command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use facture::app::commands::system_now_ms;
use facture::app::import::{import_gt, import_paths, relink_dir};
use facture::app::{Command, Session};
use facture::domain::{DocId, Rect, Role};
use facture::store::{DocFilter, Store};

#[derive(Parser)]
#[command(name = "facture", version, about = "Annotate scanned invoices for document-AI training data")]
struct Cli {
    /// Workspace to open in the window (default: the demo workspace, created on first run).
    workspace: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a new, empty workspace with the default invoice schema.
    Init { workspace: PathBuf },
    /// Import page images (PNG, JPEG, TIFF incl. multi-page, BMP, WebP) from files and folders.
    Import {
        workspace: PathBuf,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Render synthetic scanned invoices with exact ground-truth JSON beside each image.
    Synth {
        #[arg(long, default_value_t = 10)]
        count: u32,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// List or add users.
    Users {
        workspace: PathBuf,
        #[command(subcommand)]
        action: UsersCmd,
    },
    /// Show the label schema.
    Labels {
        workspace: PathBuf,
        #[command(subcommand)]
        action: LabelsCmd,
    },
    /// List documents with their status.
    Docs { workspace: PathBuf },
    /// Export a versioned dataset (accepted documents, or all with --all), or reproduce one.
    Export {
        workspace: PathBuf,
        /// coco, yolo, voc, funsd, ppocr, ppocr-kie, csv, facture-json, labelstudio
        #[arg(long, default_value = "facture-json", required_unless_present = "version")]
        format: String,
        #[arg(long)]
        out: PathBuf,
        /// Export every document, not only accepted ones.
        #[arg(long)]
        all: bool,
        /// Train/val/test split, e.g. 80,10,10 (stratified by vendor).
        #[arg(long)]
        split: Option<String>,
        /// Seed of the split and of augmentation.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Symlink images instead of copying them.
        #[arg(long)]
        link_images: bool,
        /// Augmented copies per image (flips, small rotations, scaling, crops, noise).
        #[arg(long)]
        augment: Option<u32>,
        /// Reproduce recorded dataset version N byte for byte instead.
        #[arg(long)]
        version: Option<i64>,
    },
    /// Import a dataset made with another tool into the workspace.
    ImportDataset {
        workspace: PathBuf,
        /// coco, yolo, voc, funsd, ppocr, csv, labelstudio, labelstudio-min, facture-json
        #[arg(long)]
        format: String,
        path: PathBuf,
    },
    /// List recorded dataset versions and what changed between them.
    Versions { workspace: PathBuf },
    /// Load ground-truth JSONs (with their images) as annotations.
    ImportGt { workspace: PathBuf, dir: PathBuf },
    /// Add pre-annotation suggestions (CV proposals or the OCR model) to documents.
    Prelabel {
        workspace: PathBuf,
        /// cv or model
        #[arg(long)]
        source: String,
        /// One document (default: every document not yet submitted).
        #[arg(long, conflicts_with = "all")]
        doc: Option<i64>,
        #[arg(long)]
        all: bool,
        /// Whose suggestions these are (created as a lead if missing).
        #[arg(long, default_value = "facture-cli")]
        user: String,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Score a pre-annotation source against ground-truth JSONs (images beside them).
    Eval {
        #[arg(long)]
        gt: PathBuf,
        /// cv or model
        #[arg(long)]
        source: String,
        #[arg(long, default_value_t = 0.5)]
        iou: f32,
        /// One machine-readable JSON object instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Throughput and accuracy per person, from the workspace's own edit log.
    Stats {
        workspace: PathBuf,
        /// First day, YYYY-MM-DD (UTC).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD (UTC), included.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        #[arg(long)]
        json: bool,
    },
    /// Targets per annotator or for everyone (leads): shown as met/missed in the stats.
    Objectives {
        workspace: PathBuf,
        #[command(subcommand)]
        action: ObjectivesCmd,
    },
    /// Generate a large, realistic workspace (for benchmarks and trying the stats panel).
    SynthWorkspace {
        workspace: PathBuf,
        #[arg(long, default_value_t = 50)]
        users: usize,
        #[arg(long, default_value_t = 2000)]
        documents: usize,
        #[arg(long, default_value_t = 50_000)]
        annotations: usize,
        #[arg(long, default_value_t = 30)]
        days: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Review queue and review history, for scripting.
    Review {
        workspace: PathBuf,
        #[command(subcommand)]
        action: ReviewCmd,
    },
    /// Find moved image files under DIR by content hash and point the workspace at them.
    Relink { workspace: PathBuf, dir: PathBuf },
    /// Applies COUNT scripted edits through the command layer, printing "ack N" after each
    /// durable edit (used by the crash test).
    #[command(hide = true)]
    ScriptEdits {
        workspace: PathBuf,
        #[arg(long)]
        doc: i64,
        #[arg(long)]
        count: u32,
        #[arg(long, default_value = "alice")]
        user: String,
    },
}

#[derive(Subcommand)]
enum UsersCmd {
    Add {
        name: String,
        #[arg(long)]
        role: String,
    },
    List,
}

/// Where the OCR model pass finds ONNX Runtime and its models (defaults: provisioned at build).
#[derive(clap::Args, Clone, Default)]
struct ModelArgs {
    /// Path to libonnxruntime (else ORT_DYLIB_PATH, else the build-time copy).
    #[arg(long)]
    ort_lib: Option<PathBuf>,
    /// Directory with the ONNX models (and optionally facture-models.json).
    #[arg(long)]
    model_dir: Option<PathBuf>,
}

impl ModelArgs {
    fn config(&self) -> facture::prelabel::model::ModelConfig {
        facture::prelabel::model::ModelConfig {
            ort_lib: self.ort_lib.clone(),
            model_dir: self.model_dir.clone(),
            ..Default::default()
        }
    }
}

#[derive(Subcommand)]
enum ReviewCmd {
    /// Submitted documents waiting for review, oldest first.
    List {
        /// Only this annotator's documents.
        #[arg(long)]
        annotator: Option<String>,
        /// Only documents with a box of this label.
        #[arg(long)]
        label: Option<String>,
    },
    /// Every review round of a document with its verdicts and comments.
    Show { doc: i64 },
}

#[derive(Subcommand)]
enum ObjectivesCmd {
    /// Set a target, e.g. `set boxes_per_hour '>=' 40 --lead lea` (ratios as fractions: 0.9).
    Set {
        metric: String,
        /// >= or <=
        op: String,
        target: f64,
        /// Only for this person (default: everyone).
        #[arg(long)]
        user: Option<String>,
        /// The lead setting it.
        #[arg(long)]
        lead: String,
    },
    Remove {
        metric: String,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        lead: String,
    },
    List,
}

#[derive(Subcommand)]
enum LabelsCmd {
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the outermost context and its causes.
            let msg: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("facture: {}", msg.join(": "));
            ExitCode::FAILURE
        }
    }
}

fn open(ws: &Path) -> Result<Store> {
    Ok(Store::open(ws)?)
}

fn run(cli: Cli) -> Result<()> {
    let Some(cmd) = cli.command else {
        return open_window(cli.workspace, &cli.model);
    };
    match cmd {
        Cmd::Init { workspace } => {
            Store::create(&workspace)?;
            println!("created {}", workspace.display());
        }
        Cmd::Import { workspace, paths } => {
            let mut store = open(&workspace)?;
            let report = import_paths(&mut store, &paths, system_now_ms(), |_, _| {})?;
            for (path, reason) in &report.failed {
                eprintln!("skipped {}: {reason}", path.display());
            }
            println!("{}", report.summary());
            if report.added.is_empty() && report.relinked.is_empty() && !report.failed.is_empty() {
                bail!("nothing imported");
            }
        }
        Cmd::Synth { count, out, seed } => {
            let files = facture::synth::write_set(&out, count, seed)?;
            println!("wrote {} invoice(s) with ground truth to {}", files.len(), out.display());
        }
        Cmd::Users { workspace, action } => {
            let mut store = open(&workspace)?;
            match action {
                UsersCmd::Add { name, role } => {
                    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                    let u = store.add_user(&name, role)?;
                    println!("added {} ({})", u.name, u.role.as_str());
                }
                UsersCmd::List => {
                    for u in store.users()? {
                        println!("{}\t{}\t{}", u.id, u.name, u.role.as_str());
                    }
                }
            }
        }
        Cmd::Labels { workspace, action: LabelsCmd::List } => {
            for l in open(&workspace)?.labels()? {
                let [r, g, b] = l.color;
                println!("{}\t{}\t#{r:02x}{g:02x}{b:02x}\t{}", l.id, l.name, l.hotkey.unwrap_or_default());
            }
        }
        Cmd::Docs { workspace } => {
            let store = open(&workspace)?;
            for d in store.documents(&DocFilter::default())? {
                let n = store.annotations(d.id)?.len();
                println!("{}\t{}\t{}\t{}×{}\t{n} boxes", d.id, d.status.as_str(), d.display_name(), d.width, d.height);
            }
        }
        Cmd::Export { workspace, format, out, all, split, seed, link_images, augment, version } => {
            use facture::app::export::{ExportOptions, export, reproduce};
            let mut store = open(&workspace)?;
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let report = match version {
                Some(n) => reproduce(&store, n, &out, &mut |_, _| {}, &cancel)?,
                None => {
                    let format = format.parse().map_err(anyhow::Error::msg)?;
                    let mut opts = ExportOptions::new(format, &out, system_now_ms());
                    opts.all = all;
                    opts.split = split.map(|s| s.parse()).transpose().map_err(anyhow::Error::msg)?;
                    opts.seed = seed;
                    opts.link_images = link_images;
                    opts.augment = augment.map(|count| facture::formats::augment::AugmentOptions { count, seed });
                    match export(&mut store, &opts, &mut |_, _| {}, &cancel) {
                        Err(e @ facture::app::export::ExportError::NoDocuments(_)) if !all => {
                            return Err(anyhow::anyhow!("{e}; use --all to export every document"));
                        }
                        other => other?,
                    }
                }
            };
            println!("{}", report.summary());
        }
        Cmd::ImportDataset { workspace, format, path } => {
            let mut store = open(&workspace)?;
            let format = format.parse().map_err(anyhow::Error::msg)?;
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let report = facture::app::dataset::import_dataset(
                &mut store,
                format,
                &path,
                None,
                system_now_ms(),
                &mut |_, _| {},
                &cancel,
            )?;
            println!("{}", report.summary());
        }
        Cmd::Versions { workspace } => {
            for v in facture::app::export::list_versions(&open(&workspace)?)? {
                println!(
                    "v{}\t{}\t{} document(s)\t{} box(es)\t{}\t{}",
                    v.number,
                    v.format,
                    v.documents,
                    v.boxes,
                    &v.manifest_sha256[..v.manifest_sha256.len().min(12)],
                    v.changes
                );
            }
        }
        Cmd::ImportGt { workspace, dir } => {
            let mut store = open(&workspace)?;
            let report = import_gt(&mut store, &dir, None, system_now_ms())?;
            for (path, reason) in &report.failed {
                eprintln!("skipped {}: {reason}", path.display());
            }
            if !report.unknown_labels.is_empty() {
                eprintln!("labels not in the schema (boxes kept unlabelled): {}", report.unknown_labels.join(", "));
            }
            println!("loaded {} box(es) on {} document(s)", report.boxes, report.documents);
            if report.documents == 0 && !report.failed.is_empty() {
                bail!("nothing loaded");
            }
        }
        Cmd::Prelabel { workspace, source, doc, all, user, model } => {
            prelabel(&workspace, &source, doc, all, &user, &model)?
        }
        Cmd::Eval { gt, source, iou, json, model } => {
            let mut src: Box<dyn facture::prelabel::ProposalSource> = match source.as_str() {
                "cv" => Box::new(facture::prelabel::cv::CvSource::default()),
                "model" => Box::new(facture::prelabel::model::ModelSource::load(&model.config())?),
                other => bail!("unknown source '{other}' (expected cv or model)"),
            };
            let report = facture::prelabel::eval::evaluate(&gt, src.as_mut(), iou)?;
            for (file, reason) in &report.skipped {
                eprintln!("skipped {file}: {reason}");
            }
            if json { println!("{}", report.to_json()) } else { println!("{}", report.to_table().trim_end()) }
        }
        Cmd::Stats { workspace, from, to, csv, json } => {
            use facture::app::stats::CliFormat;
            let format = if csv {
                CliFormat::Csv
            } else if json {
                CliFormat::Json
            } else {
                CliFormat::Table
            };
            let out =
                facture::app::stats::stats_cli_output(&mut open(&workspace)?, from.as_deref(), to.as_deref(), format)?;
            print!("{out}");
        }
        Cmd::Objectives { workspace, action } => objectives(&workspace, action)?,
        Cmd::SynthWorkspace { workspace, users, documents, annotations, days, seed } => {
            let spec = facture::app::synth_workspace::SynthWorkspaceSpec {
                users,
                documents,
                annotations_target: annotations,
                days,
                seed,
            };
            let report = facture::app::synth_workspace::generate(&workspace, &spec)?;
            println!("{report:?}");
        }
        Cmd::Review { workspace, action } => review(&open(&workspace)?, action)?,
        Cmd::Relink { workspace, dir } => {
            let n = relink_dir(&mut open(&workspace)?, &dir)?;
            println!("re-linked {n} file(s)");
        }
        Cmd::ScriptEdits { workspace, doc, count, user } => script_edits(&workspace, DocId(doc), count, &user)?,
    }
    Ok(())
}

fn prelabel(ws: &Path, source: &str, doc: Option<i64>, all: bool, user: &str, model: &ModelArgs) -> Result<()> {
    use facture::app::prelabel_job::{JobEvent, JobKind, run};
    let kind = match source {
        "cv" => JobKind::Cv(Default::default()),
        "model" => JobKind::Model(model.config()),
        other => bail!("unknown source '{other}' (expected cv or model)"),
    };
    let mut store = open(ws)?;
    let user = match store.user_by_name(user)? {
        Some(u) => u,
        None => store.add_user(user, Role::Lead)?,
    };
    let docs: Vec<DocId> = match doc {
        Some(d) => vec![store.document(DocId(d))?.id],
        None => store
            .documents(&DocFilter::default())?
            .into_iter()
            .filter(|d| all || d.status.is_editable_by_annotator())
            .map(|d| d.id)
            .collect(),
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    let control = facture::app::prelabel_job::JobControl::default();
    let printer = std::thread::spawn(move || {
        for ev in rx {
            match ev {
                JobEvent::DocFailed { doc, reason } => eprintln!("document {doc}: {reason}"),
                JobEvent::Progress { done, total, phase } if phase != "done" => {
                    eprintln!("[{}/{total}] {phase}", done + 1)
                }
                _ => {}
            }
        }
    });
    let result = run(Session::new(store, user), &docs, kind, &control, &tx);
    drop(tx);
    let _ = printer.join();
    println!("{}", result.map_err(anyhow::Error::msg)?);
    Ok(())
}

fn objectives(ws: &Path, action: ObjectivesCmd) -> Result<()> {
    use facture::app::stats::{OBJECTIVE_METRICS, ObjectiveOp, remove_objective, set_objective};
    let store = open(ws)?;
    let user_id = |store: &Store, name: &Option<String>| -> Result<Option<facture::domain::UserId>> {
        match name {
            Some(n) => Ok(Some(store.user_by_name(n)?.with_context(|| format!("no user named {n}"))?.id)),
            None => Ok(None),
        }
    };
    let session_of = |store: Store, lead: &str| -> Result<Session> {
        let u = store.user_by_name(lead)?.with_context(|| format!("no user named {lead}"))?;
        Ok(Session::new(store, u))
    };
    match action {
        ObjectivesCmd::List => {
            for o in store.objectives()? {
                println!("{}\t{} {} {}", user_name(&store, o.user), o.metric, o.op, o.target);
            }
            if store.objectives()?.is_empty() {
                let names: Vec<&str> = OBJECTIVE_METRICS.iter().map(|m| m.0).collect();
                eprintln!("no objectives; metrics: {}", names.join(", "));
            }
        }
        ObjectivesCmd::Set { metric, op, target, user, lead } => {
            let user = user_id(&store, &user)?;
            let op = ObjectiveOp::parse(&op).with_context(|| format!("'{op}' is not >= or <="))?;
            set_objective(&mut session_of(store, &lead)?, user, &metric, op, target)?;
            println!("set {metric} {} {target}", op.as_str());
        }
        ObjectivesCmd::Remove { metric, user, lead } => {
            let user = user_id(&store, &user)?;
            let removed = remove_objective(&mut session_of(store, &lead)?, user, &metric)?;
            println!("{}", if removed { "removed" } else { "no such objective" });
        }
    }
    Ok(())
}

fn user_name(store: &Store, id: Option<facture::domain::UserId>) -> String {
    id.and_then(|id| store.user(id).ok()).map_or_else(|| "-".to_string(), |u| u.name)
}

fn review(store: &Store, action: ReviewCmd) -> Result<()> {
    match action {
        ReviewCmd::List { annotator, label } => {
            let annotator = match annotator {
                Some(name) => Some(store.user_by_name(&name)?.with_context(|| format!("no user named {name}"))?.id),
                None => None,
            };
            let label = match label {
                Some(name) => Some(store.label_by_name(&name)?.with_context(|| format!("no label named {name}"))?.id),
                None => None,
            };
            for item in facture::app::review::review_queue(store, annotator, label)? {
                println!(
                    "{}\t{}\t{}\tround {}\t{} boxes\treviewer {}",
                    item.doc.id,
                    item.doc.display_name(),
                    user_name(store, item.annotator),
                    item.rounds_done + 1,
                    item.boxes,
                    user_name(store, item.doc.reviewer)
                );
            }
        }
        ReviewCmd::Show { doc } => {
            let doc = store.document(DocId(doc))?;
            println!("document {} {} ({})", doc.id, doc.display_name(), doc.status.as_str());
            let comments = store.comments(doc.id)?;
            for r in store.rounds(doc.id)? {
                let verdict = r.verdict.map_or("open", |v| match v {
                    facture::domain::DocVerdict::Accept => "accepted",
                    facture::domain::DocVerdict::Reject => "rejected",
                });
                println!("round {}: {verdict} by {}", r.number, user_name(store, Some(r.reviewer)));
                if !r.comment.is_empty() {
                    println!("  comment: {}", r.comment);
                }
                for v in store.verdicts(r.id)? {
                    let note = if v.comment.is_empty() { String::new() } else { format!(" — {}", v.comment) };
                    println!("  box {}: {}{note}", v.ann, v.verdict.as_str());
                }
                for c in comments.iter().filter(|c| c.round == Some(r.id)) {
                    let on = c.ann.map_or("document".to_string(), |a| format!("box {a}"));
                    println!("  {} on {on}: {}", user_name(store, Some(c.author)), c.text);
                }
            }
        }
    }
    Ok(())
}

fn open_window(workspace: Option<PathBuf>, model: &ModelArgs) -> Result<()> {
    let (path, demo) = match workspace {
        Some(p) => {
            if !p.exists() {
                bail!("{}: no such workspace (create one with `facture init {}`)", p.display(), p.display());
            }
            (p, false)
        }
        None => {
            let dir = facture::app::demo::demo_dir().context("cannot find a data directory for the demo")?;
            eprintln!("opening the demo workspace in {}", dir.display());
            (facture::app::demo::ensure_demo_workspace(&dir, system_now_ms())?, true)
        }
    };
    let panels: Vec<Box<dyn facture::ui::Extension>> = vec![
        Box::new(facture::ui::PrelabelPanel::new(model.config())),
        Box::new(facture::ui::DatasetPanel::new(Box::new(facture::ui::RfdDialogs))),
    ];
    facture::ui::run_with(facture::ui::RunOptions { workspace: path, demo }, panels)
}

/// Deterministic edits on a document; every "ack" line is printed only after the edit is durable.
fn script_edits(ws: &Path, doc: DocId, count: u32, user: &str) -> Result<()> {
    use std::io::Write;
    let store = open(ws)?;
    let user = store.user_by_name(user)?.with_context(|| format!("no user named {user}"))?;
    let mut session = Session::new(store, user);
    let mut out = std::io::stdout().lock();
    for i in 0..count {
        let x = (i % 40) as f32 * 20.0;
        let y = (i / 40) as f32 * 12.0;
        let cmd = match i % 3 {
            0 | 1 => Command::AddBox {
                doc,
                rect: Rect::new(x, y, x + 15.0, y + 10.0),
                quad: None,
                label: None,
                text: format!("edit {i}"),
            },
            _ => {
                let last = *session.store().annotations(doc)?.last().map(|a| &a.id).context("no box")?;
                Command::SetText { doc, id: last, text: format!("edit {i}") }
            }
        };
        session.apply(cmd)?;
        writeln!(out, "ack {i}")?;
        out.flush()?;
    }
    Ok(())
}
