//! `~/.ssh/config` (or `-F file`): `Host` blocks with patterns and negation, and the options a
//! connection uses. As in OpenSSH the first value found for an option wins, so specific blocks
//! go first and `Host *` last. `Match` blocks are not evaluated (skipped with a debug log).

use super::error::{Error, Result};
use super::known_hosts::{StrictMode, match_list};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
struct Block {
    /// `None` for options before the first `Host` (they apply to every host).
    patterns: Option<Vec<String>>,
    /// A `Match` block: never applied.
    skip: bool,
    options: Vec<(String, String)>,
}

/// What the config says about one host. Unset fields were not mentioned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<String>,
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    pub user_known_hosts_files: Vec<String>,
    pub strict_host_key_checking: Option<StrictMode>,
    pub connect_timeout: Option<Duration>,
    pub server_alive_interval: Option<Duration>,
    pub server_alive_count_max: Option<usize>,
}

impl SshConfig {
    pub fn parse(text: &str, file: &Path) -> Result<SshConfig> {
        let mut blocks = vec![Block {
            patterns: None,
            skip: false,
            options: Vec::new(),
        }];
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let split = line.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(line.len());
            let key = line[..split].to_ascii_lowercase();
            let rest = line[split..].trim_start();
            let value = rest.strip_prefix('=').unwrap_or(rest).trim().to_string();
            let at = || format!("{}:{}", file.display(), i + 1);
            match key.as_str() {
                "host" => {
                    let pats =
                        shell_words::split(&value).map_err(|e| Error::config("ssh_config", at(), e.to_string()))?;
                    let pats = pats.into_iter().map(|p| p.to_ascii_lowercase()).collect();
                    blocks.push(Block {
                        patterns: Some(pats),
                        skip: false,
                        options: Vec::new(),
                    });
                }
                "match" => {
                    tracing::debug!("{}: Match blocks are not evaluated; skipped", at());
                    blocks.push(Block {
                        patterns: None,
                        skip: true,
                        options: Vec::new(),
                    });
                }
                "include" => tracing::debug!("{}: Include is not followed", at()),
                _ => {
                    if let Some(b) = blocks.last_mut() {
                        b.options.push((key, value));
                    }
                }
            }
        }
        Ok(SshConfig { blocks })
    }

    /// Read `path`; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<SshConfig> {
        match std::fs::read_to_string(path) {
            Ok(text) => SshConfig::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SshConfig::default()),
            Err(e) => Err(Error::io("ssh_config", format!("reading {}", path.display()), e)),
        }
    }

    /// The options for `host` (the name as given, before `HostName`).
    pub fn resolve(&self, host: &str) -> HostConfig {
        let name = host.to_ascii_lowercase();
        let mut hc = HostConfig::default();
        for b in &self.blocks {
            if b.skip || !b.patterns.as_ref().is_none_or(|p| match_list(p, &name)) {
                continue;
            }
            for (k, v) in &b.options {
                hc.set(k, v);
            }
        }
        hc
    }
}

fn unquote(v: &str) -> String {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
        .to_string()
}

impl HostConfig {
    fn set(&mut self, key: &str, value: &str) {
        let v = unquote(value);
        match key {
            "hostname" => {
                self.hostname.get_or_insert(v);
            }
            "user" => {
                self.user.get_or_insert(v);
            }
            "port" => {
                if self.port.is_none() {
                    self.port = v.parse().ok();
                }
            }
            // Every IdentityFile line adds a key.
            "identityfile" => self.identity_files.push(v),
            "proxyjump" => {
                if self.proxy_jump.is_none() && self.proxy_command.is_none() {
                    self.proxy_jump = Some(v);
                }
            }
            "proxycommand" => {
                if self.proxy_jump.is_none() && self.proxy_command.is_none() {
                    self.proxy_command = Some(value.to_string());
                }
            }
            "userknownhostsfile" => {
                if self.user_known_hosts_files.is_empty() {
                    self.user_known_hosts_files = shell_words::split(value).unwrap_or_default();
                }
            }
            "stricthostkeychecking" => {
                if self.strict_host_key_checking.is_none() {
                    self.strict_host_key_checking = StrictMode::parse(&v);
                }
            }
            "connecttimeout" => {
                if self.connect_timeout.is_none() {
                    self.connect_timeout = v.parse().ok().map(Duration::from_secs);
                }
            }
            "serveraliveinterval" => {
                if self.server_alive_interval.is_none() {
                    self.server_alive_interval = v.parse().ok().map(Duration::from_secs);
                }
            }
            "serveralivecountmax" => {
                if self.server_alive_count_max.is_none() {
                    self.server_alive_count_max = v.parse().ok();
                }
            }
            other => tracing::trace!("ssh_config option {other} ignored"),
        }
    }
}

