//! A lead's commands: the label schema (`labels`), housekeeping (`docs archive|delete|restore|
//! priority`), bulk assignment (`assign`) and `search`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::args::{DocsCmd, LabelsCmd};
use super::{close_words, open_read, open_write, say};
use crate::app::housekeeping::{self, AssignFilter, SearchQuery, VerdictQuery};
use crate::app::schema::{self, SchemaOp};
use crate::app::{CommandError, Session};
use crate::domain::{DocId, DocStatus, Label, Role, Shelf, User};
use crate::store::{DocFilter, ShelfFilter, Store, Workspace};

/// The lead a change is made as: `--as NAME`, else the signed-in member on a server, else the
/// workspace's only lead.
fn lead(store: &Store, as_lead: Option<&str>) -> Result<User> {
    let user = match as_lead {
        Some(name) => store.user_by_name(name)?.with_context(|| format!("no user named {name}"))?,
        None => match store.signed_in_member()? {
            Some(me) => me,
            None => {
                let leads: Vec<User> = store.users()?.into_iter().filter(|u| u.role == Role::Lead).collect();
                match leads.as_slice() {
                    [one] => one.clone(),
                    [] => bail!("the workspace has no lead; add one with: facture users WS add NAME --role lead"),
                    many => {
                        let names: Vec<&str> = many.iter().map(|u| u.name.as_str()).collect();
                        bail!("the workspace has several leads ({}); say which with --as NAME", names.join(", "))
                    }
                }
            }
        },
    };
    if user.role != Role::Lead {
        bail!("{} is {}, not a lead; only leads can do this", user.name, user.role.as_str());
    }
    Ok(user)
}

fn lead_session(ws: &Workspace, as_lead: Option<&str>) -> Result<Session> {
    let store = open_write(ws)?;
    let user = lead(&store, as_lead)?;
    Ok(Session::new(store, user))
}

