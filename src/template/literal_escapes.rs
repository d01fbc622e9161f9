//! Backslashes in the string literals of templates written inside YAML stay as written:
//! ansible-core 2.19 renders `{{ "a\nb" }}` from a playbook as `a\nb` (backslash, n) and
//! `regex_replace('(\d+)', '\1')` passes `\1` through to the regex. The Jinja engine would
//! decode them as escapes, so every backslash inside a literal is doubled before it parses.
//! Template files keep the engine's escapes: there 2.19 decodes them.

use std::borrow::Cow;

/// `src` with each backslash inside a string literal of a `{{ }}` or `{% %}` block doubled.
/// Text outside blocks, comments and `{% raw %}` bodies are left alone.
pub fn keep_backslashes(src: &str) -> Cow<'_, str> {
    if !src.contains('\\') {
        return Cow::Borrowed(src);
    }
    let mut out = String::with_capacity(src.len() + 8);
    let mut rest = src;
    while let Some(open) = next_block(rest) {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let close_tag = match &rest[..2] {
            "{#" => "#}",
            "{%" => "%}",
            _ => "}}",
        };
        if close_tag == "#}" || is_raw_start(rest) {
            let end = if close_tag == "#}" {
                find_after(rest, "#}")
            } else {
                raw_end(rest)
            };
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        let end = copy_block(rest, close_tag, &mut out);
        rest = &rest[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Offset of the next `{{`, `{%` or `{#`.
fn next_block(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    (0..bytes.len().saturating_sub(1)).find(|&i| bytes[i] == b'{' && matches!(bytes[i + 1], b'{' | b'%' | b'#'))
}

/// Offset just past `tag`, or the end of `s` when it never closes (the parser reports that).
fn find_after(s: &str, tag: &str) -> usize {
    s.find(tag).map_or(s.len(), |i| i + tag.len())
}

fn is_raw_start(block: &str) -> bool {
    let Some(inner) = block.strip_prefix("{%") else {
        return false;
    };
    inner
        .trim_start_matches(['-', '+'])
        .trim_start()
        .strip_prefix("raw")
        .is_some_and(|after| after.trim_start().starts_with(['-', '+', '%']))
}

/// Offset just past the `{% endraw %}` closing a raw block.
fn raw_end(block: &str) -> usize {
    let mut from = 0;
    while let Some(i) = block[from..].find("{%") {
        let at = from + i;
        let inner = block[at + 2..].trim_start_matches(['-', '+']).trim_start();
        if inner.starts_with("endraw") {
            return at + 2 + find_after(&block[at + 2..], "%}");
        }
        from = at + 2;
    }
    block.len()
}

/// Copies one block up to and including its closing tag, doubling backslashes in its string
/// literals; returns how much of `block` it consumed.
fn copy_block(block: &str, close_tag: &str, out: &mut String) -> usize {
    let mut quote: Option<char> = None;
    let mut chars = block.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    out.push_str("\\\\");
                    // An escaped quote still does not end the literal; it keeps its backslash.
                    if let Some(&(_, next)) = chars.peek()
                        && next == q
                    {
                        out.push('\\');
                        out.push(next);
                        chars.next();
                    }
                    continue;
                }
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => {
                if block[i..].starts_with(close_tag) && i >= 2 {
                    out.push_str(close_tag);
                    return i + close_tag.len();
                }
                if c == '"' || c == '\'' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    block.len()
}

#[cfg(test)]
mod tests {
    use super::keep_backslashes;

    #[test]
    fn backslashes_are_doubled_only_inside_literals_of_blocks() {
        let cases = [
            (r#"plain \n text"#, r#"plain \n text"#),
            (r#"{{ "a\nb" }}"#, r#"{{ "a\\nb" }}"#),
            (
                r#"{{ x | regex_replace('(\d+)', '\1') }}"#,
                r#"{{ x | regex_replace('(\\d+)', '\\1') }}"#,
            ),
            (r#"{{ "a\"b" }}"#, r#"{{ "a\\\"b" }}"#),
            (r#"{{ 'it''s' }}"#, r#"{{ 'it''s' }}"#),
            (r#"{% set x = "e\tf" %}\t{{ x }}"#, r#"{% set x = "e\\tf" %}\t{{ x }}"#),
            (r#"{# "a\n" #}{{ "\d" }}"#, r#"{# "a\n" #}{{ "\\d" }}"#),
            (
                r#"{% raw %}{{ "a\n" }}{% endraw %}{{ "\d" }}"#,
                r#"{% raw %}{{ "a\n" }}{% endraw %}{{ "\\d" }}"#,
            ),
            (r#"{{ "}}\x" }} \y"#, r#"{{ "}}\\x" }} \y"#),
            (r#"{{ "unterminated\"#, r#"{{ "unterminated\\"#),
        ];
        for (src, want) in cases {
            assert_eq!(keep_backslashes(src), want, "for {src}");
        }
    }
}
