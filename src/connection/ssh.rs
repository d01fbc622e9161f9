//! SSH over russh: one session per host, one channel per command, at most `max_channels`
//! channels open at once (OpenSSH's MaxSessions is 10), every channel closed explicitly.

use super::error::{Error, ErrorKind, HostKeyProblem, Result};
use super::jump::BastionPool;
use super::known_hosts::{self, fingerprint, key_type};
use super::options::SshOptions;
use super::prompt::{BecomePrompt, Step, Stream, Watcher};
use super::shell_session::ShellSession;
use super::transfer::{get_command, put_script, read_content, remote_command};
use super::{BoxFuture, Connection, ExecOutput, ExecRequest, PutFile};
use russh::client::{self, AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect, Pty, Sig};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

pub use super::options::{InventorySsh, LocalEnv, Secret};

/// russh's callback: checks the host key with [`known_hosts`], and keeps our own error so the
/// user sees it instead of russh's "unknown key".
pub(crate) struct Client {
    opts: Arc<SshOptions>,
    problem: Arc<Mutex<Option<Error>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> std::result::Result<bool, Self::Error> {
        let verdict = match key {
            PublicKeyOrCertificate::Certificate(c) if self.opts.host_keys.mode != known_hosts::StrictMode::Off => {
                Err(Error::new(
                    &self.opts.label,
                    ErrorKind::HostKey(Box::new(HostKeyProblem::Certificate {
                        fingerprint: c.public_key().fingerprint(HashAlg::Sha256).to_string(),
                    })),
                ))
            }
            PublicKeyOrCertificate::Certificate(_) => Ok(()),
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                let (opts, key) = (self.opts.clone(), key.clone());
                tokio::task::spawn_blocking(move || {
                    known_hosts::verify(&opts.host_keys, &opts.label, &opts.address, opts.port, &key)
                })
                .await
                .unwrap_or_else(|e| Err(Error::channel(&self.opts.label, e)))
            }
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(e) => {
                *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                Ok(false)
            }
        }
    }
}

/// An authenticated SSH session: a host's, or a bastion's shared by the hosts behind it.
pub struct Session {
    label: String,
    handle: Handle<Client>,
    permits: Arc<Semaphore>,
}

impl Session {
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    pub async fn disconnect(&self) {
        let _ = self.handle.disconnect(Disconnect::ByApplication, "", "en").await;
    }

    /// A `direct-tcpip` channel to `host:port` as seen from this session's server.
    async fn tunnel(&self, target: &str, host: &str, port: u16) -> Result<russh::ChannelStream<client::Msg>> {
        let ch = self
            .handle
            .channel_open_direct_tcpip(host, u32::from(port), "127.0.0.1", 0)
            .await
            .map_err(|e| {
                Error::new(
                    target,
                    ErrorKind::Unreachable {
                        reason: format!("bastion {} could not open a tunnel to {host}:{port}: {e}", self.label),
                    },
                )
            })?;
        Ok(ch.into_stream())
    }
}

/// Opens SSH connections; owns the bastion sessions they share. One per run, not global.
#[derive(Default)]
pub struct SshConnector {
    bastions: BastionPool,
    local_user: String,
}

impl SshConnector {
    pub fn new(env: &LocalEnv) -> SshConnector {
        SshConnector {
            bastions: BastionPool::new(),
            local_user: env.user.clone(),
        }
    }

    /// Connect to the host in `opts`, through its bastions if it has any.
    pub async fn connect(&self, opts: &SshOptions) -> Result<SshConnection> {
        let mut via: Option<Arc<Session>> = None;
        let mut hops = Vec::new();
        let mut chain = String::new();
        for j in &opts.jumps {
            chain.push_str(&j.display());
            chain.push(',');
            let hop_opts = opts.for_jump(j, &self.local_user);
            let prev = via.clone();
            let label = opts.label.clone();
            let s = self
                .bastions
                .get_or_open(&chain, &opts.label, || open_session(hop_opts, prev, label))
                .await?;
            hops.push(s.clone());
            via = Some(s);
        }
        let session = open_session(opts.clone(), via, opts.label.clone()).await?;
        Ok(SshConnection {
            label: opts.label.clone(),
            session,
            shell: tokio::sync::Mutex::new(ShellState::NotStarted),
            hops,
        })
    }

