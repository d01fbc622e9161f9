//! Bastion topologies in network namespaces, for tests: real sshd servers that can only be
//! reached through each other. Depends on std and tempfile only, so library tests
//! (`#[path = "../../tests/support/netlab.rs"] mod netlab;`) and binary tests
//! (`#[path = "support/netlab.rs"] mod netlab;`) can both include it. Needs root, `ip` and
//! `/usr/sbin/sshd`.
//!
//! ```text
//!  this namespace --veth-- bastion 0 --veth-- bastion 1 ... --veth-- private namespace
//!  10.A.B.1          10.A.B.2   10.A.B.5   10.A.B.6        10.A.B.4k+2: sshd per private host
//! ```
//!
//! Only bastion 0 is routable from here; bastions do not forward packets, so a host further
//! in is reachable only by tunnelling through SSH. Everything (sshd processes, namespaces and
//! with them the veth pairs) is removed on drop, also when a test panics.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
/// Port of every bastion's sshd (each lives in its own namespace).
pub const BASTION_PORT: u16 = 22;
/// Private host `i` listens on `PRIVATE_PORT + i` in the private namespace.
pub const PRIVATE_PORT: u16 = 2200;

/// Distinguishes labs made by one test process.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One sshd inside a namespace.
pub struct NsSshd {
    /// `bastion0`, `private1`, ...
    pub name: String,
    pub ns: String,
    /// The address it listens on, as seen from the namespace before it.
    pub addr: String,
    pub port: u16,
    /// `type base64 comment` of its own host key.
    pub host_key_pub: String,
    pub log: PathBuf,
    child: Child,
}

