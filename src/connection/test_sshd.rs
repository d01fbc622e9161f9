//! Real OpenSSH servers for tests: `sshd -D -f <config>` on a loopback address and a free port,
//! with its own host key and authorized_keys in a temp dir, killed by pid on drop.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

fn require_sshd() {
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is missing: install OpenSSH's server (apt-get install -y openssh-server) to run the connection tests"
    );
}

/// Run ssh-keygen; panics with its stderr on failure.
pub fn keygen(args: &[&str]) {
    let out = Command::new("ssh-keygen")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ssh-keygen: {e}"));
    assert!(
        out.status.success(),
        "ssh-keygen {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh key pair `dir/name` of `kind` (ed25519, rsa, ecdsa) with an optional passphrase.
pub fn new_key(dir: &Path, name: &str, kind: &str, passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    let p = path.display().to_string();
    keygen(&["-q", "-t", kind, "-N", passphrase, "-C", name, "-f", &p]);
    path
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn current_user() -> String {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .unwrap_or_else(|e| panic!("id: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A client key, an authorized_keys file and a known_hosts file shared by a test's servers.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub authorized_keys: PathBuf,
    pub known_hosts: PathBuf,
}

impl Lab {
    pub fn new() -> Lab {
        require_sshd();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let key = new_key(dir.path(), "id_ed25519", "ed25519", "");
        let authorized_keys = dir.path().join("authorized_keys");
        let known_hosts = dir.path().join("known_hosts");
        let lab = Lab {
            dir,
            key: key.clone(),
            authorized_keys,
            known_hosts,
        };
        lab.authorize(&key);
        let _ = std::fs::write(&lab.known_hosts, "");
        lab
    }

    /// Allow the public half of `key` to log in.
    pub fn authorize(&self, key: &Path) {
        let public = read(&key.with_extension("pub"));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.authorized_keys)
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = f.write_all(public.as_bytes());
    }

    /// Record `sshd`'s host key in the lab's known_hosts.
    pub fn trust(&self, sshd: &Sshd) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.known_hosts)
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = writeln!(f, "{}", sshd.known_hosts_line());
    }

    pub fn sshd(&self, addr: &str, extra: &str) -> Sshd {
        Sshd::start(self.dir.path(), addr, &self.authorized_keys, extra)
    }
}

pub struct Sshd {
    pub addr: String,
    pub port: u16,
    pub host_key_pub: String,
    pub log: PathBuf,
    child: Child,
}

impl Sshd {
    fn start(base: &Path, addr: &str, authorized_keys: &Path, extra: &str) -> Sshd {
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = TcpListener::bind((addr, 0))
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port on {addr}: {e}"));
        let dir = base.join(format!("sshd-{addr}-{port}"));
        let _ = std::fs::create_dir_all(&dir);
        let hostkey = new_key(&dir, "hostkey", "ed25519", "");
        let log = dir.join("sshd.log");
        let config = dir.join("sshd_config");
        let text = format!(
            // `extra` first: sshd keeps the first value of each option.
            "{extra}\nPort {port}\nListenAddress {addr}\nHostKey {}\nAuthorizedKeysFile {}\nPermitRootLogin yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n\
             PidFile {}\nLogLevel VERBOSE\n",
            hostkey.display(),
            authorized_keys.display(),
            dir.join("sshd.pid").display(),
        );
        let _ = std::fs::write(&config, text);
        let child = Command::new(SSHD)
            .arg("-D")
            .arg("-f")
            .arg(&config)
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {SSHD}: {e}"));
        let sshd = Sshd {
            addr: addr.to_string(),
            port,
            host_key_pub: read(&hostkey.with_extension("pub")),
            log,
            child,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect((addr, port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd on {addr}:{port} did not start: {}",
                sshd.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        sshd
    }

    /// `[addr]:port type base64`.
    pub fn known_hosts_line(&self) -> String {
        let mut parts = self.host_key_pub.split_whitespace();
        let (t, k) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        format!("[{}]:{} {t} {k}", self.addr, self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL every process under this server (its sessions and what they run), leaving the
    /// server listening: to a client, its connection was reset.
    pub fn kill_sessions(&self) {
        let parent_of = |pid: &str| -> Option<u32> {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
        };
        let mut all: Vec<(u32, u32)> = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let (Ok(pid), Some(ppid)) = (name.parse::<u32>(), parent_of(&name)) {
                all.push((pid, ppid));
            }
        }
        let mut frontier = vec![self.child.id()];
        while let Some(p) = frontier.pop() {
            for (pid, _) in all.iter().filter(|(_, pp)| *pp == p) {
                frontier.push(*pid);
                let _ = Command::new("sh").args(["-c", &format!("kill -9 {pid}")]).status();
            }
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
