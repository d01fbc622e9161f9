//! The templar's core semantics: native types, strict undefined, lazy variables and cycles,
//! `!unsafe`, vault values, `omit`, and `hostvars` laziness.

use super::*;
use crate::value::{Map, VaultValue};
use std::sync::atomic::{AtomicUsize, Ordering};

fn vars(pairs: &[(&str, Value)]) -> Arc<dyn Vars> {
    Arc::new(MapVars::new(
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    ))
}

fn json(j: serde_json::Value) -> Value {
    Value::from(j)
}

fn templar() -> Templar {
    Templar::new(TemplarContext::default())
}

#[test]
fn native_types_and_text() {
    let v = vars(&[
        ("n", Value::Int(3)),
        ("l", json(serde_json::json!([1, "a"]))),
        ("s", Value::str("x")),
        ("none", Value::Null),
    ]);
    let t = templar();
    let cases: Vec<(&str, Value)> = vec![
        ("{{ n }}", Value::Int(3)),
        // ansible-core 2.19 keeps the text around a lone expression: a string.
        ("  {{ n + 1 }}\n", Value::str("  4\n")),
        ("{{ n > 2 }}", Value::Bool(true)),
        ("{{ l }}", json(serde_json::json!([1, "a"]))),
        ("{{ {'k': n} }}", json(serde_json::json!({"k": 3}))),
        ("{{ '42' }}", Value::str("42")),
        ("{{ 'True' }}", Value::str("True")),
        ("n={{ n }}", Value::str("n=3")),
        ("{{ l }} and {{ s }}", Value::str("[1, 'a'] and x")),
        ("{{ n > 2 }}!", Value::str("True!")),
        ("[{{ none }}]", Value::str("[]")),
        ("{% if n == 3 %}yes{% endif %}", Value::str("yes")),
        ("plain {text}", Value::str("plain {text}")),
        (
            "{{ s.upper() }}|{{ 'a,b'.split(',') }}|{{ s.startswith('x') }}",
            Value::str("X|['a', 'b']|True"),
        ),
        ("{{ {'a': 1}.items() | list }}", json(serde_json::json!([["a", 1]]))),
        ("{{ omit }}", Value::str(OMIT)),
    ];
    for (tpl, want) in cases {
        assert_eq!(
            t.render_str(tpl, &v).unwrap_or_else(|e| panic!("{tpl}: {e}")),
            want,
            "{tpl}"
        );
    }
}

#[test]
fn strict_undefined_names_the_variable() {
    let v = vars(&[("d", json(serde_json::json!({"a": 1})))]);
    let t = templar();
    let cases = [
        ("{{ foo }}", "foo"),
        ("x {{ foo }} y", "foo"),
        ("{{ foo.bar }}", "foo"),
        ("{{ foo | upper }}", "foo"),
        ("{% if foo %}x{% endif %}", "foo"),
        ("{% for i in foo %}x{% endfor %}", "foo"),
        ("{{ d.missing }}", "d.missing"),
    ];
    for (tpl, name) in cases {
        let e = t.render_str(tpl, &v).expect_err(tpl);
        assert!(e.is_undefined(), "{tpl}: {e}");
        assert!(e.message().contains(name), "{tpl}: {e}");
    }
    assert!(t.eval_condition("foo", &v).is_err());
    assert!(t.eval_condition("foo is defined and foo", &v).is_ok_and(|b| !b));
    assert_eq!(
        t.render_str("{{ foo.bar.baz | default(1) }}", &v).ok(),
        Some(Value::Int(1))
    );
    assert_eq!(
        t.render_str("{{ d.missing | default('m') }}", &v).ok(),
        Some(Value::str("m"))
    );
    assert_eq!(
        t.render_str("{{ 'a' in d }}/{{ 'zz' in d }}", &v).ok(),
        Some(Value::str("True/False"))
    );
}

