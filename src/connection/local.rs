//! `ansible_connection: local`: the same interface, run on the controller with `sh -c`.

use super::prompt::{BecomePrompt, Step, Stream, Watcher};
use super::transfer::{check_env_name, read_content, temp_path};
use super::{BoxFuture, Connection, Error, ErrorKind, ExecOutput, ExecRequest, PutFile, Result};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
pub struct LocalConnection {
    host: String,
}

impl LocalConnection {
    /// `host` is the inventory name (usually `localhost`), used in errors.
    pub fn new(host: impl Into<String>) -> LocalConnection {
        LocalConnection { host: host.into() }
    }

    async fn run(&self, req: &ExecRequest) -> Result<ExecOutput> {
        for (k, _) in &req.env {
            check_env_name(&self.host, k)?;
        }
        if let Some(p) = &req.become_prompt {
            return self.run_become(req, p).await;
        }
        let mut cmd = tokio::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(&req.command)
            .envs(req.env.iter().map(|(k, v)| (k, v)))
            .stdin(if req.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| Error::io(&self.host, "starting /bin/sh", e))?;
        let feeder = match (child.stdin.take(), req.stdin.clone()) {
            // Fed from its own task: a command that writes a lot before reading would otherwise
            // deadlock against us.
            (Some(mut pipe), Some(data)) => Some(tokio::spawn(async move {
                let _ = pipe.write_all(&data).await;
                let _ = pipe.shutdown().await;
            })),
            _ => None,
        };
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| Error::io(&self.host, "waiting for /bin/sh", e))?;
        if let Some(f) = feeder {
            let _ = f.await;
        }
        Ok(ExecOutput {
            rc: exit_code(out.status),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    /// Like `run`, but stdin is held back until the success marker; the prompt is answered once.
    async fn run_become(&self, req: &ExecRequest, p: &BecomePrompt) -> Result<ExecOutput> {
        let become_err = |reason: String| Error::new(&self.host, ErrorKind::Become { reason });
        if p.pty {
            return Err(become_err(format!(
                "{} reads the password from a terminal, which the local connection cannot open; \
                 use become_method: sudo",
                p.what
            )));
        }
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&req.command)
            .envs(req.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::io(&self.host, "starting /bin/sh", e))?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<(Stream, Vec<u8>)>(16);
        if let Some(o) = child.stdout.take() {
            tokio::spawn(pump(o, Stream::Out, tx.clone()));
        }
        if let Some(e) = child.stderr.take() {
            tokio::spawn(pump(e, Stream::Err, tx.clone()));
        }
        drop(tx);
        let mut stdin = child.stdin.take();
        let mut feeder = None;
        let mut watcher = Watcher::new(p);
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let deadline = tokio::time::Instant::now() + p.timeout;
        loop {
            let next = if watcher.is_ready() {
                rx.recv().await
            } else {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(n) => n,
                    Err(_) => return Err(become_err(watcher.timed_out())),
                }
            };
            let Some((stream, data)) = next else { break };
            match watcher.feed(stream, &data, &mut stdout, &mut stderr) {
                Step::Wait => {}
                Step::Answer(bytes) => {
                    if let Some(pipe) = stdin.as_mut() {
                        let _ = pipe.write_all(&bytes).await;
                    }
                }
                Step::Ready => {
                    let data = req.stdin.clone().unwrap_or_default();
                    if let Some(mut pipe) = stdin.take() {
                        // Its own task, so a command that writes before reading cannot stall us.
                        feeder = Some(tokio::spawn(async move {
                            let _ = pipe.write_all(&data).await;
                            let _ = pipe.shutdown().await;
                        }));
                    }
                }
                // Dropping the child kills it (kill_on_drop).
                Step::Fail(reason) => return Err(become_err(reason)),
            }
        }
        drop(stdin);
        let status = child
            .wait()
            .await
            .map_err(|e| Error::io(&self.host, "waiting for /bin/sh", e))?;
        if let Some(f) = feeder {
            let _ = f.await;
        }
        let rc = exit_code(status);
        if !watcher.is_ready() {
            return Err(become_err(watcher.failure(rc)));
        }
        Ok(ExecOutput { rc, stdout, stderr })
    }

