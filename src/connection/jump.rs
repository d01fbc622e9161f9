//! Bastions. `ProxyJump` (`-J`, comma-separated hops) and Kubespray's
//! `ProxyCommand="ssh -W %h:%p ... user@bastion"` are both read into a list of [`JumpHost`]s;
//! the SSH connection then opens a `direct-tcpip` channel on each hop's session and runs the next
//! handshake over it. Hop sessions are shared by every host behind them ([`BastionPool`]).

use super::error::{Error, Result};
use super::known_hosts::StrictMode;
use super::ssh::Session;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// One hop on the way to a host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// Keys named for this hop (`-i` inside a ProxyCommand); empty: use the target's.
    pub identity_files: Vec<PathBuf>,
    /// `-o StrictHostKeyChecking=` inside a ProxyCommand: how this hop's key is checked.
    pub strict_host_key_checking: Option<StrictMode>,
    /// `-o UserKnownHostsFile=` inside a ProxyCommand; empty: the target's files.
    pub known_hosts_files: Vec<PathBuf>,
}

impl JumpHost {
    /// `user@host:port` as a cache key and for messages.
    pub fn display(&self) -> String {
        let user = self.user.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{user}{host}:{}", self.port.unwrap_or(22))
    }
}

/// `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `none` means no jump.
pub fn parse_proxy_jump(label: &str, value: &str) -> Result<Vec<JumpHost>> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("none") || value.is_empty() {
        return Ok(Vec::new());
    }
    value.split(',').map(|hop| parse_hop(label, hop.trim())).collect()
}

