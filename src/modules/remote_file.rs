//! What a path on the host is: one shell command (GNU `stat -c`, `sha1sum`, `readlink`) that
//! reports type, mode, owner, size, times and checksum for one or more paths, parsed into
//! [`RemoteStat`]. The file modules ask this first and change only what differs.

use crate::connection::quote::quote;
use crate::connection::{self, ExecRequest};
use crate::modules::ModuleCtx;
use crate::value::{Map, Value};

/// The file type bits of `st_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Link,
    Block,
    Char,
    Fifo,
    Socket,
}

impl Kind {
    fn from_mode(raw: u32) -> Kind {
        match raw & 0o170000 {
            0o040000 => Kind::Dir,
            0o120000 => Kind::Link,
            0o060000 => Kind::Block,
            0o020000 => Kind::Char,
            0o010000 => Kind::Fifo,
            0o140000 => Kind::Socket,
            _ => Kind::File,
        }
    }
}

/// One existing path as the host reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteStat {
    pub kind: Kind,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub mtime: f64,
    pub atime: f64,
    pub ctime: f64,
    pub nlink: u64,
    pub inode: u64,
    pub dev: u64,
    pub blocks: u64,
    pub block_size: u64,
    /// SHA-1 of the content, for a readable regular file when asked.
    pub checksum: Option<String>,
    /// `readlink` (the link's text) and `readlink -f` (where it ends), for a symlink.
    pub link_target: Option<String>,
    pub link_source: Option<String>,
    /// `test -r/-w/-x` for the connecting user.
    pub readable: bool,
    pub writeable: bool,
    pub executable: bool,
    /// `test -O` / `test -G`: owned by the connecting user / its group.
    pub mine_owner: bool,
    pub mine_group: bool,
}

/// How to look at a path.
#[derive(Clone, Copy, Debug, Default)]
pub struct Probe {
    /// Report what a symlink points to instead of the link.
    pub follow: bool,
    /// Compute the SHA-1 of a regular file.
    pub checksum: bool,
}

const FIELDS: &str = "%f %a %u %g %s %.9Y %.9X %.9Z %h %i %d %b %o %U %G";

/// A shell snippet printing one record for `path`, ended by a NUL byte.
pub fn probe_script(path: &str, probe: Probe) -> Result<String, String> {
    let p = quote(path).map_err(|e| e.to_string())?;
    let (exists, stat) = if probe.follow {
        ("[ -e \"$p\" ]", "stat -L")
    } else {
        ("{ [ -e \"$p\" ] || [ -L \"$p\" ]; }", "stat")
    };
    let sum = if probe.checksum {
        "if [ -f \"$p\" ] && [ -r \"$p\" ]; then sha1sum < \"$p\"; else echo -; fi; "
    } else {
        "echo -; "
    };
    Ok(format!(
        "p={p}; if {exists}; then printf 'E '; {stat} -c '{FIELDS}' -- \"$p\" || echo; \
         a=; [ -r \"$p\" ] && a=r; [ -w \"$p\" ] && a=${{a}}w; [ -x \"$p\" ] && a=${{a}}x; \
         [ -O \"$p\" ] && a=${{a}}o; [ -G \"$p\" ] && a=${{a}}g; echo \"A$a\"; \
         {sum}if [ -L \"$p\" ]; then readlink -f -- \"$p\"; readlink -- \"$p\"; fi; \
         else printf N; fi; printf '\\000'; "
    ))
}

