//! Python `re` behaviour on top of the `regex` crate, for the modules whose patterns users
//! write for Python: `\Z` spelled as Rust's `\z`, `re.sub` replacement templates (`\1`,
//! `\g<name>`, `\n`) and Python 3.7's rule for empty matches next to a previous match.
//! Look-around and backreferences inside a pattern are not available and fail to compile.

use regex::{Captures, Regex, RegexBuilder};

/// Compile a Python pattern; `multi_line` is `re.MULTILINE`, `dot_all` is `re.DOTALL`.
pub fn compile(pattern: &str, multi_line: bool, dot_all: bool) -> Result<Regex, String> {
    RegexBuilder::new(&translate(pattern))
        .multi_line(multi_line)
        .dot_matches_new_line(dot_all)
        .build()
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

/// A Python pattern for the bytes flavour (patterns applied to file lines).
pub fn compile_bytes(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::Regex::new(&translate(pattern)).map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

/// Whether a pattern turns on `re.MULTILINE` itself with a leading `(?m)` group.
pub fn has_inline_multiline(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|r| r.split_once(')'))
        .is_some_and(|(flags, _)| flags.chars().all(|c| c.is_ascii_alphabetic()) && flags.contains('m'))
}

/// The pattern in Rust's spelling.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => out.push_str("\\z"),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// One piece of a parsed replacement template.
#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

/// Parse a `re.sub` template against `re`'s groups, with Python's error messages.
fn parse_template(template: &str, re: &Regex) -> Result<Vec<Piece>, String> {
    let groups = re.captures_len() - 1;
    let mut pieces = Vec::new();
    let mut text = String::new();
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    let flush = |text: &mut String, pieces: &mut Vec<Piece>| {
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(text)));
        }
    };
    while let Some(&c) = chars.get(i) {
        if c != '\\' {
            text.push(c);
            i += 1;
            continue;
        }
        let at = i;
        let Some(&n) = chars.get(i + 1) else {
            return Err(format!("bad escape (end of pattern) at position {at}"));
        };
        i += 2;
        match n {
            'g' => {
                let rest: String = chars.get(i..).unwrap_or_default().iter().collect();
                let Some(body) = rest.strip_prefix('<') else {
                    return Err(format!("missing < at position {i}"));
                };
                let Some(end) = body.find('>') else {
                    return Err(format!("missing >, unterminated name at position {}", i + 1));
                };
                let name = &body[..end];
                i += 2 + name.chars().count();
                flush(&mut text, &mut pieces);
                if let Ok(n) = name.parse::<usize>() {
                    if n > groups {
                        return Err(format!("invalid group reference {n} at position {}", at + 3));
                    }
                    pieces.push(Piece::Group(n));
                } else if re.capture_names().flatten().any(|g| g == name) {
                    pieces.push(Piece::Named(name.to_string()));
                } else if name.is_empty() {
                    return Err(format!("missing group name at position {}", at + 3));
                } else {
                    return Err(format!("unknown group name '{name}'"));
                }
            }
            '0' => {
                // An octal escape: up to three octal digits.
                let mut v = 0u32;
                let mut k = 0;
                i -= 1;
                while k < 3 && chars.get(i).is_some_and(|d| d.is_digit(8)) {
                    v = v * 8 + chars.get(i).and_then(|d| d.to_digit(8)).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                text.push(char::from_u32(v).unwrap_or('\0'));
            }
            d if d.is_ascii_digit() => {
                let mut n = d.to_digit(10).unwrap_or(0) as usize;
                if let Some(d2) = chars.get(i).and_then(|c| c.to_digit(10)) {
                    n = n * 10 + d2 as usize;
                    i += 1;
                }
                if n > groups {
                    return Err(format!("invalid group reference {n} at position {}", at + 1));
                }
                flush(&mut text, &mut pieces);
                pieces.push(Piece::Group(n));
            }
            'n' => text.push('\n'),
            't' => text.push('\t'),
            'r' => text.push('\r'),
            'f' => text.push('\x0c'),
            'v' => text.push('\x0b'),
            'a' => text.push('\x07'),
            'b' => text.push('\x08'),
            '\\' => text.push('\\'),
            c if c.is_ascii_alphabetic() => return Err(format!("bad escape \\{c} at position {at}")),
            c => {
                text.push('\\');
                text.push(c);
            }
        }
    }
    flush(&mut text, &mut pieces);
    Ok(pieces)
}

fn expand(pieces: &[Piece], caps: &Captures<'_>, out: &mut String) {
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Group(n) => out.push_str(caps.get(*n).map_or("", |m| m.as_str())),
            Piece::Named(n) => out.push_str(caps.name(n).map_or("", |m| m.as_str())),
        }
    }
}

/// `re.subn(re, template, text)`: the new text and how many matches were replaced.
pub fn subn(re: &Regex, template: &str, text: &str) -> Result<(String, usize), String> {
    let pieces = parse_template(template, re)?;
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut last = 0;
    let mut pos = 0;
    let mut prev_empty_at = None;
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else { break };
        let Some(m) = caps.get(0) else { break };
        if m.start() == m.end() && prev_empty_at == Some(m.start()) {
            // No second empty match where the last one was: step one character on.
            let step = text.get(pos..).and_then(|r| r.chars().next()).map_or(1, char::len_utf8);
            pos += step;
            continue;
        }
        out.push_str(text.get(last..m.start()).unwrap_or_default());
        expand(&pieces, &caps, &mut out);
        count += 1;
        last = m.end();
        pos = m.end();
        if m.start() == m.end() {
            prev_empty_at = Some(pos);
        } else {
            // Python allows an empty match right after a non-empty one.
            prev_empty_at = None;
        }
    }
    out.push_str(text.get(last..).unwrap_or_default());
    Ok((out, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_match_python() {
        // Expected values from CPython 3.11's re.subn with re.MULTILINE.
        let table = [
            ("x*", "-", "abxd", "-a-b--d-", 5),
            ("^(\\w+)=(.*)$", "\\2=\\1", "a=1\nb=2\n", "1=a\n2=b\n", 2),
            ("^(?P<k>a)", "\\g<k>\\g<1>\\n", "ab", "aa\nb", 1),
            ("b$", "B", "ab\ncb", "aB\ncB", 2),
            ("(a)|(b)", "[\\2]", "ab", "[][b]", 2),
            ("end\\Z", "E", "end\nend", "end\nE", 1),
            ("q", "\\-", "q", "\\-", 1),
            ("", "-", "ab", "-a-b-", 3),
        ];
        for (pat, rep, text, want, n) in table {
            let re = compile(pat, true, false).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(subn(&re, rep, text), Ok((want.to_string(), n)), "{pat} / {rep}");
        }
    }

    #[test]
    fn bad_templates_fail_as_python_says() {
        let re = compile("(a)", true, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            subn(&re, "\\2", "a").err().as_deref(),
            Some("invalid group reference 2 at position 1")
        );
        assert_eq!(
            subn(&re, "\\q", "a").err().as_deref(),
            Some("bad escape \\q at position 0")
        );
        assert_eq!(
            subn(&re, "\\g<x>", "a").err().as_deref(),
            Some("unknown group name 'x'")
        );
        assert!(compile("(?<=a)b", true, false).is_err());
    }
}
