//! `include_vars`: loads YAML/JSON variable files on the controller (one `file`, or every
//! matching file under `dir`) and hands them to the executor as `ansible_facts` (under `name`
//! when given) with the list `ansible_included_var_files`.

use super::Outcome;
use super::args::Args;
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture};
use crate::syntax::{vault, yaml};
use crate::value::{Map, Value};
use regex::Regex;
use std::path::{Path, PathBuf};

const KNOWN: [&str; 10] = [
    "file",
    "dir",
    "files_matching",
    "ignore_files",
    "extensions",
    "ignore_unknown_extensions",
    "depth",
    "name",
    "hash_behaviour",
    "free-form",
];

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        Ok(match include(ctx) {
            Ok(o) => o,
            Err(msg) => Outcome::fail(msg),
        })
    })
}

struct Opts {
    extensions: Vec<String>,
    ignore_unknown: bool,
    matching: Option<Regex>,
    ignore: Vec<Regex>,
    depth: usize,
}

fn include(ctx: &ModuleCtx<'_>) -> Result<Outcome, String> {
    let a = Args::new("include_vars", ctx.args);
    a.only(&KNOWN)?;
    let regex = |p: &str| Regex::new(p).map_err(|e| format!("invalid regular expression '{p}': {e}"));
    let opts = Opts {
        extensions: a
            .list("extensions")?
            .unwrap_or_else(|| vec!["yaml".into(), "yml".into(), "json".into()]),
        ignore_unknown: a.bool("ignore_unknown_extensions", false)?,
        matching: a.str("files_matching")?.map(|p| regex(&p)).transpose()?,
        ignore: a
            .list("ignore_files")?
            .unwrap_or_default()
            .iter()
            .map(|p| regex(p))
            .collect::<Result<_, _>>()?,
        depth: a.int("depth")?.unwrap_or(0).max(0) as usize,
    };
    let file = a.str("file")?.or(a.str("_raw_params")?).or(a.str("free-form")?);
    let dir = a.str("dir")?;
    let files: Vec<PathBuf> = match (file, dir) {
        (Some(_), Some(_)) => {
            return Err("You are mixing file only and dir only arguments, these are incompatible".into());
        }
        (Some(f), None) => {
            let path = ctx
                .find_source("vars", &f)
                .ok_or_else(|| format!("Could not find or access '{f}'"))?;
            if !has_extension(&path, &opts.extensions) {
                return Err(format!(
                    "{} does not have a valid extension: {}",
                    path.display(),
                    opts.extensions.join(", ")
                ));
            }
            vec![path]
        }
        (None, Some(d)) => {
            let path = ctx
                .find_source("vars", &d)
                .filter(|p| p.is_dir())
                .ok_or_else(|| format!("{d} directory does not exist"))?;
            let mut found = Vec::new();
            walk(&path, 1, &opts, &mut found)?;
            found
        }
        (None, None) => return Err("one of file, dir or a free-form file name is required".into()),
    };
    let mut vars = Map::new();
    let mut included = Vec::new();
    for f in &files {
        let loaded = load(f)?;
        for (k, v) in loaded {
            vars.insert(k, v);
        }
        included.push(Value::Str(f.display().to_string()));
    }
    let facts = match a.str("name")? {
        Some(n) => {
            let mut m = Map::new();
            m.insert(n, Value::Map(vars));
            m
        }
        None => vars,
    };
    Ok(Outcome::ok()
        .with("ansible_facts", Value::Map(facts))
        .with("ansible_included_var_files", Value::List(included)))
}

fn has_extension(path: &Path, extensions: &[String]) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    extensions.iter().any(|e| e.trim_start_matches('.') == ext)
}

/// Files under `dir` in sorted order, directories after the files beside them, down to
/// `depth` levels (0: no limit).
fn walk(dir: &Path, level: usize, opts: &Opts, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut subdirs = Vec::new();
    for p in entries {
        if p.is_dir() {
            subdirs.push(p);
            continue;
        }
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if opts.ignore.iter().any(|r| r.is_match(&name)) {
            continue;
        }
        if let Some(m) = &opts.matching
            && !m.is_match(&name)
        {
            continue;
        }
        if !has_extension(&p, &opts.extensions) {
            if opts.ignore_unknown {
                continue;
            }
            return Err(format!(
                "{} does not have a valid extension: {}",
                p.display(),
                opts.extensions.join(", ")
            ));
        }
        out.push(p);
    }
    if opts.depth == 0 || level < opts.depth {
        for d in subdirs {
            walk(&d, level + 1, opts, out)?;
        }
    }
    Ok(())
}

