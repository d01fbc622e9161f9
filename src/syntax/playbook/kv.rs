//! `key=value` argument strings as Ansible reads them (`copy: src=a dest="b c"`): words split on
//! spaces, but quoted text and Jinja blocks (`{{ a | b }}`) stay whole; words that are not
//! `key=value` are kept, joined, as `_raw_params`.

use crate::value::{Map, Value};

/// Why an argument string could not be split.
#[derive(Debug, PartialEq)]
pub struct KvError {
    pub message: String,
}

/// Split into words the way Ansible's `split_args` does, keeping newlines inside words.
pub fn split_args(args: &str) -> Result<Vec<String>, KvError> {
    let mut params: Vec<String> = Vec::new();
    if args.is_empty() {
        return Ok(params);
    }
    let mut quote: Option<char> = None;
    let (mut print, mut block, mut comment) = (0usize, 0usize, 0usize);
    let lines: Vec<&str> = args.split('\n').collect();
    let last_line = lines.len().saturating_sub(1);
    for (li, line) in lines.iter().enumerate() {
        let mut continuation = false;
        for (ti, token) in line.split(' ').enumerate() {
            if token.is_empty() && ti != 0 {
                last_mut(&mut params).push(' ');
                continue;
            }
            let was_quoted = quote.is_some();
            if token == "\\" && !was_quoted {
                continuation = true;
                continue;
            }
            quote = quote_state(token, quote);
            let quoted = quote.is_some();
            let in_jinja = print > 0 || block > 0 || comment > 0;
            let mut appended = false;
            if quoted && !was_quoted && !in_jinja {
                params.push(token.to_string());
                appended = true;
            } else if in_jinja || quoted || was_quoted {
                let last = last_mut(&mut params);
                if ti > 0 {
                    last.push(' ');
                }
                last.push_str(token);
                appended = true;
            }
            for (depth, open, close) in [
                (&mut print, "{{", "}}"),
                (&mut block, "{%", "%}"),
                (&mut comment, "{#", "#}"),
            ] {
                let before = *depth;
                *depth = jinja_depth(token, before, open, close);
                if *depth != before && !appended {
                    params.push(token.to_string());
                    appended = true;
                }
            }
            if print == 0 && block == 0 && comment == 0 && !quoted && !appended && !token.is_empty() {
                params.push(token.to_string());
            }
        }
        if lines.len() > 1 && li != last_line && !continuation {
            last_mut(&mut params).push('\n');
        }
    }
    if print > 0 || block > 0 || comment > 0 || quote.is_some() {
        return Err(KvError {
            message: format!("unbalanced quotes or Jinja block in arguments: {args}"),
        });
    }
    Ok(params)
}

fn last_mut(params: &mut Vec<String>) -> &mut String {
    if params.is_empty() {
        params.push(String::new());
    }
    let n = params.len() - 1;
    &mut params[n]
}

/// The open quote after `token`, given the one open before it; `\"` does not count.
fn quote_state(token: &str, mut quote: Option<char>) -> Option<char> {
    let mut prev: Option<char> = None;
    for c in token.chars() {
        if (c == '"' || c == '\'') && prev != Some('\\') {
            match quote {
                Some(q) if q == c => quote = None,
                Some(_) => {}
                None => quote = Some(c),
            }
        }
        prev = Some(c);
    }
    quote
}

fn jinja_depth(token: &str, depth: usize, open: &str, close: &str) -> usize {
    let opens = token.matches(open).count();
    let closes = token.matches(close).count();
    if opens == closes {
        return depth;
    }
    (depth + opens).saturating_sub(closes)
}

