//! The shared half of the modules that edit a text file in place (`blockinfile`, `replace`):
//! read it with its stat in one round trip, write the edited bytes back through the one
//! upload path (backup, `validate`, the real file behind a symlink, old owner kept), then
//! fix the requested owner, group and mode, naming that in the message as Ansible does.

use super::file_attrs::{Wanted, fix_commands};
use super::remote_file::{Probe, RemoteStat, keep_owner_commands, run_then_stat, stat_and_read};
use super::{ModuleCtx, Outcome};
use crate::connection::{self, PutFile};

pub const PROBE: Probe = Probe {
    follow: true,
    checksum: false,
};

/// The file's stat and bytes, `None` when it is not there.
pub async fn load(
    ctx: &ModuleCtx<'_>,
    path: &str,
) -> connection::Result<Result<Option<(RemoteStat, Vec<u8>)>, String>> {
    stat_and_read(ctx, path, PROBE).await
}

/// Write `content` over `path` (which is `current` or new). Returns the backup's name when
/// one was made; `Err(outcome)` is the task's failure (a failed `validate`).
pub async fn save(
    ctx: &ModuleCtx<'_>,
    path: &str,
    current: Option<&RemoteStat>,
    content: Vec<u8>,
    backup: bool,
    validate: Option<&str>,
) -> connection::Result<Result<Option<String>, Outcome>> {
    let mut backup_file = None;
    if backup && current.is_some() {
        match super::write_file::backup(ctx, path).await? {
            Ok(name) => backup_file = Some(name),
            Err(e) => return Ok(Err(Outcome::fail(e))),
        }
    }
    // Through a symlink the file it points to is rewritten; the link stays.
    let dest = current
        .and_then(|st| st.link_source.clone())
        .unwrap_or_else(|| path.to_string());
    let put = PutFile {
        content: connection::FileContent::Bytes(content),
        dest: dest.clone(),
        mode: None,
        owner: None,
        group: None,
    };
    if let Some(failed) = super::validate::put(ctx, put, validate, current.map(|st| st.mode)).await? {
        // Ansible's text modules word a failed check with its exit code and stderr.
        let mut failed = failed;
        if failed.msg.as_deref() == Some("failed to validate") {
            let rc = failed
                .data
                .get("exit_status")
                .map(|v| v.to_string())
                .unwrap_or_default();
            let err = failed
                .data
                .get("stderr")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            failed = Outcome::fail(format!("failed to validate: rc:{rc} error:{err}"));
        }
        return Ok(Err(failed));
    }
    if let Some(old) = current {
        let cmds = match keep_owner_commands(&dest, old, false, false) {
            Ok(c) => c,
            Err(e) => return Ok(Err(Outcome::fail(e))),
        };
        if !cmds.is_empty() {
            ctx.exec(cmds.join("; ")).await?;
        }
    }
    Ok(Ok(backup_file))
}

/// Bring owner, group and mode to `want` (only reporting in check mode) and extend `msg`
/// like Ansible's `check_file_attrs`. `st` is what is at `path` now, `None` to look again.
pub async fn fix_attrs(
    ctx: &ModuleCtx<'_>,
    path: &str,
    st: Option<RemoteStat>,
    want: &Wanted,
    out: &mut Outcome,
) -> connection::Result<Result<(), String>> {
    if want.mode.is_none() && want.owner.is_none() && want.group.is_none() {
        return Ok(Ok(()));
    }
    let st = match st {
        Some(st) => st,
        None => match run_then_stat(ctx, "", path, PROBE).await? {
            Ok(Some(st)) => st,
            Ok(None) => return Ok(Ok(())),
            Err(e) => return Ok(Err(e)),
        },
    };
    let fix = match fix_commands(path, &st, want, false) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    if fix.is_empty() {
        return Ok(Ok(()));
    }
    if !ctx.check
        && let Err(e) = run_then_stat(ctx, &fix.join(" && "), path, PROBE).await?
    {
        return Ok(Err(e));
    }
    let msg = out.msg.take().unwrap_or_default();
    out.msg = Some(if out.changed {
        format!("{msg} and ownership, perms or SE linux context changed")
    } else {
        "ownership, perms or SE linux context changed".into()
    });
    out.changed = true;
    Ok(Ok(()))
}
