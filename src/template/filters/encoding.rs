//! Serialisation and digests: `to_json`, `to_nice_json`, `from_json`, `to_yaml`,
//! `to_nice_yaml`, `from_yaml`, `b64encode`, `b64decode`, `hash`, `checksum`, `md5`, `sha1`.

use super::{fail, mj, plain, text};
use crate::value::Value;
use base64::Engine;
use minijinja::value::{Kwargs, Value as MjValue};
use minijinja::{Environment, Error as MjError};
use sha2::Digest;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("hash", hash);
    env.add_filter("checksum", checksum);
    env.add_filter("sha1", checksum);
    env.add_filter("md5", md5);
}

/// JSON the way Python's `json.dumps` writes it: `", "` and `": "` separators when compact.
pub(crate) fn json(v: &Value, indent: Option<usize>, sort_keys: bool, level: usize, out: &mut String) {
    let nl = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v {
        Value::List(l) if l.is_empty() => out.push_str("[]"),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                nl(out, level + 1);
                json(x, indent, sort_keys, level + 1, out);
            }
            nl(out, level);
            out.push(']');
        }
        Value::Map(m) if m.is_empty() => out.push_str("{}"),
        Value::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            if sort_keys {
                keys.sort();
            }
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                nl(out, level + 1);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push_str(": ");
                if let Some(x) = m.get(k) {
                    json(x, indent, sort_keys, level + 1, out);
                }
            }
            nl(out, level);
            out.push('}');
        }
        Value::Float(f) if f.fract() == 0.0 && f.is_finite() => out.push_str(&format!("{f:.1}")),
        other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
    }
}

fn to_json(value: MjValue, kwargs: Kwargs) -> Result<String, MjError> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
    let _: Option<MjValue> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let mut s = String::new();
    json(&plain(&value)?, indent, sort, 0, &mut s);
    Ok(s)
}

fn to_nice_json(value: MjValue, kwargs: Kwargs) -> Result<String, MjError> {
    let indent: usize = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    let sort = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(true);
    let _: Option<MjValue> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let mut s = String::new();
    json(&plain(&value)?, Some(indent), sort, 0, &mut s);
    Ok(s)
}

fn from_json(value: MjValue) -> Result<MjValue, MjError> {
    let s = text(&value)?;
    let j: serde_json::Value = serde_json::from_str(&s).map_err(|e| fail("from_json", e))?;
    Ok(mj(&Value::from(j)))
}

fn yaml(name: &str, v: &Value, indent: usize) -> Result<String, MjError> {
    let mut opts = serde_saphyr::SerializerOptions::default();
    opts.indent_step = indent;
    let mut s = serde_saphyr::to_string_with_options(v, opts).map_err(|e| fail(name, e))?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

fn to_yaml(value: MjValue, kwargs: Kwargs) -> Result<String, MjError> {
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(2);
    let _: Option<MjValue> = kwargs.get("default_flow_style")?;
    let _: Option<MjValue> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    yaml("to_yaml", &plain(&value)?, indent)
}

fn to_nice_yaml(value: MjValue, kwargs: Kwargs) -> Result<String, MjError> {
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    let _: Option<MjValue> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    yaml("to_nice_yaml", &plain(&value)?, indent)
}

fn from_yaml(value: MjValue) -> Result<MjValue, MjError> {
    let s = text(&value)?;
    let src = crate::syntax::SourceFile::new("<from_yaml>", s);
    let node = crate::syntax::yaml::parse(src).map_err(|e| fail("from_yaml", e))?;
    Ok(mj(&node.to_value()))
}

fn b64encode(value: MjValue) -> Result<String, MjError> {
    Ok(base64::engine::general_purpose::STANDARD.encode(text(&value)?))
}

fn b64decode(value: MjValue) -> Result<String, MjError> {
    let s = text(&value)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| fail("b64decode", e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn hash(value: MjValue, algo: Option<String>) -> Result<String, MjError> {
    let data = text(&value)?;
    let data = data.as_bytes();
    Ok(match algo.as_deref().unwrap_or("sha1") {
        "sha1" => hex::encode(sha1::Sha1::digest(data)),
        "md5" => hex::encode(md5::Md5::digest(data)),
        "sha224" => hex::encode(sha2::Sha224::digest(data)),
        "sha256" => hex::encode(sha2::Sha256::digest(data)),
        "sha384" => hex::encode(sha2::Sha384::digest(data)),
        "sha512" => hex::encode(sha2::Sha512::digest(data)),
        other => return Err(fail("hash", format!("unsupported hash type '{other}'"))),
    })
}

fn checksum(value: MjValue) -> Result<String, MjError> {
    hash(value, Some("sha1".into()))
}

fn md5(value: MjValue) -> Result<String, MjError> {
    hash(value, Some("md5".into()))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;

    #[test]
    fn encoding_filters() {
        check(
            r#"{"d": {"b": [1, "x"], "a": true}}"#,
            &[
                ("{{ d | to_json }}", r#"{"b": [1, "x"], "a": true}"#),
                (
                    "{{ d | to_nice_json }}",
                    "{\n    \"a\": true,\n    \"b\": [\n        1,\n        \"x\"\n    ]\n}",
                ),
                (
                    "{{ d | to_nice_json(indent=2) }}",
                    "{\n  \"a\": true,\n  \"b\": [\n    1,\n    \"x\"\n  ]\n}",
                ),
                ("{{ ('{\"k\": [1]}' | from_json).k[0] }}", "1"),
                ("{{ ('k: [1, 2]' | from_yaml).k | length }}", "2"),
                ("{{ ({'k': 'v'} | to_yaml | from_yaml).k }}", "v"),
                ("{{ 'hello' | b64encode }}", "aGVsbG8="),
                ("{{ 'aGVsbG8=' | b64decode }}", "hello"),
                ("{{ 'hello' | hash('md5') }}", "5d41402abc4b2a76b9719d911017c592"),
                (
                    "{{ 'hello' | hash('sha256') }}",
                    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                ),
                ("{{ 'hello' | checksum }}", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
            ],
        );
    }
}