impl NsSshd {
    /// Its known_hosts line: `addr` on port 22, else `[addr]:port`.
    pub fn known_hosts_line(&self) -> String {
        let mut parts = self.host_key_pub.split_whitespace();
        let (t, k) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        format!("{} {t} {k}", host_port(&self.addr, self.port))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Successful logins so far (one per SSH session).
    pub fn logins(&self) -> usize {
        self.log_text().matches("Accepted publickey").count()
    }

    /// `user@addr:port` for ProxyJump.
    pub fn jump_spec(&self, user: &str) -> String {
        format!("{user}@{}:{}", self.addr, self.port)
    }
}

fn host_port(addr: &str, port: u16) -> String {
    if port == 22 {
        addr.to_string()
    } else {
        format!("[{addr}]:{port}")
    }
}

/// A lab: a client key authorised everywhere, a known_hosts file (empty until [`trust`]),
/// bastions in a chain and private hosts behind the last one.
///
/// [`trust`]: NetLab::trust
pub struct NetLab {
    pub dir: tempfile::TempDir,
    /// The client's private key; its public half is in every server's authorized_keys.
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    pub authorized_keys: PathBuf,
    /// `bastions[0]` is reachable from here; each next one only from the one before.
    pub bastions: Vec<NsSshd>,
    /// Reachable only from the last bastion.
    pub private: Vec<NsSshd>,
    /// The user every server accepts (the one running the tests).
    pub user: String,
    namespaces: Vec<String>,
    /// Root-side veth names, deleted on drop in case a panic left one behind.
    links: Vec<String>,
}

fn run(args: &[&str]) {
    let out = Command::new(args.first().copied().unwrap_or("true"))
        .args(args.get(1..).unwrap_or_default())
        .output()
        .unwrap_or_else(|e| panic!("netlab: running {args:?}: {e}"));
    assert!(
        out.status.success(),
        "netlab: {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn new_key(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let p = path.display().to_string();
    run(&["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", &p]);
    path
}

/// The `10.A.B` prefix of a /24 that no interface here uses yet.
fn free_prefix(seq: usize) -> String {
    let used = output("ip", &["-4", "-o", "addr"]);
    let pid = std::process::id() as usize;
    for attempt in 0..4096usize {
        let n = (pid * 64 + seq * 7 + attempt) % (100 * 256);
        let prefix = format!("10.{}.{}", 100 + n / 256, n % 256);
        if !used.contains(&format!("{prefix}.")) {
            return prefix;
        }
    }
    panic!("netlab: no free 10.x.y.0/24 for a lab");
}

impl NetLab {
    /// `bastions` chained bastions (at least 1) and `private_hosts` hosts behind the last.
    pub fn start(bastions: usize, private_hosts: usize) -> NetLab {
        assert!(bastions >= 1, "netlab: a lab needs at least one bastion");
        assert!(
            Path::new(SSHD).exists(),
            "netlab: {SSHD} is missing (apt-get install openssh-server)"
        );
        let uid = output("id", &["-u"]);
        assert_eq!(uid.trim(), "0", "netlab: network namespaces need root");
        assert!(
            Command::new("ip").arg("-V").output().is_ok(),
            "netlab: `ip` is missing (apt-get install iproute2)"
        );
        let _ = std::fs::create_dir_all("/run/sshd");
        let seq = NEXT.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("netlab: {e}"));
        let key = new_key(dir.path(), "id_ed25519");
        let authorized_keys = dir.path().join("authorized_keys");
        let known_hosts = dir.path().join("known_hosts");
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap_or_default();
        let _ = std::fs::write(&authorized_keys, public);
        let _ = std::fs::write(&known_hosts, "");
        let user = output("id", &["-un"]).trim().to_string();
        // Built up in place: a panic half-way still drops (and cleans) what exists.
        let mut lab = NetLab {
            dir,
            key,
            known_hosts,
            authorized_keys,
            bastions: Vec::new(),
            private: Vec::new(),
            user,
            namespaces: Vec::new(),
            links: Vec::new(),
        };
        let prefix = free_prefix(seq);
        let mut names: Vec<String> = (0..bastions).map(|i| format!("play{pid}l{seq}b{i}")).collect();
        names.push(format!("play{pid}l{seq}p"));
        for ns in &names {
            run(&["ip", "netns", "add", ns]);
            lab.namespaces.push(ns.clone());
            run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        // Link k joins namespace k-1 (k = 0: this one) to namespace k.
        let mut far_addrs = Vec::new();
        for (k, far_ns) in names.iter().enumerate() {
            let near = format!("vp{pid:x}{seq:02x}{k}a");
            let far = format!("vp{pid:x}{seq:02x}{k}b");
            let (near_addr, far_addr) = (format!("{prefix}.{}", 4 * k + 1), format!("{prefix}.{}", 4 * k + 2));
            lab.links.push(near.clone());
            run(&["ip", "link", "add", &near, "type", "veth", "peer", "name", &far]);
            run(&["ip", "link", "set", &far, "netns", far_ns]);
            let near_ns = if k == 0 { None } else { names.get(k - 1) };
            match near_ns {
                Some(ns) => {
                    run(&["ip", "link", "set", &near, "netns", ns]);
                    run(&["ip", "-n", ns, "addr", "add", &format!("{near_addr}/30"), "dev", &near]);
                    run(&["ip", "-n", ns, "link", "set", &near, "up"]);
                }
                None => {
                    run(&["ip", "addr", "add", &format!("{near_addr}/30"), "dev", &near]);
                    run(&["ip", "link", "set", &near, "up"]);
                }
            }
            run(&[
                "ip",
                "-n",
                far_ns,
                "addr",
                "add",
                &format!("{far_addr}/30"),
                "dev",
                &far,
            ]);
            run(&["ip", "-n", far_ns, "link", "set", &far, "up"]);
            far_addrs.push(far_addr);
        }
        for i in 0..bastions {
            let (ns, addr) = (names.get(i).cloned(), far_addrs.get(i).cloned());
            let s = lab.sshd(
                &format!("bastion{i}"),
                &ns.unwrap_or_default(),
                &addr.unwrap_or_default(),
                BASTION_PORT,
                "AllowTcpForwarding yes\n",
            );
            lab.bastions.push(s);
        }
        let (pns, paddr) = (names.last().cloned(), far_addrs.last().cloned());
        for i in 0..private_hosts {
            let port = PRIVATE_PORT + u16::try_from(i).unwrap_or(0);
            let s = lab.sshd(
                &format!("private{i}"),
                pns.as_deref().unwrap_or_default(),
                paddr.as_deref().unwrap_or_default(),
                port,
                "",
            );
            lab.private.push(s);
        }
        lab
    }

    fn sshd(&self, name: &str, ns: &str, addr: &str, port: u16, extra: &str) -> NsSshd {
        let dir = self.dir.path().join(name);
        let _ = std::fs::create_dir_all(&dir);
        let hostkey = new_key(&dir, "hostkey");
        let log = dir.join("sshd.log");
        let config = dir.join("sshd_config");
        let text = format!(
            "{extra}Port {port}\nListenAddress {addr}\nHostKey {}\nAuthorizedKeysFile {}\nPermitRootLogin yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\nUsePAM no\n\
             PidFile {}\nLogLevel VERBOSE\n",
            hostkey.display(),
            self.authorized_keys.display(),
            dir.join("sshd.pid").display(),
        );
        let _ = std::fs::write(&config, text);
        let cfg = config.display().to_string();
        let logs = log.display().to_string();
        // `ip netns exec` execs sshd, so the child's pid is sshd's.
        let child = Command::new("ip")
            .args(["netns", "exec", ns, SSHD, "-D", "-f", &cfg, "-E", &logs])
            .stdin(Stdio::null())
            // Logs go to -E; a session left behind must not hold the test's output open.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("netlab: starting sshd in {ns}: {e}"));
        let mut s = NsSshd {
            name: name.to_string(),
            ns: ns.to_string(),
            addr: addr.to_string(),
            port,
            host_key_pub: std::fs::read_to_string(hostkey.with_extension("pub")).unwrap_or_default(),
            log,
            child,
        };
        // Not reachable from here (that is the point), so wait for its log line.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !s.log_text().contains("Server listening on") {
            let exited = s.child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "netlab: sshd {name} in {ns} did not start ({exited:?}): {}",
                s.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    /// Record `s`'s host key in the lab's known_hosts.
    pub fn trust(&self, s: &NsSshd) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.known_hosts)
            .unwrap_or_else(|e| panic!("netlab: {e}"));
        let _ = writeln!(f, "{}", s.known_hosts_line());
    }

    /// Trust every server of the lab.
    pub fn trust_all(&self) {
        for s in self.bastions.iter().chain(&self.private) {
            self.trust(s);
        }
    }

    /// `user@bastion0:22,user@bastion1:22,...`: the whole chain as one ProxyJump value.
    pub fn proxy_jump(&self) -> String {
        let hops: Vec<String> = self.bastions.iter().map(|b| b.jump_spec(&self.user)).collect();
        hops.join(",")
    }

    /// `ansible_ssh_common_args` for the hosts behind the bastions.
    pub fn common_args(&self) -> String {
        format!(
            "-o ProxyJump={} -o UserKnownHostsFile={}",
            self.proxy_jump(),
            self.known_hosts.display()
        )
    }

    /// An INI inventory: group `group` with `private0`, `private1`, ... reached through the
    /// bastions with the lab's key and known_hosts.
    pub fn inventory_ini(&self, group: &str) -> String {
        let mut s = format!("[{group}]\n");
        for p in &self.private {
            s.push_str(&format!(
                "{} ansible_host={} ansible_port={} ansible_user={} ansible_ssh_private_key_file={}\n",
                p.name,
                p.addr,
                p.port,
                self.user,
                self.key.display()
            ));
        }
        s.push_str(&format!(
            "\n[{group}:vars]\nansible_ssh_common_args='{}'\n",
            self.common_args()
        ));
        s
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        for s in self.bastions.iter_mut().chain(self.private.iter_mut()) {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
        // Deleting a namespace deletes its veth ends, and with them their peers.
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        for link in &self.links {
            let _ = Command::new("ip")
                .args(["link", "del", link])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