#[test]
fn lazy_variables_and_cycles() {
    let v = vars(&[
        ("a", Value::str("{{ b }} x")),
        ("b", Value::str("{{ c | upper }}")),
        ("c", Value::str("hi")),
        ("num", Value::str("{{ 40 + 2 }}")),
        (
            "nested",
            json(serde_json::json!({"k": ["{{ c }}", "{{ num }}"], "self": "{{ nested.plain }}", "plain": 1})),
        ),
        ("loop1", Value::str("{{ loop2 }}")),
        ("loop2", Value::str("{{ loop1 }}")),
        ("selfref", json(serde_json::json!({"x": "{{ selfref.x }}"}))),
        ("uses_missing", Value::str("{{ nowhere }}")),
    ]);
    let t = templar();
    assert_eq!(t.render_str("{{ a }}", &v).ok(), Some(Value::str("HI x")));
    assert_eq!(t.render_str("{{ num }}", &v).ok(), Some(Value::Int(42)));
    assert_eq!(
        t.render_str("{{ nested.k }}", &v).ok(),
        Some(json(serde_json::json!(["hi", 42])))
    );
    assert_eq!(t.render_str("{{ nested.self }}", &v).ok(), Some(Value::Int(1)));
    assert_eq!(
        t.render_str("{{ uses_missing | default('d') }}", &v).ok(),
        Some(Value::str("d"))
    );
    let e = t.render_str("{{ uses_missing }}", &v).expect_err("undefined inside");
    assert!(e.message().contains("nowhere"), "{e}");
    for tpl in ["{{ loop1 }}", "x {{ loop2 }}", "{{ selfref.x }}"] {
        let e = t.render_str(tpl, &v).expect_err(tpl);
        assert!(matches!(e.kind, ErrorKind::Cycle { .. }), "{tpl}: {e}");
    }
    let e = t.render_str("{{ loop1 }}", &v).expect_err("cycle");
    assert_eq!(
        e.kind,
        ErrorKind::Cycle {
            chain: vec!["loop1".into(), "loop2".into(), "loop1".into()]
        }
    );
}

#[test]
fn unsafe_and_vault_values() {
    let vault = |p: Option<&str>| {
        Value::Vault(Arc::new(VaultValue {
            ciphertext: "x".into(),
            plaintext: p.map(str::to_string),
        }))
    };
    let v = vars(&[
        ("raw", Value::Unsafe("{{ secret }}".into())),
        ("via", Value::str("{{ raw }}")),
        ("pw", vault(Some("s3cret"))),
        ("locked", vault(None)),
    ]);
    let t = templar();
    assert_eq!(
        t.render_str("{{ raw }}", &v).ok(),
        Some(Value::Unsafe("{{ secret }}".into()))
    );
    assert_eq!(
        t.render_str("{{ via }}", &v).ok(),
        Some(Value::Unsafe("{{ secret }}".into()))
    );
    assert_eq!(t.render_str("<{{ raw }}>", &v).ok(), Some(Value::str("<{{ secret }}>")));
    assert_eq!(
        t.render_value(&Value::Unsafe("{{ x }}".into()), &v).ok(),
        Some(Value::Unsafe("{{ x }}".into()))
    );
    assert_eq!(t.render_str("pw={{ pw }}", &v).ok(), Some(Value::str("pw=s3cret")));
    let e = t.render_str("{{ locked }}", &v).expect_err("no password");
    assert!(matches!(e.kind, ErrorKind::Vault { .. }), "{e}");
}

#[test]
fn render_value_and_omit() {
    let v = vars(&[("port", Value::Int(22)), ("user", Value::str("root"))]);
    let t = templar();
    let args = json(
        serde_json::json!({"port": "{{ port }}", "user": "{{ nobody | default(omit) }}", "list": ["{{ user }}", "{{ omit }}"], "k": "plain"}),
    );
    let rendered = t.render_value(&args, &v).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        strip_omit(rendered),
        json(serde_json::json!({"port": 22, "list": ["root"], "k": "plain"}))
    );
}

#[test]
fn conditions() {
    let v = vars(&[
        ("x", Value::Int(2)),
        ("flag", Value::str("false")),
        ("items", json(serde_json::json!([]))),
    ]);
    let t = templar();
    let cases: Vec<(Value, bool)> = vec![
        (Value::str("x == 2"), true),
        (Value::str("x is defined and x > 5"), false),
        (Value::str("{{ x == 2 }}"), true),
        (Value::str("flag | bool"), false),
        (Value::str("flag"), false),
        (Value::str("items"), false),
        (Value::Bool(true), true),
        (json(serde_json::json!(["x == 2", "x < 1"])), false),
    ];
    for (cond, want) in cases {
        assert_eq!(
            t.eval_when(&cond, &v).unwrap_or_else(|e| panic!("{cond:?}: {e}")),
            want,
            "{cond:?}"
        );
    }
}

/// A host whose variables come from a map, counting how often `host()` is asked.
struct Inventory {
    me: Map,
    hosts: usize,
    asked: AtomicUsize,
}

impl Vars for Inventory {
    fn get(&self, name: &str) -> Option<Value> {
        self.me.get(name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.me.keys().cloned().collect()
    }
    fn host(&self, host: &str) -> Option<Arc<dyn Vars>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let n: usize = host.strip_prefix('h')?.parse().ok()?;
        (n < self.hosts).then(|| {
            let mut m = Map::new();
            m.insert("ip".into(), Value::str(format!("10.0.0.{n}")));
            m.insert("name".into(), Value::str("{{ inventory_hostname }}"));
            m.insert("inventory_hostname".into(), Value::str(host));
            Arc::new(MapVars::new(m)) as Arc<dyn Vars>
        })
    }
    fn host_names(&self) -> Vec<String> {
        (0..self.hosts).map(|i| format!("h{i}")).collect()
    }
}

