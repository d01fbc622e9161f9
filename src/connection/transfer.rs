//! Shell lines that the SSH connection sends: commands with their environment, atomic uploads,
//! downloads. Built here once so every line goes through [`quote`].

use super::quote::quote;
use super::{Error, ErrorKind, ExecRequest, FileContent, PutFile, Result};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

fn q(host: &str, s: &str) -> Result<String> {
    quote(s).map_err(|e| Error::new(host, ErrorKind::Quote { reason: e.to_string() }))
}

/// Environment names a shell can assign to.
pub(crate) fn check_env_name(host: &str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            host,
            ErrorKind::Quote {
                reason: format!("'{name}' is not a valid environment variable name"),
            },
        ))
    }
}

/// The line sent over SSH: always run by `/bin/sh`, whatever the user's login shell is, with
/// the request's environment exported first (sshd drops most `env` channel requests).
pub(crate) fn remote_command(host: &str, req: &ExecRequest) -> Result<String> {
    let mut script = String::new();
    if !req.env.is_empty() {
        script.push_str("export");
        for (k, v) in &req.env {
            check_env_name(host, k)?;
            script.push(' ');
            script.push_str(k);
            script.push('=');
            script.push_str(&q(host, v)?);
        }
        script.push_str("; ");
    }
    script.push_str(&req.command);
    let line = format!("/bin/sh -c {}", q(host, &script)?);
    match req.timeout {
        // Under a terminal, closing the channel hangs it up and ends the command; and a
        // process group of its own there would stop at its first read from the terminal.
        Some(after) if !req.become_prompt.as_ref().is_some_and(|p| p.pty) => time_limited(host, &line, after),
        _ => Ok(line),
    }
}

/// `line` under the host's `timeout(1)` when it has one, stopped a second after we give up on
/// it with everything it started: `timeout` signals its whole process group, TERM first (sudo
/// passes that on to a command it runs in a terminal of its own; killed outright it would
/// leave the command behind), KILL two seconds later. This does not rely on sshd honouring a
/// channel signal request, which it refuses for root logins.
pub(crate) fn time_limited(host: &str, line: &str, after: std::time::Duration) -> Result<String> {
    let secs = after.as_secs_f64() + 1.0;
    let script =
        format!("if command -v timeout >/dev/null 2>&1; then exec timeout -k 2 {secs:.3} {line}; else exec {line}; fi");
    Ok(format!("/bin/sh -c {}", q(host, &script)?))
}

/// A name no other upload picks: same directory as the destination so `mv` is a rename.
pub(crate) fn temp_path(dest: &str) -> String {
    let (dir, base) = match dest.rsplit_once('/') {
        Some((d, b)) => (if d.is_empty() { "/" } else { d }, b),
        None => (".", dest),
    };
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let sep = if dir.ends_with('/') { "" } else { "/" };
    format!("{dir}{sep}.{base}.play-tmp.{:016x}", h.finish())
}

/// Script that reads the file from stdin into a temp file beside `dest` and renames it.
pub(crate) fn put_script(host: &str, file: &PutFile) -> Result<String> {
    if file.dest.is_empty() || file.dest.ends_with('/') {
        return Err(Error::config(
            host,
            "upload",
            format!("destination '{}' is not a file path", file.dest),
        ));
    }
    let tmp = q(host, &temp_path(&file.dest))?;
    let dest = q(host, &file.dest)?;
    let mut s = format!("set -e; tmp={tmp}; dest={dest}; trap 'if [ -e \"$tmp\" ]; then rm -f \"$tmp\"; fi' EXIT; ");
    match file.mode {
        // Created private so the content is never readable under a looser mode.
        Some(mode) => s.push_str(&format!(
            "umask 077; set -C; cat > \"$tmp\"; set +C; chmod {:o} \"$tmp\"; ",
            mode & 0o7777
        )),
        None => s.push_str(
            "set -C; cat > \"$tmp\"; set +C; if [ -e \"$dest\" ]; then \
             m=$(stat -c %a \"$dest\" 2>/dev/null || stat -f %Lp \"$dest\"); chmod \"$m\" \"$tmp\"; fi; ",
        ),
    }
    if let Some(owner) = &file.owner {
        s.push_str(&format!("chown {} \"$tmp\"; ", q(host, owner)?));
    }
    if let Some(group) = &file.group {
        s.push_str(&format!("chgrp {} \"$tmp\"; ", q(host, group)?));
    }
    s.push_str("mv -f \"$tmp\" \"$dest\"");
    Ok(format!("/bin/sh -c {}", q(host, &s)?))
}

pub(crate) fn get_command(host: &str, remote: &str) -> Result<String> {
    Ok(format!("cat -- {}", q(host, remote)?))
}

pub(crate) async fn read_content(host: &str, content: &FileContent) -> Result<Vec<u8>> {
    match content {
        FileContent::Bytes(b) => Ok(b.clone()),
        FileContent::LocalPath(p) => tokio::fs::read(p)
            .await
            .map_err(|e| Error::io(host, format!("reading {} to upload", p.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_path_is_beside_the_destination() {
        for (dest, dir) in [
            ("/etc/hosts", "/etc/.hosts.play-tmp."),
            ("/x", "/.x.play-tmp."),
            ("rel", "./.rel.play-tmp."),
        ] {
            let t = temp_path(dest);
            assert!(t.starts_with(dir), "{t} for {dest}");
        }
        assert_ne!(temp_path("/a"), temp_path("/a"));
    }

    #[test]
    fn env_names_are_checked_and_values_quoted() {
        let req = ExecRequest::new("echo \"$A\"").env("A", "x'; rm -rf /");
        let line = remote_command("h", &req).unwrap_or_default();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default();
        assert_eq!(out, b"x'; rm -rf /\n");
        for bad in ["1A", "A-B", "", "A B", "A;B"] {
            assert!(
                remote_command("h", &ExecRequest::new("true").env(bad, "v")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn put_script_writes_atomically_with_mode() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dest = dir.path().join("a file 'q'").display().to_string();
        let line = put_script("h", &PutFile::bytes("hi", dest.clone()).mode(0o640)).unwrap_or_default();
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            let _ = stdin.write_all(b"content\n");
        }
        assert!(child.wait().map(|s| s.success()).unwrap_or(false));
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"content\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dest)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o640);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .map(|d| d.flatten().count())
            .into_iter()
            .collect();
        assert_eq!(leftovers, vec![1], "temp file left behind");
    }

    #[test]
    fn a_time_limit_kills_the_command_group_on_the_host_too() {
        let req = ExecRequest::new("sleep 100").timeout(std::time::Duration::from_millis(200));
        let line = remote_command("h", &req).unwrap_or_else(|e| panic!("{e}"));
        assert!(line.contains("exec timeout -k 2 1.200 /bin/sh -c"), "{line}");
        let plain = remote_command("h", &ExecRequest::new("sleep 100")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain, "/bin/sh -c 'sleep 100'");
        // Run it: the shell and its child die at the limit, though nobody signals them.
        let local = std::process::Command::new("sh")
            .arg("-c")
            .arg(line.replace("sleep 100", "sleep 100 | cat"))
            .output();
        let out = local.unwrap_or_else(|e| panic!("{e}"));
        assert!(!out.status.success(), "{out:?}");
    }
}
