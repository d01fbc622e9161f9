//! `become`: running commands and moving files as another user through `sudo` or `su`.
//!
//! [`BecomeConnection`] wraps any [`Connection`]. Each command becomes
//! `sudo -H -S -p '<random prompt>' -u USER /bin/sh -c 'echo <marker>; CMD'` (or
//! `su USER -c '/bin/sh -c ...'` on a terminal); the password travels on standard input after
//! the prompt, never on a command line (see [`super::prompt`]).
//!
//! Limits of `su`: it reads the password from a terminal, so the command runs on a PTY whose
//! stdout and stderr are merged; a request's stdin cannot pass through it, so uploads are
//! staged in a private temporary file and copied by the target user (who must be able to read
//! it: `su` to root always can). The local connection has no PTY, so `su` works over SSH only.

use super::options::Secret;
use super::prompt::BecomePrompt;
use super::quote::quote;
use super::transfer::{check_env_name, get_command, put_script, read_content, temp_path, time_limited};
use super::{BoxFuture, Connection, Error, ErrorKind, ExecOutput, ExecRequest, PutFile, Result};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long escalation may take before the command starts (a wrong sudo password costs ~2s).
pub const DEFAULT_BECOME_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BecomeMethod {
    Sudo,
    Su,
}

impl BecomeMethod {
    /// `become_method` as Ansible spells it.
    pub fn parse(name: &str) -> Option<BecomeMethod> {
        match name {
            "sudo" => Some(BecomeMethod::Sudo),
            "su" => Some(BecomeMethod::Su),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BecomeMethod::Sudo => "sudo",
            BecomeMethod::Su => "su",
        }
    }
}

/// `become_method`, `become_user`, `become_flags`, `become_exe`, `become_password`.
#[derive(Debug, Clone)]
pub struct BecomeSpec {
    pub method: BecomeMethod,
    /// Default `root`.
    pub user: String,
    /// Default for sudo `-H -S -n` (`-n` dropped when a password is given); none for su.
    pub flags: Option<String>,
    /// The program; default `sudo` / `su`.
    pub exe: Option<String>,
    pub password: Option<Secret>,
    /// How long escalation may take before the command starts.
    pub timeout: Duration,
}

impl BecomeSpec {
    pub fn new(method: BecomeMethod) -> BecomeSpec {
        BecomeSpec {
            method,
            user: "root".into(),
            flags: None,
            exe: None,
            password: None,
            timeout: DEFAULT_BECOME_TIMEOUT,
        }
    }

    pub fn user(mut self, user: impl Into<String>) -> BecomeSpec {
        self.user = user.into();
        self
    }

    pub fn password(mut self, password: Secret) -> BecomeSpec {
        self.password = Some(password);
        self
    }
}

fn random_hex() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let a = h.finish();
    let mut h = RandomState::new().build_hasher();
    h.write_u64(a);
    format!("{a:016x}{:016x}", h.finish())
}

/// A connection whose commands and file transfers run as `spec.user`.
pub struct BecomeConnection {
    inner: Arc<dyn Connection>,
    spec: BecomeSpec,
}

impl BecomeConnection {
    pub fn new(inner: Arc<dyn Connection>, spec: BecomeSpec) -> BecomeConnection {
        BecomeConnection { inner, spec }
    }

    fn q(&self, s: &str) -> Result<String> {
        quote(s).map_err(|e| Error::new(self.inner.host(), ErrorKind::Quote { reason: e.to_string() }))
    }

