//! The OpenSSH options users put in `ansible_ssh_common_args`, `--ssh-common-args`,
//! `ansible_ssh_extra_args` and `ssh_args`, read into a typed struct. As with `ssh`, the first
//! value given for an option wins. Options we do not act on are logged at debug level.

use super::error::{Error, Result};
use super::known_hosts::StrictMode;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshArgs {
    pub user_known_hosts_files: Vec<PathBuf>,
    pub strict_host_key_checking: Option<StrictMode>,
    /// Raw `ProxyJump` / `-J` value; see [`super::jump::parse_proxy_jump`].
    pub proxy_jump: Option<String>,
    /// Raw `ProxyCommand`; see [`super::jump::parse_proxy_command`].
    pub proxy_command: Option<String>,
    /// Every `-i` / `IdentityFile`, in order (OpenSSH tries them all).
    pub identity_files: Vec<PathBuf>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub server_alive_interval: Option<Duration>,
    /// `ServerAliveCountMax`: unanswered keepalives before the connection is declared dead.
    pub server_alive_count_max: Option<usize>,
    pub connect_timeout: Option<Duration>,
    /// `-F file`.
    pub config_file: Option<PathBuf>,
}

/// ssh(1) options that take an argument; the argument is skipped when we do not use it.
const WITH_ARG: &[&str] = &[
    "-b", "-B", "-c", "-D", "-E", "-e", "-I", "-L", "-m", "-O", "-P", "-Q", "-R", "-S", "-W", "-w",
];

impl SshArgs {
    /// Parse several argument strings in the order ssh would see them.
    pub fn parse_all<S: AsRef<str>>(host: &str, sources: &[S]) -> Result<SshArgs> {
        let mut args = SshArgs::default();
        for s in sources {
            args.parse_into(host, s.as_ref())?;
        }
        Ok(args)
    }

    pub fn parse(host: &str, text: &str) -> Result<SshArgs> {
        SshArgs::parse_all(host, &[text])
    }

    fn parse_into(&mut self, host: &str, text: &str) -> Result<()> {
        let words =
            shell_words::split(text).map_err(|e| Error::config(host, "ssh arguments", format!("{e} in {text:?}")))?;
        let mut it = words.into_iter();
        while let Some(w) = it.next() {
            // `-oKey=Value` and `-o Key=Value`; likewise `-p22`/`-p 22` for the others.
            let (flag, attached) = if w.starts_with('-') && w.len() > 2 && !w.starts_with("--") && w.is_char_boundary(2)
            {
                (w[..2].to_string(), Some(w[2..].to_string()))
            } else {
                (w.clone(), None)
            };
            let mut value = |name: &str| -> Result<String> {
                match attached.clone().or_else(|| it.next()) {
                    Some(v) => Ok(v),
                    None => Err(Error::config(host, "ssh arguments", format!("{name} needs a value"))),
                }
            };
            match flag.as_str() {
                "-o" => {
                    let opt = value("-o")?;
                    self.option(host, &opt)?;
                }
                "-J" => self.set("proxyjump", &value("-J")?, host)?,
                "-i" => self.set("identityfile", &value("-i")?, host)?,
                "-p" => self.set("port", &value("-p")?, host)?,
                "-l" => self.set("user", &value("-l")?, host)?,
                "-F" => {
                    let v = value("-F")?;
                    self.config_file.get_or_insert(PathBuf::from(v));
                }
                f if WITH_ARG.contains(&f) => {
                    let v = value(f)?;
                    tracing::debug!("ssh option {f} {v} ignored");
                }
                f if f.starts_with('-') => tracing::debug!("ssh flag {w} ignored"),
                _ => tracing::debug!("ssh argument {w:?} ignored"),
            }
        }
        Ok(())
    }

    /// One `-o` value: `Key=Value`, `Key Value` or `Key = Value`.
    fn option(&mut self, host: &str, opt: &str) -> Result<()> {
        let opt = opt.trim();
        let split = opt.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(opt.len());
        let key = &opt[..split];
        let rest = opt[split..].trim_start();
        let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
        if key.is_empty() || rest.is_empty() {
            return Err(Error::config(
                host,
                "ssh arguments",
                format!("-o {opt:?} is not Key=Value"),
            ));
        }
        self.set(&key.to_ascii_lowercase(), rest, host)
    }