/// A label by name (case-insensitive), with "did you mean" when there is none.
fn label_named(store: &Store, name: &str) -> Result<Label> {
    let labels = store.labels()?;
    if let Some(l) = labels.iter().find(|l| l.name.to_lowercase() == name.trim().to_lowercase()) {
        return Ok(l.clone());
    }
    let names: Vec<String> = labels.iter().map(|l| l.name.clone()).collect();
    let close = close_words(name, &names);
    let hint = if close.is_empty() { String::new() } else { format!("; did you mean {}?", close.join(" or ")) };
    bail!("there is no label named {name}{hint}")
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn color(s: &str) -> Result<[u8; 3]> {
    schema::parse_color(s).map_err(anyhow::Error::msg)
}

pub fn labels(ws: &Workspace, action: LabelsCmd, as_lead: Option<&str>) -> Result<()> {
    if let LabelsCmd::Examples { name } = &action {
        let store = open_read(ws)?;
        let label = label_named(&store, name)?;
        for e in store.label_examples(label.id)? {
            let doc = e.doc.map_or_else(|| "-".to_string(), |d| d.to_string());
            let kind = if e.good { "example" } else { "not" };
            say!("{}	{kind}	{doc}	{}	{}", e.id, e.text, e.note);
        }
        return Ok(());
    }
    if let LabelsCmd::List = action {
        let store = open_read(ws)?;
        for l in store.labels()? {
            let retired = if l.retired { "\tretired" } else { "" };
            say!("{}\t{}\t{}\t{}{retired}", l.id, l.name, hex(l.color), l.hotkey.unwrap_or_default());
        }
        say!("schema version {}", schema::schema_version(&store)?);
        return Ok(());
    }
    let mut session = lead_session(ws, as_lead)?;
    let store = session.store();
    let op = match action {
        LabelsCmd::List => unreachable!("handled above"),
        LabelsCmd::Pin { ann, not, note } => {
            let id = crate::app::guidelines::pin_example(&mut session, crate::domain::AnnId(ann), !not, &note)?;
            say!("pinned example {id}");
            return Ok(());
        }
        LabelsCmd::Unpin { example } => {
            crate::app::guidelines::unpin_example(&mut session, crate::domain::ExampleId(example))?;
            say!("unpinned example {example}");
            return Ok(());
        }
        LabelsCmd::Examples { .. } => unreachable!("handled above"),
        LabelsCmd::Undo => {
            let what = schema::undo(&mut session)?;
            say!("undid {}", what.replace('_', " "));
            return Ok(());
        }
        LabelsCmd::Redo => {
            let what = schema::redo(&mut session)?;
            say!("redid {}", what.replace('_', " "));
            return Ok(());
        }
        LabelsCmd::Add { name, color: c, hotkey, guideline } => SchemaOp::Add {
            name,
            color: c.as_deref().map(color).transpose()?,
            hotkey,
            guideline: guideline.unwrap_or_default(),
        },
        LabelsCmd::Rename { old, new } => SchemaOp::Rename { label: label_named(store, &old)?.id, to: new },
        LabelsCmd::Retire { name } => SchemaOp::Retire { label: label_named(store, &name)?.id },
        LabelsCmd::Reinstate { name } => SchemaOp::Reinstate { label: label_named(store, &name)?.id },
        LabelsCmd::Merge { from, into } => {
            SchemaOp::Merge { from: label_named(store, &from)?.id, into: label_named(store, &into)?.id }
        }
        LabelsCmd::Move { name, position } => {
            if position == 0 {
                bail!("positions start at 1");
            }
            SchemaOp::Move { label: label_named(store, &name)?.id, to: position - 1 }
        }
        LabelsCmd::Set { name, color: c, hotkey, guideline } => {
            let label = label_named(store, &name)?.id;
            let mut ops = Vec::new();
            if let Some(c) = c {
                ops.push(SchemaOp::SetColor { label, color: color(&c)? });
            }
            if let Some(h) = hotkey {
                let hotkey = (!matches!(h.trim(), "none" | "")).then_some(h);
                ops.push(SchemaOp::SetHotkey { label, hotkey });
            }
            if let Some(text) = guideline {
                ops.push(SchemaOp::SetGuideline { label, text });
            }
            if ops.is_empty() {
                bail!("nothing to set: give --color, --hotkey or --guideline");
            }
            // all checked before any is written, so a bad hotkey does not leave a new colour
            for op in &ops {
                schema::changes_for(session.store(), op)?;
            }
            for op in ops {
                schema::apply(&mut session, op)?;
            }
            say!("updated {name}");
            return Ok(());
        }
    };
    let what = op.action().trim_start_matches("label_").to_string();
    let out = schema::apply(&mut session, op)?;
    match what.as_str() {
        "merge" => say!("merged: {} box(es) relabelled", out.boxes),
        "add" => say!("added label {}", out.added.map_or_else(String::new, |l| l.to_string())),
        other => say!("{other}: done"),
    }
    Ok(())
}

pub fn docs(ws: &Workspace, action: Option<DocsCmd>, as_lead: Option<&str>) -> Result<()> {
    let (shelf, ids): (Option<Shelf>, Vec<i64>) = match action {
        None => return list(ws, ShelfFilter::Live),
        Some(DocsCmd::List { shelved, all }) => {
            let which = if all {
                ShelfFilter::All
            } else if shelved {
                ShelfFilter::Shelved
            } else {
                ShelfFilter::Live
            };
            return list(ws, which);
        }
        Some(DocsCmd::Priority { priority, ids }) => {
            let mut session = lead_session(ws, as_lead)?;
            let ids = doc_ids(session.store(), &ids)?;
            let n = housekeeping::for_each_doc(&mut session, &ids, |doc| crate::app::Command::SetPriority {
                doc,
                priority,
            })?;
            say!("priority {priority}: {n} document(s) changed");
            return Ok(());
        }
        Some(DocsCmd::Archive { ids }) => (Some(Shelf::Archived), ids),
        Some(DocsCmd::Delete { ids }) => (Some(Shelf::Deleted), ids),
        Some(DocsCmd::Restore { ids }) => (None, ids),
    };
    let mut session = lead_session(ws, as_lead)?;
    let ids = doc_ids(session.store(), &ids)?;
    let n = housekeeping::shelve(&mut session, &ids, shelf)?;
    say!("{}: {n} document(s)", shelf.map_or("restored", |s| s.as_str()));
    Ok(())
}

/// Checks every id names a document before anything is changed.
fn doc_ids(store: &Store, ids: &[i64]) -> Result<Vec<DocId>> {
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        store.document(DocId(id)).map_err(|_| anyhow::anyhow!("there is no document {id}"))?;
        if !out.contains(&DocId(id)) {
            out.push(DocId(id));
        }
    }
    Ok(out)
}

