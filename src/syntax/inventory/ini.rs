//! INI inventories as Ansible's `ini` plugin reads them: lines before any section belong to
//! `ungrouped`; `[g]` lists hosts (ranges, `host:port`, inline `k=v` Python literals),
//! `[g:vars]` sets group variables (also Python literals, read without shell quoting),
//! `[g:children]` lists child groups, which must be declared somewhere in the same file
//! (or an earlier source). `#` and `;` start comment lines.

use super::builder::Builder;
use super::pyliteral::literal_eval;
use super::range::expand_host_pattern;
use super::shlex;
use crate::syntax::error::{Error, ErrorKind, Result};
use crate::syntax::span::{SourceFile, Span};
use crate::value::Value;
use indexmap::IndexMap;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A group referenced before it was declared: `[g:vars]` for an unknown group, or a child
/// listed in `[p:children]` that does not exist yet.
struct Pending {
    span: Span,
    state: State,
    parents: Vec<String>,
}

pub(super) fn parse(b: &mut Builder, source: &Arc<SourceFile>) -> Result<()> {
    let mut pending: IndexMap<String, Pending> = IndexMap::new();
    let mut group = String::from("ungrouped");
    let mut state = State::Hosts;
    for (n, raw) in source.text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let indent = raw.len() - raw.trim_start().len();
        let col = raw[..indent].chars().count() as u32 + 1;
        let span = Span::new(source.clone(), n as u32 + 1, col);
        let err = |message: String| Error::at(ErrorKind::Inventory { message }, &span);

        if let Some((name, tag)) = section_header(line) {
            state = match tag {
                None | Some("hosts") => State::Hosts,
                Some("vars") => State::Vars,
                Some("children") => State::Children,
                Some(other) => {
                    return Err(err(format!("section [{name}:{other}] has unknown type: {other}"))
                        .with_help("a section is [group], [group:vars] or [group:children]"));
                }
            };
            group = name.to_string();
            if !b.inv.groups.contains_key(name) {
                if state == State::Vars && !pending.contains_key(name) {
                    pending.insert(
                        name.to_string(),
                        Pending {
                            span: span.clone(),
                            state,
                            parents: Vec::new(),
                        },
                    );
                }
                b.add_group(name, Some(&span));
            } else if b.inv.groups.get(name).is_some_and(|g| g.span.is_none()) {
                b.add_group(name, Some(&span));
            }
            if state != State::Vars {
                match pending.get(name).map(|p| p.state) {
                    Some(State::Children) => add_pending_children(b, name, &mut pending)?,
                    Some(State::Vars) => {
                        pending.shift_remove(name);
                    }
                    _ => {}
                }
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(err(format!("invalid section entry: '{line}'"))
                .with_help("a section header has no spaces: [group], [group:vars] or [group:children]"));
        }
        match state {
            State::Hosts => host_line(b, line, &group, &span)?,
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(format!("expected key=value, got: {line}"))
                        .with_help("lines in a [group:vars] section set one variable each: name=value"));
                };
                b.set_group_var(&group, k.trim(), ini_value(v.trim()), Some(&span))?;
            }
            State::Children => {
                let Some(child) = group_name_line(line) else {
                    return Err(err(format!("expected group name, got: {line}"))
                        .with_help("lines in a [group:children] section name one group each"));
                };
                if b.inv.groups.contains_key(child) {
                    b.add_child(&group, child, Some(&span))?;
                } else {
                    match pending.get_mut(child) {
                        Some(p) => p.parents.push(group.clone()),
                        None => {
                            pending.insert(
                                child.to_string(),
                                Pending {
                                    span: span.clone(),
                                    state: State::Children,
                                    parents: vec![group.clone()],
                                },
                            );
                        }
                    }
                }
            }
        }
    }
    // Only the first unresolved reference is reported, as Ansible does.
    if let Some((name, p)) = pending.into_iter().next() {
        let message = match p.state {
            State::Vars => format!("section [{name}:vars] not valid for undefined group: {name}"),
            _ => format!(
                "section [{}:children] includes undefined group: {name}",
                p.parents.last().map(String::as_str).unwrap_or("?")
            ),
        };
        return Err(Error::at(ErrorKind::Inventory { message }, &p.span)
            .with_help(format!("declare the group with a [{name}] section in this file")));
    }
    Ok(())
}

fn add_pending_children(b: &mut Builder, group: &str, pending: &mut IndexMap<String, Pending>) -> Result<()> {
    let Some(p) = pending.shift_remove(group) else {
        return Ok(());
    };
    for parent in &p.parents {
        b.add_child(parent, group, Some(&p.span))?;
        if pending.get(parent).is_some_and(|pp| pp.state == State::Children) {
            add_pending_children(b, parent, pending)?;
        }
    }
    Ok(())
}

/// `[name]` or `[name:tag]`, optionally followed by spaces and a `#` comment.
fn section_header(line: &str) -> Option<(&str, Option<&str>)> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    let inner = &rest[..close];
    let after = rest[close + 1..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let (name, tag) = match inner.split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (inner, None),
    };
    if name.is_empty() || name.chars().any(|c| c == ':' || c == ']' || c.is_whitespace()) {
        return None;
    }
    if let Some(t) = tag
        && (t.is_empty() || !t.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return None;
    }
    Some((name, tag))
}

/// A line of a `[g:children]` section: one group name, optionally a `#` comment.
fn group_name_line(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| c == ':' || c == ']' || c.is_whitespace())
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    if name.is_empty() || !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    Some(name)
}

fn host_line(b: &mut Builder, line: &str, group: &str, span: &Span) -> Result<()> {
    let err = |message: String| Error::at(ErrorKind::Inventory { message }, span);
    let tokens = shlex::split(line).map_err(|e| err(format!("error parsing host definition '{line}': {e}")))?;
    let Some(pattern) = tokens.first() else {
        return Err(err(format!("expected a host name, got: {line}")));
    };
    let (hosts, port) = expand_host_pattern(pattern)
        .map_err(|m| err(m).with_help("a range is written [1:9], [01:20], [a:f] or [1:10:2]"))?;
    if pattern.trim_end().ends_with(':') && port.is_none() {
        return Err(err(format!("invalid host pattern '{pattern}': ending in ':' is not allowed, this character is reserved to provide a port"))
            .with_help("if this file is YAML, give it a .yml or .yaml extension"));
    }
    if hosts.iter().any(|h| h.trim() == "---") {
        return Err(err(format!(
            "invalid host pattern '{pattern}': '---' is normally a sign this is a YAML file"
        ))
        .with_help("if this file is YAML, give it a .yml or .yaml extension"));
    }
    let mut vars: Vec<(String, Value)> = Vec::new();
    for t in &tokens[1..] {
        let Some((k, v)) = t.split_once('=') else {
            return Err(err(format!("expected key=value host variable assignment, got: {t}"))
                .with_help("quote values that contain spaces: name=\"two words\""));
        };
        match vars.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1 = ini_value(v),
            None => vars.push((k.to_string(), ini_value(v))),
        }
    }
    for host in &hosts {
        b.add_host(host, Some(group), port, Some(span))?;
        for (k, v) in &vars {
            b.set_host_var(host, k, v.clone());
        }
    }
    Ok(())
}

/// A value as Ansible's INI plugin keeps it: a Python literal when it is one, else the text.
fn ini_value(text: &str) -> Value {
    literal_eval(text).unwrap_or_else(|| Value::str(text))
}
