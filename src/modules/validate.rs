//! `validate:` of copy, template and lineinfile: the new content goes to a temp file beside the
//! destination, the user's check runs on it (`%s` is that file), and only a passing file is
//! renamed over the destination.

use super::remote_file::mode_string;
use super::{ModuleCtx, Outcome};
use crate::connection::quote::{join, quote};
use crate::connection::{self, PutFile};
use crate::value::Value;

/// The command line for `validate` with `%s` as `file`: split like Ansible splits a command,
/// every word quoted again.
pub fn command_line(validate: &str, file: &str) -> Result<String, String> {
    if !validate.contains("%s") {
        return Err(format!("validate must contain %s: {validate}"));
    }
    let words = shell_words::split(validate).map_err(|e| format!("validate {validate:?}: {e}"))?;
    let words: Vec<String> = words.iter().map(|w| w.replace("%s", file)).collect();
    join(&words).map_err(|e| e.to_string())
}

fn temp_beside(dest: &str) -> String {
    let (dir, base) = match dest.rsplit_once('/') {
        Some((d, b)) => (if d.is_empty() { "" } else { d }, b),
        None => (".", dest),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{dir}/.{base}.play-validate.{}.{nanos:09}", std::process::id())
}

/// Upload `put`, first through `validate` when given. `existing_mode` keeps the replaced
/// file's mode when `put` names none. `Ok(Some(outcome))` is a failed validation.
pub async fn put(
    ctx: &ModuleCtx<'_>,
    put: PutFile,
    validate: Option<&str>,
    existing_mode: Option<u32>,
) -> connection::Result<Option<Outcome>> {
    let Some(check) = validate else {
        ctx.conn.put_file(&put).await?;
        return Ok(None);
    };
    let tmp = temp_beside(&put.dest);
    let line = match (command_line(check, &tmp), quote(&tmp), quote(&put.dest)) {
        (Ok(l), Ok(t), Ok(d)) => (l, t, d),
        (Err(e), _, _) => return Ok(Some(Outcome::fail(e))),
        (_, Err(e), _) | (_, _, Err(e)) => return Ok(Some(Outcome::fail(e.to_string()))),
    };
    let (cmd, qtmp, qdest) = line;
    let mut staged = put.clone();
    staged.dest = tmp.clone();
    staged.mode = put.mode.or(existing_mode);
    ctx.conn.put_file(&staged).await?;
    let out = ctx.exec(cmd).await?;
    if out.rc != 0 {
        let _ = ctx.exec(format!("rm -f -- {qtmp}")).await?;
        let mut o = Outcome::fail("failed to validate")
            .with("exit_status", out.rc as i64)
            .with("stdout", out.stdout_lossy())
            .with("stderr", out.stderr_lossy());
        if let Some(m) = staged.mode {
            o = o.with("mode", Value::str(mode_string(m)));
        }
        return Ok(Some(o));
    }
    let mv = ctx.exec(format!("mv -f -- {qtmp} {qdest}")).await?;
    if mv.rc != 0 {
        let _ = ctx.exec(format!("rm -f -- {qtmp}")).await?;
        return Ok(Some(Outcome::fail(format!(
            "could not move the validated file into {}: {}",
            put.dest,
            mv.stderr_lossy().trim()
        ))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_s_becomes_one_quoted_word() {
        assert_eq!(
            command_line("visudo -cf %s", "/etc/.sudoers x").ok().as_deref(),
            Some("visudo -cf '/etc/.sudoers x'")
        );
        assert_eq!(
            command_line("sh -c 'test -s \"$1\"' _ %s", "/a").ok().as_deref(),
            Some("sh -c 'test -s \"$1\"' _ /a")
        );
        assert!(command_line("visudo -c", "/a").is_err());
    }
}
