//! `ansible.cfg`: found where Ansible looks (first found wins, no merging) and read as
//! Python's configparser reads it for Ansible: `key = value` or `key: value`, `#`/`;` comment
//! lines, ` ;` inline comments, indented continuation lines, option names case-insensitive,
//! duplicate sections or options refused, no `%` interpolation.

use super::error::{Error, ErrorKind, Result};
use crate::syntax::{SourceFile, Span};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Everything the configuration reads from outside: passed in, never looked up globally,
/// so tests give their own.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub vars: HashMap<String, String>,
    pub home: Option<PathBuf>,
    pub cwd: PathBuf,
    /// The system-wide file, `/etc/ansible/ansible.cfg` outside tests.
    pub system_config: PathBuf,
}

impl Environment {
    /// The real process environment.
    pub fn from_process() -> std::io::Result<Environment> {
        let vars: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = vars.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        Ok(Environment {
            vars,
            home,
            cwd: std::env::current_dir()?,
            system_config: PathBuf::from("/etc/ansible/ansible.cfg"),
        })
    }

    /// A variable's value; set-but-empty counts as unset.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A path as Ansible resolves configured paths: `$VAR`/`${VAR}` and `~` expanded, then
    /// made absolute against `base` and cleaned of `.` and `..` (without touching the disk).
    pub fn resolve_path(&self, text: &str, base: &Path) -> PathBuf {
        let expanded = expand_user(&expand_vars(text, &self.vars), self.home.as_deref());
        let joined = if Path::new(&expanded).is_absolute() {
            PathBuf::from(expanded)
        } else {
            base.join(expanded)
        };
        normalize(&joined)
    }
}

