//! Host patterns, resolved exactly as Ansible resolves them.
//!
//! A pattern is split on `,` (or, without commas, on `:` unless the whole text is one host
//! address such as `fe80::1` or `web[1:3]`). The parts are then applied in three rounds:
//! plain parts (unions) first, then `&` parts (intersections), then `!` parts (exclusions);
//! with only `&`/`!` parts, `all` is the starting set. A part that is exactly an inventory host
//! name is that host. Otherwise it matches group names (wildcards, or a regex after `~`) and
//! takes their hosts, and — when no group matched or it has `.`, `?`, `*`, `[` or `~` — host
//! names too. `[i]`, `[i:j]` (inclusive) and `[i:]` pick from that part's result. The result
//! keeps the first place of each host. `--limit` is the same language, applied as an
//! intersection; `@file` reads one pattern per line.

use super::error::{Error, ErrorKind, Result};
use super::fnmatch;
use super::inventory_index::InventoryIndex;
use crate::syntax::inventory::{LOCALHOST_NAMES, parse_address};
use regex::Regex;
use std::path::Path;
use std::sync::LazyLock;

/// The hosts a pattern selected, and the parts that matched nothing (Ansible warns "Could not
/// match supplied host pattern, ignoring: ..." for each).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Selection {
    pub hosts: Vec<String>,
    pub unmatched: Vec<String>,
}

/// A `--limit`: its patterns, with `@file`s already read.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Limit {
    pub patterns: Vec<String>,
}

impl Limit {
    /// Parse `--limit` text; `@path` parts are read, one pattern per line.
    pub fn parse(text: &str) -> Result<Limit> {
        let mut patterns = Vec::new();
        for part in split_host_pattern(text) {
            if let Some(file) = part.strip_prefix('@') {
                let path = Path::new(file);
                let bad = |message: String| {
                    Error::new(
                        ErrorKind::BadPattern {
                            pattern: part.clone(),
                            message,
                        },
                        None,
                    )
                };
                if path.is_dir() {
                    return Err(bad(format!(
                        "a limit starting with '@' must be a file, not a directory: {file}"
                    )));
                }
                let content = std::fs::read_to_string(path).map_err(|e| {
                    bad(format!("unable to read limit file {file}: {e}"))
                        .with_help("write one host or pattern per line in the file")
                })?;
                patterns.extend(content.split('\n').map(|l| l.trim().to_string()));
            } else {
                patterns.push(part);
            }
        }
        Ok(Limit { patterns })
    }
}

/// Split a pattern into its parts, as Ansible's `split_host_pattern` does.
pub fn split_host_pattern(pattern: &str) -> Vec<String> {
    static PARTS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").ok());
    let parts: Vec<&str> = if pattern.contains(',') {
        pattern.split(',').collect()
    } else if parse_address(pattern).is_some() {
        vec![pattern]
    } else {
        match &*PARTS {
            Some(re) => re.find_iter(pattern).map(|m| m.as_str()).collect(),
            None => vec![pattern],
        }
    };
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect()
}

/// Hosts of the inventory selected by `pattern`, narrowed by `limit` when given.
pub fn resolve(index: &InventoryIndex, pattern: &str, limit: Option<&Limit>) -> Result<Selection> {
    resolve_parts(index, &split_host_pattern(pattern), limit)
}

/// As [`resolve`], for a play's `hosts` given as a list.
pub fn resolve_list(index: &InventoryIndex, patterns: &[String], limit: Option<&Limit>) -> Result<Selection> {
    let parts: Vec<String> = patterns.iter().flat_map(|p| split_host_pattern(p)).collect();
    resolve_parts(index, &parts, limit)
}

fn resolve_parts(index: &InventoryIndex, parts: &[String], limit: Option<&Limit>) -> Result<Selection> {
    let mut r = Resolver {
        index,
        unmatched: Vec::new(),
    };
    let mut hosts = r.evaluate(parts)?;
    if let Some(limit) = limit {
        let allowed = r.evaluate(&limit.patterns)?;
        let mut keep = vec![false; r.slots()];
        for h in allowed {
            keep[h] = true;
        }
        hosts.retain(|&h| keep[h]);
    }
    let mut seen = vec![false; r.slots()];
    hosts.retain(|&h| !std::mem::replace(&mut seen[h], true));
    let hosts = hosts.into_iter().map(|h| r.name(h).to_string()).collect();
    Ok(Selection {
        hosts,
        unmatched: r.unmatched,
    })
}

