//! Vault passwords and where they come from: `--vault-password-file` (a file, or a script
//! when executable), `--vault-id label@source`, and `--ask-vault-pass` prompts.

use crate::syntax::error::{Error, ErrorKind, Result};
use std::fmt;
use std::path::{Path, PathBuf};

/// A password. It never shows in `Debug` output and is wiped when dropped.
#[derive(Clone, PartialEq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Secret {
        Secret(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
        // Keeps the wipe from being optimised away as a dead store.
        std::hint::black_box(&self.0);
    }
}

/// The label Ansible gives passwords that were not given one.
pub const DEFAULT_LABEL: &str = "default";

/// Where one vault password comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    File(PathBuf),
    Prompt,
}

/// One `--vault-id`: `label@source`, or just `source` for the default label.
#[derive(Clone, Debug, PartialEq)]
pub struct VaultId {
    pub label: String,
    pub source: Source,
}

impl VaultId {
    /// Parse a `--vault-id` value; `prompt` as the source asks on the terminal.
    /// Relative file paths are taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> VaultId {
        let (label, source) = match text.split_once('@') {
            Some((l, s)) => (l.to_string(), s),
            None => (DEFAULT_LABEL.to_string(), text),
        };
        let source = match source {
            "prompt" | "prompt_ask_vault_pass" => Source::Prompt,
            path => Source::File(base.join(path)),
        };
        VaultId { label, source }
    }
}

/// Every known vault password, in the order they are tried.
#[derive(Clone, Debug, Default)]
pub struct VaultSecrets {
    entries: Vec<(String, Secret)>,
}

impl VaultSecrets {
    pub fn new() -> VaultSecrets {
        VaultSecrets::default()
    }

    pub fn add(&mut self, label: impl Into<String>, secret: Secret) {
        self.entries.push((label.into(), secret));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Passwords to try for data labelled `label`: those with that label first, then the
    /// rest in the order given (Ansible tries them all unless told to match ids).
    pub fn candidates<'a>(&'a self, label: Option<&'a str>) -> impl Iterator<Item = &'a Secret> + 'a {
        let matching = self.entries.iter().filter(move |(l, _)| Some(l.as_str()) == label);
        let others = self.entries.iter().filter(move |(l, _)| Some(l.as_str()) != label);
        matching.chain(others).map(|(_, s)| s)
    }

    /// Load every password the user pointed at. `prompt` reads one password from the
    /// terminal given the prompt text.
    pub fn load(ids: &[VaultId], prompt: &mut dyn FnMut(&str) -> std::io::Result<String>) -> Result<VaultSecrets> {
        let mut out = VaultSecrets::new();
        for id in ids {
            let secret = match &id.source {
                Source::File(path) => read_password_file(path, &id.label)?,
                Source::Prompt => {
                    let text = if id.label == DEFAULT_LABEL {
                        "Vault password: ".to_string()
                    } else {
                        format!("Vault password ({}): ", id.label)
                    };
                    let pw = prompt(&text).map_err(|e| {
                        vault_err(format!("cannot ask for the vault password: {e}"))
                            .with_help("give the password with --vault-password-file FILE or --vault-id label@FILE")
                    })?;
                    non_empty(
                        pw.trim().as_bytes().to_vec(),
                        "the vault password typed at the prompt is empty",
                    )?
                }
            };
            out.add(id.label.clone(), secret);
        }
        Ok(out)
    }
}

fn vault_err(message: String) -> Error {
    Error::new(ErrorKind::Vault { message }, None)
}

fn non_empty(bytes: Vec<u8>, message: &str) -> Result<Secret> {
    if bytes.is_empty() {
        Err(vault_err(message.to_string()))
    } else {
        Ok(Secret::new(bytes))
    }
}

/// A password file's contents with surrounding whitespace removed, or, when the file is
/// executable, what the script prints (scripts named `*-client*` get `--vault-id LABEL`).
pub fn read_password_file(path: &Path, label: &str) -> Result<Secret> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| {
        vault_err(format!("cannot read vault password file {shown}: {e}"))
            .with_help("check the path given to --vault-password-file or --vault-id")
    })?;
    if meta.is_dir() {
        return Err(vault_err(format!("vault password file {shown} is a directory")));
    }
    if is_executable(&meta) {
        return run_password_script(path, label);
    }
    let bytes = std::fs::read(path).map_err(|e| vault_err(format!("cannot read vault password file {shown}: {e}")))?;
    non_empty(
        bytes.trim_ascii().to_vec(),
        &format!("vault password file {shown} is empty"),
    )
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

fn is_client_script(path: &Path) -> bool {
    path.file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.ends_with("-client"))
}

fn run_password_script(path: &Path, label: &str) -> Result<Secret> {
    let shown = path.display();
    let mut cmd = std::process::Command::new(path);
    if is_client_script(path) {
        cmd.arg("--vault-id").arg(label);
    }
    // Stderr and stdin stay with the terminal so scripts can ask questions themselves.
    cmd.stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit());
    let out = cmd.output().map_err(|e| {
        vault_err(format!("cannot run vault password script {shown}: {e}"))
            .with_help("if this file is not a script, remove its executable bit (chmod -x)")
    })?;
    if !out.status.success() {
        return Err(vault_err(format!(
            "vault password script {shown} failed ({})",
            out.status
        )));
    }
    let mut bytes = out.stdout;
    while matches!(bytes.last(), Some(b'\n' | b'\r')) {
        bytes.pop();
    }
    let start = bytes.iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
    non_empty(
        bytes.split_off(start),
        &format!("vault password script {shown} printed no password"),
    )
}

/// Read a password from the terminal without echo. Refuses when standard input is not a
/// terminal, so a run in CI fails instead of hanging.
pub fn prompt_password(prompt: &str) -> std::io::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Err(std::io::Error::other("standard input is not a terminal"));
    }
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let stty = |arg: &str| -> std::io::Result<()> {
        let tty_in = tty.try_clone()?;
        let status = std::process::Command::new("stty").arg(arg).stdin(tty_in).status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other("stty failed to turn echo off"))
        }
    };
    let mut out = tty.try_clone()?;
    // Echo off before the prompt shows: a password typed (or pasted) the moment the prompt
    // appears must not be echoed.
    stty("-echo")?;
    let mut line = String::new();
    let read = (|| {
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
        std::io::BufReader::new(tty.try_clone()?).read_line(&mut line)
    })();
    // Echo comes back whatever happened above.
    let restored = stty("echo");
    out.write_all(b"\n")?;
    read?;
    restored?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}
