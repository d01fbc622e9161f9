//! Reading one configuration setting the way Ansible does: the last of its `ANSIBLE_*`
//! variables that is set, else its `ansible.cfg` key, converted to the setting's type with
//! errors that say where the bad value came from.

use super::config::{ConfigFile, Environment};
use super::error::{Error, ErrorKind, Result};
use crate::syntax::Span;
use std::path::PathBuf;

/// A setting's name (for messages), its environment variables and its `(section, key)`s.
pub struct Setting {
    pub name: &'static str,
    pub env: &'static [&'static str],
    pub ini: &'static [(&'static str, &'static str)],
}

macro_rules! settings {
    ($($id:ident = $name:literal, [$($env:literal),*], [$(($sec:literal, $key:literal)),*];)*) => {
        $(pub const $id: Setting = Setting { name: $name, env: &[$($env),*], ini: &[$(($sec, $key)),*] };)*
    };
}

settings! {
    INVENTORY = "inventory", ["ANSIBLE_INVENTORY"], [("defaults", "inventory")];
    ROLES_PATH = "roles_path", ["ANSIBLE_ROLES_PATH"], [("defaults", "roles_path")];
    FORKS = "forks", ["ANSIBLE_FORKS"], [("defaults", "forks")];
    REMOTE_USER = "remote_user", ["ANSIBLE_REMOTE_USER"], [("defaults", "remote_user")];
    PRIVATE_KEY_FILE = "private_key_file", ["ANSIBLE_PRIVATE_KEY_FILE"], [("defaults", "private_key_file")];
    HOST_KEY_CHECKING = "host_key_checking", ["ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_SSH_HOST_KEY_CHECKING"],
        [("defaults", "host_key_checking"), ("ssh_connection", "host_key_checking")];
    TIMEOUT = "timeout", ["ANSIBLE_TIMEOUT", "ANSIBLE_SSH_TIMEOUT"], [("defaults", "timeout"), ("ssh_connection", "timeout")];
    BECOME = "become", ["ANSIBLE_BECOME"], [("privilege_escalation", "become")];
    BECOME_METHOD = "become_method", ["ANSIBLE_BECOME_METHOD"], [("privilege_escalation", "become_method")];
    BECOME_USER = "become_user", ["ANSIBLE_BECOME_USER"], [("privilege_escalation", "become_user")];
    BECOME_ASK_PASS = "become_ask_pass", ["ANSIBLE_BECOME_ASK_PASS"], [("privilege_escalation", "become_ask_pass")];
    BECOME_PASSWORD_FILE = "become_password_file", ["ANSIBLE_BECOME_PASSWORD_FILE"], [("defaults", "become_password_file")];
    ASK_PASS = "ask_pass", ["ANSIBLE_ASK_PASS"], [("defaults", "ask_pass")];
    CONNECTION_PASSWORD_FILE = "connection_password_file", ["ANSIBLE_CONNECTION_PASSWORD_FILE"], [("defaults", "connection_password_file")];
    VAULT_PASSWORD_FILE = "vault_password_file", ["ANSIBLE_VAULT_PASSWORD_FILE"], [("defaults", "vault_password_file")];
    VAULT_IDENTITY_LIST = "vault_identity_list", ["ANSIBLE_VAULT_IDENTITY_LIST"], [("defaults", "vault_identity_list")];
    ASK_VAULT_PASS = "ask_vault_pass", ["ANSIBLE_ASK_VAULT_PASS"], [("defaults", "ask_vault_pass")];
    TRANSPORT = "transport", ["ANSIBLE_TRANSPORT"], [("defaults", "transport")];
    SSH_ARGS = "ssh_args", ["ANSIBLE_SSH_ARGS"], [("ssh_connection", "ssh_args")];
    SSH_COMMON_ARGS = "ssh_common_args", ["ANSIBLE_SSH_COMMON_ARGS"], [("ssh_connection", "ssh_common_args")];
    SSH_EXTRA_ARGS = "ssh_extra_args", ["ANSIBLE_SSH_EXTRA_ARGS"], [("ssh_connection", "ssh_extra_args")];
    PIPELINING = "pipelining", ["ANSIBLE_PIPELINING", "ANSIBLE_SSH_PIPELINING"], [("connection", "pipelining"), ("ssh_connection", "pipelining")];
    RETRY_FILES_ENABLED = "retry_files_enabled", ["ANSIBLE_RETRY_FILES_ENABLED"], [("defaults", "retry_files_enabled")];
    FORCE_HANDLERS = "force_handlers", ["ANSIBLE_FORCE_HANDLERS"], [("defaults", "force_handlers")];
    RUN_TAGS = "run tags", ["ANSIBLE_RUN_TAGS"], [("tags", "run")];
    SKIP_TAGS = "skip tags", ["ANSIBLE_SKIP_TAGS"], [("tags", "skip")];
    DIFF_ALWAYS = "diff always", ["ANSIBLE_DIFF_ALWAYS"], [("diff", "always")];
    VERBOSITY = "verbosity", ["ANSIBLE_VERBOSITY"], [("defaults", "verbosity")];
}

