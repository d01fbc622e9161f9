//! `tempfile`: a new private file or directory from `mktemp` on the host. Always changed;
//! check mode is refused as Ansible's module refuses it.

use super::args::Args;
use super::remote_file::expand_user;
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, BoxFuture};

/// Python's `repr` of a plain string, as the messages quote arguments.
pub fn py_repr(s: &str) -> String {
    let quote_char = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote_char);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote_char => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote_char);
    out
}

struct Task {
    dir: bool,
    path: Option<String>,
    prefix: String,
    suffix: String,
}

fn parse(ctx: &ModuleCtx<'_>) -> Result<Task, String> {
    let a = Args::new("tempfile", ctx.args);
    a.only(&["state", "path", "prefix", "suffix"])?;
    let dir = match a.str("state")?.as_deref() {
        None | Some("file") => false,
        Some("directory") => true,
        Some(other) => return Err(format!("value of state must be one of: directory, file, got: {other}")),
    };
    let prefix = a.str("prefix")?.unwrap_or_else(|| "ansible.".into());
    let suffix = a.str("suffix")?.unwrap_or_default();
    // A name component: what `os.path.basename` leaves unchanged.
    for (name, v) in [("prefix", &prefix), ("suffix", &suffix)] {
        if v.contains('/') {
            return Err(format!(
                "{name} must be a valid file name component, got {}",
                py_repr(v)
            ));
        }
    }
    Ok(Task {
        dir,
        path: a.str("path")?,
        prefix,
        suffix,
    })
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let t = match parse(ctx) {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::fail(e)),
        };
        if ctx.check {
            let mut o = Outcome::ok().msg("remote module (tempfile) does not support check mode");
            o.skipped = true;
            return Ok(o);
        }
        let dir = match &t.path {
            Some(p) => match expand_user(ctx, p).await? {
                Ok(p) => Some(p),
                Err(e) => return Ok(Outcome::fail(e)),
            },
            None => None,
        };
        // Python's default: $TMPDIR, then /tmp.
        let dir_word = match dir.as_deref().map(quote).transpose() {
            Ok(Some(q)) => q,
            Ok(None) => "\"${TMPDIR:-/tmp}\"".to_string(),
            Err(e) => return Ok(Outcome::fail(e.to_string())),
        };
        let template = format!("{}XXXXXXXX", t.prefix);
        let (qt, qs) = match (quote(&template), quote(&t.suffix)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Outcome::fail(e.to_string())),
        };
        let d = if t.dir { "-d " } else { "" };
        let line = format!("umask 077; mktemp {d}--suffix={qs} -p {dir_word} -- {qt}");
        let out = ctx.exec(line).await?;
        if out.rc != 0 {
            let err = out.stderr_lossy();
            return Ok(Outcome::fail(err.trim().trim_start_matches("mktemp: ").to_string()));
        }
        let path = out.stdout_lossy().trim_end_matches('\n').to_string();
        Ok(Outcome::changed(true).with("path", path))
    })
}

#[cfg(test)]
mod tests {
    use super::{py_repr, run};
    use crate::modules::file_tests::{HOSTILE, Harness, mode_of, p, s, tmp};
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn files_and_directories_are_private_and_named_as_asked() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let dir = p(d.path(), HOSTILE);
        let _ = std::fs::create_dir(&dir);
        let r = h.run(run, json!({"path": dir, "prefix": "pre.", "suffix": ".txt"}));
        let path = s(&r, "path");
        assert!(r.changed && !r.failed, "{r:?}");
        let name = Path::new(&path)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            name.starts_with("pre.") && name.ends_with(".txt") && name.len() == 16,
            "{name}"
        );
        assert!(Path::new(&path).is_file() && mode_of(Path::new(&path)) == 0o600);
        assert!(path.starts_with(&dir));
        let r = h.run(run, json!({"path": dir, "state": "directory"}));
        let path = s(&r, "path");
        assert!(Path::new(&path).is_dir() && mode_of(Path::new(&path)) == 0o700, "{r:?}");
        assert!(
            Path::new(&path)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .starts_with("ansible.")
        );
        // Check mode: skipped, nothing made.
        let before = std::fs::read_dir(&dir).map(|r| r.count()).unwrap_or(0);
        let c = h.check(run, json!({"path": dir}));
        assert!(c.skipped && !c.changed, "{c:?}");
        assert_eq!(std::fs::read_dir(&dir).map(|r| r.count()).unwrap_or(0), before);
        let table = [
            (
                json!({"prefix": "a/b"}),
                "prefix must be a valid file name component, got 'a/b'",
            ),
            (
                json!({"suffix": "/x"}),
                "suffix must be a valid file name component, got '/x'",
            ),
            (
                json!({"state": "link"}),
                "value of state must be one of: directory, file, got: link",
            ),
        ];
        for (args, msg) in table {
            let r = h.run(run, args.clone());
            assert!(r.failed && r.msg.as_deref() == Some(msg), "{args}: {r:?}");
        }
        let r = h.run(run, json!({"path": p(d.path(), "missing")}));
        assert!(r.failed, "{r:?}");
        // No path: the system's temp directory.
        let r = h.run(run, json!({}));
        let path = s(&r, "path");
        let tmpdir = std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into());
        assert!(
            r.changed && path.starts_with(&tmpdir) && Path::new(&path).is_file(),
            "{r:?}"
        );
        let _ = std::fs::remove_file(&path);
        assert_eq!(py_repr("it's"), "\"it's\"");
    }
}
