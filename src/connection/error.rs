//! The connection stage's one error type. Every message names the host, what went wrong and
//! what to do. Secrets (passwords, key passphrases) are never stored here, so they cannot leak
//! through `Display` or `Debug`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub struct Error {
    /// The host as the inventory names it (or `localhost` for the local connection).
    pub host: String,
    pub kind: ErrorKind,
}

#[derive(Debug)]
pub enum ErrorKind {
    /// TCP connect, DNS or the SSH handshake failed.
    Unreachable { reason: String },
    /// Connecting, a command, or a bastion took longer than allowed.
    Timeout { what: String, after: Duration },
    /// A command ran past its time limit (the task's `timeout`) and was killed. A task
    /// failure, not an unreachable host: the connection still stands.
    CommandTimeout { after: Duration },
    /// The host key is not what `known_hosts` says.
    HostKey(Box<HostKeyProblem>),
    /// The server refused every credential we had.
    Auth { user: String, tried: Vec<String> },
    /// A private key file could not be read or decrypted.
    Key { path: PathBuf, reason: String },
    /// Opening or using an SSH channel failed.
    Channel { reason: String },
    /// A command that moves files or prepares the host failed on the host.
    Remote { action: String, rc: i32, stderr: String },
    /// Bad SSH options, `ssh_config`, `ProxyCommand` or `ProxyJump`.
    Config { source: String, message: String },
    /// A string that cannot be passed to a shell (contains NUL).
    Quote { reason: String },
    /// sudo/su did not start the command: wrong or missing password, not allowed, timed out.
    Become { reason: String },
    /// Local I/O: reading a key, known_hosts, a file to upload, spawning a process.
    Io { what: String, source: std::io::Error },
}

#[derive(Debug)]
pub enum HostKeyProblem {
    /// No entry for this host (or only entries of other key types).
    Unknown {
        address: String,
        port: u16,
        fingerprint: String,
        files: Vec<PathBuf>,
        other_types: Vec<String>,
    },
    /// An entry for this host holds a different key of the same type.
    Changed {
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },
    /// The key is marked `@revoked`.
    Revoked {
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },
    /// The server presented a host certificate; only plain keys are checked.
    Certificate { fingerprint: String },
    /// accept-new could not record the key.
    Write { file: PathBuf, reason: String },
}

impl Error {
    pub fn new(host: impl Into<String>, kind: ErrorKind) -> Error {
        Error {
            host: host.into(),
            kind,
        }
    }

    pub fn io(host: impl Into<String>, what: impl Into<String>, source: std::io::Error) -> Error {
        Error::new(
            host,
            ErrorKind::Io {
                what: what.into(),
                source,
            },
        )
    }

    pub fn channel(host: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::new(
            host,
            ErrorKind::Channel {
                reason: reason.to_string(),
            },
        )
    }

    pub fn config(host: impl Into<String>, source: impl Into<String>, message: impl Into<String>) -> Error {
        Error::new(
            host,
            ErrorKind::Config {
                source: source.into(),
                message: message.into(),
            },
        )
    }

    /// True when the host could not be reached at all (Ansible's "unreachable"), as opposed to
    /// a failure after the connection stood.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Unreachable { .. } | ErrorKind::Timeout { .. } | ErrorKind::HostKey(_) | ErrorKind::Auth { .. }
        )
    }

    fn message(&self) -> String {
        let h = &self.host;
        match &self.kind {
            ErrorKind::Unreachable { reason } => format!("{h}: unreachable: {reason}"),
            ErrorKind::Timeout { what, after } => {
                format!("{h}: {what} timed out after {}", human(*after))
            }
            ErrorKind::CommandTimeout { after } => {
                format!("{h}: the command timed out after {} and was killed", human(*after))
            }
            ErrorKind::HostKey(p) => host_key_message(h, p),
            ErrorKind::Auth { user, tried } => {
                let tried = if tried.is_empty() {
                    "nothing (no key, agent or password)".to_string()
                } else {
                    tried.join(", ")
                };
                format!("{h}: authentication as '{user}' failed; tried {tried}")
            }
            ErrorKind::Key { path, reason } => {
                format!("{h}: cannot use private key {}: {reason}", path.display())
            }
            ErrorKind::Channel { reason } => format!("{h}: SSH channel failed: {reason}"),
            ErrorKind::Remote { action, rc, stderr } => {
                let stderr = stderr.trim();
                if stderr.is_empty() {
                    format!("{h}: {action} failed with exit status {rc}")
                } else {
                    format!("{h}: {action} failed with exit status {rc}: {stderr}")
                }
            }
            ErrorKind::Config { source, message } => format!("{h}: {source}: {message}"),
            ErrorKind::Quote { reason } => format!("{h}: cannot quote for the shell: {reason}"),
            ErrorKind::Io { what, source } => format!("{h}: {what}: {source}"),
            ErrorKind::Become { reason } => format!("{h}: privilege escalation failed: {reason}"),
        }
    }

    fn help(&self) -> Option<String> {
        match &self.kind {
            ErrorKind::Unreachable { .. } => {
                Some("check ansible_host/ansible_port, that sshd runs there, and any bastion (ProxyJump)".into())
            }
            ErrorKind::CommandTimeout { .. } => Some("raise the task's timeout if the command is just slow".into()),
            ErrorKind::Timeout { .. } => Some("check the network path; raise the timeout (ConnectTimeout / timeout) if the host is just slow".into()),
            ErrorKind::HostKey(p) => host_key_help(&self.host, p),
            ErrorKind::Auth { .. } => Some(
                "set ansible_ssh_private_key_file (or --private-key), load the key into ssh-agent, or set ansible_password; \
                 check ansible_user and the host's authorized_keys"
                    .into(),
            ),
            ErrorKind::Key { .. } => Some("check the path and permissions; an encrypted key needs its passphrase".into()),
            ErrorKind::Config { .. } => Some("fix the SSH option; unsupported forms are named above".into()),
            ErrorKind::Become { .. } => Some(
                "check ansible_become_password (or pass -K / --ask-become-pass), become_user, and the \
                 host's sudoers / su rules for the login user"
                    .into(),
            ),
            _ => None,
        }
    }
}

fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn host_key_message(h: &str, p: &HostKeyProblem) -> String {
    match p {
        HostKeyProblem::Unknown {
            fingerprint,
            files,
            other_types,
            ..
        } => {
            let files = files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let mut m = format!("{h}: host key {fingerprint} is not known (looked in {files}); refusing to connect");
            if !other_types.is_empty() {
                m.push_str(&format!(
                    " (known there only with other key types: {})",
                    other_types.join(", ")
                ));
            }
            m
        }
        HostKeyProblem::Changed {
            fingerprint,
            file,
            line,
        } => format!(
            "{h}: HOST KEY CHANGED: the server offered {fingerprint}, which differs from the key at {}:{line}; \
             this may be a man-in-the-middle attack",
            file.display()
        ),
        HostKeyProblem::Revoked {
            fingerprint,
            file,
            line,
        } => {
            format!(
                "{h}: host key {fingerprint} is marked @revoked at {}:{line}; refusing to connect",
                file.display()
            )
        }
        HostKeyProblem::Certificate { fingerprint } => {
            format!("{h}: server presented a host certificate ({fingerprint}); only plain host keys are supported")
        }
        HostKeyProblem::Write { file, reason } => {
            format!("{h}: cannot record the new host key in {}: {reason}", file.display())
        }
    }
}

fn host_key_help(h: &str, p: &HostKeyProblem) -> Option<String> {
    match p {
        HostKeyProblem::Unknown {
            address, port, files, ..
        } => {
            let _ = h;
            let file = files
                .first()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "~/.ssh/known_hosts".into());
            let name = address;
            Some(format!(
                "verify the key, then add it with: ssh-keyscan -p {port} {name} >> {file}  \
                 (or set StrictHostKeyChecking=accept-new to trust it on first contact)"
            ))
        }
        HostKeyProblem::Changed { file, line, .. } => Some(format!(
            "if the host was really reinstalled, remove line {line} of {} (ssh-keygen -R) and add the new key",
            file.display()
        )),
        HostKeyProblem::Revoked { .. } => Some("this key must not be trusted; contact the host's owner".into()),
        HostKeyProblem::Certificate { .. } => Some("add the host's plain key to known_hosts with ssh-keyscan".into()),
        HostKeyProblem::Write { .. } => {
            Some("check the file's permissions, or add the key yourself with ssh-keyscan".into())
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message())?;
        if let Some(help) = self.help() {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_host_problem_and_remedy() {
        let cases: Vec<(Error, &[&str])> = vec![
            (
                Error::new(
                    "web1",
                    ErrorKind::HostKey(Box::new(HostKeyProblem::Unknown {
                        address: "10.0.0.5".into(),
                        port: 2222,
                        fingerprint: "SHA256:abc".into(),
                        files: vec![PathBuf::from("/k/known_hosts")],
                        other_types: vec![],
                    })),
                ),
                &[
                    "web1",
                    "SHA256:abc",
                    "/k/known_hosts",
                    "ssh-keyscan -p 2222 10.0.0.5 >> /k/known_hosts",
                ],
            ),
            (
                Error::new(
                    "db",
                    ErrorKind::HostKey(Box::new(HostKeyProblem::Changed {
                        fingerprint: "SHA256:x".into(),
                        file: PathBuf::from("/kh"),
                        line: 7,
                    })),
                ),
                &["db", "/kh:7", "CHANGED"],
            ),
            (
                Error::new(
                    "a",
                    ErrorKind::Auth {
                        user: "root".into(),
                        tried: vec!["key /k".into()],
                    },
                ),
                &["a:", "'root'", "key /k", "ansible_ssh_private_key_file"],
            ),
            (
                Error::new(
                    "t",
                    ErrorKind::Timeout {
                        what: "connect".into(),
                        after: Duration::from_secs(10),
                    },
                ),
                &["t:", "connect timed out after 10s"],
            ),
        ];
        for (e, wants) in cases {
            let s = e.to_string();
            for w in wants {
                assert!(s.contains(w), "{s:?} lacks {w:?}");
            }
        }
    }
}
