//! Version comparison as Ansible's `version` test does it: `loose` (the default: numbers and
//! letter runs compared piecewise), `strict` (`1.2[.3][a|b N]`) and `semver`.

use super::error::{Error, Result};
use std::cmp::Ordering;

fn err(message: String) -> Error {
    Error::filter("version", message)
}

/// `a <op> b` for one of Ansible's operator spellings and version types.
pub fn compare(a: &str, b: &str, op: &str, kind: &str) -> Result<bool> {
    let ord = match kind {
        "loose" | "" => loose_cmp(a, b),
        "strict" => strict(a)?.cmp(&strict(b)?),
        "semver" | "semantic" => semver_cmp(&semver(a)?, &semver(b)?),
        "pep440" => loose_cmp(a, b),
        other => {
            return Err(err(format!(
                "unknown version type '{other}' (use loose, strict or semver)"
            )));
        }
    };
    Ok(match op {
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        other => return Err(err(format!("invalid operator '{other}'"))),
    })
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Num(u64),
    Text(String),
}

/// Loose version parts: runs of digits and runs of letters; everything else separates.
/// A leading `v` is dropped so `v1.29.4` compares with `1.29.10`.
fn loose(v: &str) -> Vec<Part> {
    let v = v.trim();
    let v = v
        .strip_prefix(['v', 'V'])
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(v);
    let mut parts = Vec::new();
    let mut chars = v.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            parts.push(Part::Num(n.parse().unwrap_or(u64::MAX)));
        } else if c.is_alphabetic() {
            let mut t = String::new();
            while let Some(d) = chars.peek().copied().filter(|c| c.is_alphabetic()) {
                t.push(d);
                chars.next();
            }
            parts.push(Part::Text(t));
        } else {
            chars.next();
        }
    }
    parts
}

fn loose_cmp(a: &str, b: &str) -> Ordering {
    loose(a).cmp(&loose(b))
}

/// StrictVersion: (major, minor, patch, prerelease) where no prerelease sorts last.
fn strict(v: &str) -> Result<(u64, u64, u64, (u8, u64))> {
    let bad = || err(format!("invalid version number '{v}' for strict comparison"));
    let (nums, pre) = match v.find(['a', 'b']) {
        Some(i) => (v.get(..i).unwrap_or_default(), v.get(i..)),
        None => (v, None),
    };
    let parts: Vec<&str> = nums.split('.').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let n = |s: Option<&&str>| -> Result<u64> { s.map_or(Ok(0), |s| s.parse().map_err(|_| bad())) };
    let pre = match pre {
        None => (2, 0),
        Some(p) => {
            let tag = if p.starts_with('a') { 0 } else { 1 };
            (tag, p.get(1..).unwrap_or_default().parse().map_err(|_| bad())?)
        }
    };
    Ok((n(parts.first())?, n(parts.get(1))?, n(parts.get(2))?, pre))
}

struct SemVer {
    core: (u64, u64, u64),
    pre: Vec<String>,
}

fn semver(v: &str) -> Result<SemVer> {
    let bad = || err(format!("invalid semantic version '{v}'"));
    let s = v.trim().strip_prefix(['v', 'V']).unwrap_or(v.trim());
    let s = s.split('+').next().unwrap_or_default();
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.split('.').map(str::to_string).collect()),
        None => (s, Vec::new()),
    };
    let nums: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let [major, minor, patch] = nums.as_slice() else {
        return Err(bad());
    };
    Ok(SemVer {
        core: (*major, *minor, *patch),
        pre,
    })
}

fn semver_cmp(a: &SemVer, b: &SemVer) -> Ordering {
    a.core
        .cmp(&b.core)
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (x, y) in a.pre.iter().zip(&b.pre) {
                    let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                        (Ok(i), Ok(j)) => i.cmp(&j),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => x.cmp(y),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.pre.len().cmp(&b.pre.len())
            }
        })
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn kubernetes_versions() {
        let cases = [
            ("v1.29.4", "v1.29.0", ">=", "loose", true),
            ("v1.29.4", "1.29.10", "<", "loose", true),
            ("1.29.10", "1.29.9", "gt", "loose", true),
            ("v1.30.0", "v1.30.0", "==", "loose", true),
            ("v1.30.0", "v1.30", ">", "loose", true),
            ("1.28.0", "1.29.0", "ge", "loose", false),
            ("1.28.0", "1.29.0", "<>", "loose", true),
            ("1.28.0", "1.28.0", "!=", "loose", false),
            ("1.28.0", "1.28.0", "=", "loose", true),
            ("1.28.0", "1.28.1", "le", "loose", true),
            ("1.30.0-rc.1", "1.30.0", "<", "semver", true),
            ("1.30.0-rc.1", "1.30.0-rc.2", "<", "semver", true),
            ("1.30.0-rc.10", "1.30.0-rc.2", ">", "semver", true),
            ("1.30.0-alpha", "1.30.0-alpha.1", "<", "semantic", true),
            ("v1.30.0+build.5", "1.30.0", "==", "semver", true),
            ("1.2", "1.2.0", "==", "strict", true),
            ("1.2a1", "1.2", "<", "strict", true),
            ("1.2b2", "1.2a9", ">", "strict", true),
            ("2.0", "1.9.9", "gt", "strict", true),
        ];
        for (a, b, op, kind, want) in cases {
            assert_eq!(compare(a, b, op, kind).ok(), Some(want), "{a} {op} {b} ({kind})");
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(compare("1.2.3", "1.2", "~=", "loose").is_err());
        assert!(compare("1.x", "1.2", "<", "strict").is_err());
        assert!(compare("1.2", "1.2.3", "<", "semver").is_err());
        assert!(compare("1", "2", "<", "weird").is_err());
    }
}