    /// The request the wrapped connection runs: the escalation line, no environment of its own
    /// (sudo would reset it; it is exported inside), and the prompt to answer.
    pub(crate) fn wrap(&self, req: &ExecRequest) -> Result<ExecRequest> {
        let host = self.inner.host();
        let marker = format!("BECOME-SUCCESS-{}", random_hex());
        let mut script = format!("echo {marker}; ");
        if !req.env.is_empty() {
            script.push_str("export");
            for (k, v) in &req.env {
                check_env_name(host, k)?;
                script.push_str(&format!(" {k}={}", self.q(v)?));
            }
            script.push_str("; ");
        }
        script.push_str(&req.command);
        let inner = format!("/bin/sh -c {}", self.q(&script)?);
        let pty = self.spec.method == BecomeMethod::Su;
        // sudo passes a signal on to the command alone, not to what it started: the time limit
        // goes inside too, where it stops the command's whole process group as the target user.
        let inner = match req.timeout {
            Some(after) if !pty => time_limited(host, &inner, after)?,
            _ => inner,
        };
        let user = self.q(&self.spec.user)?;
        let exe = self
            .spec
            .exe
            .clone()
            .unwrap_or_else(|| self.spec.method.name().to_string());
        let (command, prompt) = match self.spec.method {
            BecomeMethod::Sudo => {
                let prompt = format!("[sudo via play, key={}] password:", random_hex());
                let flags = self.spec.flags.clone().unwrap_or_else(|| "-H -S -n".into());
                // With a password sudo must be allowed to ask for it.
                let with_pw = self.spec.password.is_some();
                let words: Vec<&str> = flags
                    .split_whitespace()
                    .filter(|f| !(with_pw && *f == "-n"))
                    .chain(["-p"])
                    .collect();
                let line = format!("{exe} {} {} -u {user} {inner}", words.join(" "), self.q(&prompt)?);
                (line, prompt)
            }
            BecomeMethod::Su => {
                let flags = self.spec.flags.clone().unwrap_or_default();
                let words: Vec<&str> = flags.split_whitespace().chain([user.as_str()]).collect();
                let line = format!("{exe} {} -c {}", words.join(" "), self.q(&inner)?);
                // PAM's prompt; su cannot be given our own.
                (line, "Password:".to_string())
            }
        };
        Ok(ExecRequest {
            command,
            stdin: req.stdin.clone(),
            env: Vec::new(),
            timeout: req.timeout,
            become_prompt: Some(BecomePrompt {
                prompt,
                marker,
                password: self.spec.password.clone(),
                pty,
                timeout: self.spec.timeout,
                what: format!("{} to {}", self.spec.method.name(), self.spec.user),
            }),
        })
    }

    async fn run(&self, req: &ExecRequest) -> Result<ExecOutput> {
        if self.spec.method == BecomeMethod::Su && req.stdin.is_some() {
            return self.run_su_with_stdin(req).await;
        }
        self.inner.exec(&self.wrap(req)?).await
    }

    /// su's stdin is a terminal: stage the bytes in a private file and redirect from it.
    async fn run_su_with_stdin(&self, req: &ExecRequest) -> Result<ExecOutput> {
        let staged = temp_path("/tmp/play-become-stdin");
        let data = req.stdin.clone().unwrap_or_default();
        self.inner
            .put_file(&PutFile::bytes(data, staged.clone()).mode(0o600))
            .await?;
        let mut r = req.clone();
        r.stdin = None;
        r.command = format!("{{ {}\n}} < {}", req.command, self.q(&staged)?);
        let out = self.inner.exec(&self.wrap(&r)?).await;
        let _ = self
            .inner
            .exec(&ExecRequest::new(format!("rm -f -- {}", self.q(&staged)?)))
            .await;
        out
    }
}