    /// Disconnect every bastion session (hosts' own connections are closed by their owners).
    pub async fn close(&self) {
        self.bastions.close_all().await;
    }
}

fn client_config(opts: &SshOptions) -> client::Config {
    let mut preferred = russh::Preferred::default();
    // Ask first for the key types known_hosts already holds, as OpenSSH does, so a host known
    // only by its RSA key is not reported unknown because it also has an ed25519 key.
    let known = known_hosts::load(&opts.host_keys.files)
        .map(|e| known_hosts::known_types(&e, &opts.address, opts.port))
        .unwrap_or_default();
    if !known.is_empty() {
        let mut algs = preferred.key.to_vec();
        algs.sort_by_key(|a| !known.contains(&key_type(a)));
        preferred.key = algs.into();
    }
    client::Config {
        nodelay: true,
        keepalive_interval: opts.keepalive,
        keepalive_max: opts.keepalive_max,
        preferred,
        ..client::Config::default()
    }
}

/// TCP (or a tunnel through `via`), handshake and host key check within the connect timeout,
/// then authentication. `target` names the inventory host the session is for.
async fn open_session(opts: SshOptions, via: Option<Arc<Session>>, target: String) -> Result<Session> {
    let opts = Arc::new(opts);
    let problem = Arc::new(Mutex::new(None));
    let handler = Client {
        opts: opts.clone(),
        problem: problem.clone(),
    };
    let config = Arc::new(client_config(&opts));
    let unreachable = |reason: String| Error::new(&opts.label, ErrorKind::Unreachable { reason });
    let handshake = async {
        match &via {
            None => {
                let tcp = tokio::net::TcpStream::connect((opts.address.as_str(), opts.port))
                    .await
                    .map_err(|e| unreachable(format!("connecting to {}:{}: {e}", opts.address, opts.port)))?;
                let _ = tcp.set_nodelay(true);
                client::connect_stream(config, tcp, handler)
                    .await
                    .map_err(|e| unreachable(format!("SSH handshake: {e}")))
            }
            Some(b) => {
                let stream = b.tunnel(&target, &opts.address, opts.port).await?;
                client::connect_stream(config, stream, handler)
                    .await
                    .map_err(|e| unreachable(format!("SSH handshake: {e}")))
            }
        }
    };
    let result = tokio::time::timeout(opts.connect_timeout, handshake).await;
    let taken = problem.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(e) = taken {
        return Err(e);
    }
    let mut handle = result.map_err(|_| {
        Error::new(
            &opts.label,
            ErrorKind::Timeout {
                what: format!("connecting to {}:{}", opts.address, opts.port),
                after: opts.connect_timeout,
            },
        )
    })??;
    authenticate(&mut handle, &opts).await?;
    Ok(Session {
        label: format!("{}@{}:{}", opts.user, opts.address, opts.port),
        handle,
        permits: Arc::new(Semaphore::new(opts.max_channels.max(1))),
    })
}

