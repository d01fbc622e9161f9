//! Compiling a loaded playbook against the inventory: each play's keywords templated with play
//! and extra vars (never host vars), its hosts resolved and cut into serial batches, its task
//! tree built. Nothing here contacts a host.

use super::inventory_index::InventoryIndex;
use super::patterns::{self, Limit};
use super::roles::RoleExpander;
use super::serial;
use super::tags::TagFilter;
use super::tree::{PlayTree, TreeBuilder, tag_list};
use super::{Error, ErrorKind, Result};
use crate::syntax::Span;
use crate::syntax::playbook::{Play, Playbook, Spanned};
use crate::syntax::vault::{VaultSecrets, load_maybe_encrypted_yaml};
use crate::template::{MapVars, Templar, Vars};
use crate::value::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What every play of a run is compiled against.
pub struct PlanInput<'a> {
    pub inventory: &'a InventoryIndex<'a>,
    pub extra_vars: &'a Map,
    pub limit: Option<&'a Limit>,
    pub tags: &'a TagFilter,
    pub templar: &'a Templar,
    pub secrets: &'a VaultSecrets,
}

/// A compiled playbook.
pub struct PlaybookPlan {
    /// The path as the user gave it.
    pub path: PathBuf,
    pub plays: Vec<PlayPlan>,
    pub playbook: Arc<Playbook>,
}

/// A compiled play.
pub struct PlayPlan {
    /// 1-based, counting imported plays.
    pub number: usize,
    pub name: String,
    /// The `hosts` patterns after templating.
    pub patterns: Vec<String>,
    /// The play's own tags (and those of the import that brought it in), as written.
    pub tags: Vec<String>,
    /// Hosts after `--limit`, in inventory order.
    pub hosts: Vec<String>,
    /// Pattern parts that matched nothing (worth a warning).
    pub unmatched: Vec<String>,
    /// `vars_files` that could be read before the run (those not naming host variables),
    /// in order, with their variables.
    pub vars_files: Vec<(PathBuf, Map)>,
    /// `serial` as written after templating, when given.
    pub serial: Option<Value>,
    pub batches: Vec<Vec<String>>,
    pub tree: PlayTree,
    pub span: Span,
}

impl PlayPlan {
    /// How `hosts` is shown in `play #N (...)`.
    pub fn hosts_label(&self) -> String {
        self.patterns.join(",")
    }
}

pub fn compile_playbook(playbook: Playbook, given: &Path, input: &PlanInput) -> Result<PlaybookPlan> {
    let playbook = Arc::new(playbook);
    let mut plays = Vec::with_capacity(playbook.plays.len());
    for (i, play) in playbook.plays.iter().enumerate() {
        plays.push(compile_play(&playbook, play, i + 1, input)?);
    }
    Ok(PlaybookPlan {
        path: given.to_path_buf(),
        plays,
        playbook,
    })
}

fn compile_play(playbook: &Playbook, play: &Play, number: usize, input: &PlanInput) -> Result<PlayPlan> {
    let vars = play_scope(playbook, play, input);
    let render = |v: &Spanned<Value>, what: &str| -> Result<Value> {
        input.templar.render_value(&v.value, &vars).map_err(|e| {
            Error::new(
                ErrorKind::Template {
                    message: format!("cannot template the play's {what}: {e}"),
                },
                Some(v.span.clone()),
            )
            .with_help("play keywords see play vars and -e extra vars, not host or group vars")
        })
    };

    let patterns = match render(&play.hosts, "hosts")? {
        Value::List(items) => items.iter().map(|v| v.to_string()).collect(),
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    };
    let mut selection = patterns::resolve_list(input.inventory, &patterns, input.limit).map_err(|e| {
        let span = e.span.clone().unwrap_or_else(|| play.hosts.span.clone());
        Error { span: Some(span), ..e }
    })?;
    if let Some(order) = play.keywords.get("order") {
        apply_order(&mut selection.hosts, &render(order, "order")?, &order.span)?;
    }

    let name = match &play.name {
        Some(n) => n.value.to_string(),
        None => patterns.join(","),
    };

    let serial = match play.keywords.get("serial") {
        Some(s) => Some((render(s, "serial")?, s.span.clone())),
        None => None,
    };
    let specs = match &serial {
        Some((v, span)) => serial::parse(v, Some(span))?,
        None => Vec::new(),
    };
    let sizes = serial::batches(selection.hosts.len(), &specs);
    let mut batches = Vec::with_capacity(sizes.len());
    let mut rest = selection.hosts.as_slice();
    for size in sizes {
        let (batch, tail) = rest.split_at(size.min(rest.len()));
        batches.push(batch.to_vec());
        rest = tail;
    }

    let mut tags = Vec::new();
    if let Some(t) = play.keywords.get("tags") {
        tags.extend(tag_list(&t.value));
    }
    for t in &play.import_tags {
        tags.extend(tag_list(&t.value));
    }

    let vars_files = load_vars_files(play, &vars, input)?;
    let tree = TreeBuilder::new(RoleExpander::new(&playbook.roles)?, input.tags).build(play)?;
    Ok(PlayPlan {
        number,
        name,
        patterns,
        tags,
        hosts: selection.hosts,
        unmatched: selection.unmatched,
        vars_files,
        serial: serial.map(|(v, _)| v),
        batches,
        tree,
        span: play.span.clone(),
    })
}