fn list(ws: &Workspace, shelved: ShelfFilter) -> Result<()> {
    let store = open_read(ws)?;
    for d in store.documents(&DocFilter { shelved, ..Default::default() })? {
        let n = store.annotations(d.id)?.len();
        let mut extra = String::new();
        if let Some(s) = d.shelved {
            extra.push('\t');
            extra.push_str(s.as_str());
        }
        if d.priority != 0 {
            extra.push_str(&format!("\tpriority {}", d.priority));
        }
        say!("{}\t{}\t{}\t{}×{}\t{n} boxes{extra}", d.id, d.status.as_str(), d.display_name(), d.width, d.height);
    }
    Ok(())
}

fn status(s: &Option<String>) -> Result<Option<DocStatus>> {
    s.as_deref().map(|s| s.parse::<DocStatus>().map_err(anyhow::Error::msg)).transpose()
}

pub struct AssignArgs {
    pub to: String,
    pub status: Option<String>,
    pub folder: Option<PathBuf>,
    pub unassigned: bool,
    pub vendor: Option<String>,
    pub imported: Option<String>,
    pub limit: Option<usize>,
    pub as_lead: Option<String>,
}

pub fn assign(ws: &Workspace, a: AssignArgs) -> Result<()> {
    let mut session = lead_session(ws, a.as_lead.as_deref())?;
    let to = if a.to == "nobody" {
        None
    } else {
        let u = session.store().user_by_name(&a.to)?.with_context(|| format!("no user named {}", a.to))?;
        if u.role != Role::Annotator && u.role != Role::Lead {
            bail!("{} is a {}; documents are assigned to annotators", u.name, u.role.as_str());
        }
        Some(u.id)
    };
    if let Some(f) = &a.folder
        && !f.is_dir()
    {
        bail!("{}: no such folder", f.display());
    }
    let imported_day = match &a.imported {
        Some(d) => Some(crate::app::stats::parse_date(d).map_err(|e| anyhow::anyhow!("--imported {d}: {e}"))?),
        None => None,
    };
    let filter = AssignFilter {
        status: status(&a.status)?,
        folder: a.folder,
        unassigned: a.unassigned,
        vendor: a.vendor,
        imported_day,
        limit: a.limit,
    };
    let n = housekeeping::assign_matching(&mut session, to, &filter)?;
    say!("assigned {n} document(s) to {}", a.to);
    Ok(())
}

pub struct SearchArgs {
    pub text: Option<String>,
    pub label: Option<String>,
    pub status: Option<String>,
    pub verdict: Option<String>,
    pub annotator: Option<String>,
    /// `NAME=VALUE` each.
    pub tags: Vec<String>,
    pub flags: Vec<String>,
    pub shelved: bool,
    pub json: bool,
}

