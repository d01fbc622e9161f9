//! A real OpenSSH server for the system-module tests. It runs inside its own UTS and mount
//! namespaces (`unshare --uts --mount`), so `hostname`, `kernel.domainname` and mounts made
//! through it never reach this machine, and its sessions get `PATH` with a stand-in directory first (sshd `SetEnv`):
//! the stand-ins in `standins/` replace only the programs that cannot run in a container
//! without systemd, a kernel to reboot or module loading. `STANDIN_STATE` names the directory
//! they keep their state in; `STANDIN_SSHD_CONFIG`/`STANDIN_SSHD_PID` let the `shutdown`
//! stand-in restart this sshd as a reboot would.

use super::context::ModuleCtx;
use super::test_support::Fixture;
use super::{ModuleFn, Outcome};
use crate::connection::options::{LocalEnv, SshOptions};
use crate::connection::ssh::{SshConnection, SshConnector};
use crate::connection::test_sshd::{Lab, current_user, new_key, read};
use crate::connection::{self, BoxFuture, Connection, ExecOutput, ExecRequest, PutFile};
use crate::value::Map;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const SYSTEMCTL: (&str, &str) = ("systemctl", include_str!("standins/systemctl"));
pub const MODPROBE: (&str, &str) = ("modprobe", include_str!("standins/modprobe"));
pub const LSMOD: (&str, &str) = ("lsmod", include_str!("standins/lsmod"));
pub const SHUTDOWN: (&str, &str) = ("shutdown", include_str!("standins/shutdown"));

pub struct SysLab {
    pub lab: Lab,
    pub state: PathBuf,
    pub pidfile: PathBuf,
    pub fx: Fixture,
    pub conn: Reconnecting,
}

impl SysLab {
    /// An sshd in a fresh UTS namespace with `standins` (name, script) on its PATH.
    pub fn new(standins: &[(&str, &str)]) -> SysLab {
        let lab = Lab::new();
        let base = lab.dir.path().to_path_buf();
        let stub = base.join("standin-bin");
        let state = base.join("standin-state");
        for d in [&stub, &state] {
            std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
        }
        let _ = std::fs::write(state.join("boot_id"), "first-boot\n");
        for (name, script) in standins {
            let p = stub.join(name);
            std::fs::write(&p, script).unwrap_or_else(|e| panic!("{e}"));
            let _ = Command::new("chmod").arg("755").arg(&p).status();
        }
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let hostkey = new_key(&base, "hostkey", "ed25519", "");
        let pidfile = base.join("sshd.pid");
        let config = base.join("sshd_config");
        let log = base.join("sshd.log");
        let text = format!(
            "SetEnv PATH={}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin STANDIN_STATE={} \
             STANDIN_SSHD_CONFIG={} STANDIN_SSHD_PID={}\nPort {port}\nListenAddress 127.0.0.1\nHostKey {}\n\
             AuthorizedKeysFile {}\nPermitRootLogin yes\nPasswordAuthentication no\nStrictModes no\nUsePAM no\n\
             PidFile {}\n",
            stub.display(),
            state.display(),
            config.display(),
            pidfile.display(),
            hostkey.display(),
            lab.authorized_keys.display(),
            pidfile.display(),
        );
        std::fs::write(&config, text).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::create_dir_all("/run/sshd");
        let st = Command::new("unshare")
            .args(["--uts", "--mount", "/usr/sbin/sshd", "-f"])
            .arg(&config)
            .arg("-E")
            .arg(&log)
            .status()
            .unwrap_or_else(|e| panic!("unshare sshd: {e}"));
        assert!(st.success(), "sshd did not start: {}", read(&log));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen: {}", read(&log));
            std::thread::sleep(Duration::from_millis(20));
        }
        let pubkey = read(&hostkey.with_extension("pub"));
        let mut parts = pubkey.split_whitespace();
        let (t, k) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        std::fs::write(&lab.known_hosts, format!("[127.0.0.1]:{port} {t} {k}\n")).unwrap_or_else(|e| panic!("{e}"));
        let mut o = SshOptions::new(format!("h{port}"), "127.0.0.1", current_user());
        o.port = port;
        o.identity_files = vec![lab.key.clone()];
        o.host_keys.files = vec![lab.known_hosts.clone()];
        o.connect_timeout = Duration::from_secs(3);
        let fx = Fixture::new();
        let conn = Reconnecting {
            opts: o,
            current: tokio::sync::Mutex::new(None),
        };
        SysLab {
            lab,
            state,
            pidfile,
            fx,
            conn,
        }
    }

    pub fn run(&self, f: ModuleFn, args: &Map, check: bool) -> Outcome {
        self.run_diff(f, args, check, false)
    }

    pub fn run_diff(&self, f: ModuleFn, args: &Map, check: bool, diff: bool) -> Outcome {
        let ctx = ModuleCtx {
            host: "lab",
            conn: &self.conn,
            args,
            check,
            diff,
            templar: &self.fx.templar,
            vars: &self.fx.vars,
            search_dirs: &self.fx.search,
        };
        self.fx.rt.block_on(f(&ctx)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs a shell line on the lab host; (rc, stdout).
    pub fn sh(&self, line: &str) -> (i32, String) {
        let out = self
            .fx
            .rt
            .block_on(self.conn.exec(&ExecRequest::new(line)))
            .unwrap_or_else(|e| panic!("{e}"));
        (out.rc, out.stdout_lossy())
    }
}

impl Drop for SysLab {
    fn drop(&mut self) {
        // The pid file names the listener the lab (or the `shutdown` stand-in) started last.
        if let Ok(pid) = std::fs::read_to_string(&self.pidfile) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// An ssh connection that connects again after its session died, as the executor's pool
/// connection does for `reboot` and `wait_for_connection`.
pub struct Reconnecting {
    opts: SshOptions,
    current: tokio::sync::Mutex<Option<Arc<SshConnection>>>,
}

impl Reconnecting {
    async fn get(&self) -> connection::Result<Arc<SshConnection>> {
        let mut cur = self.current.lock().await;
        if let Some(c) = cur.as_ref().filter(|c| c.is_alive()) {
            return Ok(c.clone());
        }
        let c = Arc::new(SshConnector::new(&LocalEnv::default()).connect(&self.opts).await?);
        *cur = Some(c.clone());
        Ok(c)
    }

    async fn forget(&self) {
        *self.current.lock().await = None;
    }
}

impl Connection for Reconnecting {
    fn host(&self) -> &str {
        "lab"
    }

    fn exec<'a>(&'a self, req: &'a ExecRequest) -> BoxFuture<'a, connection::Result<ExecOutput>> {
        Box::pin(async move {
            let r = self.get().await?.exec(req).await;
            if r.is_err() {
                self.forget().await;
            }
            r
        })
    }

    fn put_file<'a>(&'a self, f: &'a PutFile) -> BoxFuture<'a, connection::Result<()>> {
        Box::pin(async move { self.get().await?.put_file(f).await })
    }

    fn get_file<'a>(&'a self, r: &'a str) -> BoxFuture<'a, connection::Result<Vec<u8>>> {
        Box::pin(async move { self.get().await?.get_file(r).await })
    }

    fn close<'a>(&'a self) -> BoxFuture<'a, connection::Result<()>> {
        Box::pin(async move { Ok(()) })
    }
}