/// Python's `os.path.expandvars`: unknown variables stay as written.
fn expand_vars(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        match vars.get(name).filter(|_| !name.is_empty()) {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[i..i + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// `~` and `~/...` become the home directory (`~user` is left alone).
fn expand_user(text: &str, home: Option<&Path>) -> String {
    match (home, text.strip_prefix('~')) {
        (Some(h), Some(rest)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", h.display())
        }
        _ => text.to_string(),
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where Ansible looks for its configuration, in order. The current directory is skipped
/// when anyone may write to it (a planted `ansible.cfg` could run code); that earns a warning.
pub fn find_config_file(env: &Environment, warnings: &mut Vec<String>) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(from_env) = env.vars.get("ANSIBLE_CONFIG") {
        let p = env.resolve_path(from_env, &env.cwd);
        candidates.push(if p.is_dir() { p.join("ansible.cfg") } else { p });
    }
    let cwd_cfg = env.cwd.join("ansible.cfg");
    if world_writable(&env.cwd) {
        if cwd_cfg.exists() {
            warnings.push(format!(
                "ignoring {} because {} is world writable; set ANSIBLE_CONFIG to use it",
                cwd_cfg.display(),
                env.cwd.display()
            ));
        }
    } else {
        candidates.push(cwd_cfg);
    }
    if let Some(home) = &env.home {
        candidates.push(home.join(".ansible.cfg"));
    }
    candidates.push(env.system_config.clone());
    candidates
        .into_iter()
        .find(|p| p.is_file() && std::fs::File::open(p).is_ok())
}

#[cfg(unix)]
fn world_writable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0)
}

#[cfg(not(unix))]
fn world_writable(_dir: &Path) -> bool {
    false
}

/// A parsed configuration file. Values keep the line they were written on.
#[derive(Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    source: Arc<SourceFile>,
    sections: Vec<(String, Vec<Entry>)>,
}

#[derive(Debug)]
struct Entry {
    key: String,
    value: String,
    line: u32,
    col: u32,
    /// Indentation of the key line; deeper lines continue the value.
    indent: usize,
}

impl ConfigFile {
    /// Read and parse the file at `path`.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::new(
                ErrorKind::Io {
                    what: format!("configuration file {}", path.display()),
                    message: e.to_string(),
                },
                None,
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::new(
                ErrorKind::ConfigSyntax {
                    message: format!("{} is not UTF-8 text", path.display()),
                },
                Some(Span::new(SourceFile::new(path, ""), 0, 0)),
            )
        })?;
        ConfigFile::parse(SourceFile::new(path, text))
    }

    pub fn parse(source: Arc<SourceFile>) -> Result<ConfigFile> {
        let mut sections: Vec<(String, Vec<Entry>)> = Vec::new();
        let err = |line: usize, col: usize, message: String, help: &str| {
            Error::new(
                ErrorKind::ConfigSyntax { message },
                Some(Span::new(source.clone(), line as u32 + 1, col as u32 + 1)),
            )
            .with_help(help.to_string())
        };
        // Whether the last option may still take continuation lines.
        let mut open = false;
        for (n, raw) in source.text.lines().enumerate() {
            let indent = raw.len() - raw.trim_start().len();
            let trimmed = raw.trim();
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let line = strip_inline_comment(raw);
            if line.trim().is_empty() {
                // Blank lines may sit inside a multi-line value; trailing ones are dropped below.
                if let Some(e) = sections.last_mut().and_then(|(_, es)| es.last_mut()).filter(|_| open) {
                    e.value.push('\n');
                }
                continue;
            }
            if open
                && let Some(e) = sections
                    .last_mut()
                    .and_then(|(_, es)| es.last_mut())
                    .filter(|e| indent > e.indent)
            {
                e.value.push('\n');
                e.value.push_str(line.trim());
                continue;
            }
            open = false;
            let text = line.trim();
            if let Some(inner) = text.strip_prefix('[') {
                let Some(name) = inner.strip_suffix(']').filter(|n| !n.is_empty() && !n.contains(']')) else {
                    return Err(err(
                        n,
                        indent,
                        format!("'{text}' is not a section header"),
                        "section headers look like [defaults]",
                    ));
                };
                if sections.iter().any(|(s, _)| s == name) {
                    return Err(err(
                        n,
                        indent,
                        format!("section [{name}] appears twice"),
                        "merge the two sections into one",
                    ));
                }
                sections.push((name.to_string(), Vec::new()));
                continue;
            }
            let Some(split) = text.find(['=', ':']) else {
                return Err(err(
                    n,
                    indent,
                    format!("'{text}' is not 'key = value'"),
                    "write settings as key = value, one per line",
                ));
            };
            let key = text[..split].trim().to_lowercase();
            let value = text[split + 1..].trim().to_string();
            let Some((section, entries)) = sections.last_mut() else {
                return Err(err(
                    n,
                    indent,
                    "a setting before any [section] header".into(),
                    "put settings under a section such as [defaults]",
                ));
            };
            if entries.iter().any(|e| e.key == key) {
                return Err(err(
                    n,
                    indent,
                    format!("'{key}' is set twice in [{section}]"),
                    "keep one of the two lines",
                ));
            }
            entries.push(Entry {
                key,
                value,
                line: n as u32 + 1,
                col: indent as u32 + 1,
                indent,
            });
            open = true;
        }
        for (_, entries) in &mut sections {
            for e in entries.iter_mut() {
                let kept = e.value.trim_end_matches('\n').len();
                e.value.truncate(kept);
            }
        }
        Ok(ConfigFile {
            path: source.path.clone(),
            source,
            sections,
        })
    }

    /// The value of `key` in `[section]` (the `[DEFAULT]` section fills in for every
    /// section, as in configparser), with where it was written.
    pub fn get(&self, section: &str, key: &str) -> Option<(&str, Span)> {
        let find = |name: &str| {
            self.sections
                .iter()
                .find(|(s, _)| s == name)
                .and_then(|(_, es)| es.iter().find(|e| e.key == key))
        };
        let has_section = self.sections.iter().any(|(s, _)| s == section);
        let entry = find(section).or_else(|| if has_section { find("DEFAULT") } else { None })?;
        Some((
            entry.value.as_str(),
            Span::new(self.source.clone(), entry.line, entry.col),
        ))
    }

    /// The directory relative paths in this file are resolved against.
    pub fn dir(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// configparser's inline comments: `;` after whitespace ends the value.
fn strip_inline_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b';' && i > 0 && bytes.get(i - 1).is_some_and(|p| p.is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile> {
        ConfigFile::parse(SourceFile::new("/etc/x/ansible.cfg", text))
    }

    #[test]
    fn configparser_syntax_is_read() {
        let cfg = parse(
            "# comment\n; also a comment\n[defaults]\nForks = 10\nremote_user: deploy ; inline comment\nssh;notcomment = x;y\n\
             roles_path = a\n   b\n\n   c\n\nempty =\n[ssh_connection]\nssh_args = -o ControlPersist=60s %%h\n[DEFAULT]\ntimeout = 3\n",
        )
        .expect("parses");
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("defaults", "forks", Some("10")),
            ("defaults", "remote_user", Some("deploy")),
            ("defaults", "ssh;notcomment", Some("x;y")),
            ("defaults", "roles_path", Some("a\nb\n\nc")),
            ("defaults", "empty", Some("")),
            ("ssh_connection", "ssh_args", Some("-o ControlPersist=60s %%h")),
            ("defaults", "timeout", Some("3")),
            ("defaults", "nothing", None),
            ("nosection", "timeout", None),
        ];
        for (section, key, want) in cases {
            assert_eq!(cfg.get(section, key).map(|(v, _)| v), *want, "[{section}] {key}");
        }
        assert_eq!(
            cfg.get("defaults", "remote_user").map(|(_, s)| (s.line, s.col)),
            Some((5, 1))
        );
    }

    #[test]
    fn malformed_files_are_errors_with_file_and_line() {
        let cases: &[(&str, u32, &str)] = &[
            ("forks = 5\n", 1, "before any [section]"),
            ("[defaults]\nforks 5\n", 2, "not 'key = value'"),
            ("[defaults]\n[ssh\n", 2, "not a section header"),
            ("[defaults]\nforks=1\n[defaults]\n", 3, "appears twice"),
            ("[defaults]\nforks=1\nFORKS=2\n", 3, "set twice"),
        ];
        for (text, line, want) in cases {
            let e = parse(text).expect_err("must fail");
            let shown = e.to_string();
            assert!(
                shown.starts_with(&format!("/etc/x/ansible.cfg:{line}:")) && shown.contains(want),
                "{text:?}: {shown}"
            );
        }
    }

    #[test]
    fn paths_expand_like_ansible() {
        let env = Environment {
            vars: HashMap::from([("PROJ".to_string(), "/srv/p".to_string())]),
            home: Some("/home/u".into()),
            cwd: "/work".into(),
            system_config: "/nonexistent".into(),
        };
        let cases: &[(&str, &str, &str)] = &[
            ("roles", "/etc/x", "/etc/x/roles"),
            ("../roles", "/etc/x", "/etc/roles"),
            ("./a/./b", "/etc/x", "/etc/x/a/b"),
            ("~/roles", "/etc/x", "/home/u/roles"),
            ("~", "/etc/x", "/home/u"),
            ("~other/r", "/etc/x", "/etc/x/~other/r"),
            ("$PROJ/roles", "/etc/x", "/srv/p/roles"),
            ("${PROJ}/r", "/etc/x", "/srv/p/r"),
            ("$NOPE/r", "/etc/x", "/etc/x/$NOPE/r"),
            ("/abs", "/etc/x", "/abs"),
        ];
        for (text, base, want) in cases {
            assert_eq!(env.resolve_path(text, Path::new(base)), PathBuf::from(want), "{text}");
        }
    }
}
