//! Commands about the workspace's people and their work: users, labels, docs, review,
//! objectives, stats (and the crash test's scripted edits).

use crate::store::Workspace;

use anyhow::{Context, Result};

use super::args::{ObjectivesCmd, ReviewCmd, UsersCmd};
use super::{open_read, open_write, say, warn};
use crate::app::{Command, Session};
use crate::domain::{DocId, Rect, Role, UserId};
use crate::store::Store;

pub fn users(ws: &Workspace, action: UsersCmd) -> Result<()> {
    match action {
        UsersCmd::Add { name, role } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let mut store = open_write(ws)?;
            if store.is_postgres() {
                let password = new_password(&name, "password")?;
                let m = store.add_member_login(&name, role, &password)?;
                let login = if m.created_login { "a new login" } else { "the server's existing login of that name" };
                say!("added {} ({}), who signs in with {login}", m.user.name, m.user.role.as_str());
            } else {
                let u = store.add_user(&name, role)?;
                say!("added {} ({})", u.name, u.role.as_str());
            }
        }
        UsersCmd::Passphrase { name } => {
            let mut store = open_write(ws)?;
            let user = store.user_by_name(&name)?.with_context(|| format!("no user named {name}"))?;
            let phc = crate::app::passphrase::hash(&new_password(&name, "passphrase")?).map_err(anyhow::Error::msg)?;
            store.set_passphrase_hash(user.id, Some(&phc))?;
            say!("{name} signs in with the new passphrase");
        }
        UsersCmd::SignIn { mode } => {
            let on = match mode.as_str() {
                "required" => true,
                "open" => false,
                other => anyhow::bail!("sign-in is 'required' or 'open', not '{other}'"),
            };
            open_write(ws)?.set_sign_in_required(on)?;
            say!(
                "{}",
                if on { "everyone signs in with their passphrase now" } else { "no passphrase is asked for now" }
            );
        }
        UsersCmd::List => {
            for u in open_read(ws)?.users()? {
                say!("{}\t{}\t{}", u.id, u.name, u.role.as_str());
            }
        }
    }
    Ok(())
}

/// A new login's password (or passphrase, as `what` says): typed twice without echo at a
/// terminal, else the first line of standard input. Never an argument (arguments show in
/// `ps` and shell history).
fn new_password(name: &str, what: &str) -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("{what} for {name}: "))?;
        let again = rpassword::prompt_password("the same again: ")?;
        anyhow::ensure!(first == again, "the two {what}s differ; nothing was changed");
        anyhow::ensure!(!first.is_empty(), "{name} needs a {what}; nothing was changed");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).with_context(|| format!("reading the {what} from standard input"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    anyhow::ensure!(
        !password.is_empty(),
        "{name} needs a {what}: type it at a terminal, or give it as one line on standard input; nothing was \
         changed"
    );
    Ok(password)
}

pub fn stats(ws: &Workspace, from: Option<String>, to: Option<String>, csv: bool, json: bool) -> Result<()> {
    use crate::app::stats::CliFormat;
    let format = if csv {
        CliFormat::Csv
    } else if json {
        CliFormat::Json
    } else {
        CliFormat::Table
    };
    let store = open_read(ws)?;
    // the report keeps derived caches in the workspace; one that cannot be written gets them
    // in a private in-memory copy instead
    let mut store = if store.is_read_only() { store.copy_to_memory()? } else { store };
    let out = crate::app::stats::stats_cli_output(&mut store, from.as_deref(), to.as_deref(), format)?;
    use std::io::Write as _;
    write!(std::io::stdout(), "{out}")?;
    Ok(())
}

fn user_id(store: &Store, name: &Option<String>) -> Result<Option<UserId>> {
    match name {
        Some(n) => Ok(Some(store.user_by_name(n)?.with_context(|| format!("no user named {n}"))?.id)),
        None => Ok(None),
    }
}

pub fn objectives(ws: &Workspace, action: ObjectivesCmd) -> Result<()> {
    use crate::app::stats::{OBJECTIVE_METRICS, ObjectiveOp, remove_objective, set_objective};
    let session_of = |store: Store, lead: &str| -> Result<Session> {
        let u = store.user_by_name(lead)?.with_context(|| format!("no user named {lead}"))?;
        Ok(Session::new(store, u))
    };
    match action {
        ObjectivesCmd::List => {
            let store = open_read(ws)?;
            let objectives = store.objectives()?;
            for o in &objectives {
                say!("{}\t{} {} {}", user_name(&store, o.user), o.metric, o.op, o.target);
            }
            if objectives.is_empty() {
                let names: Vec<&str> = OBJECTIVE_METRICS.iter().map(|m| m.0).collect();
                warn(format_args!("no objectives; metrics: {}", names.join(", ")));
            }
        }
        ObjectivesCmd::Set { metric, op, target, user, lead } => {
            let store = open_write(ws)?;
            let user = user_id(&store, &user)?;
            let op = ObjectiveOp::parse(&op).with_context(|| format!("'{op}' is not >= or <="))?;
            set_objective(&mut session_of(store, &lead)?, user, &metric, op, target)?;
            say!("set {metric} {} {target}", op.as_str());
        }
        ObjectivesCmd::Remove { metric, user, lead } => {
            let store = open_write(ws)?;
            let user = user_id(&store, &user)?;
            if !remove_objective(&mut session_of(store, &lead)?, user, &metric)? {
                anyhow::bail!("no objective {metric} to remove");
            }
            say!("removed");
        }
    }
    Ok(())
}

fn user_name(store: &Store, id: Option<UserId>) -> String {
    id.and_then(|id| store.user(id).ok()).map_or_else(|| "-".to_string(), |u| u.name)
}

pub fn review(ws: &Workspace, action: ReviewCmd) -> Result<()> {
    let store = open_read(ws)?;
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
            for item in crate::app::review::review_queue(&store, annotator, label)? {
                say!(
                    "{}\t{}\t{}\tround {}\t{} boxes\treviewer {}",
                    item.doc.id,
                    item.doc.display_name(),
                    user_name(&store, item.annotator),
                    item.rounds_done + 1,
                    item.boxes,
                    user_name(&store, item.doc.reviewer)
                );
            }
        }
        ReviewCmd::Show { doc } => {
            let doc = store.document(DocId(doc))?;
            say!("document {} {} ({})", doc.id, doc.display_name(), doc.status.as_str());
            let comments = store.comments(doc.id)?;
            for r in store.rounds(doc.id)? {
                let verdict = r.verdict.map_or("open", |v| match v {
                    crate::domain::DocVerdict::Accept => "accepted",
                    crate::domain::DocVerdict::Reject => "rejected",
                });
                say!("round {}: {verdict} by {}", r.number, user_name(&store, Some(r.reviewer)));
                if !r.comment.is_empty() {
                    say!("  comment: {}", r.comment);
                }
                for v in store.verdicts(r.id)? {
                    let note = if v.comment.is_empty() { String::new() } else { format!(" — {}", v.comment) };
                    say!("  box {}: {}{note}", v.ann, v.verdict.as_str());
                }
                for c in comments.iter().filter(|c| c.round == Some(r.id)) {
                    let on = c.ann.map_or("document".to_string(), |a| format!("box {a}"));
                    say!("  {} on {on}: {}", user_name(&store, Some(c.author)), c.text);
                }
            }
        }
    }
    Ok(())
}

/// Deterministic edits on a document; every "ack" line is printed only after the edit is durable.
pub fn script_edits(ws: &Workspace, doc: DocId, count: u32, user: &str) -> Result<()> {
    use std::io::Write;
    let store = Store::connect(ws)?;
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
