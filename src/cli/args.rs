//! The command line's grammar (clap types only; `cli::run` dispatches).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::store::Workspace;

/// A workspace argument: a file path, or a `postgres://` URL.
fn parse_dpi(s: &str) -> Result<u32, String> {
    let dpi: u32 = s.parse().map_err(|_| format!("'{s}' is not a whole number of dots per inch"))?;
    if !crate::pdf::DPI_RANGE.contains(&dpi) {
        return Err(format!("{dpi} dpi is outside {}–{}", crate::pdf::DPI_RANGE.start(), crate::pdf::DPI_RANGE.end()));
    }
    Ok(dpi)
}

fn parse_workspace(s: &str) -> Result<Workspace, String> {
    Workspace::parse(s).map_err(|e| e.to_string())
}

#[derive(Parser)]
#[command(
    name = "facture",
    version,
    disable_version_flag = true,
    about = "Annotate scanned invoices for document-AI training data",
    after_help = "Given documents or folders instead of a workspace (as a file manager does), the window offers \
                  to import them into the last workspace or a new one."
)]
pub struct Cli {
    /// Print the version, the commit, and the ONNX Runtime, OCR models and PDFium it will use
    #[arg(short = 'V', long)]
    pub version: bool,
    /// Workspace to open in the window: a file, or postgres://USER@HOST:PORT/DBNAME (default:
    /// the demo workspace, created on first run); and/or documents and folders to import
    #[arg(value_name = "WORKSPACE|DOCUMENT")]
    pub open: Vec<String>,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Subcommand)]
