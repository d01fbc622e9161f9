//! JSON laid out the way ansible-playbook prints results (Python's `json.dumps` with sorted
//! keys): `{"a": 1, "b": [1, 2]}` on one line, or indented by four spaces.

use crate::value::Value;
use std::fmt::Write;

/// One line: `{"changed": false, "msg": "x"}`.
pub fn compact(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, None, 0);
    out
}

/// Indented by four spaces per level, keys sorted.
pub fn indented(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, Some(4), 0);
    out
}

fn write_value(out: &mut String, v: &Value, indent: Option<usize>, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
                let _ = write!(out, "{f:.1}");
            } else {
                let _ = write!(out, "{f}");
            }
        }
        Value::Str(s) | Value::Unsafe(s) => write_str(out, s),
        Value::Vault(_) => write_str(out, "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"),
        Value::List(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(out, indent, level + 1);
                write_value(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    if indent.is_none() {
                        out.push(' ');
                    }
                }
                newline(out, indent, level + 1);
                write_str(out, k);
                out.push_str(": ");
                if let Some(v) = m.get(*k) {
                    write_value(out, v, indent, level + 1);
                }
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

/// A JSON string with Python's escapes (non-ASCII as `\uXXXX`, as `ensure_ascii` does).
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    #[test]
    fn laid_out_like_python() {
        let mut m = Map::new();
        m.insert("msg".into(), Value::str("héllo \"x\"\n"));
        m.insert("changed".into(), Value::Bool(false));
        m.insert("l".into(), Value::List(vec![Value::Int(1), Value::Float(2.0)]));
        let v = Value::Map(m);
        assert_eq!(
            compact(&v),
            r#"{"changed": false, "l": [1, 2.0], "msg": "h\u00e9llo \"x\"\n"}"#
        );
        assert_eq!(
            indented(&v),
            "{\n    \"changed\": false,\n    \"l\": [\n        1,\n        2.0\n    ],\n    \"msg\": \"h\\u00e9llo \\\"x\\\"\\n\"\n}"
        );
    }
}
