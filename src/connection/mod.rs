//! The connection stage: how later stages run commands and move files on a host.
//!
//! [`Connection`] is the one interface modules use. [`ssh::SshConnection`] speaks SSH through
//! russh (one session per host, one channel per command, bastions via [`jump`]);
//! [`local::LocalConnection`] runs `sh -c` on the controller. Host keys are checked by
//! [`known_hosts`]; OpenSSH options come from [`ssh_args`] and [`ssh_config`]. Anything placed
//! into a shell line is quoted by [`quote::quote`]. [`BecomeConnection`] wraps any
//! connection to run as another user through sudo or su ([`prompt`] answers the password).

pub mod r#become;
pub mod error;
pub mod jump;
pub mod known_hosts;
pub mod local;
pub mod options;
pub mod prompt;
pub mod quote;
mod shell_session;
pub mod ssh;
pub mod ssh_args;
pub mod ssh_config;
mod transfer;

#[cfg(test)]
mod bastion_tests;
#[cfg(test)]
mod become_tests;
#[cfg(test)]
mod ssh_tests;
#[cfg(test)]
pub(crate) mod test_sshd;

pub use r#become::{BecomeConnection, BecomeMethod, BecomeSpec};
pub use error::{Error, ErrorKind, HostKeyProblem, Result};
pub use prompt::BecomePrompt;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future, so `dyn Connection` works (async fns in traits are not object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One command to run on a host.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// A POSIX shell command line, already quoted by the caller (see [`quote::join`]).
    pub command: String,
    /// Bytes fed to the command's standard input; it sees EOF after them (or at once if `None`).
    pub stdin: Option<Vec<u8>>,
    /// Environment variables set for this command only.
    pub env: Vec<(String, String)>,
    /// Kill the command and fail with `Timeout` after this long.
    pub timeout: Option<Duration>,
    /// Answer a sudo/su password prompt before the command starts (set by
    /// [`BecomeConnection`]); `stdin` is sent only after the success marker.
    pub become_prompt: Option<BecomePrompt>,
}

impl ExecRequest {
    pub fn new(command: impl Into<String>) -> ExecRequest {
        ExecRequest {
            command: command.into(),
            ..ExecRequest::default()
        }
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> ExecRequest {
        self.stdin = Some(data.into());
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> ExecRequest {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn timeout(mut self, after: Duration) -> ExecRequest {
        self.timeout = Some(after);
        self
    }
}

/// What a command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; a command killed by a signal reports `128 + signal` as shells do, or -1
    /// when the host did not say.
    pub rc: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn stdout_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The bytes of a file to upload.
#[derive(Debug, Clone)]
pub enum FileContent {
    Bytes(Vec<u8>),
    /// A file on the controller, read when the upload runs.
    LocalPath(PathBuf),
}

/// A file to write on the host: written to a temporary file in the destination's directory,
/// given its mode and owner, then renamed over `dest`, so readers never see half a file.
#[derive(Debug, Clone)]
pub struct PutFile {
    pub content: FileContent,
    /// Absolute path on the host.
    pub dest: String,
    /// Permission bits (e.g. `0o644`). `None`: keep the mode of the file being replaced, or the
    /// umask default for a new file.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl PutFile {
    pub fn bytes(data: impl Into<Vec<u8>>, dest: impl Into<String>) -> PutFile {
        PutFile {
            content: FileContent::Bytes(data.into()),
            dest: dest.into(),
            mode: None,
            owner: None,
            group: None,
        }
    }

    pub fn mode(mut self, mode: u32) -> PutFile {
        self.mode = Some(mode);
        self
    }
}

/// A way to reach one host. Many `exec`s may run at once on one connection.
pub trait Connection: Send + Sync {
    /// The host's inventory name, used in every error.
    fn host(&self) -> &str;

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, Result<ExecOutput>>;

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, Result<()>>;

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, Result<Vec<u8>>>;

    /// Close the connection; later calls fail.
    fn close<'a>(&'a self) -> BoxFuture<'a, Result<()>>;

    /// False once the transport is gone (the host rebooted, the network dropped): the owner
    /// should open a new connection.
    fn is_alive(&self) -> bool {
        true
    }
}