fn parse_hop(label: &str, hop: &str) -> Result<JumpHost> {
    let bad = |why: &str| Error::config(label, "ProxyJump", format!("bad hop {hop:?}: {why}"));
    let rest = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) if !u.is_empty() => (Some(u.to_string()), h),
        Some(_) => return Err(bad("empty user")),
        None => (None, rest),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, tail) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad("port is not a number"))?),
            None if tail.is_empty() => None,
            None => return Err(bad("junk after ]")),
        };
        (h.to_string(), port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (
                h.to_string(),
                Some(p.parse::<u16>().map_err(|_| bad("port is not a number"))?),
            ),
            None => (hostport.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok(JumpHost {
        user,
        host,
        port,
        ..JumpHost::default()
    })
}

/// ssh(1) options with an argument, which we skip when they do not matter for the hop.
const SSH_WITH_ARG: &[&str] = &[
    "-b", "-B", "-c", "-D", "-E", "-e", "-F", "-I", "-L", "-m", "-O", "-Q", "-R", "-S", "-w",
];

/// Read `ssh -W %h:%p [opts] [user@]bastion` into hops (any `-J` inside comes first). Other
/// proxy programs (`nc`, `connect-proxy`, ...) cannot be run natively and are refused.
pub fn parse_proxy_command(label: &str, command: &str) -> Result<Vec<JumpHost>> {
    let bad = |why: String| Error::config(label, "ProxyCommand", format!("{why} in {command:?}"));
    let words = shell_words::split(command).map_err(|e| bad(e.to_string()))?;
    let mut it = words.into_iter();
    let program = it.next().unwrap_or_default();
    let base = program.rsplit('/').next().unwrap_or_default();
    if command.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    if base != "ssh" {
        return Err(bad(format!(
            "only 'ssh -W %h:%p ... bastion' proxy commands are supported, not '{base}'; use ProxyJump instead"
        )));
    }
    let mut hop = JumpHost::default();
    let mut before: Vec<JumpHost> = Vec::new();
    let mut forward = None;
    let mut dest = None;
    while let Some(w) = it.next() {
        let (flag, attached) = if w.starts_with('-') && w.len() > 2 && w.is_char_boundary(2) {
            (w[..2].to_string(), Some(w[2..].to_string()))
        } else {
            (w.clone(), None)
        };
        if !flag.starts_with('-') {
            if dest.is_some() {
                return Err(bad(format!("a remote command ({w:?}) cannot be used with -W")));
            }
            dest = Some(w);
            continue;
        }
        let mut arg = || {
            attached
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| bad(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "-W" => forward = Some(arg()?),
            "-p" => hop.port = Some(arg()?.parse().map_err(|_| bad("port is not a number".into()))?),
            "-l" => hop.user = Some(arg()?),
            "-i" => hop.identity_files.push(PathBuf::from(arg()?)),
            "-J" => before = parse_proxy_jump(label, &arg()?)?,
            "-o" => {
                let opt = arg()?;
                let (k, v) = opt
                    .split_once(|c: char| c == '=' || c.is_whitespace())
                    .unwrap_or((&opt, ""));
                let v = v.trim().trim_start_matches('=').trim().to_string();
                match k.to_ascii_lowercase().as_str() {
                    "port" => hop.port = Some(v.parse().map_err(|_| bad("port is not a number".into()))?),
                    "user" => hop.user = Some(v),
                    "identityfile" => hop.identity_files.push(PathBuf::from(v)),
                    "proxyjump" => before = parse_proxy_jump(label, &v)?,
                    "stricthostkeychecking" => {
                        hop.strict_host_key_checking =
                            Some(StrictMode::parse(&v).ok_or_else(|| {
                                bad(format!("StrictHostKeyChecking {v:?} is not yes, no or accept-new"))
                            })?)
                    }
                    "userknownhostsfile" => {
                        hop.known_hosts_files = v.split_whitespace().map(PathBuf::from).collect();
                    }
                    other => tracing::debug!("ProxyCommand option {other} ignored"),
                }
            }
            f if SSH_WITH_ARG.contains(&f) => {
                let _ = arg()?;
            }
            _ => {}
        }
    }
    match forward.as_deref() {
        Some("%h:%p") => {}
        Some(other) => return Err(bad(format!("-W {other} must be %h:%p"))),
        None => return Err(bad("no -W %h:%p".into())),
    }
    let dest = dest.ok_or_else(|| bad("no bastion host".into()))?;
    let parsed = parse_hop(label, &dest)?;
    hop.host = parsed.host;
    // user@ in the destination wins over -l; -p over a :port in an ssh:// destination.
    hop.user = parsed.user.or(hop.user);
    hop.port = hop.port.or(parsed.port);
    before.push(hop);
    Ok(before)
}

/// Shared hop sessions, keyed by the whole chain up to and including the hop. Concurrent first
/// users wait on one handshake instead of each opening their own, and share its outcome: when it
/// fails, every host that waited on it fails at once with the same reason, instead of each
/// trying the bastion again in turn (200 hosts behind a dead bastion would otherwise wait 200
/// connect timeouts, one after another). A host that comes after a failure tries again.
#[derive(Default)]
pub struct BastionPool {
    cells: Mutex<HashMap<String, Arc<OnceCell<Attempt>>>>,
}

/// One handshake with a hop, as every host waiting on it sees it.
type Attempt = std::result::Result<Arc<Session>, Failure>;

/// Why a shared hop handshake failed, for the hosts that waited on it.
#[derive(Debug, Clone)]
struct Failure {
    unreachable: bool,
    message: String,
}

impl Failure {
    fn of(e: &Error) -> Failure {
        Failure {
            unreachable: e.is_unreachable(),
            message: e.to_string(),
        }
    }

    /// The error a waiting host reports: unreachable when the hop was, as Ansible reports a
    /// host behind a dead bastion.
    fn for_host(&self, host: &str) -> Error {
        let reason = self.message.clone();
        if self.unreachable {
            Error::new(host, super::error::ErrorKind::Unreachable { reason })
        } else {
            Error::channel(host, reason)
        }
    }
}

impl BastionPool {
    pub fn new() -> BastionPool {
        BastionPool::default()
    }

    /// The session for `key`, opened with `open` if there is none, the old one died or the last
    /// attempt failed. `host` names the inventory host asking, for its error.
    pub async fn get_or_open<F, Fut>(&self, key: &str, host: &str, open: F) -> Result<Arc<Session>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Session>>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            let entry = cells.entry(key.to_string()).or_default();
            let stale = match entry.get() {
                Some(Ok(s)) => s.is_closed(),
                Some(Err(_)) => true,
                None => false,
            };
            if stale {
                *entry = Arc::new(OnceCell::new());
            }
            entry.clone()
        };
        // The host that made the attempt keeps its own, detailed error.
        let mut own: Option<Error> = None;
        let attempt = cell
            .get_or_init(|| async {
                match open().await {
                    Ok(s) => Ok(Arc::new(s)),
                    Err(e) => {
                        let f = Failure::of(&e);
                        own = Some(e);
                        Err(f)
                    }
                }
            })
            .await;
        match (attempt, own) {
            (Ok(s), _) => Ok(s.clone()),
            (Err(_), Some(e)) => Err(e),
            (Err(f), None) => Err(f.for_host(host)),
        }
    }

    /// Close every hop session.
    pub async fn close_all(&self) {
        let cells: Vec<_> = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            cells.drain().map(|(_, c)| c).collect()
        };
        for c in cells {
            if let Some(Ok(s)) = c.get() {
                s.disconnect().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(user: Option<&str>, host: &str, port: Option<u16>, keys: &[&str]) -> JumpHost {
        JumpHost {
            user: user.map(String::from),
            host: host.into(),
            port,
            identity_files: keys.iter().map(PathBuf::from).collect(),
            ..JumpHost::default()
        }
    }

    /// Twenty hosts behind a bastion whose handshake fails after `delay`: one attempt, all
    /// twenty fail after about one delay (not twenty in a row), each error names its own host
    /// and stays "unreachable"; a host that comes later tries again.
    #[test]
    fn a_failed_bastion_handshake_fails_its_waiters_at_once() {
        use super::super::error::ErrorKind;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::{Duration, Instant};
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let pool = BastionPool::new();
        let opened = AtomicUsize::new(0);
        let delay = Duration::from_millis(300);
        let ask = |host: String| {
            let (pool, opened) = (&pool, &opened);
            async move {
                let r = pool
                    .get_or_open("root@b:22,", &host, || async {
                        opened.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(delay).await;
                        Err(Error::new(
                            "root@b:22 (bastion for h0)",
                            ErrorKind::Timeout {
                                what: "connecting to b:22".into(),
                                after: delay,
                            },
                        ))
                    })
                    .await;
                (host, r)
            }
        };
        let start = Instant::now();
        let results = rt.block_on(futures::future::join_all((0..20).map(|i| ask(format!("h{i}")))));
        assert!(
            start.elapsed() < delay * 4,
            "waiters retried in turn: {:?}",
            start.elapsed()
        );
        assert_eq!(opened.load(Ordering::SeqCst), 1);
        for (host, r) in results {
            let e = r.err().unwrap_or_else(|| panic!("{host} connected"));
            assert!(e.is_unreachable(), "{host}: {e}");
            assert!(e.to_string().contains("connecting to b:22"), "{host}: {e}");
            if host != "h0" {
                assert_eq!(e.host, host);
            }
        }
        let (_, late) = rt.block_on(ask("late".into()));
        assert!(late.is_err());
        assert_eq!(
            opened.load(Ordering::SeqCst),
            2,
            "a later host must try the bastion again"
        );
    }

    #[test]
    fn proxy_jump_forms() {
        let table: Vec<(&str, Vec<JumpHost>)> = vec![
            ("bastion", vec![hop(None, "bastion", None, &[])]),
            (
                "core@10.0.0.1:2222",
                vec![hop(Some("core"), "10.0.0.1", Some(2222), &[])],
            ),
            (
                "ssh://a@b:1,c",
                vec![hop(Some("a"), "b", Some(1), &[]), hop(None, "c", None, &[])],
            ),
            ("u@[fe80::1]:22", vec![hop(Some("u"), "fe80::1", Some(22), &[])]),
            ("none", vec![]),
        ];
        for (text, want) in table {
            assert_eq!(
                parse_proxy_jump("h", text).unwrap_or_else(|e| panic!("{text}: {e}")),
                want,
                "{text}"
            );
        }
        for bad in ["u@", "h:x", "[::1", "@h"] {
            assert!(parse_proxy_jump("h", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kubespray_proxy_command_becomes_a_jump() {
        let table: Vec<(&str, Vec<JumpHost>)> = vec![
            (
                "ssh -W %h:%p -q user@bastion -p 2222 -i key",
                vec![hop(Some("user"), "bastion", Some(2222), &["key"])],
            ),
            (
                "ssh -o StrictHostKeyChecking=no -W %h:%p -p 22 ubuntu@1.2.3.4 -i /home/u/.ssh/id_rsa",
                vec![JumpHost {
                    strict_host_key_checking: Some(StrictMode::Off),
                    ..hop(Some("ubuntu"), "1.2.3.4", Some(22), &["/home/u/.ssh/id_rsa"])
                }],
            ),
            (
                "/usr/bin/ssh -l admin -W %h:%p jump",
                vec![hop(Some("admin"), "jump", None, &[])],
            ),
            (
                "ssh -J a@first -W %h:%p -oPort=2200 second",
                vec![hop(Some("a"), "first", None, &[]), hop(None, "second", Some(2200), &[])],
            ),
        ];
        for (text, want) in table {
            assert_eq!(
                parse_proxy_command("h", text).unwrap_or_else(|e| panic!("{text}: {e}")),
                want,
                "{text}"
            );
        }
    }

    #[test]
    fn proxy_command_strict_host_key_checking_applies_to_the_bastion() {
        let hops = parse_proxy_command(
            "h",
            "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -W %h:%p -p 22 u@b",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let want = JumpHost {
            strict_host_key_checking: Some(StrictMode::Off),
            known_hosts_files: vec![PathBuf::from("/dev/null")],
            ..hop(Some("u"), "b", Some(22), &[])
        };
        assert_eq!(hops, vec![want]);
        assert!(parse_proxy_command("h", "ssh -o StrictHostKeyChecking=maybe -W %h:%p b").is_err());
    }

    #[test]
    fn unsupported_proxy_commands_say_why() {
        for (text, want) in [
            ("nc -X 5 -x proxy:1080 %h %p", "not 'nc'"),
            ("ssh -q user@bastion", "no -W"),
            ("ssh -W %h:22 bastion", "must be %h:%p"),
            ("ssh -W %h:%p", "no bastion"),
            ("ssh -W %h:%p b 'cmd'", "remote command"),
        ] {
            let e = parse_proxy_command("web", text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(want) && e.contains("ProxyCommand"), "{text}: {e}");
        }
    }
}