    async fn put(&self, file: &PutFile) -> Result<()> {
        let data = read_content(&self.host, &file.content).await?;
        let host = self.host.clone();
        let tmp = temp_path(&file.dest);
        let dest = file.dest.clone();
        let mode = file.mode;
        let tmp2 = tmp.clone();
        let written = tokio::task::spawn_blocking(move || write_new(&tmp2, &dest, &data, mode))
            .await
            .map_err(|e| Error::channel(&host, e))?;
        let mut result = written.map_err(|e| Error::io(&self.host, format!("writing {}", file.dest), e));
        if result.is_ok() {
            result = self.chown(&tmp, file).await;
        }
        if result.is_ok() {
            result = tokio::fs::rename(&tmp, &file.dest)
                .await
                .map_err(|e| Error::io(&self.host, format!("renaming into {}", file.dest), e));
        }
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn chown(&self, tmp: &str, file: &PutFile) -> Result<()> {
        let spec = match (&file.owner, &file.group) {
            (None, None) => return Ok(()),
            (Some(o), None) => o.clone(),
            (None, Some(g)) => format!(":{g}"),
            (Some(o), Some(g)) => format!("{o}:{g}"),
        };
        let out = tokio::process::Command::new("chown")
            .arg("--")
            .arg(&spec)
            .arg(tmp)
            .output()
            .await
            .map_err(|e| Error::io(&self.host, "running chown", e))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(Error::new(
                &self.host,
                ErrorKind::Remote {
                    action: format!("chown {spec} {}", file.dest),
                    rc: out.status.code().unwrap_or(-1),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                },
            ))
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}

/// Forward a pipe's chunks to the exec loop until EOF.
async fn pump(
    mut from: impl tokio::io::AsyncRead + Unpin,
    stream: Stream,
    to: tokio::sync::mpsc::Sender<(Stream, Vec<u8>)>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to
                    .send((stream, buf.get(..n).unwrap_or_default().to_vec()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    }
}

/// Create `tmp` exclusively, write, and set the mode: the given one, else the replaced file's.
fn write_new(tmp: &str, dest: &str, data: &[u8], mode: Option<u32>) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if mode.is_some() {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    let keep = match mode {
        Some(m) => Some(m & 0o7777),
        None => std::fs::metadata(dest).ok().map(|m| m.permissions().mode() & 0o7777),
    };
    if let Some(m) = keep {
        std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(m))?;
    }
    Ok(())
}

impl Connection for LocalConnection {
    fn host(&self) -> &str {
        &self.host
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, Result<ExecOutput>> {
        Box::pin(async move {
            match req.timeout {
                None => self.run(req).await,
                // Dropping the child on timeout kills it (kill_on_drop).
                Some(after) => tokio::time::timeout(after, self.run(req))
                    .await
                    .map_err(|_| Error::new(&self.host, ErrorKind::CommandTimeout { after }))?,
            }
        })
    }

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.put(file))
    }

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move {
            tokio::fs::read(remote)
                .await
                .map_err(|e| Error::io(&self.host, format!("reading {remote}"), e))
        })
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn exec_reports_rc_stdout_stderr_and_reads_stdin() {
        let c = LocalConnection::new("localhost");
        rt().block_on(async {
            let cases: Vec<(ExecRequest, i32, &[u8], &[u8])> = vec![
                (
                    ExecRequest::new("echo out; echo err >&2; exit 3"),
                    3,
                    b"out\n",
                    b"err\n",
                ),
                (ExecRequest::new("tr a-z A-Z").stdin("hello"), 0, b"HELLO", b""),
                (ExecRequest::new("printf %s \"$X\"").env("X", "a b'c"), 0, b"a b'c", b""),
                (ExecRequest::new("cat"), 0, b"", b""),
                (ExecRequest::new("kill -9 $$"), 137, b"", b""),
            ];
            for (req, rc, out, err) in cases {
                let got = c.exec(&req).await.unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(
                    (got.rc, got.stdout.as_slice(), got.stderr.as_slice()),
                    (rc, out, err),
                    "{}",
                    req.command
                );
            }
        });
    }

    #[test]
    fn exec_timeout_fails_in_time() {
        let c = LocalConnection::new("localhost");
        rt().block_on(async {
            let start = Instant::now();
            let r = c
                .exec(&ExecRequest::new("sleep 5").timeout(Duration::from_millis(200)))
                .await;
            assert!(
                matches!(
                    r,
                    Err(Error {
                        kind: ErrorKind::CommandTimeout { .. },
                        ..
                    })
                ),
                "{r:?}"
            );
            assert!(start.elapsed() < Duration::from_secs(2));
        });
    }

    #[test]
    fn put_file_is_atomic_keeps_mode_and_get_reads_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dest = dir.path().join("f").display().to_string();
        let c = LocalConnection::new("localhost");
        rt().block_on(async {
            c.put_file(&PutFile::bytes("one", dest.clone()).mode(0o600))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            // No mode given: the replaced file's mode stays.
            c.put_file(&PutFile::bytes("two", dest.clone()))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.get_file(&dest).await.unwrap_or_default(), b"two");
        });
        let mode = std::fs::metadata(&dest)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).map(|d| d.count()).unwrap_or(0), 1);
    }
}