impl Connection for BecomeConnection {
    fn host(&self) -> &str {
        self.inner.host()
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, Result<ExecOutput>> {
        Box::pin(self.run(req))
    }

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let host = self.inner.host();
            let script = put_script(host, file)?;
            let data = read_content(host, &file.content).await?;
            let out = self.run(&ExecRequest::new(script).stdin(data)).await?;
            if out.rc != 0 {
                let mut stderr = out.stderr_lossy();
                if self.spec.method == BecomeMethod::Su {
                    stderr.push_str(&out.stdout_lossy());
                }
                return Err(Error::new(
                    host,
                    ErrorKind::Remote {
                        action: format!("writing {} as {}", file.dest, self.spec.user),
                        rc: out.rc,
                        stderr,
                    },
                ));
            }
            Ok(())
        })
    }

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move {
            let host = self.inner.host();
            let out = self.run(&ExecRequest::new(get_command(host, remote)?)).await?;
            if out.rc != 0 {
                // On su's terminal the error went to stdout.
                let stderr = if out.stderr.is_empty() {
                    out.stdout_lossy()
                } else {
                    out.stderr_lossy()
                };
                return Err(Error::new(
                    host,
                    ErrorKind::Remote {
                        action: format!("reading {remote} as {}", self.spec.user),
                        rc: out.rc,
                        stderr,
                    },
                ));
            }
            Ok(out.stdout)
        })
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, Result<()>> {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::local::LocalConnection;

    fn conn(spec: BecomeSpec) -> BecomeConnection {
        BecomeConnection::new(Arc::new(LocalConnection::new("h")), spec)
    }

    #[test]
    fn the_password_never_appears_in_the_line_and_flags_follow_ansible() {
        let hostile = "p'w\"$(touch /tmp/pwned) `id` ;|&";
        let table: Vec<(BecomeSpec, &[&str], &[&str])> = vec![
            (
                BecomeSpec::new(BecomeMethod::Sudo),
                &["sudo -H -S -n -p '[sudo via play, key=", "-u root /bin/sh -c"],
                &[],
            ),
            (
                BecomeSpec::new(BecomeMethod::Sudo)
                    .user("app")
                    .password(Secret::new(hostile)),
                &["sudo -H -S -p ", "-u app /bin/sh -c"],
                &[" -n "],
            ),
            (
                BecomeSpec::new(BecomeMethod::Su).password(Secret::new(hostile)),
                &["su root -c '/bin/sh -c "],
                &[],
            ),
        ];
        for (spec, wants, nots) in table {
            let w = conn(spec.clone())
                .wrap(&ExecRequest::new("id -u").env("A", "b c"))
                .unwrap_or_else(|e| panic!("{e}"));
            for want in wants {
                assert!(w.command.contains(want), "{} lacks {want}", w.command);
            }
            for not in nots {
                assert!(!w.command.contains(not), "{} has {not}", w.command);
            }
            assert!(
                !w.command.contains("touch /tmp/pwned") && !w.command.contains("p'w"),
                "{}",
                w.command
            );
            assert!(w.env.is_empty());
            let p = w.become_prompt.unwrap_or_else(|| panic!("no prompt"));
            assert!(w.command.contains(&p.marker));
            assert_eq!(p.pty, spec.method == BecomeMethod::Su);
            assert!(!format!("{p:?}").contains("p'w"), "{p:?}");
        }
        // A time limit goes inside sudo too (sudo signals only the command it started); su
        // runs under a terminal, whose hangup ends the command.
        for (method, inside) in [(BecomeMethod::Sudo, true), (BecomeMethod::Su, false)] {
            let w = conn(BecomeSpec::new(method))
                .wrap(&ExecRequest::new("sleep 9").timeout(Duration::from_secs(3)))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(w.command.contains("timeout -k 2 4.000"), inside, "{}", w.command);
            assert_eq!(w.timeout, Some(Duration::from_secs(3)));
        }
        // Each command gets its own marker and prompt.
        let c = conn(BecomeSpec::new(BecomeMethod::Sudo));
        let (a, b) = (
            c.wrap(&ExecRequest::new("true")).ok().and_then(|r| r.become_prompt),
            c.wrap(&ExecRequest::new("true")).ok().and_then(|r| r.become_prompt),
        );
        assert_ne!(a.map(|p| p.prompt), b.map(|p| p.prompt));
    }

    /// A stand-in for sudo that asks with the given prompt until the password in `want` comes.
    fn fake_sudo(dir: &std::path::Path) -> String {
        let exe = dir.join("fake-sudo");
        let script = format!(
            "#!/bin/sh\nwhile [ $# -gt 0 ]; do case $1 in -p) prompt=$2; shift 2;; -u) shift 2;; -*) shift;; *) break;; esac; done\n\
             want=$(cat {})\nwhile :; do printf '%s' \"$prompt\" >&2; IFS= read -r pw || exit 1; [ \"$pw\" = \"$want\" ] && break; \
             echo 'Sorry, try again.' >&2; done\nexec \"$@\"\n",
            dir.join("want").display()
        );
        let _ = std::fs::write(&exe, script);
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755));
        exe.display().to_string()
    }

    #[test]
    fn local_exec_answers_the_prompt_then_sends_stdin_and_keeps_inner_whitespace() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let hostile = "it's $(echo no) \"q\" \\ `x`";
        let _ = std::fs::write(dir.path().join("want"), hostile);
        let exe = fake_sudo(dir.path());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(async {
            let mut spec = BecomeSpec::new(BecomeMethod::Sudo).password(Secret::new(hostile));
            spec.exe = Some(exe.clone());
            let c = conn(spec.clone());
            let out = c
                .exec(&ExecRequest::new("tr a-z A-Z; printf '%s\n' 'e  r  r' >&2").stdin("abc"))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                (out.rc, out.stdout_lossy(), out.stderr_lossy()),
                (0, "ABC".into(), "e  r  r\n".into())
            );

            // Wrong password: fails at once on the second prompt.
            spec.password = Some(Secret::new("wrong"));
            let start = std::time::Instant::now();
            let e = conn(spec.clone()).exec(&ExecRequest::new("true")).await.err();
            assert!(start.elapsed() < Duration::from_secs(3));
            let e = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(
                e.contains("incorrect password") && e.contains("ansible_become_password"),
                "{e}"
            );

            // No password: fails at the first prompt.
            spec.password = None;
            let e = conn(spec).exec(&ExecRequest::new("true")).await.err();
            let e = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("password is required"), "{e}");
        });
    }
}
