//! Playbooks: plays, tasks, blocks, handlers and static imports as a typed tree. Every file a
//! playbook imports and every role it names is read here, so a typo anywhere fails before
//! anything runs.

mod action;
mod ast;
pub(crate) mod import;
pub(crate) mod keywords;
pub mod kv;
pub(crate) mod loader;
mod play;
pub(crate) mod task;

pub use ast::{
    Action, BatchGate, Block, Import, ImportTarget, Loop, LoopKind, Play, PlayExtensions, Playbook, RoleStore, Task,
    TaskItem, Vars,
};
pub use keywords::{Keywords, Spanned};

use crate::syntax::node::Node;
use crate::syntax::role::RoleSearch;
use crate::syntax::vault::VaultSecrets;
use crate::syntax::{Error, ErrorKind, Result, Span};
use keywords::{find_keyword, key_text, one_or_list, unknown_keyword};
use loader::{Loader, with_fallback_span};
use std::path::Path;

/// Read a playbook, every playbook it imports, every task file it imports and every role it uses.
pub fn load_playbook(path: &Path, roles: &RoleSearch) -> Result<Playbook> {
    load_playbook_with(path, roles, VaultSecrets::new())
}

/// [`load_playbook`], opening inline `!vault` values with `secrets` as the files load.
pub fn load_playbook_with(path: &Path, roles: &RoleSearch, secrets: VaultSecrets) -> Result<Playbook> {
    let mut loader = Loader::with_secrets(roles, secrets);
    let plays = load_plays(path, &mut loader, None)?;
    Ok(Playbook {
        path: path.to_path_buf(),
        plays,
        roles: loader.roles,
    })
}

fn load_plays(path: &Path, loader: &mut Loader, span: Option<&Span>) -> Result<Vec<Play>> {
    loader.with_file(path, span, |l| {
        let node = l.load_yaml(path).map_err(|e| with_fallback_span(e, span))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        // An empty file (or only comments) is almost always the wrong path or a truncated
        // file; ansible-playbook refuses it too rather than running nothing.
        if node.is_null() {
            return Err(Error::at(
                ErrorKind::InvalidValue {
                    what: "playbook".into(),
                    message: "the file is empty, nothing to do".into(),
                },
                &node.span,
            )
            .with_help("a playbook is a list of plays: '- hosts: ...'"));
        }
        let Some(entries) = node.as_seq() else {
            return Err(Error::at(
                ErrorKind::WrongType {
                    what: "a playbook".into(),
                    expected: "a list of plays",
                    found: node.type_name(),
                },
                &node.span,
            )
            .with_help("start each play with '- hosts: ...'"));
        };
        let mut plays = Vec::new();
        for entry in entries {
            let import_key = [
                "import_playbook",
                "ansible.builtin.import_playbook",
                "ansible.legacy.import_playbook",
            ]
            .into_iter()
            .find(|k| entry.get(k).is_some());
            match import_key {
                Some(k) => plays.extend(import_playbook(entry, k, &dir, l)?),
                None => plays.push(play::parse_play(entry, &dir, l)?),
            }
        }
        Ok(plays)
    })
}

/// `- import_playbook: other.yml` with its `vars`, `tags` and `when`, flattened into plays.
fn import_playbook(entry: &Node, import_key: &str, dir: &Path, loader: &mut Loader) -> Result<Vec<Play>> {
    let mut vars = Vars::new();
    let mut tags = Vec::new();
    let mut when = Vec::new();
    for (k, v) in entry.as_map().unwrap_or_default() {
        let key = key_text(k)?;
        if key == import_key {
            continue;
        }
        match find_keyword(&key, &[keywords::IMPORT_PLAYBOOK]) {
            Some("vars") => vars = task::parse_vars(v)?,
            Some("tags") => tags = one_or_list(v),
            Some("when") => when = one_or_list(v),
            Some(_) => {}
            None => {
                return Err(unknown_keyword(
                    k,
                    &key,
                    "import_playbook",
                    &[keywords::IMPORT_PLAYBOOK],
                ));
            }
        }
    }
    let Some(file_node) = entry.get(import_key) else {
        return Ok(Vec::new());
    };
    let Some(file) = file_node.as_str().filter(|s| !s.trim().is_empty()) else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "import_playbook".into(),
                expected: "a file name",
                found: file_node.type_name(),
            },
            &file_node.span,
        ));
    };
    if file.contains("{{") || file.contains("{%") {
        return Err(Error::at(
            ErrorKind::InvalidValue {
                what: "import_playbook".into(),
                message: "the file name must be known before the run starts".into(),
            },
            &file_node.span,
        )
        .with_help("write the file name literally"));
    }
    let path = dir.join(file);
    if !path.is_file() {
        return Err(Error::at(
            ErrorKind::NotFound {
                what: "playbook",
                name: file.to_string(),
                searched: vec![path],
            },
            &file_node.span,
        ));
    }
    let mut plays = load_plays(&path, loader, Some(&file_node.span))?;
    for play in &mut plays {
        for (k, v) in &vars {
            play.vars.insert(k.clone(), v.clone());
        }
        play.import_tags.extend(tags.iter().cloned());
        let mut w = when.clone();
        w.append(&mut play.import_when);
        play.import_when = w;
    }
    Ok(plays)
}

#[cfg(test)]
#[cfg(test)]
mod tests;
