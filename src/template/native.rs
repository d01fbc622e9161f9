//! Between minijinja values and ours: turning a render result back into a native `Value`,
//! spotting the single-`{{ expr }}` strings that keep their type, and printing values into
//! text the way Python (and so Ansible) prints them.

use super::error::{Error, Result};
use super::vars_object::Marker;
use crate::value::{Map, Value};
use minijinja::value::{Value as MjValue, ValueKind};

/// The expression inside a string that is exactly one `{{ expr }}`, with Jinja's
/// whitespace-control signs removed. Whitespace around the braces is text, as in ansible-core
/// 2.19: `"{{ x }}\n"` is a string ending in a newline, not `x`'s own type.
pub fn single_expression(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("{%") || inner.contains("{#") {
        return None;
    }
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    if inner.trim().is_empty() { None } else { Some(inner) }
}

/// True when the text holds Jinja syntax and so needs rendering.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// A minijinja value as one of ours. Undefined values are errors; safe strings (how we carry
/// `!unsafe` through rendering) come back as `Value::Unsafe`.
pub fn to_value(v: &MjValue) -> Result<Value> {
    to_value_depth(v, 0)
}

fn to_value_depth(v: &MjValue, depth: usize) -> Result<Value> {
    if depth > 200 {
        return Err(Error::render(
            "value is nested too deeply (a self-referencing structure?)",
        ));
    }
    if let Some(m) = v.downcast_object_ref::<Marker>() {
        return Err(m.error());
    }
    Ok(match v.kind() {
        ValueKind::Undefined => return Err(Error::undefined("value")),
        ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => number(v),
        ValueKind::String => match v.as_str() {
            Some(s) if v.is_safe() => Value::Unsafe(s.to_string()),
            Some(s) => Value::Str(s.to_string()),
            None => Value::Str(v.to_string()),
        },
        ValueKind::Bytes => Value::Str(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned()),
        ValueKind::Seq | ValueKind::Iterable => {
            let iter = v.try_iter().map_err(|e| Error::render(e.to_string()))?;
            let mut out = Vec::new();
            for item in iter {
                out.push(to_value_depth(&item, depth + 1)?);
            }
            Value::List(out)
        }
        ValueKind::Map => {
            let iter = v.try_iter().map_err(|e| Error::render(e.to_string()))?;
            let mut out = Map::new();
            for key in iter {
                let item = v.get_item(&key).unwrap_or(MjValue::UNDEFINED);
                if let Some(m) = item.downcast_object_ref::<Marker>() {
                    return Err(m.error());
                }
                let k = key.as_str().map(str::to_string).unwrap_or_else(|| key.to_string());
                out.insert(k, to_value_depth(&item, depth + 1)?);
            }
            Value::Map(out)
        }
        _ => Value::Str(v.to_string()),
    })
}

fn number(v: &MjValue) -> Value {
    if let Ok(i) = i64::try_from(v.clone())
        && (v.as_i64().is_some() || !v.to_string().contains('.'))
    {
        return Value::Int(i);
    }
    match f64::try_from(v.clone()) {
        Ok(f) => Value::Float(f),
        Err(_) => Value::Str(v.to_string()),
    }
}

/// One of our values as a plain minijinja value (no laziness: used for data that is already
/// rendered, such as filter results and lookup output).
pub fn from_value(v: &Value) -> MjValue {
    match v {
        Value::Null => MjValue::from(()),
        Value::Bool(b) => MjValue::from(*b),
        Value::Int(i) => MjValue::from(*i),
        Value::Float(f) => MjValue::from(*f),
        Value::Str(s) => MjValue::from(s.as_str()),
        Value::Unsafe(s) => MjValue::from_safe_string(s.clone()),
        Value::Vault(vv) => match &vv.plaintext {
            Some(p) => MjValue::from_safe_string(p.clone()),
            None => MjValue::UNDEFINED,
        },
        Value::List(l) => MjValue::from(l.iter().map(from_value).collect::<Vec<_>>()),
        Value::Map(m) => MjValue::from_iter(m.iter().map(|(k, v)| (k.clone(), from_value(v)))),
    }
}

/// How a value prints inside text: strings as they are, `None` as nothing (Ansible's
/// finalize), everything else as Python's `repr`.
pub fn print_top(v: &MjValue, out: &mut String) {
    match v.kind() {
        ValueKind::String => out.push_str(v.as_str().unwrap_or_default()),
        ValueKind::None => {}
        _ => python_repr(v, out),
    }
}

/// Python's `repr` of a value: `[1, 'a']`, `{'k': True}`, `None`.
pub fn python_repr(v: &MjValue, out: &mut String) {
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::String => py_str(v.as_str().unwrap_or_default(), out),
        ValueKind::Number => {
            let s = v.to_string();
            match s.as_str() {
                "inf" => out.push_str("inf"),
                "-inf" => out.push_str("-inf"),
                "NaN" | "nan" => out.push_str("nan"),
                _ => out.push_str(&s),
            }
        }
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    python_repr(&item, out);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    python_repr(&key, out);
                    out.push_str(": ");
                    python_repr(&v.get_item(&key).unwrap_or(MjValue::from(())), out);
                }
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

fn py_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_expression_table() {
        let cases = [
            ("{{ x }}", Some(" x ")),
            // ansible-core 2.19: text around the braces makes a string (`"  4\n"`).
            ("  {{ x }}\n", None),
            ("{{- x -}}", Some(" x ")),
            ("{{ {'a': {'b': 1}} }}", Some(" {'a': {'b': 1}} ")),
            ("{{ a }} {{ b }}", None),
            ("x {{ a }}", None),
            ("{{ a }}{# c #}", None),
            ("plain", None),
            ("{{}}", None),
        ];
        for (text, want) in cases {
            assert_eq!(single_expression(text), want, "{text}");
        }
    }

    #[test]
    fn python_repr_table() {
        let cases: Vec<(MjValue, &str)> = vec![
            (MjValue::from(vec![MjValue::from(1), MjValue::from("a")]), "[1, 'a']"),
            (MjValue::from(true), "True"),
            (MjValue::from(()), "None"),
            (MjValue::from("it's"), "\"it's\""),
            (MjValue::from_iter([("k", MjValue::from(false))]), "{'k': False}"),
            (MjValue::from(1.5), "1.5"),
        ];
        for (v, want) in cases {
            let mut s = String::new();
            python_repr(&v, &mut s);
            assert_eq!(s, want);
        }
    }
}