pub enum Cmd {
    /// Print a shell completion script: `facture completions bash > /etc/bash_completion.d/facture`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on standard output
    #[command(hide = true)]
    Manpage,
    /// Open a workspace in the window (also one whose name looks like a command).
    Open {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
    },
    /// Create a new, empty workspace with the default invoice schema.
    Init {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
    },
    /// Import pages from files and folders: images (PNG, JPEG, TIFF incl. multi-page, BMP,
    /// WebP) and PDFs (one document per page, rendered at --dpi; coordinates are in those pixels)
    Import {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Resolution PDF pages are rendered at (50–600; default: the workspace's setting, see
        /// `facture settings`, else 200); images keep their own pixels
        #[arg(long, value_parser = parse_dpi)]
        dpi: Option<u32>,
        /// Read the password of protected PDFs from one line of standard input (never from the
        /// command line; never stored: the workspace keeps an unprotected copy instead)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Render synthetic scanned invoices with exact ground-truth JSON beside each image.
    Synth {
        #[arg(long, default_value_t = 10)]
        count: u32,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// jpeg (scans), pdf (born-digital PDFs with a text layer) or scanned-pdf (the same
        /// scans wrapped in PDFs); ground truth per page either way
        #[arg(long, default_value = "jpeg", value_parser = ["jpeg", "pdf", "scanned-pdf"])]
        format: String,
        /// The hard variety: the same invoices set in DejaVu, Liberation Sans or Liberation
        /// Serif, tilted 1–3°, with figures only 1–3 digit widths apart and more blur
        #[arg(long)]
        hard: bool,
    },
    /// Show the workspace's settings, or set one (leads): `pdf-dpi N`, the resolution PDF
    /// pages are imported at (pages already imported keep theirs); `box-padding L,T,R,B`, how
    /// far boxes reach beyond their ink on each side in line heights (machine suggestions and
    /// drawn boxes follow it), or `box-padding learned` to use the style learned from
    /// accepted boxes again; `box-captions joined|split|learned`, whether a caption and its
    /// value on one line are one box or two in machine suggestions (learned from accepted
    /// boxes unless set); `doc-tags 'document_type=invoice,credit_note;language=de,en,fr'`, the
    /// document tags and the values each may take (`default`: document type, language, scan
    /// quality; `none`: no tags).
    Settings {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// pdf-dpi, box-padding, box-captions or doc-tags
        name: Option<String>,
        value: Option<String>,
    },
    /// List or add users.
    Users {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[command(subcommand)]
        action: UsersCmd,
    },
    /// Show or change the label schema (leads): list, add, rename, set, move, retire,
    /// reinstate, merge, undo, redo. Every change is one edit of the log.
    Labels {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[command(subcommand)]
        action: LabelsCmd,
        /// The lead making the change (default: the workspace's lead, if it has exactly one)
        #[arg(long = "as", value_name = "LEAD", global = true)]
        as_lead: Option<String>,
    },
    /// List documents, or archive, delete (soft), restore or prioritise them (leads).
    Docs {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[command(subcommand)]
        action: Option<DocsCmd>,
        /// The lead making the change (default: the workspace's lead, if it has exactly one)
        #[arg(long = "as", value_name = "LEAD", global = true)]
        as_lead: Option<String>,
    },
    /// Assign the documents a filter takes to an annotator (leads), in queue order.
    Assign {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// The annotator, or `nobody` to take the assignment back
        #[arg(long)]
        to: String,
        /// Only documents with this status (default: every one not yet accepted)
        #[arg(long)]
        status: Option<String>,
        /// Only documents whose file lies in this folder
        #[arg(long)]
        folder: Option<PathBuf>,
        /// Only documents nobody is assigned to yet
        #[arg(long)]
        unassigned: bool,
        /// Only documents whose vendor_name box reads like this (part of the name is enough)
        #[arg(long)]
        vendor: Option<String>,
        /// Only documents imported on this day (YYYY-MM-DD, UTC): one import batch
        #[arg(long, value_name = "YYYY-MM-DD")]
        imported: Option<String>,
        /// At most this many
        #[arg(long)]
        limit: Option<usize>,
        /// The lead making the change (default: the workspace's lead, if it has exactly one)
        #[arg(long = "as", value_name = "LEAD")]
        as_lead: Option<String>,
    },
    /// Rotate pages in quarter turns clockwise (leads, and annotators on their own documents);
    /// their boxes follow. One undo step per document.
    Rotate {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// Document ids
        #[arg(required = true)]
        docs: Vec<i64>,
        /// Quarter turns clockwise: 1, 2 or 3
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
        #[arg(required_unless_present = "by", conflicts_with = "by")]
        quarters: Option<u8>,
        /// Degrees clockwise: 90, 180 or 270
        #[arg(long, value_parser = ["90", "180", "270"])]
        by: Option<String>,
        /// The person turning them (default: the workspace's lead, if it has exactly one)
        #[arg(long = "as", value_name = "USER")]
        as_user: Option<String>,
    },
    /// Find documents by box text, label, flag, status, tag, annotator or review verdict, e.g. every
    /// document where total_amount was corrected in review:
    /// `search WS --label total_amount --verdict corrected`.
    Search {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// Text a box holds (case-insensitive substring)
        #[arg(long)]
        text: Option<String>,
        /// A box's label
        #[arg(long)]
        label: Option<String>,
        /// The document's status (new, in_progress, submitted, in_review, accepted, rejected, rework)
        #[arg(long)]
        status: Option<String>,
        /// A verdict a box was given in review: corrected (any but ok), ok, wrong_box,
        /// wrong_label, wrong_text, missing, spurious
        #[arg(long)]
        verdict: Option<String>,
        /// Documents assigned to this person or with boxes they drew
        #[arg(long)]
        annotator: Option<String>,
        /// Documents tagged so, e.g. `--tag language=de` (repeat: every one must hold)
        #[arg(long = "tag", value_name = "NAME=VALUE")]
        tags: Vec<String>,
        /// Boxes with this flag: difficult, illegible or handwritten (repeat: all of them)
        #[arg(long = "flag", value_name = "NAME")]
        flags: Vec<String>,
        /// Search archived and deleted documents too
        #[arg(long)]
        shelved: bool,
        /// One JSON array on standard output
        #[arg(long)]
        json: bool,
    },
    /// Export a versioned dataset (accepted documents, or all with --all), or reproduce one.
    Export {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
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
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// coco, yolo, voc, funsd, ppocr, csv, labelstudio, labelstudio-min, facture-json
        #[arg(long)]
        format: String,
        path: PathBuf,
        /// Another folder the dataset's images may be taken from (images are otherwise taken
        /// only from inside the dataset's own folder). Repeatable.
        #[arg(long = "images", value_name = "DIR")]
        images: Vec<PathBuf>,
        /// Give the dataset's label FOREIGN the schema's LABEL (`FOREIGN=` imports those boxes
        /// unlabelled). Repeatable, or comma-separated: `--map Total=total_amount,Stamp=`. A
        /// label name the schema lacks and no mapping names stops the import.
        #[arg(long = "map", value_name = "FOREIGN=LABEL", value_delimiter = ',')]
        map: Vec<crate::app::dataset::LabelMapping>,
    },
    /// List recorded dataset versions and what changed between them.
    Versions {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
    },
    /// Write the annotation guide: every label's guideline with the examples leads pinned to
    /// it, as one self-contained HTML page (FILE.html) or Markdown with its crops in a `guide`
    /// folder beside it (FILE.md). Every dataset export carries it too.
    Guide {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// FILE.html or FILE.md
        #[arg(long)]
        out: PathBuf,
    },
    /// Load ground-truth JSONs (with their images, from inside DIR) as annotations.
    ImportGt {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        dir: PathBuf,
    },
    /// Add pre-annotation suggestions (CV proposals, the OCR model, or a PDF's text layer) to documents.
    Prelabel {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// cv, model, pdf-text (a PDF page's own text layer), or best (per page: the text layer
        /// of a born-digital PDF page, else the model)
        #[arg(long)]
        source: String,
        /// One document (default: every document still being annotated).
        #[arg(long, conflicts_with = "all")]
        doc: Option<i64>,
        /// Every document still being annotated, whoever it is assigned to (the default).
        #[arg(long)]
        all: bool,
        /// Record the suggestions as this person's (undoable in their window); by default they
        /// are machine work, recorded under no person.
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Turn suggestions into annotations, recorded as USER's accepts (undoable in the window).
    Accept {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        /// Which suggestions: cv, model, pdf-text, or any
        #[arg(long)]
        source: String,
        /// One document (default: every document still being annotated).
        #[arg(long, conflicts_with = "all")]
        doc: Option<i64>,
        /// Every document still being annotated (the default).
        #[arg(long)]
        all: bool,
        /// Only suggestions whose confidence is at least this (0–1).
        #[arg(long, default_value_t = 0.0)]
        min_score: f32,
        /// The person accepting (annotator of the documents, or a lead).
        #[arg(long)]
        user: String,
    },
    /// Score a pre-annotation source against ground-truth JSONs (images or PDFs beside them).
    Eval {
        #[arg(long)]
        gt: PathBuf,
        /// cv, model or pdf-text
        #[arg(long)]
        source: String,
        #[arg(long, default_value_t = 0.5)]
        iou: f32,
        /// One machine-readable JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Also score the field labels suggested for the matched boxes (the rules, plus a
        /// model learned from --train or --leave-one-out).
        #[arg(long)]
        labels: bool,
        /// Learn first from these ground-truth folders, as if they had been reviewed: the box
        /// style (how far boxes reach beyond their ink), applied to the source's boxes, and
        /// with --labels the field labels.
        #[arg(long)]
        train: Vec<PathBuf>,
        /// Style (and with --labels, label) each page with what was learned from all the other
        /// pages of --gt (and --train).
        #[arg(long)]
        leave_one_out: bool,
        /// With --train or --leave-one-out: score the source's boxes as it made them (learn
        /// only the labels).
        #[arg(long)]
        no_box_style: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Train the workspace's field-label model on its reviewed documents now, and print how
    /// well it does (cross-validated by document).
    TrainLabels {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[arg(long)]
        json: bool,
    },
    /// Throughput and accuracy per person, from the workspace's own edit log.
    Stats {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
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
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[command(subcommand)]
        action: ObjectivesCmd,
    },
    /// Generate a large, realistic workspace (for benchmarks and trying the stats panel).
    SynthWorkspace {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
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
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[command(subcommand)]
        action: ReviewCmd,
    },
    /// Find moved image files under DIR by content hash and point the workspace at them.
    Relink {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        dir: PathBuf,
    },
    /// Copy a whole workspace between a file and a server, either way (the target must be a new
    /// file or an empty database; the source is only read).
    Migrate {
        #[arg(value_parser = parse_workspace)]
        from: Workspace,
        #[arg(value_parser = parse_workspace)]
        to: Workspace,
    },
    /// Save what can still be read from a damaged workspace into a new workspace file.
    Recover {
        /// The damaged workspace file (only read).
        workspace: PathBuf,
        /// The new workspace file to create.
        into: PathBuf,
    },
    /// Applies COUNT scripted edits through the command layer, printing "ack N" after each
    /// durable edit (used by the crash test).
    #[command(hide = true)]
    ScriptEdits {
        #[arg(value_parser = parse_workspace)]
        workspace: Workspace,
        #[arg(long)]
        doc: i64,
        #[arg(long)]
        count: u32,
        #[arg(long, default_value = "alice")]
        user: String,
    },
}

impl Cmd {
    /// The workspace the command works on, if any (named in errors about the workspace).
    pub fn workspace(&self) -> Option<String> {
        use Cmd::*;
        match self {
            Open { workspace }
            | Init { workspace }
            | Import { workspace, .. }
            | Settings { workspace, .. }
            | Users { workspace, .. }
            | Labels { workspace, .. }
            | Docs { workspace, .. }
            | Assign { workspace, .. }
            | Rotate { workspace, .. }
            | Search { workspace, .. }
            | Export { workspace, .. }
            | ImportDataset { workspace, .. }
            | Versions { workspace }
            | Guide { workspace, .. }
            | ImportGt { workspace, .. }
            | Prelabel { workspace, .. }
            | Accept { workspace, .. }
            | Stats { workspace, .. }
            | Objectives { workspace, .. }
            | SynthWorkspace { workspace, .. }
            | Review { workspace, .. }
            | Relink { workspace, .. }
            | ScriptEdits { workspace, .. }
            | TrainLabels { workspace, .. } => Some(workspace.to_string()),
            Recover { workspace, .. } => Some(workspace.display().to_string()),
            Migrate { from, .. } => Some(from.to_string()),
            Synth { .. } | Eval { .. } | Completions { .. } | Manpage => None,
        }
    }
}

#[derive(Subcommand)]
pub enum UsersCmd {
    /// Add a person (on a server: a login, its password read from the terminal or stdin).
    Add {
        name: String,
        #[arg(long)]
        role: String,
    },
    List,
    /// Set a person's passphrase on a workspace file (read from the terminal or stdin).
    Passphrase {
        name: String,
    },
    /// Whether a workspace file asks for passphrases at sign-in: `required` or `open`.
    SignIn {
        mode: String,
    },
}

/// Where the OCR model pass finds ONNX Runtime and its models (defaults: provisioned at build).
#[derive(clap::Args, Clone, Default)]
pub struct ModelArgs {
    /// Path to libonnxruntime (else ORT_DYLIB_PATH, else the copy installed with Facture in
    /// ../lib/facture beside the binary, else the build's own; see --version).
    #[arg(long)]
    pub ort_lib: Option<PathBuf>,
    /// Directory with the ONNX models (and optionally facture-models.json); else
    /// FACTURE_MODEL_DIR, else the models installed with Facture.
    #[arg(long)]
    pub model_dir: Option<PathBuf>,
}

impl ModelArgs {
    pub fn config(&self) -> crate::prelabel::model::ModelConfig {
        crate::prelabel::model::ModelConfig {
            ort_lib: self.ort_lib.clone(),
            model_dir: self.model_dir.clone(),
            ..Default::default()
        }
    }
}

#[derive(Subcommand)]
pub enum ReviewCmd {
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
pub enum ObjectivesCmd {
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
pub enum LabelsCmd {
    /// The schema in palette order: id, name, colour, hotkey, retired; and its version.
    List,
    /// Add a label at the end of the palette.
    Add {
        name: String,
        /// #rrggbb (default: a colour unlike the others')
        #[arg(long)]
        color: Option<String>,
        /// A digit 0–9 or shift+digit
        #[arg(long)]
        hotkey: Option<String>,
        /// What annotators box and type for it (shown on F1)
        #[arg(long)]
        guideline: Option<String>,
    },
    /// Rename a label (its boxes keep it).
    Rename { old: String, new: String },
    /// Change a label's colour, hotkey or guideline.
    Set {
        name: String,
        #[arg(long)]
        color: Option<String>,
        /// A digit 0–9 or shift+digit, or `none`
        #[arg(long)]
        hotkey: Option<String>,
        #[arg(long)]
        guideline: Option<String>,
    },
    /// Move a label to a place in the palette (1 = first).
    Move { name: String, position: usize },
    /// Retire a label: it stays on the boxes that have it but can no longer be given.
    Retire { name: String },
    /// Let a retired label be given again.
    Reinstate { name: String },
    /// Relabel every box of FROM as INTO, and remove FROM.
    Merge { from: String, into: String },
    /// Pin a labelled box as an example of its label's guideline (or, with --not, as a
    /// counter-example); `labels WS examples NAME` lists them.
    Pin {
        /// The box (ids as `facture search` prints them)
        #[arg(name = "BOX")]
        ann: i64,
        /// "this is not one": a counter-example
        #[arg(long)]
        not: bool,
        /// Why it is (not) one, shown under the crop
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Unpin a guideline example.
    Unpin { example: i64 },
    /// A label's pinned examples: id, good/not, document, text, note.
    Examples { name: String },
    /// Undo the newest schema change.
    Undo,
    /// Redo the schema change undone last.
    Redo,
}

#[derive(Subcommand)]
pub enum DocsCmd {
    /// Documents with their status (the default).
    List {
        /// Archived and deleted documents only
        #[arg(long)]
        shelved: bool,
        /// Every document, archived and deleted ones too
        #[arg(long, conflicts_with = "shelved")]
        all: bool,
    },
    /// Archive documents: kept, out of queues, exports and stats until restored.
    Archive {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Delete documents (soft: kept with their history; `restore` brings them back).
    Delete {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Bring archived or deleted documents back.
    Restore {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Set where documents come in the queue: higher first, 0 normal (negative: last).
    Priority {
        #[arg(allow_negative_numbers = true)]
        priority: i64,
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

/// Every subcommand's name as typed (for "did you mean" when a word is not one).
pub fn command_names() -> Vec<String> {
    use clap::CommandFactory;
    Cli::command().get_subcommands().filter(|c| !c.is_hide_set()).map(|c| c.get_name().to_string()).collect()
}