#[test]
fn hostvars_resolve_one_host_at_a_time() {
    let mut me = Map::new();
    me.insert("peer".into(), Value::str("h7"));
    let inv = Arc::new(Inventory {
        me,
        hosts: 10_000,
        asked: AtomicUsize::new(0),
    });
    let v: Arc<dyn Vars> = inv.clone();
    let t = templar();
    let out = t.render_str(
        "{{ hostvars['h1'].ip }} {{ hostvars[peer]['ip'] }} {{ hostvars.h1.name }} {{ hostvars['h1'].ip }}",
        &v,
    );
    assert_eq!(out.ok(), Some(Value::str("10.0.0.1 10.0.0.7 h1 10.0.0.1")));
    assert_eq!(inv.asked.load(Ordering::SeqCst), 2, "one host() call per distinct host");
    assert_eq!(
        t.render_str("{{ 'ip' in hostvars['h2'] }}", &v).ok(),
        Some(Value::Bool(true))
    );
    assert_eq!(
        t.render_str("{{ hostvars['nope'] | default('none') }}", &v).ok(),
        Some(Value::str("none"))
    );
    assert_eq!(
        t.render_str("{{ hostvars | length }}", &v).ok(),
        Some(Value::Int(10_000))
    );
}

#[test]
fn template_files_include_neighbours() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.path().join("main.j2"),
        "{% for h in hosts %}{{ h }}\n{% endfor %}{% include 'part.j2' %}",
    )
    .unwrap_or_default();
    std::fs::write(dir.path().join("part.j2"), "end={{ last }}\n").unwrap_or_default();
    let v = vars(&[
        ("hosts", json(serde_json::json!(["a", "b"]))),
        ("last", Value::str("{{ hosts | last }}")),
    ]);
    let out = templar().render_template_file(&dir.path().join("main.j2"), &v);
    assert_eq!(out.ok().as_deref(), Some("a\nb\nend=b\n"));
}

#[test]
fn syntax_errors_are_reported() {
    let e = templar().render_str("{{ foo( }}", &vars(&[])).expect_err("syntax");
    assert!(matches!(e.kind, ErrorKind::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("{{ foo( }}"), "{e}");
}

/// What ansible-core 2.19.14 renders for the same texts written in a playbook.
#[test]
fn literals_keep_backslashes_and_min_max_take_attributes() {
    let v = vars(&[
        ("ver", Value::str("v1.29.4")),
        (
            "people",
            json(serde_json::json!([{"n": "a", "age": 3}, {"n": "b", "age": 9}, {"n": "C", "age": 1}])),
        ),
    ]);
    let t = templar();
    let cases: Vec<(&str, Value)> = vec![
        (r#"{{ "a\nb" }}"#, Value::str(r"a\nb")),
        (r#"{{ "a\2b" }}"#, Value::str(r"a\2b")),
        (r#"{{ "a\"b" }}"#, Value::str(r#"a\"b"#)),
        (
            r"{{ ver | regex_replace('^v?(\d+)\.(\d+).*$', '\2') }}",
            Value::str("29"),
        ),
        (r"{{ ver is match('v\d') }}", Value::Bool(true)),
        ("{{ (people | max(attribute='age')).n }}", Value::str("b")),
        ("{{ (people | min(attribute='age')).n }}", Value::str("C")),
        ("{{ people | map(attribute='n') | max }}", Value::str("C")),
        (
            "{{ people | map(attribute='n') | max(case_sensitive=true) }}",
            Value::str("b"),
        ),
        ("{{ [3, 7, 5] | max }}", Value::Int(7)),
        ("{{ [] | max is undefined }}", Value::Bool(true)),
    ];
    for (tpl, want) in cases {
        assert_eq!(
            t.render_str(tpl, &v).unwrap_or_else(|e| panic!("{tpl}: {e}")),
            want,
            "{tpl}"
        );
    }
}

/// ansible-core 2.19.14: a bare conditional decodes escapes in its literals, `{{ }}` does not.
#[test]
fn bare_conditionals_decode_escapes() {
    let v = vars(&[("ver", Value::str("v1.29.4"))]);
    let t = templar();
    let cases = [
        (r"('a\nb' | length) == 3", true),
        (r"{{ ('a\nb' | length) == 4 }}", true),
        (r"ver | regex_replace('^v?(\d+)\.(\d+).*$', '\\2') == '29'", true),
        (r"ver is match('v\\d')", true),
    ];
    for (cond, want) in cases {
        assert_eq!(
            t.eval_condition(cond, &v).unwrap_or_else(|e| panic!("{cond}: {e}")),
            want,
            "{cond}"
        );
    }
}