/// Hosts are numbered as in the inventory; the implicit localhost names follow.
struct Resolver<'i, 'a> {
    index: &'i InventoryIndex<'a>,
    unmatched: Vec<String>,
}

impl Resolver<'_, '_> {
    fn slots(&self) -> usize {
        self.index.inv.hosts.len() + LOCALHOST_NAMES.len()
    }

    fn name(&self, h: usize) -> &str {
        let n = self.index.inv.hosts.len();
        if h < n {
            self.index.host_name(h)
        } else {
            LOCALHOST_NAMES.get(h - n).copied().unwrap_or("")
        }
    }

    /// Ansible's `_evaluate_patterns`.
    fn evaluate(&mut self, parts: &[String]) -> Result<Vec<usize>> {
        let mut regular: Vec<&str> = Vec::new();
        let mut intersect: Vec<&str> = Vec::new();
        let mut exclude: Vec<&str> = Vec::new();
        for p in parts.iter().map(String::as_str).filter(|p| !p.is_empty()) {
            // A lone `!` would exclude nothing from `all` and so target every host: a typo
            // must not widen a play (ansible-playbook crashes on it).
            if p == "!" || p == "&" {
                return Err(Error::new(
                    ErrorKind::BadPattern {
                        pattern: p.to_string(),
                        message: format!("'{p}' must be followed by a host or group pattern"),
                    },
                    None,
                )
                .with_help("write '!group' to exclude a group or '&group' to intersect with it"));
            }
            match p.as_bytes()[0] {
                b'!' => exclude.push(p),
                b'&' => intersect.push(p),
                _ => regular.push(p),
            }
        }
        if regular.is_empty() {
            regular.push("all");
        }
        let mut hosts: Vec<usize> = Vec::new();
        // Which hosts are in `hosts` (regular round) / scratch marks (other rounds); each
        // part costs the size of its own match, never the size of the inventory.
        let mut member = vec![false; self.slots()];
        for p in regular {
            if let Some(h) = self.index.inv.hosts.get_index_of(p) {
                hosts.push(h);
                member[h] = true;
                continue;
            }
            // Hosts already present are skipped; repeats within the match are kept (and
            // removed at the very end), as in Ansible.
            let new: Vec<usize> = self.match_one(p)?.into_iter().filter(|&h| !member[h]).collect();
            for &h in &new {
                member[h] = true;
            }
            hosts.extend(new);
        }
        member.iter_mut().for_each(|m| *m = false);
        let mut mark = member;
        for p in intersect {
            // As in Ansible, a part that is literally a host name (even `&x`) adds that host.
            if let Some(h) = self.index.inv.hosts.get_index_of(p) {
                hosts.push(h);
                continue;
            }
            let that = self.match_one(p)?;
            for &h in &that {
                mark[h] = true;
            }
            hosts.retain(|&h| mark[h]);
            for &h in &that {
                mark[h] = false;
            }
        }
        // Exclusions commute, so they are applied together.
        let mut any = false;
        let mut literal: Vec<usize> = Vec::new();
        for p in exclude {
            if let Some(h) = self.index.inv.hosts.get_index_of(p) {
                literal.push(h);
                continue;
            }
            for h in self.match_one(p)? {
                mark[h] = true;
                any = true;
            }
        }
        if any {
            hosts.retain(|&h| !mark[h]);
        }
        hosts.extend(literal);
        Ok(hosts)
    }

    /// Ansible's `_match_one_pattern`: one part without its `&`/`!`, with its subscript.
    fn match_one(&mut self, part: &str) -> Result<Vec<usize>> {
        let pattern = part.strip_prefix(['&', '!']).unwrap_or(part);
        if pattern.is_empty() {
            return Ok(Vec::new());
        }
        let (expr, subscript) = split_subscript(pattern);
        let hosts = self.enumerate(expr, part)?;
        apply_subscript(hosts, subscript).ok_or_else(|| {
            Error::new(
                ErrorKind::BadPattern {
                    pattern: part.to_string(),
                    message: format!("no hosts matched the subscripted pattern '{pattern}'"),
                },
                None,
            )
            .with_help("subscripts count from 0; [-1] is the last host, [0:2] the first three")
        })
    }