/// Parse one record printed by [`probe_script`]; `None` when the path does not exist.
pub fn parse_record(rec: &[u8]) -> Result<Option<RemoteStat>, String> {
    let text = String::from_utf8_lossy(rec);
    if text.starts_with('N') {
        return Ok(None);
    }
    let rest = text
        .strip_prefix("E ")
        .ok_or_else(|| format!("unexpected stat output: {text:?}"))?;
    let mut lines = rest.splitn(4, '\n');
    let fields: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    if fields.len() < 15 {
        return Err(format!("unexpected stat output: {text:?}"));
    }
    let access = lines.next().unwrap_or_default().trim_start_matches('A');
    // `sha1sum` prints the sum then `  -`.
    let sum = lines.next().unwrap_or("-").split_whitespace().next().unwrap_or("-");
    let links = lines.next().unwrap_or_default();
    let num = |i: usize| fields.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    let time = |i: usize| fields.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    let raw = fields
        .first()
        .and_then(|s| u32::from_str_radix(s, 16).ok())
        .ok_or_else(|| format!("unexpected stat output: {text:?}"))?;
    let (link_source, link_target) = match links.strip_suffix('\n').map(|l| l.split_once('\n')) {
        Some(Some((source, target))) => (Some(source.to_string()), Some(target.to_string())),
        _ => (None, None),
    };
    let owner_group = fields[13..].join(" ");
    let (owner, group) = owner_group.split_once(' ').unwrap_or((&owner_group, ""));
    Ok(Some(RemoteStat {
        kind: Kind::from_mode(raw),
        mode: raw & 0o7777,
        uid: num(2),
        gid: num(3),
        size: num(4),
        mtime: time(5),
        atime: time(6),
        ctime: time(7),
        nlink: num(8),
        inode: num(9),
        dev: num(10),
        blocks: num(11),
        block_size: num(12),
        owner: owner.to_string(),
        group: group.to_string(),
        checksum: (sum.len() == 40).then(|| sum.to_string()),
        link_source,
        link_target,
        readable: access.contains('r'),
        writeable: access.contains('w'),
        executable: access.contains('x'),
        mine_owner: access.contains('o'),
        mine_group: access.contains('g'),
    }))
}

/// Split the output of several probe scripts into their records.
pub fn parse_records(out: &[u8]) -> Result<Vec<Option<RemoteStat>>, String> {
    let mut recs: Vec<&[u8]> = out.split(|b| *b == 0).collect();
    if recs.last().is_some_and(|r| r.is_empty()) {
        recs.pop();
    }
    recs.into_iter().map(parse_record).collect()
}

/// Look at `path` on the host. `Ok(Err(msg))` is a task failure (bad path, odd output).
pub async fn stat(
    ctx: &ModuleCtx<'_>,
    path: &str,
    probe: Probe,
) -> connection::Result<Result<Option<RemoteStat>, String>> {
    run_then_stat(ctx, "", path, probe).await
}

/// Run `commands` (already quoted; may be empty) and then probe `path`, in one round trip.
/// A failing command is a task failure carrying its stderr.
pub async fn run_then_stat(
    ctx: &ModuleCtx<'_>,
    commands: &str,
    path: &str,
    probe: Probe,
) -> connection::Result<Result<Option<RemoteStat>, String>> {
    let script = match probe_script(path, probe) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let line = if commands.is_empty() {
        script
    } else {
        format!("{{ {commands}; }} >&2 || exit $?; {script}")
    };
    let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
    if out.rc != 0 {
        let err = out.stderr_lossy();
        return Ok(Err(err.trim().to_string()));
    }
    Ok(parse_records(&out.stdout).and_then(|mut v| v.pop().ok_or_else(|| "no stat output".to_string())))
}

/// Look at `path` and read it (when it is a regular file) in one round trip.
pub async fn stat_and_read(
    ctx: &ModuleCtx<'_>,
    path: &str,
    probe: Probe,
) -> connection::Result<Result<Option<(RemoteStat, Vec<u8>)>, String>> {
    stat_then(ctx, path, probe, "if [ -f \"$p\" ]; then cat -- \"$p\" || exit 3; fi").await
}

/// Look at `path`, then run `tail` (a fixed script that may use `"$p"`, the path), in one
/// round trip: the record and what `tail` printed. `tail` only runs for an existing path.
pub async fn stat_then(
    ctx: &ModuleCtx<'_>,
    path: &str,
    probe: Probe,
    tail: &str,
) -> connection::Result<Result<Option<(RemoteStat, Vec<u8>)>, String>> {
    let script = match probe_script(path, probe) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let line = format!("{script}if [ -e \"$p\" ] || [ -L \"$p\" ]; then {tail}; fi");
    let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
    if out.rc != 0 {
        return Ok(Err(format!("could not read {path}: {}", out.stderr_lossy().trim())));
    }
    let Some(end) = out.stdout.iter().position(|b| *b == 0) else {
        return Ok(Err(format!("could not stat {path}: {}", out.stderr_lossy().trim())));
    };
    let content = out.stdout.get(end + 1..).unwrap_or_default().to_vec();
    Ok(parse_record(&out.stdout[..end]).map(|st| st.map(|st| (st, content))))
}

