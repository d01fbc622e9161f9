//! `-e` values, read as ansible-playbook reads them: `@file` (YAML or JSON, possibly
//! vault-encrypted), inline YAML/JSON starting with `{` or `[`, or `key=value` pairs whose
//! values stay strings. Later `-e` values replace earlier ones key by key.

use super::config::Environment;
use super::error::{Error, ErrorKind, Result};
use crate::syntax::vault::{self, VaultSecrets};
use crate::syntax::{Node, SourceFile, yaml};
use crate::value::{Map, Value};

fn err(arg: &str, message: impl Into<String>, help: &str) -> Error {
    Error::new(
        ErrorKind::ExtraVars {
            arg: arg.to_string(),
            message: message.into(),
        },
        None,
    )
    .with_help(help.to_string())
}

/// Read every `-e` value in order and merge them.
pub fn load_all(args: &[String], env: &Environment, secrets: &VaultSecrets) -> Result<Map> {
    let mut out = Map::new();
    for arg in args {
        for (k, v) in load_one(arg, env, secrets)? {
            out.insert(k, v);
        }
    }
    Ok(out)
}

/// Read one `-e` value into a mapping.
pub fn load_one(arg: &str, env: &Environment, secrets: &VaultSecrets) -> Result<Map> {
    if arg.is_empty() {
        return Ok(Map::new());
    }
    if let Some(file) = arg.strip_prefix('@') {
        let path = env.resolve_path(file, &env.cwd);
        let node = vault::load_maybe_encrypted_yaml(&path, secrets)?;
        return into_map(arg, &node);
    }
    if arg.starts_with('/') || arg.starts_with('.') {
        return Err(err(
            arg,
            "this looks like a file name",
            &format!("to read variables from a file, write -e '@{arg}'"),
        ));
    }
    let first = split_args(arg).map_err(|m| err(arg, m, "close every quote and {{ }} block"))?;
    let looks_like_kv = first.first().is_some_and(|t| t.contains('='));
    if arg.starts_with('{') || arg.starts_with('[') || !looks_like_kv {
        let mut node = yaml::parse(SourceFile::new("<extra vars>", arg)).map_err(|e| {
            let mut e = Error::from(e);
            e.help = Some(
                "write -e as key=value pairs, as YAML/JSON ('{\"key\": [1, 2]}' or 'key: value'), or as @file".into(),
            );
            e
        })?;
        vault::decrypt_in_place(&mut node, secrets)?;
        return into_map(arg, &node);
    }
    parse_kv(arg)
}

fn into_map(arg: &str, node: &Node) -> Result<Map> {
    match node.to_value() {
        Value::Map(m) => Ok(m),
        // An empty file holds no variables.
        Value::Null if arg.starts_with('@') => Ok(Map::new()),
        other => Err(err(
            arg,
            format!(
                "this is a {}, not a mapping of variable names to values",
                other.type_name()
            ),
            "extra vars must be a mapping, such as 'key=value' or '{\"key\": \"value\"}'",
        )),
    }
}

/// `key=value key2='a b'`: values are strings with one pair of outer quotes removed and
/// Python escapes (`\n`, `\t`, `\u00e9`...) decoded, as Ansible's `parse_kv` does.
pub fn parse_kv(arg: &str) -> Result<Map> {
    let mut out = Map::new();
    let tokens = split_args(arg).map_err(|m| err(arg, m, "close every quote and {{ }} block"))?;
    for token in tokens {
        let t = decode_escapes(&token);
        let split = find_unescaped_eq(&t).ok_or_else(|| {
            err(
                arg,
                format!("'{token}' is not key=value"),
                "separate pairs with spaces and quote values with spaces: k='a b'",
            )
        })?;
        let key = t[..split].trim();
        if key.is_empty() {
            return Err(err(
                arg,
                format!("'{token}' has no variable name before '='"),
                "write name=value",
            ));
        }
        out.insert(key.to_string(), Value::Str(unquote(t[split + 1..].trim()).to_string()));
    }
    Ok(out)
}

/// The first `=` not preceded by a backslash, past the first character.
fn find_unescaped_eq(t: &str) -> Option<usize> {
    t.char_indices()
        .skip(1)
        .find(|(i, c)| *c == '=' && !t[..*i].ends_with('\\'))
        .map(|(i, _)| i)
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2
            && let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q))
        {
            return inner;
        }
    }
    s
}