/// Keys named by the user, then the agent's keys, then default key files, then a password.
async fn authenticate(handle: &mut Handle<Client>, opts: &SshOptions) -> Result<()> {
    let label = &opts.label;
    let ch_err = |e: russh::Error| {
        Error::new(
            label,
            ErrorKind::Unreachable {
                reason: format!("during authentication: {e}"),
            },
        )
    };
    let mut tried: Vec<String> = Vec::new();
    let rsa_hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(ch_err)?
        .flatten()
        .or(Some(HashAlg::Sha256));

    let explicit = !opts.identity_files.is_empty();
    let files = if explicit {
        &opts.identity_files
    } else {
        &opts.default_identity_files
    };
    for path in files {
        if !explicit && !path.exists() {
            continue;
        }
        let key = match russh::keys::load_secret_key(path, opts.passphrase.as_ref().map(|s| s.expose())) {
            Ok(k) => k,
            Err(e) => {
                let reason = match e {
                    russh::keys::Error::KeyIsEncrypted if opts.passphrase.is_none() => {
                        "it is encrypted and no passphrase was given (ansible_ssh_private_key_passphrase), \
                         or load it into ssh-agent"
                            .to_string()
                    }
                    russh::keys::Error::KeyIsEncrypted => "the passphrase is wrong".to_string(),
                    other => other.to_string(),
                };
                return Err(Error::new(
                    label,
                    ErrorKind::Key {
                        path: path.clone(),
                        reason,
                    },
                ));
            }
        };
        tried.push(format!("key {}", path.display()));
        let key = PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash);
        if matches!(
            handle.authenticate_publickey(&opts.user, key).await.map_err(ch_err)?,
            AuthResult::Success
        ) {
            return Ok(());
        }
    }

    if let Some(sock) = &opts.agent_socket {
        match AgentClient::connect_uds(sock).await {
            Ok(mut agent) => {
                let ids = agent.request_identities().await.unwrap_or_default();
                for id in ids {
                    let AgentIdentity::PublicKey { key, .. } = id else {
                        continue;
                    };
                    tried.push(format!("agent key {}", key.fingerprint(HashAlg::Sha256)));
                    let hash = if key.algorithm().is_rsa() { rsa_hash } else { None };
                    match handle
                        .authenticate_publickey_with(&opts.user, key, hash, &mut agent)
                        .await
                    {
                        Ok(AuthResult::Success) => return Ok(()),
                        Ok(_) => {}
                        Err(e) => tracing::debug!("{label}: agent signing failed: {e}"),
                    }
                }
            }
            Err(e) => tracing::debug!("{label}: ssh-agent at {} not usable: {e}", sock.display()),
        }
    }

    if let Some(pw) = &opts.password {
        tried.push("password".into());
        if matches!(
            handle
                .authenticate_password(&opts.user, pw.expose())
                .await
                .map_err(ch_err)?,
            AuthResult::Success
        ) {
            return Ok(());
        }
    }
    Err(Error::new(
        label,
        ErrorKind::Auth {
            user: opts.user.clone(),
            tried,
        },
    ))
}

/// A connection to one host.
pub struct SshConnection {
    label: String,
    session: Session,
    /// The host's long-lived shell for plain commands (see [`super::shell_session`]).
    shell: tokio::sync::Mutex<ShellState>,
    /// Keeps the bastion sessions alive while this host uses them.
    hops: Vec<Arc<Session>>,
}

enum ShellState {
    NotStarted,
    Ready(ShellSession),
    /// Failed once: every command gets its own channel from now on.
    Broken,
}