    fn set(&mut self, key: &str, value: &str, host: &str) -> Result<()> {
        let bad = |what: &str| Error::config(host, "ssh arguments", format!("{what} {value:?} is not valid"));
        match key {
            "userknownhostsfile" => {
                if self.user_known_hosts_files.is_empty() {
                    let files = shell_words::split(value).map_err(|_| bad("UserKnownHostsFile"))?;
                    self.user_known_hosts_files = files.into_iter().map(PathBuf::from).collect();
                }
            }
            "stricthostkeychecking" => {
                let m = StrictMode::parse(value).ok_or_else(|| bad("StrictHostKeyChecking"))?;
                self.strict_host_key_checking.get_or_insert(m);
            }
            "proxyjump" => {
                self.proxy_jump.get_or_insert_with(|| value.to_string());
            }
            "proxycommand" => {
                self.proxy_command.get_or_insert_with(|| value.to_string());
            }
            "identityfile" => self.identity_files.push(PathBuf::from(value)),
            "port" => {
                let p: u16 = value.parse().map_err(|_| bad("Port"))?;
                self.port.get_or_insert(p);
            }
            "user" => {
                self.user.get_or_insert_with(|| value.to_string());
            }
            "serveraliveinterval" => {
                let s: u64 = value.parse().map_err(|_| bad("ServerAliveInterval"))?;
                self.server_alive_interval.get_or_insert(Duration::from_secs(s));
            }
            "serveralivecountmax" => {
                let n: usize = value.parse().map_err(|_| bad("ServerAliveCountMax"))?;
                self.server_alive_count_max.get_or_insert(n);
            }
            "connecttimeout" => {
                let s: u64 = value.parse().map_err(|_| bad("ConnectTimeout"))?;
                self.connect_timeout.get_or_insert(Duration::from_secs(s));
            }
            other => tracing::debug!("ssh option {other}={value} ignored"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_in_every_spelling() {
        let a = SshArgs::parse(
            "h",
            "-o UserKnownHostsFile=/tmp/kh -oStrictHostKeyChecking=accept-new -o 'Port 2222' -o 'User = admin' \
             -o ControlMaster=auto -o ServerAliveInterval=15 -o ServerAliveCountMax=2 -o ConnectTimeout=7 -C -q -i ~/k1 -i/k2 -F /cfg -J u@b:22",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.user_known_hosts_files, vec![PathBuf::from("/tmp/kh")]);
        assert_eq!(a.strict_host_key_checking, Some(StrictMode::AcceptNew));
        assert_eq!(a.port, Some(2222));
        assert_eq!(a.user.as_deref(), Some("admin"));
        assert_eq!(a.server_alive_interval, Some(Duration::from_secs(15)));
        assert_eq!(a.server_alive_count_max, Some(2));
        assert_eq!(a.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(a.identity_files, vec![PathBuf::from("~/k1"), PathBuf::from("/k2")]);
        assert_eq!(a.config_file, Some(PathBuf::from("/cfg")));
        assert_eq!(a.proxy_jump.as_deref(), Some("u@b:22"));
    }

    #[test]
    fn kubespray_proxy_command_stays_whole_and_first_value_wins() {
        let a = SshArgs::parse_all(
            "h",
            &[
                r#"-o ProxyCommand="ssh -W %h:%p -q core@10.0.0.1 -p 2222 -i /k/id" -o StrictHostKeyChecking=no"#,
                "-o StrictHostKeyChecking=yes -o 'UserKnownHostsFile=/a /b' -o UserKnownHostsFile=/c -p 1",
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            a.proxy_command.as_deref(),
            Some("ssh -W %h:%p -q core@10.0.0.1 -p 2222 -i /k/id")
        );
        assert_eq!(a.strict_host_key_checking, Some(StrictMode::Off));
        assert_eq!(a.user_known_hosts_files, vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(a.port, Some(1));
    }

    #[test]
    fn bad_values_are_errors_naming_the_option() {
        for (text, want) in [
            ("-o Port=x", "Port"),
            ("-o ServerAliveCountMax=-1", "ServerAliveCountMax"),
            ("-o StrictHostKeyChecking=maybe", "StrictHostKeyChecking"),
            ("-p", "-p"),
            ("-o 'unclosed", "ssh arguments"),
            ("-o Port", "Key=Value"),
        ] {
            let e = SshArgs::parse("web", text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(want) && e.starts_with("web:"), "{text}: {e}");
        }
    }
}
