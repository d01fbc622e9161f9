//! `lookup()` and `query()`/`q()` with Ansible's core lookups: env, file, template, vars,
//! pipe, inventory_hostnames, first_found, items, list, dict, indexed_items, sequence, lines.
//! `lookup` joins a list result with commas unless `wantlist=True`; `query` always lists.

use super::error::{Error, Result};
use super::filters::plain;
use super::native::{from_value, to_value};
use super::vars_object::{Scope, scope_of};
use crate::value::{Map, Value};
use minijinja::value::{Kwargs, Rest, Value as MjValue};
use minijinja::{Environment, Error as MjError, ErrorKind as MjKind, State};
use std::path::PathBuf;
use std::sync::Arc;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", |s: &State, name: String, args: Rest<MjValue>, kw: Kwargs| {
        call(s, &name, &args, kw, false)
    });
    env.add_function("query", |s: &State, name: String, args: Rest<MjValue>, kw: Kwargs| {
        call(s, &name, &args, kw, true)
    });
    env.add_function("q", |s: &State, name: String, args: Rest<MjValue>, kw: Kwargs| {
        call(s, &name, &args, kw, true)
    });
}

fn call(
    state: &State,
    name: &str,
    args: &[MjValue],
    kwargs: Kwargs,
    query: bool,
) -> std::result::Result<MjValue, MjError> {
    let scope =
        scope_of(state).ok_or_else(|| MjError::new(MjKind::InvalidOperation, "lookup is not available here"))?;
    let short = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let errors = kwargs
        .get::<Option<String>>("errors")?
        .unwrap_or_else(|| "strict".into());
    let mut terms = Vec::new();
    for a in args {
        terms.push(plain(a)?);
    }
    let mut opts = Map::new();
    for k in kwargs.args() {
        if k != "wantlist" && k != "errors" {
            opts.insert(k.to_string(), plain(&kwargs.get::<MjValue>(k)?)?);
        }
    }
    let result = match run(&scope, short, terms, &opts) {
        Ok(r) => r,
        Err(e) if errors == "ignore" || errors == "warn" => {
            tracing::warn!("{e}");
            return Ok(if query {
                MjValue::from(Vec::<MjValue>::new())
            } else {
                MjValue::from(())
            });
        }
        Err(e) => {
            scope.shared.record(e.clone());
            return Err(MjError::new(MjKind::InvalidOperation, e.message()));
        }
    };
    if query || wantlist {
        return Ok(from_value(&Value::List(result)));
    }
    // lookup(): a single result as itself, several joined with commas.
    Ok(match result.len() {
        0 => MjValue::from(""),
        1 => result
            .into_iter()
            .next()
            .map(|v| from_value(&v))
            .unwrap_or(MjValue::from(())),
        _ => MjValue::from(
            result
                .iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .collect::<Vec<_>>()
                .join(","),
        ),
    })
}

