//! Data that did not come from the playbook's own files (module results, gathered facts,
//! registered output, loop items, anything a template produced) is never templated again, as
//! in ansible-core 2.19: a host whose command prints `{{ lookup('pipe', ...) }}` must not get
//! that run on the controller when the output is read. Such strings are kept as
//! `Value::Unsafe`, which the templar reads as text.

use crate::value::{Map, Value};

/// `v` with every string that holds Jinja syntax made `Unsafe`, at any depth. Other strings
/// stay as they are: without `{{`, `{%` or `{#` they are never templated anyway.
pub fn untrusted(v: Value) -> Value {
    mark(v, &|s| super::native::is_template(s))
}

/// [`untrusted`] for every value of a map.
pub fn untrusted_map(m: Map) -> Map {
    m.into_iter().map(|(k, v)| (k, untrusted(v))).collect()
}

/// A module's result as host data: every string `Unsafe`, so none is ever templated or
/// evaluated as an expression (`debug: var=`, `assert: that:`), whatever it holds.
pub fn untrusted_result(m: Map) -> Map {
    m.into_iter().map(|(k, v)| (k, mark(v, &|_| true))).collect()
}

/// `v` with the strings `pick` chooses made `Unsafe`, at any depth.
fn mark(v: Value, pick: &dyn Fn(&str) -> bool) -> Value {
    match v {
        Value::Str(s) if pick(&s) => Value::Unsafe(s),
        Value::List(l) => Value::List(l.into_iter().map(|v| mark(v, pick)).collect()),
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, mark(v, pick))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{MapVars, Templar, TemplarContext, Vars};
    use std::sync::Arc;

    /// A registered result from a hostile host, read back through the templar: the text comes
    /// through as written and the lookup inside it never runs.
    #[test]
    fn registered_output_is_read_as_text() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let marker = dir.path().join("pwned");
        let payload = format!("{{{{ lookup('pipe', 'touch {}') }}}}", marker.display());
        let mut out = Map::new();
        out.insert("stdout".into(), Value::str(payload.clone()));
        out.insert("stdout_lines".into(), Value::List(vec![Value::str(payload.clone())]));
        let mut vars = Map::new();
        vars.insert("out".into(), untrusted(Value::Map(out)));
        // What a set_fact of `"x {{ out.stdout | trim }}"` stores: template output.
        vars.insert("joined".into(), untrusted(Value::str(format!("x {payload}"))));
        let vars: Arc<dyn Vars> = Arc::new(MapVars::new(vars));
        let t = Templar::new(TemplarContext::default());
        let cases = [
            ("{{ out.stdout }}", payload.clone()),
            ("got {{ out.stdout | trim }}", format!("got {payload}")),
            ("{{ out.stdout_lines | first }}", payload.clone()),
            ("{{ joined }}", format!("x {payload}")),
        ];
        for (text, want) in cases {
            let got = t.render_str(text, &vars).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(got.to_string(), want, "{text}");
        }
        assert!(t.eval_condition("out.stdout != ''", &vars).unwrap_or(false));
        assert!(!marker.exists(), "the payload in a registered result was templated");
    }

    /// Every string of a module result is host data, and such data is never evaluated as a
    /// condition.
    #[test]
    fn module_results_are_all_unsafe_and_never_evaluated() {
        let mut r = Map::new();
        r.insert("stdout".into(), Value::str("1 == 1"));
        r.insert("rc".into(), Value::Int(0));
        r.insert("lines".into(), Value::List(vec![Value::str("a")]));
        let r = untrusted_result(r);
        assert_eq!(r.get("stdout"), Some(&Value::Unsafe("1 == 1".into())));
        assert_eq!(r.get("rc"), Some(&Value::Int(0)));
        assert_eq!(r.get("lines"), Some(&Value::List(vec![Value::Unsafe("a".into())])));
        let t = Templar::new(TemplarContext::default());
        let vars: Arc<dyn Vars> = Arc::new(MapVars::new(Map::new()));
        let e = t.eval_when(&Value::Unsafe("1 == 1".into()), &vars).err();
        assert!(e.map(|e| e.to_string()).unwrap_or_default().contains("untrusted"));
        assert_eq!(t.eval_when(&Value::str("1 == 1"), &vars).ok(), Some(true));
    }

    #[test]
    fn template_strings_become_unsafe_at_any_depth() {
        let payload = "{{ lookup('pipe', 'touch /tmp/x') }}";
        let mut inner = Map::new();
        inner.insert("stdout".into(), Value::str(payload));
        inner.insert("rc".into(), Value::Int(0));
        inner.insert("plain".into(), Value::str("no braces"));
        inner.insert(
            "lines".into(),
            Value::List(vec![Value::str("{% if 1 %}x{% endif %}"), Value::str("ok")]),
        );
        let cases = [
            (Value::str(payload), Value::Unsafe(payload.into())),
            (Value::str("{# c #}"), Value::Unsafe("{# c #}".into())),
            (Value::str("a } { b"), Value::str("a } { b")),
            (Value::Int(3), Value::Int(3)),
            (Value::Unsafe(payload.into()), Value::Unsafe(payload.into())),
        ];
        for (input, want) in cases {
            assert_eq!(untrusted(input.clone()), want, "{input:?}");
        }
        let Value::Map(out) = untrusted(Value::Map(inner)) else {
            panic!("a map stays a map");
        };
        assert_eq!(out.get("stdout"), Some(&Value::Unsafe(payload.into())));
        assert_eq!(out.get("plain"), Some(&Value::str("no braces")));
        assert_eq!(out.get("rc"), Some(&Value::Int(0)));
        assert_eq!(
            out.get("lines"),
            Some(&Value::List(vec![
                Value::Unsafe("{% if 1 %}x{% endif %}".into()),
                Value::str("ok")
            ]))
        );
    }
}
