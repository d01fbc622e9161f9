//! One play: every key checked, structure parsed, templatable keywords kept raw.

use super::ast::{BatchGate, Play, PlayExtensions, Vars};
use super::keywords::{self as kw, Keywords, Spanned, find_keyword, key_text, unknown_keyword};
use super::loader::{Loader, TaskCtx};
use super::task::{parse_task_list, parse_vars};
use crate::syntax::node::Node;
use crate::syntax::playbook::keywords::BATCH_GATE;
use crate::syntax::role::{RefKind, parse_role_ref};
use crate::syntax::{Error, ErrorKind, Result};
use crate::value::Value;
use std::path::Path;

fn list_of(node: &Node) -> Vec<Spanned<Value>> {
    match node.as_seq() {
        Some(items) => items.iter().map(Spanned::from_node).collect(),
        None if node.is_null() => Vec::new(),
        None => vec![Spanned::from_node(node)],
    }
}

pub(crate) fn parse_play(node: &Node, dir: &Path, loader: &mut Loader) -> Result<Play> {
    let Some(entries) = node.as_map() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "a play".into(),
                expected: "a mapping",
                found: node.type_name(),
            },
            &node.span,
        )
        .with_help("a playbook is a list of plays, each a mapping with at least `hosts:`"));
    };
    let tables: &[&[&'static str]] = &[kw::BASE, kw::PLAY, kw::PLAY_EXTENSIONS];
    let Some(hosts) = node.get("hosts") else {
        return Err(Error::at(
            ErrorKind::Missing {
                what: "hosts".into(),
                context: "the play",
            },
            &node.span,
        )
        .with_help("add `hosts: all` or a host pattern"));
    };
    check_hosts(hosts)?;
    let ctx = TaskCtx {
        dir: dir.to_path_buf(),
        play_dir: dir.to_path_buf(),
        role: None,
        handlers: false,
    };
    let hctx = TaskCtx {
        handlers: true,
        ..ctx.clone()
    };
    let mut play = Play {
        span: node.span.clone(),
        name: None,
        hosts: Spanned::from_node(hosts),
        keywords: Keywords::default(),
        vars: Vars::new(),
        vars_files: Vec::new(),
        vars_prompt: Vec::new(),
        roles: Vec::new(),
        pre_tasks: Vec::new(),
        tasks: Vec::new(),
        post_tasks: Vec::new(),
        handlers: Vec::new(),
        import_when: Vec::new(),
        import_tags: Vec::new(),
        dir: dir.to_path_buf(),
        extensions: PlayExtensions::default(),
    };
    for (k, v) in entries {
        let key = key_text(k)?;
        let Some(word) = find_keyword(&key, tables) else {
            let e = unknown_keyword(k, &key, "a play", tables);
            return Err(if crate::modules::registry::lookup(&key).is_some() {
                e.with_help("modules go in a task under `tasks:`")
            } else {
                e
            });
        };
        match word {
            "hosts" => {}
            "name" => play.name = Some(Spanned::from_node(v)),
            "vars" => play.vars = parse_vars(v)?,
            "vars_files" => play.vars_files = list_of(v),
            "vars_prompt" => play.vars_prompt = list_of(v),
            "roles" => play.roles = parse_roles(v, dir, loader)?,
            "pre_tasks" => play.pre_tasks = parse_task_list(v, &ctx, loader, "pre_tasks")?,
            "tasks" => play.tasks = parse_task_list(v, &ctx, loader, "tasks")?,
            "post_tasks" => play.post_tasks = parse_task_list(v, &ctx, loader, "post_tasks")?,
            "handlers" => play.handlers = parse_task_list(v, &hctx, loader, "handlers")?,
            "batch_gate" => play.extensions.gate = Some(parse_gate(v, &ctx, loader)?),
            other => play.keywords.insert(other, Spanned::from_node(v)),
        }
    }
    Ok(play)
}

fn check_hosts(hosts: &Node) -> Result<()> {
    let ok = match hosts.as_seq() {
        Some(items) => items
            .iter()
            .all(|i| i.as_str().is_some() || matches!(i.kind, crate::syntax::NodeKind::Int(_))),
        None => hosts.as_str().is_some_and(|s| !s.trim().is_empty()),
    };
    if ok {
        return Ok(());
    }
    Err(Error::at(
        ErrorKind::WrongType {
            what: "hosts".into(),
            expected: "a host pattern or a list of them",
            found: hosts.type_name(),
        },
        &hosts.span,
    ))
}

fn parse_roles(node: &Node, dir: &Path, loader: &mut Loader) -> Result<Vec<crate::syntax::role::RoleRef>> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let Some(items) = node.as_seq() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "roles".into(),
                expected: "a list of roles",
                found: node.type_name(),
            },
            &node.span,
        ));
    };
    items
        .iter()
        .map(|i| parse_role_ref(i, dir, None, loader, RefKind::Play))
        .collect()
}

/// `batch_gate: {checks: [...], retries: N, delay: S, pause: S}`.
fn parse_gate(node: &Node, ctx: &TaskCtx, loader: &mut Loader) -> Result<BatchGate> {
    let Some(entries) = node.as_map() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "batch_gate".into(),
                expected: "a mapping with `checks:` and optional `retries`, `delay`, `pause`",
                found: node.type_name(),
            },
            &node.span,
        ));
    };
    let mut gate = BatchGate {
        span: node.span.clone(),
        checks: Vec::new(),
        retries: None,
        delay: None,
        pause: None,
    };
    for (k, v) in entries {
        let key = key_text(k)?;
        match find_keyword(&key, &[BATCH_GATE]) {
            Some("checks") => gate.checks = parse_task_list(v, ctx, loader, "checks")?,
            Some("retries") => gate.retries = Some(Spanned::from_node(v)),
            Some("delay") => gate.delay = Some(Spanned::from_node(v)),
            Some("pause") => gate.pause = Some(Spanned::from_node(v)),
            _ => return Err(unknown_keyword(k, &key, "batch_gate", &[BATCH_GATE])),
        }
    }
    Ok(gate)
}
