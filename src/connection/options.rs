//! Everything an SSH connection needs to know about one host, and how it is put together from
//! inventory variables, SSH arguments and `ssh_config` (in that order of precedence).

use super::error::Result;
use super::jump::{JumpHost, parse_proxy_command, parse_proxy_jump};
use super::known_hosts::{HostKeyPolicy, StrictMode};
use super::ssh_args::SshArgs;
use super::ssh_config::{SshConfig, expand_path};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A password or passphrase. Its `Debug` never shows the value, and no error message holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);
/// OpenSSH's default `ServerAliveCountMax`.
pub const DEFAULT_KEEPALIVE_MAX: usize = 3;
/// OpenSSH's default `MaxSessions`.
pub const DEFAULT_MAX_CHANNELS: usize = 10;

#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Inventory name, used in messages.
    pub label: String,
    /// Address to connect to (ansible_host, or HostName from ssh_config).
    pub address: String,
    pub port: u16,
    pub user: String,
    /// Keys to offer, in order. Missing files are an error.
    pub identity_files: Vec<PathBuf>,
    /// Offered only when `identity_files` is empty; missing files are skipped.
    pub default_identity_files: Vec<PathBuf>,
    pub passphrase: Option<Secret>,
    pub password: Option<Secret>,
    /// Offer the keys of the agent at `SSH_AUTH_SOCK`.
    pub agent_socket: Option<PathBuf>,
    pub host_keys: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub keepalive: Option<Duration>,
    /// Unanswered keepalives after which the peer is taken for gone (`ServerAliveCountMax`).
    pub keepalive_max: usize,
    /// Bastions, outermost first.
    pub jumps: Vec<JumpHost>,
    /// Concurrent command channels on this connection.
    pub max_channels: usize,
}

/// The controller's environment, passed in rather than read from globals.
#[derive(Debug, Clone, Default)]
pub struct LocalEnv {
    pub home: Option<PathBuf>,
    pub user: String,
    pub agent_socket: Option<PathBuf>,
}

