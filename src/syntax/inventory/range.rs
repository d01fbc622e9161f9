//! Host ranges: `node[01:20]` (zero padding kept), `[a:f]`, `[1:10:2]` with a stride, several
//! ranges in one name, and the optional `:port` that applies to every host of the pattern.

use super::address::parse_address;

/// A single pattern may not expand to more hosts than this (a typo like `[0:99999999]`).
const MAX_EXPANDED: usize = 1_000_000;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The host names and port a host key (`web[1:3]:2222`) stands for. The text is used as it is
/// when it is not a recognisable address, as Ansible does.
pub fn expand_host_pattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), String> {
    // Only a `:` can make the address parse change anything (a port).
    let (host, port) = if pattern.contains(':') {
        parse_address(pattern).unwrap_or_else(|| (pattern.to_string(), None))
    } else {
        (pattern.to_string(), None)
    };
    let hosts = if host.contains('[') {
        let mut out = Vec::new();
        expand_range(&host, &mut out)?;
        out
    } else {
        vec![host]
    };
    Ok((hosts, port))
}

/// Expand the first `[...]` of `line`, then any later ones in each result.
fn expand_range(line: &str, out: &mut Vec<String>) -> Result<(), String> {
    // Ansible swaps the first `[` and the first `]` for `|` and splits on `|`.
    let swapped = line.replacen('[', "|", 1).replacen(']', "|", 1);
    let parts: Vec<&str> = swapped.split('|').collect();
    let [head, nrange, tail] = parts[..] else {
        return Err(format!(
            "host range in '{line}' must be written as [begin:end] or [begin:end:step]"
        ));
    };
    let bounds: Vec<&str> = nrange.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("host range must be begin:end or begin:end:step".into());
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = bounds.get(2).copied().unwrap_or("1");
    if end.is_empty() {
        return Err("host range must specify end value".into());
    }
    let width = if beg.len() > 1 && beg.starts_with('0') {
        if beg.len() != end.len() {
            return Err("host range must specify equal-length begin and end formats".into());
        }
        beg.len()
    } else {
        0
    };
    let items: Vec<String> = match (LETTERS.find(beg), LETTERS.find(end), python_int(step)) {
        (Some(b), Some(e), Some(step)) if step != 0 => {
            if b > e {
                return Err("host range must have begin <= end".into());
            }
            if step < 0 {
                Vec::new()
            } else {
                LETTERS[b..=e]
                    .chars()
                    .step_by(step as usize)
                    .map(|c| c.to_string())
                    .collect()
            }
        }
        _ => {
            let bad = || format!("host range [{nrange}] is not a numeric or single-letter range");
            let (b, e, s) = (
                python_int(beg).ok_or_else(bad)?,
                python_int(end).ok_or_else(bad)?,
                python_int(step).ok_or_else(bad)?,
            );
            if s == 0 {
                return Err("host range step must not be zero".into());
            }
            let stop = e.saturating_add(1);
            let count = if (s > 0 && b > e) || (s < 0 && b <= e) {
                0
            } else {
                (i128::from(stop) - i128::from(b)).unsigned_abs() / u128::from(s.unsigned_abs()) + 1
            };
            if count as usize > MAX_EXPANDED {
                return Err(format!(
                    "host range [{nrange}] expands to more than {MAX_EXPANDED} hosts"
                ));
            }
            numeric_range(b, stop, s)
                .map(|n| if width > 0 { zfill(n, width) } else { n.to_string() })
                .collect()
        }
    };
    for item in items {
        let name = format!("{head}{item}{tail}");
        if name.contains('[') {
            expand_range(&name, out)?;
        } else {
            out.push(name);
        }
        if out.len() > MAX_EXPANDED {
            return Err(format!(
                "host pattern '{line}' expands to more than {MAX_EXPANDED} hosts"
            ));
        }
    }
    Ok(())
}

/// Python's `range(start, stop, step)`.
fn numeric_range(start: i64, stop: i64, step: i64) -> impl Iterator<Item = i64> {
    let mut n = start;
    std::iter::from_fn(move || {
        let more = if step > 0 { n < stop } else { n > stop };
        if !more {
            return None;
        }
        let cur = n;
        n = n.checked_add(step)?;
        Some(cur)
    })
}

/// Python's `str(n).zfill(width)`.
fn zfill(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0>w$}", n.unsigned_abs(), w = width.saturating_sub(1))
    } else {
        format!("{n:0>width$}")
    }
}

/// Python's `int(text)`: surrounding spaces, a sign, and single underscores between digits.
fn python_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if !clean.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = clean.parse().ok()?;
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(p: &str) -> Vec<String> {
        expand_host_pattern(p).unwrap().0
    }

    #[test]
    fn ranges_expand_as_ansible_expands_them() {
        let cases: &[(&str, &[&str])] = &[
            ("web1", &["web1"]),
            ("node[1:3]", &["node1", "node2", "node3"]),
            ("node[01:03]", &["node01", "node02", "node03"]),
            ("node[08:10]", &["node08", "node09", "node10"]),
            ("node[1:10:4]", &["node1", "node5", "node9"]),
            ("[:2]x", &["0x", "1x", "2x"]),
            ("db-[a:c].lan", &["db-a.lan", "db-b.lan", "db-c.lan"]),
            ("h[a:e:2]", &["ha", "hc", "he"]),
            ("h[y:B]", &["hy", "hz", "hA", "hB"]),
            ("r[1:2]c[a:b]", &["r1ca", "r1cb", "r2ca", "r2cb"]),
            ("n[3:1]", &[]),
            ("10.0.0.[1:3]", &["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
        ];
        for (p, want) in cases {
            assert_eq!(hosts(p), *want, "for {p:?}");
        }
    }

    #[test]
    fn ports_apply_to_every_host() {
        assert_eq!(
            expand_host_pattern("web[1:2]:2222").unwrap(),
            (vec!["web1".into(), "web2".into()], Some(2222))
        );
        assert_eq!(expand_host_pattern("web1:22").unwrap(), (vec!["web1".into()], Some(22)));
        // Not an address: used as written, colon included.
        assert_eq!(expand_host_pattern("we$b:22").unwrap(), (vec!["we$b:22".into()], None));
        assert_eq!(expand_host_pattern("fe80::1").unwrap(), (vec!["fe80::1".into()], None));
    }

    #[test]
    fn bad_ranges_are_errors() {
        for p in [
            "n[1]",
            "n[01:100]",
            "n[1:]",
            "n[c:a]",
            "n[1:x]",
            "n[1:5:0]",
            "n[0:99999999]",
            "a|b[1:2]",
        ] {
            assert!(expand_host_pattern(p).is_err(), "{p} should be refused");
        }
    }
}
