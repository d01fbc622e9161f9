//! Shell-style wildcards as Python's `fnmatch` reads them, for host patterns: `*`, `?`,
//! `[abc]`, `[a-z]`, `[!abc]`; a `[` without a closing `]` is literal. Case-sensitive, and
//! the whole name must match.

use regex::Regex;

/// Whether `pattern` has any wildcard at all (otherwise it matches only itself).
pub fn has_wildcards(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Compile a wildcard pattern; `None` only if the generated expression is refused.
pub fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(&translate(pattern)).ok()
}

fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::from("^(?s:");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => {
                out.push_str(".*");
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
            }
            '?' => out.push('.'),
            '[' => match class(&chars, i) {
                Some((set, next)) => {
                    out.push_str(&set);
                    i = next;
                }
                None => out.push_str(r"\["),
            },
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")$");
    out
}

/// A bracket expression starting just after `[` at `start`: the regex for it and the index
/// after its `]`, or `None` when it is not closed.
fn class(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut j = start;
    let negate = chars.get(j) == Some(&'!');
    if negate {
        j += 1;
    }
    // A `]` right after `[` or `[!` is a member, not the end.
    let body_start = j;
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while j < chars.len() && chars[j] != ']' {
        j += 1;
    }
    if j >= chars.len() {
        return None;
    }
    let body = &chars[body_start..j];
    let mut items: Vec<(char, char)> = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let lo = body[k];
        if k + 2 < body.len() && body[k + 1] == '-' {
            let hi = body[k + 2];
            // Python drops reversed ranges.
            if lo <= hi {
                items.push((lo, hi));
            }
            k += 3;
        } else {
            items.push((lo, lo));
            k += 1;
        }
    }
    let next = j + 1;
    if items.is_empty() {
        return Some((if negate { "." } else { "[^\\s\\S]" }.to_string(), next));
    }
    let mut set = String::from(if negate { "[^" } else { "[" });
    for (lo, hi) in items {
        set.push_str(&escape_class(lo));
        if hi != lo {
            set.push('-');
            set.push_str(&escape_class(hi));
        }
    }
    set.push(']');
    Some((set, next))
}

fn escape_class(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else {
        format!("\\x{{{:x}}}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_fnmatch_does() {
        let cases: &[(&str, &str, bool)] = &[
            ("web*", "web1", true),
            ("web*", "web", true),
            ("web*", "db1", false),
            ("web*", "aweb1", false),
            ("w?b", "web", true),
            ("w?b", "weeb", false),
            ("web[12]", "web1", true),
            ("web[12]", "web3", false),
            ("web[0-9]", "web7", true),
            ("web[!0-9]", "webx", true),
            ("web[!0-9]", "web1", false),
            ("web[]]", "web]", true),
            ("web[", "web[", true),
            ("a.b", "a.b", true),
            ("a.b", "axb", false),
            ("Web*", "web1", false),
            ("*.example.com", "n1.example.com", true),
            ("[z-a]x", "zx", false),
            ("x[-]y", "x-y", true),
        ];
        for (p, name, want) in cases {
            let re = compile(p).expect("compiles");
            assert_eq!(re.is_match(name), *want, "{p} vs {name}");
        }
    }
}
