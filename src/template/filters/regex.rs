//! Regular-expression filters with Python's syntax for replacements and flags:
//! `regex_replace`, `regex_search`, `regex_findall`, `regex_escape`.

use super::{fail, text};
use minijinja::value::{Kwargs, Value as MjValue};
use minijinja::{Environment, Error as MjError};
use regex::{Regex, RegexBuilder};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", regex_escape);
}

/// Compiles a Python-style pattern with Ansible's `ignorecase` / `multiline` flags.
pub(crate) fn compile(name: &str, pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, MjError> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| fail(name, format!("invalid regular expression '{pattern}': {e}")))
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), MjError> {
    Ok((
        kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false),
        kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false),
    ))
}

/// Python's replacement syntax (`\1`, `\g<1>`, `\g<name>`) in the regex crate's (`${1}`).
fn python_replacement(rep: &str) -> String {
    let mut out = String::new();
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        num.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|c| *c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

fn regex_replace(
    value: MjValue,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, MjError> {
    let s = text(&value)?;
    let (ic, ml) = flags(&kwargs)?;
    let count: usize = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let re = compile("regex_replace", &pattern, ic, ml)?;
    let rep = python_replacement(&replacement.unwrap_or_default());
    Ok(re.replacen(&s, count, rep.as_str()).into_owned())
}

fn regex_search(
    value: MjValue,
    pattern: String,
    groups: minijinja::value::Rest<String>,
    kwargs: Kwargs,
) -> Result<MjValue, MjError> {
    let s = text(&value)?;
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile("regex_search", &pattern, ic, ml)?;
    let Some(caps) = re.captures(&s) else {
        return Ok(MjValue::from(()));
    };
    if groups.is_empty() {
        return Ok(MjValue::from(caps.get(0).map(|m| m.as_str()).unwrap_or_default()));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            caps.name(name)
        } else {
            return Err(fail(
                "regex_search",
                format!("unknown group '{g}' (use '\\\\1' or '\\\\g<name>')"),
            ));
        };
        out.push(m.map(|m| MjValue::from(m.as_str())).unwrap_or(MjValue::from(())));
    }
    Ok(MjValue::from(out))
}

fn regex_findall(value: MjValue, pattern: String, kwargs: Kwargs) -> Result<MjValue, MjError> {
    let s = text(&value)?;
    let (ic, ml) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile("regex_findall", &pattern, ic, ml)?;
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&s) {
        let get = |i: usize| MjValue::from(caps.get(i).map(|m| m.as_str()).unwrap_or_default());
        out.push(match groups {
            0 => get(0),
            1 => get(1),
            n => MjValue::from((1..=n).map(get).collect::<Vec<_>>()),
        });
    }
    Ok(MjValue::from(out))
}

fn regex_escape(value: MjValue, re_type: Option<String>) -> Result<String, MjError> {
    let s = text(&value)?;
    if re_type.as_deref() == Some("posix_basic") {
        return Ok(s.chars().fold(String::new(), |mut o, c| {
            if "\\^$.*[]".contains(c) {
                o.push('\\');
            }
            o.push(c);
            o
        }));
    }
    // Python's re.escape: everything but letters, digits and '_' is escaped.
    Ok(s.chars().fold(String::new(), |mut o, c| {
        if !(c.is_alphanumeric() || c == '_') {
            o.push('\\');
        }
        o.push(c);
        o
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::python_replacement;

    #[test]
    fn replacement_syntax() {
        assert_eq!(python_replacement(r"\1-\g<name>-$x"), "${1}-${name}-$$x");
    }

    #[test]
    fn regex_filters() {
        check(
            r#"{"v": "v1.29.4", "text": "a=1\nb=2\nB=3"}"#,
            &[
                ("{{ v | regex_replace('^v', '') }}", "1.29.4"),
                ("{{ v | regex_replace('(\\d+)\\.(\\d+)', '\\2.\\1') }}", "v29.1.4"),
                ("{{ 'aaa' | regex_replace('a', 'b', count=2) }}", "bba"),
                (
                    "{{ text | regex_replace('^b=.*$', 'x', multiline=True) }}",
                    "a=1\nx\nB=3",
                ),
                (
                    "{{ text | regex_findall('^b=(\\d)', multiline=True, ignorecase=True) }}",
                    r#"["2","3"]"#,
                ),
                ("{{ v | regex_search('\\d+') }}", "1"),
                (
                    "{{ v | regex_search('(\\d+)\\.(?P<minor>\\d+)', '\\1', '\\g<minor>') }}",
                    r#"["1","29"]"#,
                ),
                ("{{ v | regex_search('zzz') is none }}", "true"),
                ("{{ 'a.b*c' | regex_escape }}", "a\\.b\\*c"),
                (
                    "{{ 'k=v, x=y' | regex_findall('(\\w)=(\\w)') }}",
                    r#"[["k","v"],["x","y"]]"#,
                ),
            ],
        );
    }
}