fn term_str(name: &str, v: &Value) -> Result<String> {
    match v {
        Value::Str(s) | Value::Unsafe(s) => Ok(s.clone()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(v.to_string()),
        other => Err(Error::lookup(
            name,
            format!("expected a string term, got {}", other.type_name()),
        )),
    }
}

/// Terms flattened one level (lists of names are common: `lookup('file', *files)`).
fn flat_terms(terms: Vec<Value>) -> Vec<Value> {
    terms
        .into_iter()
        .flat_map(|t| if let Value::List(l) = t { l } else { vec![t] })
        .collect()
}

fn run(scope: &Arc<Scope>, name: &str, terms: Vec<Value>, opts: &Map) -> Result<Vec<Value>> {
    match name {
        "env" => env_lookup(scope, terms, opts),
        "file" => flat_terms(terms)
            .iter()
            .map(|t| {
                let n = term_str("file", t)?;
                let path = find_file(scope, &n, "files").ok_or_else(|| not_found("file", &n, scope, "files"))?;
                let s = std::fs::read_to_string(&path)
                    .map_err(|e| Error::lookup("file", format!("cannot read {}: {e}", path.display())))?;
                let rstrip = opts.get("rstrip").map(crate::template::truthy).unwrap_or(true);
                Ok(Value::Str(if rstrip { s.trim_end().to_string() } else { s }))
            })
            .collect(),
        "template" => flat_terms(terms)
            .iter()
            .map(|t| {
                let n = term_str("template", t)?;
                let path =
                    find_file(scope, &n, "templates").ok_or_else(|| not_found("template", &n, scope, "templates"))?;
                let session_vars = scope.vars.clone();
                let out = scope.shared.templar.render_template_file(&path, &session_vars)?;
                Ok(Value::Str(out))
            })
            .collect(),
        "vars" => {
            let default = opts.get("default");
            flat_terms(terms)
                .iter()
                .map(|t| {
                    let n = term_str("vars", t)?;
                    match scope.lookup(&n) {
                        Some(v) => to_value(&v),
                        None => default.cloned().ok_or_else(|| {
                            Error::undefined(n.clone())
                                .with_help("lookup('vars') found no such variable; pass default= to allow that")
                        }),
                    }
                })
                .collect()
        }
        "pipe" => flat_terms(terms).iter().map(|t| pipe(&term_str("pipe", t)?)).collect(),
        "lines" => {
            let mut out = Vec::new();
            for t in flat_terms(terms) {
                if let Value::Str(s) = pipe(&term_str("lines", &t)?)? {
                    out.extend(s.lines().map(|l| Value::Str(l.to_string())));
                }
            }
            Ok(out)
        }
        "inventory_hostnames" => inventory_hostnames(scope, terms),
        "first_found" => first_found(scope, terms, opts),
        "items" => Ok(flat_terms(terms)),
        "list" => Ok(flat_terms(terms)),
        "dict" => {
            let mut out = Vec::new();
            for t in terms {
                let Value::Map(m) = t else {
                    return Err(Error::lookup("dict", "expected a dict"));
                };
                for (k, v) in m {
                    out.push(Value::Map(Map::from_iter([
                        ("key".to_string(), Value::Str(k)),
                        ("value".to_string(), v),
                    ])));
                }
            }
            Ok(out)
        }
        "indexed_items" => Ok(flat_terms(terms)
            .into_iter()
            .enumerate()
            .map(|(i, v)| Value::List(vec![Value::Int(i as i64), v]))
            .collect()),
        "sequence" => sequence(terms, opts),
        other => Err(Error::lookup(other, "no such lookup plugin")),
    }
}

fn env_lookup(scope: &Arc<Scope>, terms: Vec<Value>, opts: &Map) -> Result<Vec<Value>> {
    let extra = &scope.shared.templar.context().env;
    flat_terms(terms)
        .iter()
        .map(|t| {
            let n = term_str("env", t)?;
            match extra.get(&n).cloned().or_else(|| std::env::var(&n).ok()) {
                Some(v) => Ok(Value::Str(v)),
                None => Ok(opts.get("default").cloned().unwrap_or(Value::Str(String::new()))),
            }
        })
        .collect()
}

fn pipe(cmd: &str) -> Result<Value> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::lookup("pipe", format!("cannot run '{cmd}': {e}")))?;
    if !out.status.success() {
        return Err(Error::lookup(
            "pipe",
            format!(
                "'{cmd}' exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(Value::Str(String::from_utf8_lossy(&out.stdout).trim_end().to_string()))
}

/// The directories lookups search: `ansible_search_path` if set, else `role_path`, the
/// templar's search dirs, and `playbook_dir`.
fn search_dirs(scope: &Arc<Scope>) -> Vec<PathBuf> {
    let var_str = |name: &str| scope.vars.get(name).and_then(|v| v.as_str().map(PathBuf::from));
    if let Some(Value::List(l)) = scope.vars.get("ansible_search_path") {
        return l.iter().filter_map(|v| v.as_str().map(PathBuf::from)).collect();
    }
    let ctx = scope.shared.templar.context();
    let mut dirs: Vec<PathBuf> = var_str("role_path").into_iter().collect();
    dirs.extend(ctx.search_dirs.iter().cloned());
    dirs.extend(var_str("playbook_dir").or_else(|| ctx.playbook_dir.clone()));
    dirs
}

fn find_file(scope: &Arc<Scope>, name: &str, subdir: &str) -> Option<PathBuf> {
    let p = PathBuf::from(name);
    if p.is_absolute() {
        return p.is_file().then_some(p);
    }
    search_dirs(scope)
        .into_iter()
        .flat_map(|d| [d.join(subdir).join(name), d.join(name)])
        .find(|c| c.is_file())
}

fn not_found(lookup: &str, name: &str, scope: &Arc<Scope>, subdir: &str) -> Error {
    let searched: Vec<String> = search_dirs(scope)
        .iter()
        .flat_map(|d| [d.join(subdir).display().to_string(), d.display().to_string()])
        .collect();
    Error::lookup(
        lookup,
        format!(
            "could not find '{name}'; searched: {}",
            if searched.is_empty() {
                "(no search paths)".into()
            } else {
                searched.join(", ")
            }
        ),
    )
}

fn inventory_hostnames(scope: &Arc<Scope>, terms: Vec<Value>) -> Result<Vec<Value>> {
    let groups = scope.vars.get("groups");
    let all: Vec<String> = scope.shared.root.host_names();
    let mut out: Vec<String> = Vec::new();
    for t in flat_terms(terms) {
        let pattern = term_str("inventory_hostnames", &t)?;
        for part in pattern.split([':', ',']).map(str::trim).filter(|p| !p.is_empty()) {
            let (exclude, intersect, name) = match part.chars().next() {
                Some('!') => (true, false, part.get(1..).unwrap_or_default()),
                Some('&') => (false, true, part.get(1..).unwrap_or_default()),
                _ => (false, false, part),
            };
            let listed = groups.as_ref().and_then(|g| g.as_map()).and_then(|g| g.get(name));
            let members: Vec<String> = if let Some(Value::List(l)) = listed {
                l.iter().filter_map(|h| h.as_str().map(str::to_string)).collect()
            } else if name == "all" || name == "*" {
                all.clone()
            } else if all.iter().any(|h| h == name) {
                vec![name.to_string()]
            } else {
                Vec::new()
            };
            if exclude {
                out.retain(|h| !members.contains(h));
            } else if intersect {
                out.retain(|h| members.contains(h));
            } else {
                for m in members {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
            }
        }
    }
    Ok(out.into_iter().map(Value::Str).collect())
}

fn first_found(scope: &Arc<Scope>, terms: Vec<Value>, opts: &Map) -> Result<Vec<Value>> {
    let mut files = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut skip = opts.get("skip").map(crate::template::truthy).unwrap_or(false);
    let add_spec = |m: &Map, files: &mut Vec<String>, paths: &mut Vec<PathBuf>, skip: &mut bool| {
        for key in ["files", "paths"] {
            let vals: Vec<String> = match m.get(key) {
                Some(Value::List(l)) => l.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
                Some(v) => v
                    .as_str()
                    .map(|s| s.split([',', ';']).map(str::to_string).collect())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            if key == "files" {
                files.extend(vals)
            } else {
                paths.extend(vals.into_iter().map(PathBuf::from))
            }
        }
        if let Some(s) = m.get("skip") {
            *skip = crate::template::truthy(s);
        }
    };
    add_spec(opts, &mut files, &mut paths, &mut skip);
    for t in flat_terms(terms) {
        match t {
            Value::Map(m) => add_spec(&m, &mut files, &mut paths, &mut skip),
            other => files.push(term_str("first_found", &other)?),
        }
    }
    for f in &files {
        let direct = PathBuf::from(f);
        if direct.is_absolute() && direct.exists() {
            return Ok(vec![Value::Str(f.clone())]);
        }
        let found = if paths.is_empty() {
            find_file(scope, f, "files")
        } else {
            paths.iter().map(|p| p.join(f)).find(|p| p.exists())
        };
        if let Some(p) = found {
            return Ok(vec![Value::Str(p.to_string_lossy().into_owned())]);
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(Error::lookup(
        "first_found",
        format!("none of these files was found: {}", files.join(", ")),
    ))
}

fn sequence(terms: Vec<Value>, opts: &Map) -> Result<Vec<Value>> {
    let mut spec = opts.clone();
    for t in flat_terms(terms) {
        let s = term_str("sequence", &t)?;
        // Shortcut form: [start-]end[/stride][:format]
        let (body, fmt) = match s.split_once(':') {
            Some((b, f)) => (b.to_string(), Some(f.to_string())),
            None => (s.clone(), None),
        };
        if body.contains('=') {
            for kv in body.split_whitespace() {
                if let Some((k, v)) = kv.split_once('=') {
                    spec.insert(k.to_string(), Value::Str(v.to_string()));
                }
            }
        } else {
            let (range, stride) = match body.split_once('/') {
                Some((r, st)) => (r.to_string(), Some(st.to_string())),
                None => (body.clone(), None),
            };
            match range.split_once('-') {
                Some((a, b)) => {
                    spec.insert("start".into(), Value::Str(a.into()));
                    spec.insert("end".into(), Value::Str(b.into()));
                }
                None => {
                    spec.insert("end".into(), Value::Str(range));
                }
            }
            if let Some(st) = stride {
                spec.insert("stride".into(), Value::Str(st));
            }
        }
        if let Some(f) = fmt {
            spec.insert("format".into(), Value::Str(f));
        }
    }
    let num = |k: &str, d: i64| -> Result<i64> {
        match spec.get(k) {
            None => Ok(d),
            Some(Value::Int(i)) => Ok(*i),
            Some(v) => {
                let s = v.to_string();
                let s = s.trim();
                let parsed = if let Some(h) = s.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok()
                } else {
                    s.parse().ok()
                };
                parsed.ok_or_else(|| Error::lookup("sequence", format!("'{k}' is not a number: {s}")))
            }
        }
    };
    let start = num("start", 1)?;
    let stride = num("stride", 1)?;
    let end = match spec.get("count") {
        Some(_) => start + (num("count", 0)? - 1) * stride,
        None => num("end", start)?,
    };
    if stride == 0 {
        return Err(Error::lookup("sequence", "stride must not be 0"));
    }
    let format = spec.get("format").map(|f| f.to_string()).unwrap_or_else(|| "%d".into());
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(Value::Str(printf_int(&format, i)));
        i += stride;
        if out.len() > 1_000_000 {
            return Err(Error::lookup("sequence", "sequence is too long"));
        }
    }
    Ok(out)
}

/// The `%d` / `%02d` / `%x` / `%o` subset of printf that `sequence` formats use.
fn printf_int(format: &str, n: i64) -> String {
    let Some(pos) = format.find('%') else {
        return format.to_string();
    };
    let (head, rest) = format.split_at(pos);
    let spec_end = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_alphabetic())
        .map(|(i, _)| i);
    let Some(end) = spec_end else {
        return format.to_string();
    };
    let flags = rest.get(1..end).unwrap_or_default();
    let conv = rest.get(end..=end).unwrap_or("d");
    let tail = rest.get(end + 1..).unwrap_or_default();
    let width: usize = flags.trim_start_matches('0').parse().unwrap_or(0);
    let zero = flags.starts_with('0');
    let body = match conv {
        "x" => format!("{n:x}"),
        "X" => format!("{n:X}"),
        "o" => format!("{n:o}"),
        _ => n.to_string(),
    };
    let padded = if zero {
        format!("{body:0>width$}")
    } else {
        format!("{body:>width$}")
    };
    format!("{head}{padded}{tail}")
}

#[cfg(test)]
mod tests {
    use super::printf_int;
    use crate::template::{MapVars, Templar, TemplarContext, Vars};
    use crate::value::Value;
    use std::sync::Arc;

    fn render(t: &Templar, vars: &Arc<dyn Vars>, tpl: &str) -> String {
        match t.render_str(tpl, vars) {
            Ok(Value::Str(s)) => s,
            Ok(other) => serde_json::to_string(&other).unwrap_or_default(),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn printf_subset() {
        assert_eq!(printf_int("host%02d", 3), "host03");
        assert_eq!(printf_int("%x", 255), "ff");
        assert_eq!(printf_int("n%d!", 7), "n7!");
    }

    #[test]
    fn lookups_table() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(dir.path().join("files")).unwrap_or_default();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap_or_default();
        std::fs::write(dir.path().join("files/ca.pem"), "CERT\n").unwrap_or_default();
        std::fs::write(dir.path().join("templates/t.j2"), "name={{ name }}\n").unwrap_or_default();
        let mut ctx = TemplarContext {
            search_dirs: vec![dir.path().to_path_buf()],
            ..Default::default()
        };
        ctx.env.insert("PLAY_TEST_ENV".into(), "from-env".into());
        let t = Templar::new(ctx);
        let mut m = crate::value::Map::new();
        m.insert("name".into(), Value::str("web"));
        m.insert(
            "groups".into(),
            Value::from(serde_json::json!({"all": ["a1", "b1", "b2"], "b": ["b1", "b2"], "etcd": ["a1"]})),
        );
        let vars: Arc<dyn Vars> = Arc::new(MapVars::new(m));
        let cases = [
            ("{{ lookup('env', 'PLAY_TEST_ENV') }}", "from-env"),
            ("{{ lookup('env', 'PLAY_NOT_SET_X', default='d') }}", "d"),
            ("{{ lookup('file', 'ca.pem') }}", "CERT"),
            ("{{ lookup('template', 't.j2') }}", "name=web\n"),
            ("{{ lookup('vars', 'name') }}", "web"),
            ("{{ lookup('vars', 'nope', default='dflt') }}", "dflt"),
            ("{{ lookup('pipe', 'echo hi; echo there') }}", "hi\nthere"),
            ("{{ query('lines', 'printf \"a\\nb\\n\"') }}", r#"["a","b"]"#),
            ("{{ query('inventory_hostnames', 'b:etcd') }}", r#"["b1","b2","a1"]"#),
            ("{{ query('inventory_hostnames', 'all:!b') }}", r#"["a1"]"#),
            (
                "{{ lookup('first_found', ['nope.yml', 'ca.pem']) | basename }}",
                "ca.pem",
            ),
            (
                "{{ lookup('first_found', files=['nope.yml'], skip=True) | length }}",
                "0",
            ),
            ("{{ lookup('items', [1, 2], wantlist=True) }}", "[1,2]"),
            ("{{ lookup('list', ['a', 'b']) }}", "a,b"),
            ("{{ q('dict', {'k': 1}) }}", r#"[{"key":"k","value":1}]"#),
            ("{{ q('indexed_items', ['x']) }}", r#"[[0,"x"]]"#),
            (
                "{{ q('sequence', 'start=1 end=3 format=node%02d') }}",
                r#"["node01","node02","node03"]"#,
            ),
            ("{{ q('sequence', '4-8/2') }}", r#"["4","6","8"]"#),
            ("{{ q('sequence', 'count=2') }}", r#"["1","2"]"#),
        ];
        for (tpl, want) in cases {
            assert_eq!(render(&t, &vars, tpl), want, "{tpl}");
        }
        let e = t.render_str("{{ lookup('file', 'missing.txt') }}", &vars).unwrap_err();
        assert!(matches!(e.kind, crate::template::ErrorKind::Lookup { .. }), "{e}");
        assert!(e.to_string().contains("missing.txt"), "{e}");
        let e = t.render_str("{{ lookup('pipe', 'exit 3') }}", &vars).unwrap_err();
        assert!(e.to_string().contains("exited"), "{e}");
    }
}