    /// Ansible's `_enumerate_matches`.
    fn enumerate(&mut self, pattern: &str, part: &str) -> Result<Vec<usize>> {
        let inv = self.index.inv;
        let matcher = Matcher::new(pattern).map_err(|message| {
            Error::new(
                ErrorKind::BadPattern {
                    pattern: part.to_string(),
                    message,
                },
                None,
            )
            .with_help("after ~ comes a regular expression matched from the start of each name, e.g. ~web[0-9]+")
        })?;
        let mut results: Vec<usize> = Vec::new();
        let mut matched_group = false;
        match &matcher {
            Matcher::Exact(name) => {
                if let Some(g) = inv.groups.get_index_of(*name) {
                    matched_group = true;
                    results.extend_from_slice(self.index.group_host_ids(g));
                }
            }
            Matcher::Regex(re) => {
                for (g, name) in inv.groups.keys().enumerate() {
                    if re.is_match(name) {
                        matched_group = true;
                        results.extend_from_slice(self.index.group_host_ids(g));
                    }
                }
            }
        }
        if !matched_group || pattern.starts_with('~') || pattern.contains(['.', '?', '*', '[']) {
            match &matcher {
                Matcher::Exact(name) => results.extend(inv.hosts.get_index_of(*name)),
                Matcher::Regex(re) => results.extend(
                    inv.hosts
                        .keys()
                        .enumerate()
                        .filter(|(_, n)| re.is_match(n))
                        .map(|(h, _)| h),
                ),
            }
        }
        if results.is_empty()
            && let Some(i) = LOCALHOST_NAMES.iter().position(|n| *n == pattern)
        {
            match &inv.localhost {
                Some(real) => results.extend(inv.hosts.get_index_of(real.as_str())),
                None => results.push(inv.hosts.len() + i),
            }
        }
        if results.is_empty() && !matched_group && pattern != "all" {
            self.unmatched.push(pattern.to_string());
        }
        Ok(results)
    }
}

enum Matcher<'p> {
    Exact(&'p str),
    Regex(Regex),
}

impl<'p> Matcher<'p> {
    fn new(pattern: &'p str) -> std::result::Result<Matcher<'p>, String> {
        if let Some(re) = pattern.strip_prefix('~') {
            // Python's `re.match`: anchored at the start only.
            return Regex::new(&format!("^(?:{re})"))
                .map(Matcher::Regex)
                .map_err(|e| format!("invalid regular expression: {e}"));
        }
        if !fnmatch::has_wildcards(pattern) {
            return Ok(Matcher::Exact(pattern));
        }
        fnmatch::compile(pattern)
            .map(Matcher::Regex)
            .ok_or_else(|| "invalid wildcard pattern".to_string())
    }
}

/// `(start, end)`: `end` is `None` for a single index; `Some(-1)` means "to the last".
type Subscript = (i64, Option<i64>);

/// Ansible's `_split_subscript`: `name[3]`, `name[-1]`, `name[1:3]`, `name[2:]` (also the old
/// `name[1-3]`). Regexes (`~...`) never have one.
fn split_subscript(pattern: &str) -> (&str, Option<Subscript>) {
    static SUBSCRIPT: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$").ok());
    if pattern.starts_with('~') {
        return (pattern, None);
    }
    let Some(re) = &*SUBSCRIPT else {
        return (pattern, None);
    };
    let Some(c) = re.captures(pattern) else {
        return (pattern, None);
    };
    let Some(expr) = c.get(1) else {
        return (pattern, None);
    };
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<i64>().ok());
    let subscript = match num(2) {
        Some(idx) => (idx, None),
        None => match num(3) {
            Some(start) => (start, Some(num(5).unwrap_or(-1))),
            None => return (pattern, None),
        },
    };
    (&pattern[..expr.end()], Some(subscript))
}

/// Ansible's `_apply_subscript`; `None` when a single index is out of range. A range end of 0
/// picks the single host at `start`, as Ansible does.
fn apply_subscript(hosts: Vec<usize>, subscript: Option<Subscript>) -> Option<Vec<usize>> {
    let Some((start, end)) = subscript else {
        return Some(hosts);
    };
    if hosts.is_empty() {
        return Some(hosts);
    }
    let len = hosts.len() as i64;
    match end {
        Some(end) if end != 0 => {
            let end = if end == -1 { len - 1 } else { end };
            let (from, to) = (py_index(start, len), py_index(end + 1, len));
            Some(if from < to {
                hosts[from..to].to_vec()
            } else {
                Vec::new()
            })
        }
        _ => {
            let i = if start < 0 { start + len } else { start };
            if i < 0 || i >= len {
                return None;
            }
            Some(vec![hosts[i as usize]])
        }
    }
}

/// A Python slice bound, clamped to `0..=len`.
fn py_index(i: i64, len: i64) -> usize {
    let i = if i < 0 { (i + len).max(0) } else { i.min(len) };
    i as usize
}

#[cfg(test)]
mod tests;
