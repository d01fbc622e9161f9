//! One connection per host for the whole run, opened the first time a task needs the host and
//! shared by all of its tasks. Connection variables (`ansible_host`, `ansible_port`,
//! `ansible_user`, keys, SSH arguments) are read from the host's templated variables.

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
    slots: Mutex<HashMap<String, Slot>>,
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

    fn slot(&self, host: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(host.to_string()).or_default().clone()
    }

    /// The host's connection, opening it on first use. `vars` are the host's variables.
    pub async fn get(
        &self,
        host: &str,
        vars: &Arc<dyn Vars>,
        templar: &Templar,
        opts: &RunOptions,
    ) -> Result<Arc<dyn Connection>, String> {
        let mut slot = self.slot(host);
        if let Some(Ok(conn)) = slot.get()
            && !conn.is_alive()
        {
            // The session died (a reboot): the next use opens a new one.
            self.reset(host).await;
            slot = self.slot(host);
        }
        let result = slot
            .get_or_init(|| async { self.open(host, vars, templar, opts).await.map_err(|e| e.to_string()) })
            .await;
        result.clone()
    }

    /// Forget a host's connection (after a reboot, or `meta: reset_connection`).
    pub async fn reset(&self, host: &str) {
        let old = self.slots.lock().unwrap_or_else(|p| p.into_inner()).remove(host);
        if let Some(Ok(conn)) = old.as_ref().and_then(|s| s.get()) {
            let _ = conn.close().await;
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