/// One vars file as a mapping. A whole-file vault is refused: no vault password reaches a
/// module; inline `!vault` values stay encrypted values.
fn load(path: &Path) -> Result<Map, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("Could not read '{}': {e}", path.display()))?;
    if vault::is_encrypted(&text) {
        return Err(format!(
            "{} is vault-encrypted; include_vars cannot decrypt it here (load it as group_vars/host_vars or vars_files instead)",
            path.display()
        ));
    }
    let node = yaml::load_file(path).map_err(|e| e.to_string())?;
    match node.to_value() {
        Value::Map(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(format!("{} must be stored as a dictionary/hash", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args, raw};
    use crate::value::{Map, Value};

    #[test]
    fn files_and_dirs() {
        let fx = Fixture::new();
        let root = fx.dir.path();
        let w = |rel: &str, text: &str| {
            let p = root.join(rel);
            let _ = std::fs::create_dir_all(p.parent().unwrap_or(root));
            let _ = std::fs::write(p, text);
        };
        w("vars/main.yml", "a: 1\nb: [x]\n");
        w("d/10.yml", "a: 1\nc: first\n");
        w("d/20.json", "{\"c\": \"second\"}");
        w("d/skip.yml", "c: skipped\n");
        w("d/sub/30.yaml", "deep: true\n");
        w("d/notes.txt", "hello");
        w("list.yml", "- 1\n");
        w("vault.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n");
        let facts = |o: &crate::modules::Outcome| {
            o.data
                .get("ansible_facts")
                .and_then(Value::as_map)
                .cloned()
                .unwrap_or_default()
        };

        let o = fx.run(super::run, &raw("main.yml"), false);
        assert!(!o.failed && !o.changed, "{o:?}");
        assert_eq!(facts(&o).get("b"), Some(&Value::List(vec![Value::str("x")])));
        let files = o
            .data
            .get("ansible_included_var_files")
            .and_then(Value::as_list)
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        assert_eq!(
            files,
            vec![Value::Str(root.join("vars/main.yml").display().to_string())]
        );

        let o = fx.run(
            super::run,
            &args(&[("file", Value::str("main.yml")), ("name", Value::str("ns"))]),
            false,
        );
        assert_eq!(
            facts(&o).get("ns").and_then(Value::as_map).and_then(|m| m.get("a")),
            Some(&Value::Int(1))
        );

        let dir = |extra: &[(&str, Value)]| {
            let mut a: Map = args(&[
                ("dir", Value::str("d")),
                ("ignore_files", Value::List(vec![Value::str("^skip")])),
            ]);
            for (k, v) in extra {
                a.insert(k.to_string(), v.clone());
            }
            a
        };
        let o = fx.run(
            super::run,
            &dir(&[("ignore_unknown_extensions", Value::Bool(true))]),
            false,
        );
        let f = facts(&o);
        assert_eq!(f.get("c"), Some(&Value::str("second")), "{o:?}");
        assert_eq!(f.get("deep"), Some(&Value::Bool(true)));
        let o = fx.run(
            super::run,
            &dir(&[
                ("ignore_unknown_extensions", Value::Bool(true)),
                ("depth", Value::Int(1)),
            ]),
            false,
        );
        assert_eq!(facts(&o).get("deep"), None);
        let o = fx.run(super::run, &dir(&[("files_matching", Value::str("^1"))]), false);
        assert_eq!(facts(&o).get("c"), Some(&Value::str("first")), "{o:?}");
        let o = fx.run(super::run, &dir(&[]), false);
        assert!(o.failed && o.msg.unwrap_or_default().contains("does not have a valid extension"));

        for (a, msg) in [
            (raw("list.yml"), "dictionary"),
            (raw("vault.yml"), "vault"),
            (raw("missing.yml"), "Could not find"),
            (
                args(&[("file", Value::str("x.yml")), ("dir", Value::str("d"))]),
                "mixing",
            ),
        ] {
            let o = fx.run(super::run, &a, false);
            assert!(o.failed && o.msg.clone().unwrap_or_default().contains(msg), "{o:?}");
        }
    }
}