/// Join words back as `join_args` does: one space between, none after a newline.
fn join_args(words: &[String]) -> String {
    let mut out = String::new();
    for w in words {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Parse `k=v` words into a map of strings. With `free_form` (command, shell...), only the
/// options in `free_form_options` are read; every other word stays in `_raw_params`.
pub fn parse_kv(args: &str, free_form: bool, free_form_options: &[&str]) -> Result<Map, KvError> {
    let mut options = Map::new();
    let mut raw: Vec<String> = Vec::new();
    for orig in split_args(args)? {
        let word = decode_escapes(&orig);
        let Some(pos) = unescaped_equals(&word) else {
            if word.contains('=') {
                raw.push(word.replace("\\=", "="));
            } else {
                raw.push(orig);
            }
            continue;
        };
        let (key, value) = (&word[..pos], &word[pos + 1..]);
        // An `=` inside a Jinja expression (`{{ a if x == 'y' else b }}.yml`) is not an option.
        if key.contains("{{") || key.contains("{%") {
            raw.push(orig);
            continue;
        }
        if free_form && !free_form_options.contains(&key) {
            raw.push(orig);
        } else {
            options.insert(key.trim().to_string(), Value::Str(unquote(value.trim()).to_string()));
        }
    }
    if !raw.is_empty() {
        options.insert("_raw_params".to_string(), Value::Str(join_args(&raw)));
    }
    Ok(options)
}

/// Byte index of the first `=` after the first character that is not escaped.
fn unescaped_equals(word: &str) -> Option<usize> {
    let bytes = word.as_bytes();
    (1..bytes.len()).find(|&i| bytes.get(i) == Some(&b'=') && bytes.get(i - 1) != Some(&b'\\'))
}

/// Strip one pair of matching outer quotes.
pub fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 {
        let (first, last) = (b[0], b[b.len() - 1]);
        if (first == b'"' || first == b'\'') && first == last && b.get(b.len() - 2) != Some(&b'\\') {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Python-style backslash escapes (`\n`, `\t`, `\x41`, `\u00e9`, `\\`, `\"`) as Ansible decodes
/// them in `k=v` words; anything else is left as written.
fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c != '\\' || next.is_none() {
            out.push(c);
            i += 1;
            continue;
        }
        let simple = match next {
            Some('\\') => Some('\\'),
            Some('\'') => Some('\''),
            Some('"') => Some('"'),
            Some('a') => Some('\u{7}'),
            Some('b') => Some('\u{8}'),
            Some('f') => Some('\u{c}'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('v') => Some('\u{b}'),
            _ => None,
        };
        if let Some(d) = simple {
            out.push(d);
            i += 2;
            continue;
        }
        let width = match next {
            Some('x') => 2,
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        let hex: String = chars.iter().skip(i + 2).take(width).collect();
        let decoded = (width > 0 && hex.len() == width)
            .then(|| u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32))
            .flatten();
        match decoded {
            Some(d) => {
                out.push(d);
                i += 2 + width;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: &[&str] = &["chdir", "creates", "removes", "stdin"];

    fn kv(s: &str, free: bool) -> Vec<(String, String)> {
        parse_kv(s, free, OPTS)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn split_args_keeps_quotes_and_jinja_whole() {
        let cases: &[(&str, &[&str])] = &[
            ("a=b c=d", &["a=b", "c=d"]),
            ("a=b c=\"foo bar\"", &["a=b", "c=\"foo bar\""]),
            (
                "msg={{ a | default('x y') }} z=1",
                &["msg={{ a | default('x y') }}", "z=1"],
            ),
            ("a='it''s' b", &["a='it''s'", "b"]),
            ("echo {% if x %}y{% endif %}", &["echo", "{% if x %}y{% endif %}"]),
            ("a  b", &["a ", "b"]),
            ("a=\"x\\\" y\"", &["a=\"x\\\" y\""]),
            ("line1\nline2", &["line1\n", "line2"]),
            ("", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(
                split_args(input).unwrap(),
                want.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "for {input:?}"
            );
        }
    }

    #[test]
    fn unbalanced_input_is_an_error_not_a_panic() {
        for bad in ["a='x", "msg={{ x", "{% if", "\"", "{#"] {
            assert!(split_args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parse_kv_reads_pairs_and_raw_words() {
        type Case<'a> = (&'a str, bool, &'a [(&'a str, &'a str)]);
        let cases: &[Case] = &[
            ("src=a dest=b", false, &[("src", "a"), ("dest", "b")]),
            (
                "dest='/tmp/x y' mode=0644",
                false,
                &[("dest", "/tmp/x y"), ("mode", "0644")],
            ),
            ("msg=\"{{ a }} b\"", false, &[("msg", "{{ a }} b")]),
            (
                "{{ 'a' if x == 'y' else 'b' }}.yml",
                false,
                &[("_raw_params", "{{ 'a' if x == 'y' else 'b' }}.yml")],
            ),
            (
                "\"{{ 'a' if x == 'y' else 'b' }}.yml\"",
                false,
                &[("_raw_params", "\"{{ 'a' if x == 'y' else 'b' }}.yml\"")],
            ),
            (
                "echo hi chdir=/tmp",
                true,
                &[("chdir", "/tmp"), ("_raw_params", "echo hi")],
            ),
            (
                "echo a=b creates=/x",
                true,
                &[("creates", "/x"), ("_raw_params", "echo a=b")],
            ),
            ("tasks.yml", false, &[("_raw_params", "tasks.yml")]),
            ("a\\=b", false, &[("_raw_params", "a=b")]),
            ("x=a\\=b", false, &[("x", "a\\=b")]),
            ("msg=line\\nnext", false, &[("msg", "line\nnext")]),
            ("=x", false, &[("_raw_params", "=x")]),
        ];
        for (input, free, want) in cases {
            assert_eq!(kv(input, *free), pairs(want), "for {input:?}");
        }
    }

    #[test]
    fn unquote_only_strips_matching_pairs() {
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("\"a\""), "a");
        assert_eq!(unquote("'a\""), "'a\"");
        assert_eq!(unquote("'"), "'");
        assert_eq!(unquote("'a\\'"), "'a\\'");
    }
}