/// A leading `~` or `~user` made into that home directory on the host, as Ansible expands
/// path arguments; any other path as it is (no round trip).
pub async fn expand_user(ctx: &ModuleCtx<'_>, path: &str) -> connection::Result<Result<String, String>> {
    let Some(after) = path.strip_prefix('~') else {
        return Ok(Ok(path.to_string()));
    };
    let (user, rest) = match after.find('/') {
        Some(i) => after.split_at(i),
        None => (after, ""),
    };
    let cmd = if user.is_empty() {
        "printf %s \"$HOME\"".to_string()
    } else if user.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        match quote(user) {
            Ok(q) => format!("getent passwd {q} | cut -d: -f6 | tr -d '\\n'"),
            Err(e) => return Ok(Err(e.to_string())),
        }
    } else {
        return Ok(Ok(path.to_string()));
    };
    let out = ctx.conn.exec(&ExecRequest::new(cmd)).await?;
    let home = out.stdout_lossy();
    Ok(Ok(if out.rc == 0 && !home.is_empty() {
        format!("{home}{rest}")
    } else {
        // Python leaves an unknown user's `~name` as written.
        path.to_string()
    }))
}

/// After replacing `old` at `path` with a new file (owned by the connecting user): give it
/// back the old owner and group where they were someone else's, as Ansible does. Best effort
/// (only root may), so a failure is ignored, as Ansible ignores it.
pub fn keep_owner_commands(
    path: &str,
    old: &RemoteStat,
    want_owner: bool,
    want_group: bool,
) -> Result<Vec<String>, String> {
    let q = quote(path).map_err(|e| e.to_string())?;
    let mut cmds = Vec::new();
    if !want_owner && !old.mine_owner {
        cmds.push(format!("{{ chown -- {} {q} 2>/dev/null || :; }}", old.uid));
    }
    if !want_group && !old.mine_group {
        cmds.push(format!("{{ chgrp -- {} {q} 2>/dev/null || :; }}", old.gid));
    }
    Ok(cmds)
}

/// `"0644"` as Ansible prints modes.
pub fn mode_string(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// The attribute fields the file modules return for an existing path.
pub fn attr_fields(st: &RemoteStat, out: &mut Map) {
    out.insert("mode".into(), Value::str(mode_string(st.mode)));
    out.insert("owner".into(), Value::str(&st.owner));
    out.insert("group".into(), Value::str(&st.group));
    out.insert("uid".into(), Value::Int(st.uid as i64));
    out.insert("gid".into(), Value::Int(st.gid as i64));
    out.insert("size".into(), Value::Int(st.size as i64));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_files_links_and_absent_paths() {
        let out = b"E 81a4 644 0 0 6 1.5 2.25 3.0 1 77 2049 8 4096 root root\nArw\nf572d396fae9206628714fb2ce00f72e94f2258f\n\0\
E a1ff 777 1000 1000 5 1.0 1.0 1.0 1 78 2049 0 4096 me staff\nArwx\n-\n/tmp/x y\n../x y\n\0N\0";
        let recs = parse_records(out).unwrap_or_default();
        assert_eq!(recs.len(), 3);
        let f = recs[0].clone().unwrap_or_else(|| panic!("file"));
        assert_eq!((f.kind, f.mode, f.size, f.mtime), (Kind::File, 0o644, 6, 1.5));
        assert_eq!(f.checksum.as_deref(), Some("f572d396fae9206628714fb2ce00f72e94f2258f"));
        assert!(f.readable && f.writeable && !f.executable && !f.mine_owner);
        let l = recs[1].clone().unwrap_or_else(|| panic!("link"));
        assert_eq!(
            (l.kind, l.owner.as_str(), l.group.as_str()),
            (Kind::Link, "me", "staff")
        );
        assert_eq!(l.link_target.as_deref(), Some("../x y"));
        assert_eq!(l.link_source.as_deref(), Some("/tmp/x y"));
        assert_eq!(recs[2], None);
    }
}