/// A raw value and where it came from.
struct Raw {
    value: String,
    /// `None` for the environment; the cfg position otherwise.
    span: Option<Span>,
    origin: String,
}

/// Looks settings up in the environment, then in the configuration file.
pub struct Settings<'a> {
    pub env: &'a Environment,
    pub cfg: Option<&'a ConfigFile>,
}

impl Settings<'_> {
    fn raw(&self, s: &Setting) -> Option<Raw> {
        if let Some((name, value)) = s.env.iter().rev().find_map(|n| self.env.var(n).map(|v| (n, v))) {
            return Some(Raw {
                value: value.to_string(),
                span: None,
                origin: format!("environment variable {name}"),
            });
        }
        let cfg = self.cfg?;
        let (value, span) = s.ini.iter().rev().find_map(|(sec, key)| cfg.get(sec, key))?;
        Some(Raw {
            value: unquote(value).to_string(),
            span: Some(span),
            origin: cfg.path.display().to_string(),
        })
    }

    fn bad(s: &Setting, raw: &Raw, message: String) -> Error {
        Error::new(
            ErrorKind::BadSetting {
                setting: s.name.to_string(),
                origin: raw.origin.clone(),
                message,
            },
            raw.span.clone(),
        )
    }

    /// Where relative paths of this value are resolved: the cfg file's directory for cfg
    /// values, the current directory for environment values.
    fn base(&self, raw: &Raw) -> PathBuf {
        match (raw.span.is_some(), self.cfg) {
            (true, Some(cfg)) => cfg.dir(),
            _ => self.env.cwd.clone(),
        }
    }

    pub fn string(&self, s: &Setting) -> Option<String> {
        self.raw(s).map(|r| r.value)
    }

    pub fn bool(&self, s: &Setting) -> Result<Option<bool>> {
        let Some(raw) = self.raw(s) else {
            return Ok(None);
        };
        parse_bool(&raw.value).map(Some).ok_or_else(|| {
            Self::bad(s, &raw, format!("'{}' is not a boolean", raw.value))
                .with_help("use yes/no, true/false, on/off or 1/0")
        })
    }

    pub fn int(&self, s: &Setting) -> Result<Option<i64>> {
        let Some(raw) = self.raw(s) else {
            return Ok(None);
        };
        parse_int(&raw.value)
            .map(Some)
            .ok_or_else(|| Self::bad(s, &raw, format!("'{}' is not a whole number", raw.value)))
    }

    pub fn path(&self, s: &Setting) -> Option<PathBuf> {
        let raw = self.raw(s)?;
        Some(self.env.resolve_path(&raw.value, &self.base(&raw)))
    }

    /// A list of paths split on `sep` (`,` for Ansible's pathlist, `:` for its pathspec).
    pub fn paths(&self, s: &Setting, sep: char) -> Option<Vec<PathBuf>> {
        let raw = self.raw(s)?;
        let base = self.base(&raw);
        Some(
            raw.value
                .split(sep)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| self.env.resolve_path(p, &base))
                .collect(),
        )
    }

    /// A comma-separated list of strings.
    pub fn list(&self, s: &Setting) -> Option<Vec<String>> {
        let raw = self.raw(s)?;
        Some(
            raw.value
                .split(',')
                .map(|x| unquote(x.trim()).to_string())
                .filter(|x| !x.is_empty())
                .collect(),
        )
    }
}

/// One pair of matching quotes around a cfg value is removed, as Ansible does.
fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// Ansible's boolean spellings. Anything else is refused rather than silently false:
/// a typo in `host_key_checking` must not turn checking off.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" | "1.0" => Some(true),
        "n" | "no" | "off" | "0" | "false" | "f" | "0.0" => Some(false),
        _ => None,
    }
}

/// Integers as Ansible's config reads them: whole numbers, also written as `10.0`.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    let f: f64 = t.parse().ok()?;
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_and_integers() {
        for (text, want) in [
            ("yes", Some(true)),
            ("On", Some(true)),
            ("1", Some(true)),
            ("t", Some(true)),
            ("FALSE", Some(false)),
            ("off", Some(false)),
            ("0", Some(false)),
            ("n", Some(false)),
            ("flase", None),
            ("", None),
        ] {
            assert_eq!(parse_bool(text), want, "{text}");
        }
        for (text, want) in [
            ("10", Some(10)),
            (" 7 ", Some(7)),
            ("10.0", Some(10)),
            ("-1", Some(-1)),
            ("1.5", None),
            ("ten", None),
        ] {
            assert_eq!(parse_int(text), want, "{text}");
        }
        assert_eq!(unquote("'a b'"), "a b");
        assert_eq!(unquote("\"x\""), "x");
        assert_eq!(unquote("'x\""), "'x\"");
    }
}
