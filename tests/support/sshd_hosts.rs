//! Real OpenSSH servers on 127.0.0.1 for tests that run playbooks: one `sshd` per host, each
//! with its own host key, a shared client key, a known_hosts file, and an inventory naming
//! them. Standalone (std + tempfile) so any test file can include it. Killed on drop.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";

pub struct SshHost {
    pub name: String,
    pub port: u16,
    pub host_key: PathBuf,
    child: Child,
}

pub struct SshHosts {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    pub hosts: Vec<SshHost>,
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl SshHost {
    /// The listening sshd's pid (its session processes are its children).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's log (`-E`).
    pub fn log(&self) -> String {
        let dir = self.host_key.parent().map(Path::to_path_buf).unwrap_or_default();
        std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
    }
}

impl SshHosts {
    /// Start `names.len()` servers.
    pub fn start(names: &[&str]) -> SshHosts {
        SshHosts::start_with(names, "")
    }

    /// Start servers with `extra` lines at the top of each sshd_config (first value wins).
    pub fn start_with(names: &[&str], extra: &str) -> SshHosts {
        assert!(
            Path::new(SSHD).exists(),
            "{SSHD} is missing: install openssh-server (apt-get install -y openssh-server) to run these tests"
        );
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("id_ed25519");
        keygen(&key);
        let auth = dir.path().join("authorized_keys");
        std::fs::copy(key.with_extension("pub"), &auth).expect("authorized_keys");
        let known_hosts = dir.path().join("known_hosts");
        let mut known = String::new();
        let mut hosts = Vec::new();
        for name in names {
            let hd = dir.path().join(name);
            std::fs::create_dir_all(&hd).expect("host dir");
            let host_key = hd.join("hostkey");
            keygen(&host_key);
            let port = free_port();
            let config = hd.join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "{extra}Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nPermitRootLogin yes\nPasswordAuthentication no\nStrictModes no\nUsePAM no\nMaxSessions 100\nMaxStartups 100:30:200\nPidFile none\n",
                    host_key.display(),
                    auth.display()
                ),
            )
            .expect("sshd_config");
            let child = Command::new(SSHD)
                .arg("-D")
                .arg("-f")
                .arg(&config)
                .arg("-E")
                .arg(hd.join("sshd.log"))
                .stdin(Stdio::null())
                // Logs go to -E; a session left behind must not hold the test's output open.
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("sshd starts");
            let public = std::fs::read_to_string(host_key.with_extension("pub")).expect("host key");
            let mut parts = public.split_whitespace();
            known.push_str(&format!(
                "[127.0.0.1]:{port} {} {}\n",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            ));
            hosts.push(SshHost {
                name: name.to_string(),
                port,
                host_key,
                child,
            });
        }
        std::fs::write(&known_hosts, known).expect("known_hosts");
        for h in &hosts {
            wait_for_port(h.port);
        }
        SshHosts {
            dir,
            key,
            known_hosts,
            hosts,
        }
    }

    /// A YAML inventory with every host in group `nodes` (and the extra `groups` given as
    /// `(group, [hosts])`), connection settings under `all.vars`.
    pub fn inventory(&self, groups: &[(&str, &[&str])]) -> String {
        let mut s = String::from("all:\n  hosts:\n");
        for h in &self.hosts {
            s.push_str(&format!(
                "    {}:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n",
                h.name, h.port
            ));
        }
        s.push_str(&format!(
            "  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n    ansible_ssh_common_args: -o UserKnownHostsFile={}\n",
            self.key.display(),
            self.known_hosts.display()
        ));
        s.push_str("  children:\n    nodes:\n      hosts:\n");
        for h in &self.hosts {
            s.push_str(&format!("        {}:\n", h.name));
        }
        for (g, members) in groups {
            s.push_str(&format!("    {g}:\n      hosts:\n"));
            for m in *members {
                s.push_str(&format!("        {m}:\n"));
            }
        }
        s
    }

    pub fn stop(&mut self, name: &str) {
        if let Some(h) = self.hosts.iter_mut().find(|h| h.name == name) {
            let _ = h.child.kill();
            let _ = h.child.wait();
        }
    }
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("sshd on port {port} did not start");
}

impl Drop for SshHosts {
    fn drop(&mut self) {
        for h in &mut self.hosts {
            let _ = h.child.kill();
            let _ = h.child.wait();
        }
    }
}