/// Expand `~` and the `%` tokens OpenSSH allows in file names: `%h` host, `%p` port, `%r` user,
/// `%d` home, `%u` local user, `%%`.
pub fn expand_path(s: &str, home: Option<&Path>, host: &str, port: u16, user: &str, local_user: &str) -> PathBuf {
    let home_s = home.map(|h| h.display().to_string()).unwrap_or_default();
    let mut out = String::new();
    let mut rest = s;
    if let Some(tail) = s.strip_prefix("~/") {
        out.push_str(&home_s);
        out.push('/');
        rest = tail;
    } else if s == "~" {
        return PathBuf::from(home_s);
    }
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(host),
            Some('p') => out.push_str(&port.to_string()),
            Some('r') => out.push_str(user),
            Some('d') => out.push_str(&home_s),
            Some('u') => out.push_str(local_user),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    PathBuf::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
# global
ConnectTimeout 5

Host bastion
  HostName 10.0.0.1
  User core
  Port 2222
  IdentityFile ~/.ssh/bastion

Host *.lan !evil.lan
  User=admin
  ProxyJump core@bastion:2222
  UserKnownHostsFile /k/one \"/k/two words\"
  StrictHostKeyChecking accept-new

Match host foo
  User nobody-from-match

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/id_ed25519
  ServerAliveInterval 30
  ServerAliveCountMax 4
";

    #[test]
    fn first_value_wins_and_patterns_negate() {
        let c = SshConfig::parse(CONFIG, Path::new("cfg")).unwrap_or_default();
        let b = c.resolve("bastion");
        assert_eq!(b.hostname.as_deref(), Some("10.0.0.1"));
        assert_eq!((b.user.as_deref(), b.port), (Some("core"), Some(2222)));
        assert_eq!(b.identity_files, vec!["~/.ssh/bastion", "~/.ssh/id_ed25519"]);
        assert_eq!(b.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(b.proxy_jump, None);

        let n = c.resolve("NODE1.lan");
        assert_eq!(n.user.as_deref(), Some("admin"));
        assert_eq!(n.proxy_jump.as_deref(), Some("core@bastion:2222"));
        assert_eq!(n.user_known_hosts_files, vec!["/k/one", "/k/two words"]);
        assert_eq!(n.strict_host_key_checking, Some(StrictMode::AcceptNew));
        assert_eq!(n.server_alive_interval, Some(Duration::from_secs(30)));
        assert_eq!(n.server_alive_count_max, Some(4));

        let e = c.resolve("evil.lan");
        assert_eq!(e.user.as_deref(), Some("fallback"));
        assert_eq!(e.proxy_jump, None);

        assert_eq!(c.resolve("foo").user.as_deref(), Some("fallback"));
    }

    #[test]
    fn tokens_expand() {
        let home = Path::new("/home/me");
        let table = [
            ("~/.ssh/id", "/home/me/.ssh/id"),
            ("%d/k_%h_%p_%r", "/home/me/k_web_2222_root"),
            ("/x/%u/100%%", "/x/me/100%"),
            ("/plain", "/plain"),
        ];
        for (input, want) in table {
            assert_eq!(
                expand_path(input, Some(home), "web", 2222, "root", "me"),
                PathBuf::from(want),
                "{input}"
            );
        }
    }
}