/// `--tag NAME=VALUE`s as a map (whether the workspace has them is the search's to say).
fn tag_filters(tags: &[String]) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for t in tags {
        let Some((name, value)) = t.split_once('=').map(|(n, v)| (n.trim(), v.trim())) else {
            bail!("--tag {t}: write NAME=VALUE, e.g. --tag language=de");
        };
        if let Some(was) = out.insert(name.to_string(), value.to_string())
            && was != value
        {
            bail!("--tag {name} is given twice, as {name}={was} and {name}={value}");
        }
    }
    Ok(out)
}

/// `--flag NAME`s as one set of flags.
fn flag_filters(flags: &[String]) -> Result<crate::domain::BoxFlags> {
    flags.iter().try_fold(crate::domain::BoxFlags::default(), |set, name| {
        let flag = crate::domain::BoxFlags::from_name(name.trim()).with_context(|| {
            let known: Vec<&str> = crate::domain::BoxFlags::ALL.iter().map(|(_, n)| *n).collect();
            format!("--flag {name}: not a flag (use {})", known.join(", "))
        })?;
        Ok(set.with(flag, true))
    })
}

pub fn search(ws: &Workspace, a: SearchArgs) -> Result<()> {
    let store = open_read(ws)?;
    if let Some(l) = &a.label {
        label_named(&store, l)?;
    }
    let annotator = match &a.annotator {
        Some(n) => Some(store.user_by_name(n)?.with_context(|| format!("no user named {n}"))?.id),
        None => None,
    };
    let q = SearchQuery {
        text: a.text,
        label: a.label,
        status: status(&a.status)?,
        verdict: a.verdict.as_deref().map(VerdictQuery::parse).transpose().map_err(anyhow::Error::msg)?,
        annotator,
        tags: tag_filters(&a.tags)?,
        flags: flag_filters(&a.flags)?,
        shelved: a.shelved,
    };
    let hits = housekeeping::search(&store, &q).map_err(|e: CommandError| anyhow::anyhow!(e))?;
    if a.json {
        say!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    for h in &hits {
        let shelf = h.shelved.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
        let tags: String = h.tags.iter().map(|(k, v)| format!("\t{k}={v}")).collect();
        say!("{}\t{}\t{}{shelf}{tags}", h.doc, h.status, h.name);
        for b in &h.boxes {
            let verdicts = if b.verdicts.is_empty() { String::new() } else { format!("\t[{}]", b.verdicts.join(", ")) };
            let flags = if b.flags.is_empty() { String::new() } else { format!("\t({})", b.flags.join(", ")) };
            say!("\tbox {}\t{}\t{}{verdicts}{flags}", b.id, b.label.as_deref().unwrap_or("-"), b.text);
        }
    }
    Ok(())
}

/// `rotate WS DOC... --quarters N | --by DEG`: turns pages clockwise, their boxes with them, as
/// a lead (`--as` names one, or an annotator turning their own documents).
pub fn rotate(
    ws: &Workspace,
    docs: &[i64],
    quarters: Option<u8>,
    by: Option<&str>,
    as_user: Option<&str>,
) -> Result<()> {
    let quarters = match (quarters, by) {
        (Some(q), _) => q,
        (None, Some("90")) => 1,
        (None, Some("180")) => 2,
        (None, Some("270")) => 3,
        _ => bail!("say how far: --quarters 1|2|3 or --by 90|180|270"),
    };
    let store = open_write(ws)?;
    let user = match as_user {
        Some(name) => {
            let u = store.user_by_name(name)?.with_context(|| format!("no user named {name}"))?;
            if !matches!(u.role, Role::Lead | Role::Annotator) {
                bail!("{} is {}; leads and annotators turn pages", u.name, u.role.as_str());
            }
            u
        }
        None => lead(&store, None)?,
    };
    let mut session = Session::new(store, user);
    let ids = doc_ids(session.store(), docs)?;
    let n = housekeeping::for_each_doc(&mut session, &ids, |doc| crate::app::Command::RotatePage { doc, quarters })?;
    say!("rotated {n} document(s) by {}°", u32::from(quarters) * 90);
    Ok(())
}