/// Split on whitespace outside quotes and Jinja blocks; quotes stay in the tokens.
pub fn split_args(s: &str) -> std::result::Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut jinja = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            (Some(q), _) if c == q => quote = None,
            (None, '"' | '\'') if jinja == 0 => quote = Some(c),
            (None, '{') if matches!(chars.peek(), Some('{' | '%' | '#')) => jinja += 1,
            (None, '}' | '%' | '#')
                if jinja > 0 && chars.peek() == Some(&'}') && (c == '}' || c == '%' || c == '#') =>
            {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                jinja -= 1;
                continue;
            }
            (None, w) if w.is_whitespace() && jinja == 0 => {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if quote.is_some() {
        return Err("a quote is never closed".into());
    }
    if jinja > 0 {
        return Err("a {{ or {% block is never closed".into());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    Ok(tokens)
}

/// Python string escapes, as Ansible decodes them in key=value text.
fn decode_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&n) = chars.peek() else {
            out.push(c);
            break;
        };
        let simple = match n {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(ch) = simple {
            chars.next();
            out.push(ch);
            continue;
        }
        let width = match n {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if width > 0 {
            let hex: String = chars.clone().skip(1).take(width).collect();
            if let Some(ch) = (hex.len() == width)
                .then(|| u32::from_str_radix(&hex, 16).ok())
                .flatten()
                .and_then(char::from_u32)
            {
                for _ in 0..=width {
                    chars.next();
                }
                out.push(ch);
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::vault::Secret;
    use std::path::Path;

    fn env(cwd: &Path) -> Environment {
        Environment {
            cwd: cwd.to_path_buf(),
            home: Some(cwd.join("home")),
            ..Environment::default()
        }
    }

    fn map(pairs: &[(&str, Value)]) -> Map {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn extra_vars_forms() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("vars.yml"), "from_file: yes\nlist: [1, 2]\n").expect("write");
        std::fs::write(dir.path().join("vars.json"), "{\"j\": {\"n\": 1.5}}").expect("write");
        std::fs::write(dir.path().join("empty.yml"), "").expect("write");
        let e = env(dir.path());
        let s = |t: &str| Value::str(t);
        let cases: Vec<(&str, Map)> = vec![
            ("a=1 b=two", map(&[("a", s("1")), ("b", s("two"))])),
            ("k2='a b' k3=\"c d\"", map(&[("k2", s("a b")), ("k3", s("c d"))])),
            (
                "msg='{{ x }}' y={{ a b }}",
                map(&[("msg", s("{{ x }}")), ("y", s("{{ a b }}"))]),
            ),
            (
                "eq=a=b esc=line\\none",
                map(&[("eq", s("a=b")), ("esc", s("line\none"))]),
            ),
            ("u=caf\\u00e9 empty=", map(&[("u", s("café")), ("empty", s(""))])),
            ("{\"a\": [1]}", map(&[("a", Value::List(vec![Value::Int(1)]))])),
            ("{a: yes, b: '1'}", map(&[("a", Value::Bool(true)), ("b", s("1"))])),
            ("a: 1", map(&[("a", Value::Int(1))])),
            ("msg: a=b", map(&[("msg", s("a=b"))])),
            (
                "@vars.yml",
                map(&[
                    ("from_file", Value::Bool(true)),
                    ("list", Value::List(vec![Value::Int(1), Value::Int(2)])),
                ]),
            ),
            (
                "@vars.json",
                map(&[("j", Value::Map(map(&[("n", Value::Float(1.5))])))]),
            ),
            ("@empty.yml", Map::new()),
            ("", Map::new()),
        ];
        for (arg, want) in cases {
            assert_eq!(
                load_one(arg, &e, &VaultSecrets::new()).unwrap_or_else(|err| panic!("{arg}: {err}")),
                want,
                "{arg}"
            );
        }
    }

    #[test]
    fn later_values_win_key_by_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let args = [
            "a=1 b=1".to_string(),
            "{\"b\": {\"x\": 2}, \"c\": 3}".to_string(),
            "c=4".to_string(),
        ];
        let got = load_all(&args, &env(dir.path()), &VaultSecrets::new()).expect("loads");
        assert_eq!(
            got,
            map(&[
                ("a", Value::str("1")),
                ("b", Value::Map(map(&[("x", Value::Int(2))]))),
                ("c", Value::str("4"))
            ])
        );
        assert_eq!(got.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn bad_values_name_the_argument_and_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases: &[(&str, &str)] = &[
            ("./vars.yml", "-e '@./vars.yml'"),
            ("/etc/vars.yml", "@/etc/vars.yml"),
            ("a=1 oops", "'oops' is not key=value"),
            ("a='open", "quote is never closed"),
            ("=x", "not key=value"),
            ("[1, 2]", "not a mapping"),
            ("just words", "not a mapping"),
            ("{a: [1,", "invalid YAML"),
            ("@missing.yml", "missing.yml"),
        ];
        for (arg, want) in cases {
            let e = load_one(arg, &env(dir.path()), &VaultSecrets::new()).expect_err("must fail");
            let shown = e.to_string();
            assert!(shown.contains(want), "{arg}: {shown}");
            assert!(
                e.help.is_some() || matches!(e.kind, ErrorKind::Syntax(_)),
                "{arg}: no help in {shown}"
            );
        }
    }

    #[test]
    fn vault_encrypted_files_need_and_use_the_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = vault::encrypt(b"db_password: s3cret\n", b"pw", None).expect("encrypts");
        std::fs::write(dir.path().join("secrets.yml"), text).expect("write");
        let mut secrets = VaultSecrets::new();
        secrets.add("default", Secret::new(b"pw".to_vec()));
        let got = load_one("@secrets.yml", &env(dir.path()), &secrets).expect("decrypts");
        assert_eq!(got["db_password"], Value::str("s3cret"));
        let e = load_one("@secrets.yml", &env(dir.path()), &VaultSecrets::new()).expect_err("must fail");
        assert!(e.to_string().contains("--vault-password-file"), "{e}");
    }
}
