//! One connection per host and connection settings for the whole run, opened the first time a
//! task needs it and shared by every task with the same settings. Connection variables
//! (`ansible_host`, `ansible_port`, `ansible_user`, keys, SSH arguments) are read from the
//! host's templated variables; a task that sees other values (a `set_fact` of `ansible_user`)
//! gets a connection of its own made with them, as Ansible connects with each task's settings.

use super::options::RunOptions;
use crate::connection::local::LocalConnection;
use crate::connection::options::{InventorySsh, LocalEnv, Secret, SshOptions};
use crate::connection::ssh::SshConnector;
use crate::connection::ssh_args::SshArgs;
use crate::connection::ssh_config::SshConfig;
use crate::connection::{self, Connection};
use crate::template::{Templar, Vars};
use crate::value::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// The open connection, or why it could not be opened (kept: every later task fails the same way).
type Slot = Arc<OnceCell<Result<Arc<dyn Connection>, String>>>;

pub struct ConnectionPool {
    connector: SshConnector,
    env: LocalEnv,
    /// By host and a digest of its connection settings.
    slots: Mutex<HashMap<(String, u64), Slot>>,
}

/// Every variable `open` reads; their rendered values decide which connection a task gets.
const SETTINGS: [&str; 20] = [
    "ansible_connection",
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_host_key_checking",
    "ansible_ssh_host_key_checking",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_private_key_passphrase",
    "ansible_ssh_timeout",
    "ansible_timeout",
    "ansible_ssh_args",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_ssh_executable",
];

/// A digest (never stored or shown: it may cover a password) of the connection settings.
fn settings_key(vars: &Arc<dyn Vars>, templar: &Templar) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    for name in SETTINGS {
        let v = vars.get(name).map(|v| match templar.render_value(&v, vars) {
            Ok(r) => r.to_string(),
            Err(e) => format!("\u{0}{e}"),
        });
        v.hash(&mut h);
    }
    h.finish()
}

/// Names that mean "this machine" when not in the inventory (`delegate_to: localhost`).
pub fn is_local_name(name: &str) -> bool {
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

impl ConnectionPool {
    pub fn new(env: LocalEnv) -> ConnectionPool {
        ConnectionPool {
            connector: SshConnector::new(&env),
            env,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, host: &str, key: u64) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry((host.to_string(), key)).or_default().clone()
    }

    /// The host's connection, opening it on first use. `vars` are the host's variables. A
    /// task that sees other connection settings (a `set_fact` of `ansible_user`, task vars)
    /// gets a connection made with those, as Ansible connects with each task's own settings;
    /// the earlier one stays open for whatever still uses it.
    pub async fn get(
        &self,
        host: &str,
        vars: &Arc<dyn Vars>,
        templar: &Templar,
        opts: &RunOptions,
    ) -> Result<Arc<dyn Connection>, String> {
        let key = settings_key(vars, templar);
        let mut slot = self.slot(host, key);
        if let Some(Ok(conn)) = slot.get()
            && !conn.is_alive()
        {
            // The session died (a reboot): the next use opens a new one.
            self.reset(host).await;
            slot = self.slot(host, key);
        }
        let result = slot
            .get_or_init(|| async { self.open(host, vars, templar, opts).await.map_err(|e| e.to_string()) })
            .await;
        result.clone()
    }

    /// Forget a host's connections (after a reboot, or `meta: reset_connection`).
    pub async fn reset(&self, host: &str) {
        let old: Vec<Slot> = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let keys: Vec<(String, u64)> = slots.keys().filter(|(h, _)| h == host).cloned().collect();
            keys.iter().filter_map(|k| slots.remove(k)).collect()
        };
        for slot in old {
            if let Some(Ok(conn)) = slot.get() {
                let _ = conn.close().await;
            }
        }
    }

    pub async fn close_all(&self) {
        let all: Vec<Slot> = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, s)| s)
            .collect();
        for s in all {
            if let Some(Ok(c)) = s.get() {
                let _ = c.close().await;
            }
        }
        self.connector.close().await;
    }

    async fn open(
        &self,
        host: &str,
        vars: &Arc<dyn Vars>,
        templar: &Templar,
        opts: &RunOptions,
    ) -> Result<Arc<dyn Connection>, connection::Error> {
        let get = |name: &str| -> Result<Option<Value>, connection::Error> {
            match vars.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => templar
                    .render_value(&v, vars)
                    .map(Some)
                    .map_err(|e| connection::Error::config(host, name, e.to_string())),
            }
        };
        let text = |name: &str| -> Result<Option<String>, connection::Error> {
            Ok(get(name)?.map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        };
        let kind = text("ansible_connection")?.unwrap_or_else(|| {
            if vars.get("ansible_host").is_none() && is_local_name(host) {
                "local".into()
            } else {
                opts.connection.clone()
            }
        });
        match kind.as_str() {
            "local" => return Ok(Arc::new(LocalConnection::new(host))),
            "ssh" | "paramiko" | "smart" | "ansible.builtin.ssh" => {}
            other => {
                return Err(connection::Error::config(
                    host,
                    "ansible_connection",
                    format!("connection type '{other}' is not supported; use ssh or local"),
                ));
            }
        }
        let port = match get("ansible_port")?.or(get("ansible_ssh_port")?) {
            None => None,
            Some(Value::Int(p)) => u16::try_from(p).ok(),
            Some(v) => v.to_string().trim().parse().ok(),
        };
        let host_key_checking = match get("ansible_host_key_checking")?.or(get("ansible_ssh_host_key_checking")?) {
            Some(v) => v.as_bool_loose(),
            None => (!opts.host_key_checking).then_some(false),
        };
        let base_args = text("ansible_ssh_args")?.unwrap_or_else(|| opts.ssh_args.clone());
        let inv = InventorySsh {
            host: text("ansible_host")?.or(text("ansible_ssh_host")?),
            port,
            user: text("ansible_user")?
                .or(text("ansible_ssh_user")?)
                .or(opts.remote_user.clone()),
            private_key_file: text("ansible_ssh_private_key_file")?
                .or(text("ansible_private_key_file")?)
                .map(PathBuf::from)
                .or(opts.private_key_file.clone()),
            password: text("ansible_password")?
                .or(text("ansible_ssh_pass")?)
                .map(Secret::new)
                .or(opts.connection_password.clone()),
            private_key_passphrase: text("ansible_ssh_private_key_passphrase")?.map(Secret::new),
            host_key_checking,
            timeout: connect_timeout(
                &SshArgs::parse(host, &base_args)?,
                text("ansible_ssh_timeout")?
                    .or(text("ansible_timeout")?)
                    .and_then(|t| t.trim().parse::<u64>().ok())
                    .unwrap_or(opts.timeout),
            ),
        };
        let mut sources: Vec<String> = vec![base_args];
        if let Some(c) = text("ansible_ssh_common_args")?.or(opts.ssh_common_args.clone()) {
            sources.push(c);
        }
        if let Some(c) = text("ansible_ssh_extra_args")?.or(opts.ssh_extra_args.clone()) {
            sources.push(c);
        }
        let args = SshArgs::parse_all(host, &sources)?;
        let config = match &args.config_file {
            Some(p) => SshConfig::load(p)?,
            None => match self.env.home.as_ref().map(|h| h.join(".ssh/config")) {
                Some(p) if p.is_file() => SshConfig::load(&p)?,
                _ => SshConfig::default(),
            },
        };
        let options = SshOptions::resolve(host, &inv, &args, &config, &self.env)?;
        let conn = self.connector.connect(&options).await?;
        Ok(Arc::new(conn))
    }
}