impl SshConnection {
    /// A channel that failed because the connection under it is gone (reset, keepalives
    /// unanswered, a bastion down) means the host is unreachable, as in Ansible; the message
    /// names the hop that went. Other failures pass through.
    async fn lost_or<T>(&self, r: Result<T>) -> Result<T> {
        let Err(e) = r else { return r };
        if !matches!(e.kind, ErrorKind::Channel { .. }) {
            return Err(e);
        }
        // The session notices a dead transport a moment after its channels do.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while !self.session.is_closed() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if !self.session.is_closed() {
            return Err(e);
        }
        let reason = match self.hops.iter().find(|h| h.is_closed()) {
            Some(hop) => format!(
                "the connection through bastion {} was lost while the task ran",
                hop.label
            ),
            None => format!("the connection to {} was lost while the task ran", self.session.label),
        };
        Err(Error::new(&self.label, ErrorKind::Unreachable { reason }))
    }

    /// Run a plain command in the host's shell when it is free; `None` when it is busy or
    /// broken (the caller opens a channel instead).
    async fn run_in_shell(&self, line: &str, stdin: Option<&[u8]>) -> Option<Result<ExecOutput>> {
        let mut state = self.shell.try_lock().ok()?;
        if matches!(*state, ShellState::NotStarted) {
            // The shell keeps one of the server's session slots for good.
            let permit = self.session.permits.clone().acquire_owned().await.ok()?;
            permit.forget();
            *state = match self.open_channel().await {
                Ok(ch) => match ShellSession::start(ch, &self.label).await {
                    Ok(sh) => ShellState::Ready(sh),
                    Err(_) => ShellState::Broken,
                },
                Err(_) => ShellState::Broken,
            };
        }
        // Taken out while the command runs: if this future is dropped half-way (a task's time
        // limit), the shell holds unread output and is never used again.
        let ShellState::Ready(mut shell) = std::mem::replace(&mut *state, ShellState::Broken) else {
            return None;
        };
        let result = shell.run(&self.label, line, stdin).await;
        if result.is_ok() {
            *state = ShellState::Ready(shell);
        }
        Some(result)
    }

    /// Open a session channel. sshd frees a session slot only when it has our close, a moment
    /// after we released the permit, so a refusal at the limit is retried briefly.
    async fn open_channel(&self) -> Result<russh::Channel<client::Msg>> {
        let mut delay = std::time::Duration::from_millis(5);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match self.session.handle.channel_open_session().await {
                Ok(ch) => return Ok(ch),
                Err(russh::Error::ChannelOpenFailure(why)) if tokio::time::Instant::now() < deadline => {
                    tracing::trace!("{}: channel refused ({why:?}), retrying", self.label);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_millis(200));
                }
                Err(e) => {
                    return Err(Error::channel(&self.label, format!("opening a session: {e}")));
                }
            }
        }
    }

    async fn run(
        &self,
        line: String,
        stdin: Option<&[u8]>,
        timeout: Option<std::time::Duration>,
        become_prompt: Option<&BecomePrompt>,
    ) -> Result<ExecOutput> {
        if timeout.is_none()
            && become_prompt.is_none()
            && let Some(result) = self.run_in_shell(&line, stdin).await
        {
            return result;
        }
        let label = &self.label;
        let _permit = self
            .session
            .permits
            .acquire()
            .await
            .map_err(|e| Error::channel(label, e))?;
        let channel = self.open_channel().await?;
        let (mut rx, tx) = channel.split();
        let mut out = ExecOutput {
            rc: -1,
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let mut closed = false;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        let pty = become_prompt.is_some_and(|p| p.pty);
        let exchange = async {
            if pty {
                // No echo of what we type, no \n -> \r\n: output stays byte for byte.
                tx.request_pty(false, "dumb", 80, 24, 0, 0, &[(Pty::ECHO, 0), (Pty::OPOST, 0)])
                    .await
                    .map_err(|e| Error::channel(label, format!("requesting a terminal: {e}")))?;
            }
            tx.exec(true, line.into_bytes())
                .await
                .map_err(|e| Error::channel(label, format!("starting the command: {e}")))?;
            // Written while output is read: a command that talks before it reads must not stall.
            // Under become, only once the success marker says the real command runs.
            let write = async {
                if become_prompt.is_some() && ready_rx.await.is_err() {
                    return Ok(());
                }
                if let Some(data) = stdin {
                    tx.data(data)
                        .await
                        .map_err(|e| Error::channel(label, format!("sending stdin: {e}")))?;
                }
                if pty {
                    // A terminal has no EOF to send; the command does not read it.
                    return Ok(());
                }
                tx.eof()
                    .await
                    .map_err(|e| Error::channel(label, format!("closing stdin: {e}")))
            };
            let read = async {
                let mut ready_tx = Some(ready_tx);
                let mut watcher = become_prompt.map(Watcher::new);
                let deadline = become_prompt.map(|p| tokio::time::Instant::now() + p.timeout);
                let become_err = |reason: String| Error::new(label, ErrorKind::Become { reason });
                loop {
                    let waiting = watcher.as_ref().is_some_and(|w| !w.is_ready());
                    let msg = match (waiting, deadline) {
                        (true, Some(d)) => match tokio::time::timeout_at(d, rx.wait()).await {
                            Ok(m) => m,
                            Err(_) => {
                                let reason = watcher.as_ref().map(|w| w.timed_out()).unwrap_or_default();
                                return Err(become_err(reason));
                            }
                        },
                        _ => rx.wait().await,
                    };
                    let Some(msg) = msg else { break };
                    let (stream, data) = match msg {
                        ChannelMsg::Data { data } => (Stream::Out, data),
                        ChannelMsg::ExtendedData { data, ext: 1 } => (Stream::Err, data),
                        ChannelMsg::ExitStatus { exit_status } => {
                            out.rc = i32::try_from(exit_status).unwrap_or(-1);
                            continue;
                        }
                        ChannelMsg::ExitSignal { signal_name, .. } => {
                            out.rc = 128 + signal_number(&signal_name);
                            continue;
                        }
                        ChannelMsg::Failure => {
                            return Err(Error::channel(label, "the server refused to run the command"));
                        }
                        ChannelMsg::Close => {
                            closed = true;
                            break;
                        }
                        _ => continue,
                    };
                    let Some(w) = watcher.as_mut() else {
                        match stream {
                            Stream::Out => out.stdout.extend_from_slice(&data),
                            Stream::Err => out.stderr.extend_from_slice(&data),
                        }
                        continue;
                    };
                    match w.feed(stream, &data, &mut out.stdout, &mut out.stderr) {
                        Step::Wait => {}
                        Step::Answer(bytes) => tx
                            .data(bytes.as_slice())
                            .await
                            .map_err(|e| Error::channel(label, format!("answering the password prompt: {e}")))?,
                        Step::Ready => {
                            if let Some(r) = ready_tx.take() {
                                let _ = r.send(());
                            }
                        }
                        Step::Fail(reason) => return Err(become_err(reason)),
                    }
                }
                if let Some(w) = watcher.as_ref().filter(|w| !w.is_ready()) {
                    return Err(become_err(w.failure(out.rc)));
                }
                Ok(())
            };
            let (w, r) = tokio::join!(write, read);
            r?;
            // The command may exit without reading its stdin; that is not our failure.
            if let Err(e) = w {
                tracing::debug!("{e}");
            }
            Ok::<(), Error>(())
        };
        let result = match timeout {
            None => exchange.await,
            Some(after) => match tokio::time::timeout(after, exchange).await {
                Ok(r) => r,
                Err(_) => Err(Error::new(label, ErrorKind::CommandTimeout { after })),
            },
        };
        if result.is_err() && !closed {
            // Timed out, or sudo waits for a password we will not give again: stop it now.
            let _ = tx.signal(Sig::KILL).await;
        }
        if !closed {
            let _ = tx.close().await;
        }
        result.map(|()| out)
    }
}