/// The variables play keywords see: play vars under extra vars, plus the magic variables that
/// do not depend on a host.
fn play_scope(playbook: &Playbook, play: &Play, input: &PlanInput) -> Arc<dyn Vars> {
    let mut vars = Map::new();
    for (k, v) in &play.vars {
        vars.insert(k.clone(), v.value.clone());
    }
    for (k, v) in input.extra_vars {
        vars.insert(k.clone(), v.clone());
    }
    vars.insert("groups".into(), input.inventory.groups_var());
    // playbook_dir is the directory of the playbook named on the command line, even for
    // plays it imported.
    let dir = playbook.path.parent().unwrap_or(&play.dir);
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    vars.insert("playbook_dir".into(), Value::Str(dir.to_string_lossy().into_owned()));
    Arc::new(MapVars::new(vars))
}

/// Read every `vars_files` entry whose name is known before the run: a missing file or bad
/// YAML fails now, not after earlier plays ran. A list entry is "the first that exists".
/// Entries naming host variables are read per host when the play runs.
fn load_vars_files(play: &Play, vars: &Arc<dyn Vars>, input: &PlanInput) -> Result<Vec<(PathBuf, Map)>> {
    let mut out = Vec::new();
    for entry in &play.vars_files {
        let Ok(rendered) = input.templar.render_value(&entry.value, vars) else {
            continue;
        };
        let candidates: Vec<PathBuf> = match &rendered {
            Value::List(items) => items.iter().map(|v| play.dir.join(v.to_string())).collect(),
            other => vec![play.dir.join(other.to_string())],
        };
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return Err(Error::from(
                crate::syntax::Error::at(
                    crate::syntax::ErrorKind::NotFound {
                        what: "vars file",
                        name: rendered.to_string(),
                        searched: candidates.clone(),
                    },
                    &entry.span,
                )
                .with_help("vars_files paths are relative to the playbook's directory"),
            ));
        };
        let node = load_maybe_encrypted_yaml(path, input.secrets)?;
        let map = match node.to_value() {
            Value::Map(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(Error::from(crate::syntax::Error::at(
                    crate::syntax::ErrorKind::WrongType {
                        what: format!("vars file {}", path.display()),
                        expected: "a mapping of variable names to values",
                        found: other.type_name(),
                    },
                    &node.span,
                )));
            }
        };
        out.push((path.clone(), map));
    }
    Ok(out)
}

/// `order:` — the sequence hosts run in, and so how serial batches are cut.
fn apply_order(hosts: &mut [String], order: &Value, span: &Span) -> Result<()> {
    match order.to_string().as_str() {
        "inventory" => {}
        "reverse_inventory" => hosts.reverse(),
        "sorted" => hosts.sort(),
        "reverse_sorted" => {
            hosts.sort();
            hosts.reverse();
        }
        "shuffle" => {
            // A fresh order per run without a random-number crate: hash each name with a
            // per-process random key.
            use std::hash::BuildHasher;
            let state = std::collections::hash_map::RandomState::new();
            hosts.sort_by_key(|h| state.hash_one(h));
        }
        other => {
            return Err(Error::new(
                ErrorKind::Template {
                    message: format!(
                        "order '{other}' is not one of inventory, reverse_inventory, sorted, reverse_sorted, shuffle"
                    ),
                },
                Some(span.clone()),
            ));
        }
    }
    Ok(())
}
