//! Local facts (`ansible_local`): every `*.fact` file under `fact_path` (default
//! `/etc/ansible/facts.d`) on the host, run when executable and read otherwise, parsed as JSON
//! or else as INI, under its name without `.fact`. What the host says is data: the executor
//! keeps it untemplated, and it lands under `ansible_local` only, never as a top-level variable.

use crate::connection::quote::quote;
use crate::value::{Map, Value};
use base64::Engine;

pub const DEFAULT_FACT_PATH: &str = "/etc/ansible/facts.d";

/// The probe section: one `name<TAB>base64(output)` line per fact file, so nothing a fact
/// prints can pass for another section of the probe. An executable that fails gets `!rc`.
pub fn script(fact_path: &str) -> Result<String, String> {
    let d = quote(fact_path).map_err(|e| e.to_string())?;
    Ok(format!(
        "echo @@local; for f in {d}/*.fact; do [ -f \"$f\" ] || continue; n=${{f##*/}}; \
         if [ -x \"$f\" ]; then r=$(\"$f\" </dev/null) && o=$(printf '%s' \"$r\" | base64 -w0) || o='!'; \
         else o=$(base64 -w0 < \"$f\"); fi; printf '%s\\t%s\\n' \"${{n%.fact}}\" \"$o\"; done\n"
    ))
}

/// `ansible_local` from the probe section.
pub fn parse(section: &str) -> Map {
    let mut out = Map::new();
    for line in section.lines() {
        let Some((name, data)) = line.split_once('\t') else {
            continue;
        };
        let value = match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
            Err(_) => Value::str(format!("error loading fact - running {name}.fact failed")),
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => parse_fact(&text, name),
                Err(_) => Value::str(format!("error loading fact - output of running {name} was not utf-8")),
            },
        };
        out.insert(name.to_string(), value);
    }
    out
}

/// JSON first, then INI sections (keys lower-cased, as Python's ConfigParser does).
fn parse_fact(text: &str, name: &str) -> Value {
    if let Ok(j) = serde_json::from_str::<serde_json::Value>(text) {
        return Value::from(j);
    }
    let bad = || {
        Value::str(format!(
            "error loading facts as JSON or ini - please check content: {name}.fact"
        ))
    };
    let Ok(ini) = ini::Ini::load_from_str(text) else {
        return bad();
    };
    let mut sections = Map::new();
    for (sec, props) in ini.iter() {
        let Some(sec) = sec else {
            if props.iter().next().is_some() {
                return bad();
            }
            continue;
        };
        let m: Map = props.iter().map(|(k, v)| (k.to_lowercase(), Value::str(v))).collect();
        sections.insert(sec.to_string(), Value::Map(m));
    }
    if sections.is_empty() && !text.trim().is_empty() {
        return bad();
    }
    Value::Map(sections)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, text: &str) -> String {
        format!("{name}\t{}\n", base64::engine::general_purpose::STANDARD.encode(text))
    }

    #[test]
    fn json_ini_and_bad_facts() {
        let section = [
            line("app", r#"{"version": "1.2", "nested": {"n": 3}}"#),
            line("cfg", "[Main]\nKey = {{ not templated }}\n"),
            line("junk", "no section header here = 1\n"),
            "run\tnot-base64-!\n".to_string(),
        ]
        .concat();
        let f = parse(&section);
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        let Value::Map(app) = get("app") else { panic!("{f:?}") };
        assert_eq!(app.get("version"), Some(&Value::str("1.2")));
        let Value::Map(cfg) = get("cfg") else { panic!("{f:?}") };
        let Some(Value::Map(main)) = cfg.get("Main") else {
            panic!("{cfg:?}")
        };
        assert_eq!(main.get("key"), Some(&Value::str("{{ not templated }}")));
        assert!(
            get("junk")
                .to_string()
                .starts_with("error loading facts as JSON or ini"),
            "{f:?}"
        );
        assert!(
            get("run")
                .to_string()
                .starts_with("error loading fact - running run.fact failed"),
            "{f:?}"
        );
    }

    #[test]
    fn script_quotes_the_path() {
        let s = script("/etc/a b/$(x)").unwrap_or_default();
        assert!(s.contains("'/etc/a b/$(x)'/*.fact"), "{s}");
    }
}
