//! A long-lived `/bin/sh` on the host that runs commands one after another, so a command costs
//! a fork on the host instead of a new SSH session (sshd forks and sets up a session for every
//! channel: most of a short command's time). Each command's output ends with a random marker
//! and its exit status; stdin goes base64-encoded in a here-document.
//!
//! Used only for plain commands: under `become` (which answers prompts), with a time limit, or
//! while another command holds the shell, the connection opens a channel as before. A shell
//! that stops answering is dropped and not used again.

use super::ExecOutput;
use super::error::{Error, Result};
use base64::Engine;
use russh::client::Msg;
use russh::{Channel, ChannelMsg};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

pub struct ShellSession {
    channel: Channel<Msg>,
}

/// A marker no command prints by chance.
fn marker() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    format!("PLAYEND{:016x}", h.finish())
}

/// The text sent to the shell for one command line (already quoted by the caller).
pub(crate) fn script(line: &str, stdin: Option<&[u8]>, mark: &str) -> String {
    // `/bin/sh -c 'script'` runs as `( eval 'script' )`: a subshell keeps `exit`, `cd`, traps
    // and `set -e` to the command without starting another shell program. Only `$$` and
    // `$PPID` would name other processes there, so a script using them keeps its own shell.
    let line = match line.strip_prefix("/bin/sh -c ") {
        Some(quoted) if !quoted.contains("$$") && !quoted.contains("PPID") => format!("( eval {quoted} )"),
        _ => line.to_string(),
    };
    let line = line.as_str();
    let mut s = String::new();
    // Text goes through the shell's own printf: no extra program on the host.
    let as_text = stdin
        .filter(|d| !d.contains(&0))
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|t| super::quote::quote(t).ok());
    match (stdin, as_text) {
        (Some(_), Some(q)) => s.push_str(&format!("printf '%s' {q} | {line}\n")),
        (Some(data), None) => {
            // The delimiter has `_`, which base64 output never contains.
            let encoded = base64::engine::general_purpose::STANDARD.encode(data);
            s.push_str(&format!("base64 -d <<'{mark}_IN' | {line}\n"));
            for chunk in encoded.as_bytes().chunks(76) {
                s.push_str(&String::from_utf8_lossy(chunk));
                s.push('\n');
            }
            s.push_str(&format!("{mark}_IN\n"));
        }
        (None, _) => s.push_str(&format!("{line} </dev/null\n")),
    }
    s.push_str(&format!("printf '\\n{mark} %d\\n' \"$?\"; printf '\\n{mark}\\n' >&2\n"));
    s
}

/// Where a marker line ends a stream: the output before it, and the rest of the line.
fn split_marker<'a>(buf: &'a [u8], mark: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let mut needle = Vec::with_capacity(mark.len() + 1);
    needle.push(b'\n');
    needle.extend_from_slice(mark);
    let at = buf.windows(needle.len()).position(|w| w == needle.as_slice())?;
    let rest = buf.get(at + needle.len()..)?;
    let end = rest.iter().position(|b| *b == b'\n')?;
    Some((buf.get(..at)?, rest.get(..end)?))
}

impl ShellSession {
    /// Start `/bin/sh` on an open session channel.
    pub async fn start(channel: Channel<Msg>, label: &str) -> Result<ShellSession> {
        channel
            .exec(true, "/bin/sh".as_bytes())
            .await
            .map_err(|e| Error::channel(label, format!("starting a shell: {e}")))?;
        Ok(ShellSession { channel })
    }

    /// Run one command line; `Err` means the shell is gone and must not be used again.
    pub async fn run(&mut self, label: &str, line: &str, stdin: Option<&[u8]>) -> Result<ExecOutput> {
        let mark = marker();
        let text = script(line, stdin, &mark);
        self.channel
            .data(text.as_bytes())
            .await
            .map_err(|e| Error::channel(label, format!("writing to the shell: {e}")))?;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut rc: Option<i32> = None;
        let mut err_done = false;
        loop {
            if rc.is_some() && err_done {
                break;
            }
            let Some(msg) = self.channel.wait().await else {
                return Err(Error::channel(label, "the shell on the host went away"));
            };
            match msg {
                ChannelMsg::Data { data } => {
                    out.extend_from_slice(&data);
                    if let Some((body, status)) = split_marker(&out, mark.as_bytes()) {
                        let status = String::from_utf8_lossy(status).trim().parse().unwrap_or(-1);
                        rc = Some(status);
                        out = body.to_vec();
                    }
                }
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    err.extend_from_slice(&data);
                    if let Some((body, _)) = split_marker(&err, mark.as_bytes()) {
                        err = body.to_vec();
                        err_done = true;
                    }
                }
                ChannelMsg::Eof | ChannelMsg::Close | ChannelMsg::ExitStatus { .. } => {
                    return Err(Error::channel(label, "the shell on the host exited"));
                }
                _ => {}
            }
        }
        Ok(ExecOutput {
            rc: rc.unwrap_or(-1),
            stdout: out,
            stderr: err,
        })
    }

    pub async fn close(&self) {
        let _ = self.channel.eof().await;
        let _ = self.channel.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_split_output_exactly() {
        let buf = b"abc\nno newline at end\nPLAYENDx 3\n";
        let (body, status) = split_marker(buf, b"PLAYENDx").unwrap_or_default();
        assert_eq!(body, b"abc\nno newline at end");
        assert_eq!(status, b" 3");
        assert!(
            split_marker(b"abc\nPLAYENDx 3", b"PLAYENDx").is_none(),
            "needs the whole line"
        );
    }

    #[test]
    fn scripts_feed_stdin_as_base64_and_report_status() {
        let s = script("cat", Some(b"it's\n"), "PLAYENDm");
        assert!(s.starts_with("printf '%s' 'it'\"'\"'s\n' | cat\n"), "{s}");
        let s = script("cat", Some(b"hi\x00there"), "PLAYENDm");
        assert!(s.starts_with("base64 -d <<'PLAYENDm_IN' | cat\n"), "{s}");
        assert!(s.contains("aGkAdGhlcmU=\nPLAYENDm_IN\n"), "{s}");
        let s = script("true", None, "PLAYENDm");
        assert!(s.starts_with("true </dev/null\n"), "{s}");
        let s = script("/bin/sh -c 'exit 3'", None, "PLAYENDm");
        assert!(s.starts_with("( eval 'exit 3' ) </dev/null\n"), "{s}");
        let s = script("/bin/sh -c 'kill -9 $$'", None, "PLAYENDm");
        assert!(s.starts_with("/bin/sh -c 'kill -9 $$' </dev/null\n"), "{s}");
        assert!(s.contains("printf '\\nPLAYENDm %d\\n' \"$?\""), "{s}");
    }
}