fn signal_number(sig: &Sig) -> i32 {
    match sig {
        Sig::HUP => 1,
        Sig::INT => 2,
        Sig::QUIT => 3,
        Sig::ILL => 4,
        Sig::ABRT => 6,
        Sig::FPE => 8,
        Sig::KILL => 9,
        Sig::USR1 => 10,
        Sig::SEGV => 11,
        Sig::PIPE => 13,
        Sig::ALRM => 14,
        Sig::TERM => 15,
        Sig::Custom(_) => 0,
    }
}

impl Connection for SshConnection {
    fn host(&self) -> &str {
        &self.label
    }

    fn is_alive(&self) -> bool {
        !self.session.is_closed()
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, Result<ExecOutput>> {
        Box::pin(async move {
            let line = remote_command(&self.label, req)?;
            let r = self
                .run(line, req.stdin.as_deref(), req.timeout, req.become_prompt.as_ref())
                .await;
            self.lost_or(r).await
        })
    }

    fn put_file<'a>(&'a self, file: &'a PutFile) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let line = put_script(&self.label, file)?;
            let data = read_content(&self.label, &file.content).await?;
            let out = self.lost_or(self.run(line, Some(&data), None, None).await).await?;
            if out.rc != 0 {
                return Err(Error::new(
                    &self.label,
                    ErrorKind::Remote {
                        action: format!("writing {}", file.dest),
                        rc: out.rc,
                        stderr: out.stderr_lossy(),
                    },
                ));
            }
            Ok(())
        })
    }

    fn get_file<'a>(&'a self, remote: &'a str) -> BoxFuture<'a, Result<Vec<u8>>> {
        Box::pin(async move {
            let out = self
                .lost_or(self.run(get_command(&self.label, remote)?, None, None, None).await)
                .await?;
            if out.rc != 0 {
                return Err(Error::new(
                    &self.label,
                    ErrorKind::Remote {
                        action: format!("reading {remote}"),
                        rc: out.rc,
                        stderr: out.stderr_lossy(),
                    },
                ));
            }
            Ok(out.stdout)
        })
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            if let ShellState::Ready(shell) = &*self.shell.lock().await {
                shell.close().await;
            }
            self.session.disconnect().await;
            Ok(())
        })
    }
}

/// Fingerprint text for messages (exposed for callers that print host keys).
pub fn describe_key(key: &russh::keys::PublicKey) -> String {
    fingerprint(key)
}
