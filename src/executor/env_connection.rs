//! A connection that exports a task's `environment:` for every command a module runs, and
//! gives each command the time left before the task's `timeout`/`async` limit, so the host
//! kills it (over a channel of its own) instead of leaving it running.

use crate::connection::{self, BoxFuture, Connection, ExecOutput, ExecRequest, PutFile};
use std::sync::Arc;

pub struct EnvConnection {
    inner: Arc<dyn Connection>,
    env: Vec<(String, String)>,
    deadline: Option<tokio::time::Instant>,
}

impl EnvConnection {
    pub fn new(inner: Arc<dyn Connection>, env: Vec<(String, String)>) -> EnvConnection {
        EnvConnection {
            inner,
            env,
            deadline: None,
        }
    }

    pub fn with_deadline(mut self, deadline: tokio::time::Instant) -> EnvConnection {
        self.deadline = Some(deadline);
        self
    }
}

impl Connection for EnvConnection {
    fn host(&self) -> &str {
        self.inner.host()
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, connection::Result<ExecOutput>> {
        Box::pin(async move {
            let mut r = req.clone();
            let mut env = self.env.clone();
            env.extend(r.env);
            r.env = env;
            if let Some(d) = self.deadline {
                let left = d.saturating_duration_since(tokio::time::Instant::now());
                r.timeout = Some(r.timeout.map_or(left, |t| t.min(left)));
            }
            self.inner.exec(&r).await
        })
    }

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, connection::Result<()>> {
        self.inner.put_file(file)
    }

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, connection::Result<Vec<u8>>> {
        self.inner.get_file(remote)
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, connection::Result<()>> {
        // The host's connection is shared; it is closed by the pool, not per task.
        Box::pin(async move { Ok(()) })
    }
}

/// For `wait_for_connection`: every command asks the pool for the host's connection, so a
/// session lost to a reboot is replaced by a new one while the module polls.
pub struct PoolConnection {
    pub shared: Arc<super::shared::Shared>,
    pub host: String,
    pub vars: Arc<dyn crate::template::Vars>,
}

impl PoolConnection {
    async fn current(&self) -> connection::Result<Arc<dyn Connection>> {
        let got = self
            .shared
            .conns
            .get(&self.host, &self.vars, &self.shared.templar, &self.shared.opts)
            .await;
        match got {
            Ok(c) => Ok(c),
            Err(reason) => {
                // Not remembered: the next poll tries to connect again.
                self.shared.conns.reset(&self.host).await;
                Err(connection::Error::new(
                    &self.host,
                    connection::ErrorKind::Unreachable { reason },
                ))
            }
        }
    }
}

impl Connection for PoolConnection {
    fn host(&self) -> &str {
        &self.host
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, connection::Result<ExecOutput>> {
        Box::pin(async move {
            let conn = self.current().await?;
            let result = conn.exec(req).await;
            if result.is_err() || !conn.is_alive() {
                self.shared.conns.reset(&self.host).await;
            }
            result
        })
    }

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, connection::Result<()>> {
        Box::pin(async move { self.current().await?.put_file(file).await })
    }

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, connection::Result<Vec<u8>>> {
        Box::pin(async move { self.current().await?.get_file(remote).await })
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, connection::Result<()>> {
        Box::pin(async move { Ok(()) })
    }
}
