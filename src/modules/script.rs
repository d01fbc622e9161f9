//! `script`: a controller file (found under `files/`) uploaded into a fresh `mktemp -d`
//! directory on the host, run with its arguments, and removed in the same round trip as the
//! run, so it goes even when the script fails.

use super::Outcome;
use super::args::Args;
use super::cmd_common::{Decision, Guard, add_lines, read_guard};
use super::context::ModuleCtx;
use crate::connection::{self, BoxFuture, ExecRequest, PutFile, quote};
use crate::value::{Map, Value};
use std::path::PathBuf;

struct Plan {
    local: PathBuf,
    args: Vec<String>,
    exe: Option<String>,
    guard: Guard,
}

fn read(ctx: &ModuleCtx<'_>) -> Result<Plan, String> {
    let a = Args::new("script", ctx.args);
    a.only(&["cmd", "chdir", "creates", "removes", "executable", "decrypt"])?;
    let text = a.str("_raw_params")?.or(a.str("cmd")?).unwrap_or_default();
    let words = shell_words::split(&text).map_err(|e| format!("failed to parse script arguments: {e}"))?;
    let Some((name, rest)) = words.split_first() else {
        return Err("script requires a path to a local script".into());
    };
    let local = ctx
        .find_source("files", name)
        .ok_or_else(|| format!("Could not find or access '{name}'"))?;
    if local.is_dir() {
        return Err(format!("Could not find or access '{name}': it is a directory"));
    }
    Ok(Plan {
        local,
        args: rest.to_vec(),
        exe: a.str("executable")?,
        guard: read_guard(&a)?,
    })
}

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        let plan = match read(ctx) {
            Ok(p) => p,
            Err(msg) => return Ok(Outcome::fail(msg)),
        };
        let guarded = plan.guard.creates.is_some() || plan.guard.removes.is_some() || plan.guard.chdir.is_some();
        if guarded && let Decision::Done(o) = plan.guard.decide_for(ctx, false).await? {
            if o.failed {
                return Ok(o);
            }
            return Ok(Outcome {
                skipped: true,
                msg: o.msg,
                ..Outcome::default()
            });
        }
        if ctx.check {
            return Ok(Outcome {
                changed: true,
                skipped: true,
                msg: Some("Check mode is not supported for this task.".into()),
                ..Outcome::default()
            });
        }
        let made = ctx.conn.exec(&ExecRequest::new("mktemp -d")).await?;
        let dir = made.stdout_lossy().trim().to_string();
        if made.rc != 0 || !dir.starts_with('/') {
            return Ok(Outcome::fail(format!(
                "could not create a temporary directory on the host: {}",
                made.stderr_lossy().trim()
            )));
        }
        let name = plan
            .local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        let remote = format!("{dir}/{name}");
        let cleanup = match quote::quote(&dir) {
            Ok(q) => format!("rm -rf {q}"),
            Err(e) => return Ok(Outcome::fail(e.to_string())),
        };
        let put = PutFile {
            content: connection::FileContent::LocalPath(plan.local.clone()),
            dest: remote.clone(),
            mode: Some(0o700),
            owner: None,
            group: None,
        };
        if let Err(e) = ctx.conn.put_file(&put).await {
            let _ = ctx.conn.exec(&ExecRequest::new(cleanup)).await;
            return Err(e);
        }
        let line = match command_line(&plan, &remote) {
            Ok(l) => format!("{l}; rc=$?; {cleanup}; exit $rc"),
            Err(e) => {
                let _ = ctx.conn.exec(&ExecRequest::new(cleanup)).await;
                return Ok(Outcome::fail(e.to_string()));
            }
        };
        let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
        let mut data = Map::new();
        data.insert("rc".into(), Value::Int(out.rc.into()));
        data.insert("stdout".into(), Value::Str(out.stdout_lossy()));
        data.insert("stderr".into(), Value::Str(out.stderr_lossy()));
        add_lines(&mut data);
        let mut o = Outcome {
            changed: true,
            data,
            ..Outcome::default()
        };
        if out.rc != 0 {
            o.failed = true;
            o.msg = Some("non-zero return code".into());
        }
        Ok(o)
    })
}

/// `(cd <chdir> && [<exe>] <remote> <args...>)`, every word quoted.
fn command_line(plan: &Plan, remote: &str) -> Result<String, quote::QuoteError> {
    let mut words = Vec::new();
    if let Some(e) = &plan.exe {
        words.push(e.clone());
    }
    words.push(remote.to_string());
    words.extend(plan.args.iter().cloned());
    Ok(format!("({}{})", plan.guard.cd_prefix()?, quote::join(&words)?))
}

#[cfg(test)]
mod tests {
    use crate::modules::test_support::{Fixture, args, raw};
    use crate::value::Value;

    #[test]
    fn uploads_runs_and_removes() {
        let fx = Fixture::new();
        let files = fx.dir.path().join("files");
        let _ = std::fs::create_dir_all(&files);
        let _ = std::fs::write(
            files.join("s.sh"),
            "#!/bin/sh\necho \"$0\" >&2\nfor a in \"$@\"; do echo \"[$a]\"; done\npwd\nexit ${CODE:-0}\n",
        );
        let _ = std::fs::write(files.join("fail.sh"), "#!/bin/sh\necho \"$0\"\nexit 7\n");
        let marker = fx.dir.path().join("pwned");
        let d = fx.dir.path().display().to_string();
        let hostile = format!("s.sh 'a b' '$(touch {})'", marker.display());
        let o = fx.run(super::run, &raw(&hostile), false);
        let out = o
            .data
            .get("stdout")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        assert!(
            out.starts_with(&format!("[a b]\n[$(touch {})]\n", marker.display())),
            "{out}"
        );
        assert!(o.changed && !o.failed && !marker.exists());
        let remote = o
            .data
            .get("stderr")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(
            remote.ends_with("/s.sh") && !std::path::Path::new(&remote).exists(),
            "{remote}"
        );

        let o = fx.run(super::run, &raw("fail.sh"), false);
        assert!(o.failed);
        assert_eq!(o.data.get("rc"), Some(&Value::Int(7)));
        let remote = o
            .data
            .get("stdout")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(!std::path::Path::new(&remote).exists(), "left {remote}");

        let o = fx.run(
            super::run,
            &args(&[
                ("cmd", Value::str("s.sh")),
                ("chdir", Value::str(d.clone())),
                ("executable", Value::str("/bin/bash")),
            ]),
            false,
        );
        assert!(
            o.data
                .get("stdout")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .contains(&d)
        );
        let o = fx.run(
            super::run,
            &args(&[("_raw_params", Value::str("s.sh")), ("creates", Value::str(d.clone()))]),
            false,
        );
        assert!(o.skipped && !o.changed, "{o:?}");
        let o = fx.run(super::run, &raw("s.sh"), true);
        assert!(o.skipped && o.changed);
        let o = fx.run(super::run, &raw("missing.sh"), false);
        assert!(o.failed && o.msg.unwrap_or_default().contains("missing.sh"));
    }
}