impl LocalEnv {
    pub fn from_process() -> LocalEnv {
        LocalEnv {
            home: std::env::var_os("HOME").map(PathBuf::from),
            user: std::env::var("USER").unwrap_or_else(|_| "root".into()),
            agent_socket: std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// Connection variables from the inventory (`ansible_host`, `ansible_port`, ...).
#[derive(Debug, Clone, Default)]
pub struct InventorySsh {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub private_key_file: Option<PathBuf>,
    pub password: Option<Secret>,
    pub private_key_passphrase: Option<Secret>,
    /// Ansible's `host_key_checking`; `false` turns checking off.
    pub host_key_checking: Option<bool>,
    pub timeout: Option<Duration>,
}

impl SshOptions {
    /// Plain defaults: port 22, strict checking against `~/.ssh/known_hosts`.
    pub fn new(label: impl Into<String>, address: impl Into<String>, user: impl Into<String>) -> SshOptions {
        SshOptions {
            label: label.into(),
            address: address.into(),
            port: 22,
            user: user.into(),
            identity_files: Vec::new(),
            default_identity_files: Vec::new(),
            passphrase: None,
            password: None,
            agent_socket: None,
            host_keys: HostKeyPolicy::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keepalive: Some(DEFAULT_KEEPALIVE),
            keepalive_max: DEFAULT_KEEPALIVE_MAX,
            jumps: Vec::new(),
            max_channels: DEFAULT_MAX_CHANNELS,
        }
    }

    /// Put the options together: inventory first, then SSH arguments, then `ssh_config`.
    pub fn resolve(
        label: &str,
        inv: &InventorySsh,
        args: &SshArgs,
        config: &SshConfig,
        env: &LocalEnv,
    ) -> Result<SshOptions> {
        let alias = inv.host.clone().unwrap_or_else(|| label.to_string());
        let hc = config.resolve(&alias);
        let address = if inv.host.is_some() {
            alias.clone()
        } else {
            hc.hostname.clone().unwrap_or(alias.clone())
        };
        let port = inv.port.or(args.port).or(hc.port).unwrap_or(22);
        let user = inv
            .user
            .clone()
            .or(args.user.clone())
            .or(hc.user.clone())
            .unwrap_or(env.user.clone());
        let home = env.home.as_deref();
        let exp = |s: &str| expand_path(s, home, &address, port, &user, &env.user);
        let exp_path = |p: &Path| exp(&p.to_string_lossy());

        let mut o = SshOptions::new(label, address.clone(), user.clone());
        o.port = port;
        o.identity_files = inv
            .private_key_file
            .iter()
            .chain(&args.identity_files)
            .map(|p| exp_path(p))
            .collect();
        o.identity_files.extend(hc.identity_files.iter().map(|s| exp(s)));
        o.default_identity_files = ["id_ed25519", "id_ecdsa", "id_rsa"]
            .iter()
            .map(|n| exp(&format!("~/.ssh/{n}")))
            .collect();
        o.password = inv.password.clone();
        o.passphrase = inv.private_key_passphrase.clone();
        o.agent_socket = env.agent_socket.clone();
        let user_files: Vec<PathBuf> = if !args.user_known_hosts_files.is_empty() {
            args.user_known_hosts_files.iter().map(|p| exp_path(p)).collect()
        } else if !hc.user_known_hosts_files.is_empty() {
            hc.user_known_hosts_files.iter().map(|s| exp(s)).collect()
        } else {
            vec![exp("~/.ssh/known_hosts"), exp("~/.ssh/known_hosts2")]
        };
        o.host_keys.files = user_files;
        o.host_keys.files.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
        o.host_keys.mode = match inv.host_key_checking {
            Some(false) => StrictMode::Off,
            _ => args
                .strict_host_key_checking
                .or(hc.strict_host_key_checking)
                .unwrap_or_default(),
        };
        o.connect_timeout = inv
            .timeout
            .or(args.connect_timeout)
            .or(hc.connect_timeout)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        o.keepalive = Some(
            args.server_alive_interval
                .or(hc.server_alive_interval)
                .unwrap_or(DEFAULT_KEEPALIVE),
        )
        .filter(|d| !d.is_zero());
        // 0 would turn the check off in russh; OpenSSH gives up at the first unanswered one.
        o.keepalive_max = args
            .server_alive_count_max
            .or(hc.server_alive_count_max)
            .unwrap_or(DEFAULT_KEEPALIVE_MAX)
            .max(1);

        let mut jumps = match (&args.proxy_jump, &args.proxy_command, &hc.proxy_jump, &hc.proxy_command) {
            (Some(j), _, _, _) => parse_proxy_jump(label, j)?,
            (None, Some(c), _, _) => parse_proxy_command(label, c)?,
            (None, None, Some(j), _) => parse_proxy_jump(label, j)?,
            (None, None, None, Some(c)) => parse_proxy_command(label, c)?,
            _ => Vec::new(),
        };
        // Each hop gets what ssh_config says about it, as ssh would.
        for j in &mut jumps {
            let jc = config.resolve(&j.host);
            if let Some(h) = jc.hostname {
                j.host = h;
            }
            j.user = j.user.take().or(jc.user);
            j.port = j.port.or(jc.port);
            if j.identity_files.is_empty() {
                j.identity_files = jc.identity_files.iter().map(|s| exp(s)).collect();
            } else {
                j.identity_files = j.identity_files.iter().map(|p| exp_path(p)).collect();
            }
            j.known_hosts_files = j.known_hosts_files.iter().map(|p| exp_path(p)).collect();
            if inv.host_key_checking == Some(false) {
                j.strict_host_key_checking = Some(StrictMode::Off);
            }
        }
        o.jumps = jumps;
        Ok(o)
    }

    /// Options for reaching a bastion: its own address, user and keys (else the target's keys),
    /// the same host key policy and timeouts; never the target's password.
    pub(crate) fn for_jump(&self, j: &JumpHost, local_user: &str) -> SshOptions {
        let mut o = self.clone();
        o.label = format!("{} (bastion for {})", j.display(), self.label);
        o.address = j.host.clone();
        o.port = j.port.unwrap_or(22);
        o.user = j.user.clone().unwrap_or_else(|| local_user.to_string());
        if !j.identity_files.is_empty() {
            o.identity_files = j.identity_files.clone();
        }
        if let Some(mode) = j.strict_host_key_checking {
            o.host_keys.mode = mode;
        }
        if !j.known_hosts_files.is_empty() {
            o.host_keys.files = j.known_hosts_files.clone();
        }
        o.password = None;
        o.jumps = Vec::new();
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> LocalEnv {
        LocalEnv {
            home: Some(PathBuf::from("/home/me")),
            user: "me".into(),
            agent_socket: None,
        }
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let mut o = SshOptions::new("h", "a", "u");
        o.password = Some(Secret::new("hunter2"));
        o.passphrase = Some(Secret::new("open sesame"));
        let d = format!("{o:?}");
        assert!(
            !d.contains("hunter2") && !d.contains("open sesame") && d.contains("redacted"),
            "{d}"
        );
    }

    #[test]
    fn inventory_beats_args_beats_config() {
        let cfg = SshConfig::parse(
            "Host web\n HostName 10.0.0.9\n User cfguser\n Port 2200\n ProxyJump core@bastion\n\
             Host bastion\n HostName 10.0.0.1\n Port 2222\n IdentityFile ~/.ssh/b\n",
            Path::new("cfg"),
        )
        .unwrap_or_default();
        let args = SshArgs::parse(
            "web",
            "-o User=arguser -o UserKnownHostsFile=~/kh -o StrictHostKeyChecking=accept-new",
        )
        .unwrap_or_default();
        let o =
            SshOptions::resolve("web", &InventorySsh::default(), &args, &cfg, &env()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (o.address.as_str(), o.port, o.user.as_str()),
            ("10.0.0.9", 2200, "arguser")
        );
        assert_eq!(o.host_keys.files.first(), Some(&PathBuf::from("/home/me/kh")));
        assert_eq!(o.host_keys.mode, StrictMode::AcceptNew);
        assert_eq!(o.jumps.len(), 1);
        let j = o.jumps.first().cloned().unwrap_or_default();
        assert_eq!(
            (j.host.as_str(), j.port, j.user.as_deref()),
            ("10.0.0.1", Some(2222), Some("core"))
        );
        assert_eq!(j.identity_files, vec![PathBuf::from("/home/me/.ssh/b")]);

        let inv = InventorySsh {
            host: Some("192.0.2.5".into()),
            port: Some(22),
            user: Some("root".into()),
            host_key_checking: Some(false),
            ..InventorySsh::default()
        };
        let o = SshOptions::resolve("web", &inv, &args, &cfg, &env()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.address.as_str(), o.port, o.user.as_str()), ("192.0.2.5", 22, "root"));
        assert_eq!(o.host_keys.mode, StrictMode::Off);
        assert!(o.jumps.is_empty(), "ssh_config Host web does not apply to 192.0.2.5");
    }

    #[test]
    fn keepalive_interval_and_count_from_args_then_config() {
        let cfg = SshConfig::parse(
            "Host *\n ServerAliveInterval 9\n ServerAliveCountMax 5\n",
            Path::new("cfg"),
        )
        .unwrap_or_default();
        let table: &[(&str, Option<u64>, usize)] = &[
            ("", Some(9), 5),
            ("-o ServerAliveInterval=1 -o ServerAliveCountMax=2", Some(1), 2),
            ("-o ServerAliveCountMax=0", Some(9), 1),
            ("-o ServerAliveInterval=0", None, 5),
        ];
        for (text, interval, count) in table {
            let args = SshArgs::parse("h", text).unwrap_or_else(|e| panic!("{e}"));
            let o = SshOptions::resolve("h", &InventorySsh::default(), &args, &cfg, &env())
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(o.keepalive, interval.map(Duration::from_secs), "{text}");
            assert_eq!(o.keepalive_max, *count, "{text}");
        }
        let o = SshOptions::resolve(
            "h",
            &InventorySsh::default(),
            &SshArgs::default(),
            &SshConfig::default(),
            &env(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (o.keepalive, o.keepalive_max),
            (Some(DEFAULT_KEEPALIVE), DEFAULT_KEEPALIVE_MAX)
        );
    }
}