/// Ansible puts `-o ConnectTimeout=<timeout>` after `ssh_args` and before the common and extra
/// arguments, and ssh keeps the first value: a ConnectTimeout in `ssh_args` wins, one in the
/// common or extra arguments does not.
fn connect_timeout(ssh_args: &SshArgs, timeout_secs: u64) -> Option<Duration> {
    Some(ssh_args.connect_timeout.unwrap_or(Duration::from_secs(timeout_secs)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{MapVars, Templar, TemplarContext, Vars};
    use crate::value::{Map, Value};
    use std::sync::Arc;

    fn key(pairs: &[(&str, &str)]) -> u64 {
        let m: Map = pairs.iter().map(|(k, v)| (k.to_string(), Value::str(*v))).collect();
        let vars: Arc<dyn Vars> = Arc::new(MapVars::new(m));
        settings_key(&vars, &Templar::new(TemplarContext::default()))
    }

    /// Tasks share a connection exactly when the settings it was made with are the same.
    #[test]
    fn the_key_follows_the_connection_settings_only() {
        let base = key(&[("ansible_host", "10.0.0.1"), ("ansible_user", "root"), ("other", "1")]);
        let cases = [
            (
                vec![("ansible_host", "10.0.0.1"), ("ansible_user", "root"), ("other", "2")],
                true,
            ),
            (
                vec![("ansible_host", "10.0.0.1"), ("ansible_user", "deploy"), ("other", "1")],
                false,
            ),
            (
                vec![("ansible_host", "10.0.0.2"), ("ansible_user", "root"), ("other", "1")],
                false,
            ),
            (
                vec![
                    ("ansible_host", "10.0.0.1"),
                    ("ansible_user", "{{ who }}"),
                    ("who", "root"),
                ],
                true,
            ),
        ];
        for (pairs, same) in cases {
            assert_eq!(key(&pairs) == base, same, "{pairs:?}");
        }
    }

    #[test]
    fn connect_timeout_from_ssh_args_beats_the_timeout_setting() {
        let table: &[(&str, u64, u64)] = &[
            ("", 10, 10),
            ("-C -o ControlMaster=auto", 3, 3),
            ("-o ConnectTimeout=2", 10, 2),
            ("-oConnectTimeout=7 -o ConnectTimeout=1", 10, 7),
        ];
        for (args, timeout, want) in table {
            let parsed = SshArgs::parse("h", args).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                connect_timeout(&parsed, *timeout),
                Some(Duration::from_secs(*want)),
                "{args}"
            );
        }
    }
}
