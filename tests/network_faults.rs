//! Network faults through the binary against real sshd hosts: a black-holed host, a connection
//! reset mid-batch, a peer that vanishes without FIN or RST, a bastion that goes down during a
//! serial rollout, and commands or become prompts that hang. Each ends in bounded time with the
//! host unreachable or failed, the rest of the run doing what Ansible does, and nothing left
//! running on the host.
//!
//! Packets are dropped with a permanent neighbour entry pointing at a MAC nobody has: frames
//! leave, the peer's interface discards them, and no error comes back (only iproute2 needed).

#[path = "support/become_users.rs"]
mod become_users;
#[path = "support/netlab.rs"]
mod netlab;
#[path = "support/sshd_hosts.rs"]
mod sshd_hosts;
mod support;

use sshd_hosts::SshHosts;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Outcome, write_tree};

/// A MAC no interface here has: frames sent to it are dropped by the receiving veth.
const NOWHERE_MAC: &str = "02:00:00:6e:66:01";

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ip {args:?}: {e} (apt-get install iproute2)"));
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ip_out(args: &[&str]) -> String {
    Command::new("ip")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn must_be_root() {
    let uid = Command::new("id").arg("-u").output().expect("id");
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "these tests build network namespaces and must run as root"
    );
}

/// A namespace at the end of a veth pair whose address swallows every packet sent to it.
struct BlackHole {
    ns: String,
    link: String,
    /// The unreachable address.
    addr: String,
}

impl BlackHole {
    fn new(tag: &str) -> BlackHole {
        must_be_root();
        let pid = std::process::id();
        let ns = format!("nf-{tag}-{pid}");
        let link = format!("nf{tag}{:x}", pid % 0xfffff);
        let used = ip_out(&["-4", "-o", "addr"]);
        let prefix = (0..4096u32)
            .map(|i| {
                let n = (pid * 13 + i) % (50 * 256);
                format!("10.{}.{}", 200 + n / 256, n % 256)
            })
            .find(|p| !used.contains(&format!("{p}.")))
            .expect("a free 10.x.y.0/24");
        let hole = BlackHole {
            ns: ns.clone(),
            link: link.clone(),
            addr: format!("{prefix}.2"),
        };
        ip(&["netns", "add", &ns]);
        let peer = format!("{link}p");
        ip(&["link", "add", &link, "type", "veth", "peer", "name", &peer]);
        ip(&["link", "set", &peer, "netns", &ns]);
        ip(&["addr", "add", &format!("{prefix}.1/30"), "dev", &link]);
        ip(&["link", "set", &link, "up"]);
        ip(&["-n", &ns, "addr", "add", &format!("{}/30", hole.addr), "dev", &peer]);
        ip(&["-n", &ns, "link", "set", &peer, "up"]);
        ip(&[
            "neigh",
            "replace",
            &hole.addr,
            "lladdr",
            NOWHERE_MAC,
            "dev",
            &link,
            "nud",
            "permanent",
        ]);
        hole
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .stderr(Stdio::null())
            .status();
    }
}

/// Cut the link to a NetLab server both ways, silently: each side's neighbour entry for the
/// other now points nowhere.
fn cut_silently(s: &netlab::NsSshd) {
    let near_addr = {
        let (head, last) = s.addr.rsplit_once('.').expect("an IPv4 address");
        let n: u8 = last.parse().expect("last octet");
        format!("{head}.{}", n - 1)
    };
    let dev_with = |out: String, addr: &str| -> String {
        out.lines()
            .find(|l| l.contains(&format!("inet {addr}/")))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no interface with {addr}: {out}"))
    };
    let near_dev = dev_with(ip_out(&["-4", "-o", "addr"]), &near_addr);
    let far_dev = dev_with(ip_out(&["-n", &s.ns, "-4", "-o", "addr"]), &s.addr);
    ip(&[
        "neigh",
        "replace",
        &s.addr,
        "lladdr",
        NOWHERE_MAC,
        "dev",
        &near_dev,
        "nud",
        "permanent",
    ]);
    ip(&[
        "-n",
        &s.ns,
        "neigh",
        "replace",
        &near_addr,
        "lladdr",
        NOWHERE_MAC,
        "dev",
        &far_dev,
        "nud",
        "permanent",
    ]);
}

// --- processes -----------------------------------------------------------------------------

struct Proc {
    pid: u32,
    ppid: u32,
    cmdline: String,
}

fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid ...`; comm may hold spaces, so read after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let cmdline = std::fs::read(e.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " ").trim().to_string())
            .unwrap_or_default();
        out.push(Proc { pid, ppid, cmdline });
    }
    out
}

fn descendants(root: u32) -> Vec<Proc> {
    let all = processes();
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for c in all.iter().filter(|c| c.ppid == p) {
            frontier.push(c.pid);
            found.push(Proc {
                pid: c.pid,
                ppid: c.ppid,
                cmdline: c.cmdline.clone(),
            });
        }
    }
    found
}

/// SIGKILL to one process of this test's, by pid (the shell's builtin: no procps needed).
fn kill(pid: u32) {
    let _ = Command::new("sh").args(["-c", &format!("kill -9 {pid}")]).status();
}

/// Ends, also when a test fails half-way, what the test caused on its hosts: the session
/// processes under its sshd servers (by pid) and commands carrying its markers.
struct Cleanup {
    /// Kill everything under these.
    parents: Vec<u32>,
    /// Kill these themselves too (servers this test started outside the support code).
    servers: Vec<u32>,
    markers: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in self.parents.iter().chain(&self.servers) {
            for d in descendants(*p) {
                kill(d.pid);
            }
        }
        for p in &self.servers {
            kill(*p);
        }
        for m in &self.markers {
            for p in processes().into_iter().filter(|p| p.cmdline.contains(m.as_str())) {
                if !p.cmdline.contains("network_faults") {
                    kill(p.pid);
                }
            }
        }
    }
}

fn markers(m: &[&str]) -> Cleanup {
    Cleanup {
        parents: Vec::new(),
        servers: Vec::new(),
        markers: m.iter().map(|s| s.to_string()).collect(),
    }
}

/// Processes anywhere whose command line contains `marker` (a number only this test uses).
fn running_with(marker: &str) -> Vec<String> {
    processes()
        .into_iter()
        .filter(|p| p.cmdline.contains(marker) && !p.cmdline.contains("cargo") && !p.cmdline.contains("network_faults"))
        .map(|p| format!("{} {}", p.pid, p.cmdline))
        .collect()
}

/// Wait until no process carries `marker` (killed processes take a moment to go).
fn gone_within(marker: &str, limit: Duration) -> Vec<String> {
    let start = Instant::now();
    loop {
        let left = running_with(marker);
        if left.is_empty() || start.elapsed() > limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pid_file(path: &Path) -> u32 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {}", path.display()))
}

// --- running play ----------------------------------------------------------------------------

/// How long after the run started its journal recorded `host` unreachable.
fn unreachable_after(dir: &Path, host: &str) -> Duration {
    let runs = dir.join(".play/runs");
    let journal = std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("{}: {e}", runs.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap_or_else(|| panic!("no journal in {}", runs.display()));
    let text = std::fs::read_to_string(&journal).unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let at = |pick: &dyn Fn(&serde_json::Value) -> bool| {
        events
            .iter()
            .find(|e| pick(e))
            .and_then(|e| e["t"].as_u64())
            .unwrap_or_else(|| panic!("event not in the journal:\n{text}"))
    };
    let start = at(&|e| e["event"] == "run_start");
    let gone = at(&|e| e["event"] == "result" && e["host"] == host && e["status"] == "unreachable");
    Duration::from_millis(gone.saturating_sub(start))
}

/// `play` started in the background, with the clean environment `support::play` uses.
fn spawn_play(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_play"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-home")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the play binary starts")
}

/// Wait for `child`, killing it (and failing) if it runs past `limit`: a hang is the bug.
fn finish(mut child: Child, limit: Duration) -> Outcome {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "play still running after {limit:?}: it hangs\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn both(o: &Outcome) -> String {
    format!("exit {}\n{}\n{}", o.code, o.stdout, o.stderr)
}

/// The recap line's counters for `host`: ok, changed, unreachable, failed.
fn recap(stdout: &str, host: &str) -> Option<[u32; 4]> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(host) && l.contains(" : ok="))?;
    let num = |k: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")).and_then(|n| n.parse().ok()))
            .unwrap_or(u32::MAX)
    };
    Some([num("ok"), num("changed"), num("unreachable"), num("failed")])
}

/// The SshHosts inventory with `extra` YAML lines (indented 4) added to `all.vars` and extra
/// hosts (`name: {vars}` lines, indented 4) added to `all.hosts` and group `nodes`.
fn inventory(hosts: &SshHosts, extra_vars: &str, extra_hosts: &[(&str, &str)]) -> String {
    let mut inv = hosts.inventory(&[]);
    let mut host_lines = String::new();
    let mut members = String::new();
    for (name, vars) in extra_hosts {
        host_lines.push_str(&format!("    {name}: {vars}\n"));
        members.push_str(&format!("        {name}:\n"));
    }
    inv = inv.replacen("  vars:\n", &format!("{host_lines}  vars:\n{extra_vars}"), 1);
    inv.push_str(&members);
    inv
}

// --- the tests ------------------------------------------------------------------------------

const TWO_TASKS: &str = "
- hosts: nodes
  gather_facts: false
  tasks:
    - command: echo first
      changed_when: false
    - command: echo second
      changed_when: false
";

#[test]
fn a_black_holed_host_fails_within_the_connect_timeout_while_the_others_carry_on() {
    let hole = BlackHole::new("bh");
    let hosts = SshHosts::start(&["a", "b"]);
    let hole_vars = format!("{{ansible_host: {}, ansible_port: 22}}", hole.addr);
    // (how the timeout is set, ansible.cfg, extra vars, hole's extra vars): each 2 s, with
    // everything else at 60 s, so the default (10 s) or the wrong source would show.
    let ways: [(&str, &str, &str); 3] = [
        ("ansible.cfg timeout", "[defaults]\ntimeout = 2\n", ""),
        (
            "ansible_ssh_timeout",
            "[defaults]\ntimeout = 60\n",
            "    ansible_ssh_timeout: 2\n",
        ),
        (
            "ConnectTimeout in ansible_ssh_args",
            "[defaults]\ntimeout = 60\n",
            "    ansible_ssh_args: -o ConnectTimeout=2\n",
        ),
    ];
    for (how, cfg, vars) in ways {
        let dir = tempfile::tempdir().expect("tempdir");
        let inv = inventory(&hosts, vars, &[("hole", &hole_vars)]);
        write_tree(
            dir.path(),
            &[("hosts.yml", &inv), ("site.yml", TWO_TASKS), ("ansible.cfg", cfg)],
        );
        let out = finish(
            spawn_play(dir.path(), &["site.yml", "-i", "hosts.yml"]),
            Duration::from_secs(90),
        );
        assert_eq!(out.code, 4, "{how}: {}", both(&out));
        // From the journal's clock: the run's start to the hole's result, so that the other
        // hosts' logins on a busy machine do not count.
        let took = unreachable_after(dir.path(), "hole");
        assert!(
            took < Duration::from_secs(9),
            "{how}: the hole was given up after {took:?}, the timeout being 2 s (default 10 s)\n{}",
            both(&out)
        );
        assert_eq!(recap(&out.stdout, "hole"), Some([0, 0, 1, 0]), "{how}: {}", both(&out));
        for h in ["a", "b"] {
            assert_eq!(recap(&out.stdout, h), Some([2, 0, 0, 0]), "{how}: {h}: {}", both(&out));
        }
        assert!(
            out.stdout.contains(&hole.addr) && out.stdout.to_lowercase().contains("timed out"),
            "{how}: says which address timed out: {}",
            both(&out)
        );
    }
}

#[test]
fn a_connection_reset_mid_batch_marks_the_host_unreachable_and_no_later_batch_starts() {
    let hosts = SshHosts::start(&["a", "b", "c"]);
    let book = "
- hosts: nodes
  gather_facts: false
  serial: 1
  tasks:
    - command: sleep 4.41101
    - command: echo after
      changed_when: false
";
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", book)]);
    let mut cleanup = markers(&["sleep 4.41101"]);
    cleanup.parents = hosts.hosts.iter().map(|h| h.pid()).collect();
    let child = spawn_play(dir.path(), &["site.yml", "-i", "hosts.yml"]);
    let b = &hosts.hosts[1];
    wait_for("b's command to start", Duration::from_secs(60), || {
        descendants(b.pid()).iter().any(|p| p.cmdline.contains("4.41101"))
    });
    for p in descendants(b.pid()) {
        kill(p.pid);
    }
    let out = finish(child, Duration::from_secs(60));
    assert_eq!(out.code, 4, "{}", both(&out));
    assert_eq!(recap(&out.stdout, "a"), Some([2, 1, 0, 0]), "{}", both(&out));
    assert_eq!(recap(&out.stdout, "b"), Some([0, 0, 1, 0]), "{}", both(&out));
    assert_eq!(recap(&out.stdout, "c"), None, "c's batch never starts: {}", both(&out));
    assert!(
        !hosts.hosts[2].log().contains("Accepted publickey"),
        "nobody logged in to c"
    );
}

#[test]
fn a_peer_that_vanishes_mid_command_is_detected_by_keepalives_not_waited_for() {
    let lab = netlab::NetLab::start(1, 0);
    let s = &lab.bastions[0];
    lab.trust(s);
    let sshd_pid = pid_file(&lab.dir.path().join("bastion0/sshd.pid"));
    let inv = format!(
        "[nodes]\nfar ansible_host={} ansible_port={} ansible_user={} ansible_ssh_private_key_file={}\n\n\
         [nodes:vars]\nansible_ssh_common_args='-o UserKnownHostsFile={}'\n\
         ansible_ssh_args='-o ServerAliveInterval=1 -o ServerAliveCountMax=2'\n",
        s.addr,
        s.port,
        lab.user,
        lab.key.display(),
        lab.known_hosts.display()
    );
    let book = "
- hosts: nodes
  gather_facts: false
  tasks:
    - command: sleep 41201
";
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.ini", &inv), ("site.yml", book)]);
    let mut cleanup = markers(&["sleep 41201"]);
    cleanup.parents.push(sshd_pid);
    let child = spawn_play(dir.path(), &["site.yml", "-i", "hosts.ini"]);
    wait_for("the command to start", Duration::from_secs(60), || {
        descendants(sshd_pid).iter().any(|p| p.cmdline.contains("41201"))
    });
    cut_silently(s);
    let cut = Instant::now();
    let out = finish(child, Duration::from_secs(120));
    let took = cut.elapsed();
    // The sessions are still there on the far side: `cleanup` ends them.
    assert_eq!(out.code, 4, "{}", both(&out));
    assert_eq!(recap(&out.stdout, "far"), Some([0, 0, 1, 0]), "{}", both(&out));
    assert!(
        took < Duration::from_secs(20),
        "noticed after {took:?}; keepalives every 1 s, 2 unanswered allowed"
    );
}

#[test]
fn the_bastion_going_down_mid_rollout_stops_it_cleanly_and_resume_finishes() {
    let lab = netlab::NetLab::start(1, 3);
    lab.trust_all();
    let bastion_dir = lab.dir.path().join("bastion0");
    let bastion_pid = pid_file(&bastion_dir.join("sshd.pid"));
    let p1_pid = pid_file(&lab.dir.path().join("private1/sshd.pid"));
    let book = "
- hosts: behind
  gather_facts: false
  serial: 1
  tasks:
    - command: sleep 3.41301
    - command: echo after
      changed_when: false
";
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[("hosts.ini", &lab.inventory_ini("behind")), ("site.yml", book)],
    );
    let mut cleanup = markers(&["sleep 3.41301"]);
    cleanup.parents = vec![bastion_pid, p1_pid];
    let child = spawn_play(dir.path(), &["site.yml", "-i", "hosts.ini"]);
    wait_for("private1's command", Duration::from_secs(60), || {
        descendants(p1_pid).iter().any(|p| p.cmdline.contains("3.41301"))
    });
    for p in descendants(bastion_pid) {
        kill(p.pid);
    }
    kill(bastion_pid);
    let out = finish(child, Duration::from_secs(60));
    assert_eq!(out.code, 4, "Ansible's exit code for unreachable hosts: {}", both(&out));
    assert_eq!(recap(&out.stdout, "private0"), Some([2, 1, 0, 0]), "{}", both(&out));
    assert_eq!(recap(&out.stdout, "private1"), Some([0, 0, 1, 0]), "{}", both(&out));
    assert_eq!(recap(&out.stdout, "private2"), None, "no later batch: {}", both(&out));
    assert_eq!(lab.private[2].logins(), 0, "nobody reached private2");
    let bastion = &lab.bastions[0];
    assert!(
        out.stdout.contains("bastion") && out.stdout.contains(&bastion.addr),
        "the message names the bastion: {}",
        both(&out)
    );
    assert!(out.stderr.contains("--resume"), "says how to resume: {}", both(&out));

    // The bastion back (a daemon of this test's, found by its pid file), the run resumes at
    // the batch that stopped and does not redo the first.
    let _ = std::fs::remove_file(bastion_dir.join("sshd.pid"));
    let started = Command::new("ip")
        .args(["netns", "exec", &bastion.ns, "/usr/sbin/sshd", "-f"])
        .arg(bastion_dir.join("sshd_config"))
        .arg("-E")
        .arg(&bastion.log)
        .status()
        .expect("sshd");
    assert!(started.success());
    // sshd creates the file before it writes the pid: wait for the pid, not the file.
    wait_for("the bastion's pid", Duration::from_secs(10), || {
        std::fs::read_to_string(bastion_dir.join("sshd.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .is_some()
    });
    let again = pid_file(&bastion_dir.join("sshd.pid"));
    cleanup.servers.push(again);
    let p0_logins = lab.private[0].logins();
    let resumed = finish(
        spawn_play(dir.path(), &["site.yml", "-i", "hosts.ini", "--resume"]),
        Duration::from_secs(90),
    );
    assert_eq!(resumed.code, 0, "{}", both(&resumed));
    assert_eq!(lab.private[0].logins(), p0_logins, "batch 1 is not run again");
    assert!(lab.private[2].logins() > 0, "the rest of the rollout ran");
}

#[test]
fn a_hung_command_ends_at_its_timeout_with_the_remote_process_killed() {
    let hosts = SshHosts::start(&["a"]);
    let book = "
- hosts: nodes
  gather_facts: false
  tasks:
    - command: sleep 41401
      timeout: 3
      ignore_errors: true
    - shell: sleep 41402 | cat
      timeout: 3
      ignore_errors: true
";
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), &[("hosts.yml", &hosts.inventory(&[])), ("site.yml", book)]);
    let _cleanup = markers(&["sleep 41401", "sleep 41402"]);
    let start = Instant::now();
    let out = finish(
        spawn_play(dir.path(), &["site.yml", "-i", "hosts.yml"]),
        Duration::from_secs(60),
    );
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
    assert_eq!(
        out.stdout.matches("timed out after 3").count(),
        2,
        "both tasks fail at their limit: {}",
        both(&out)
    );
    assert!(out.stdout.contains("ignored=2"), "{}", both(&out));
    for marker in ["sleep 41401", "sleep 41402"] {
        let left = gone_within(marker, Duration::from_secs(10));
        assert!(left.is_empty(), "still running on the host: {left:?}");
    }
}

#[test]
fn become_that_gets_no_or_a_wrong_password_or_hangs_ends_with_sudo_and_its_command_gone() {
    become_users::ensure();
    let hosts = SshHosts::start(&["a"]);
    let _cleanup = markers(&["sleep 41601", "sleep 41602", "sleep 41603", "sleep 41604"]);
    let pw = serde_json::to_string(become_users::PW).expect("json");
    let right = format!("    ansible_become_password: {pw}\n");
    // (case, login user, extra vars, marker in its command, what the failure says)
    let cases = [
        ("no password", become_users::PW_USER, String::new(), "41601", "password"),
        (
            "a wrong password",
            become_users::PW_USER,
            "    ansible_become_password: not-the-password\n".to_string(),
            "41602",
            "password",
        ),
        (
            "sudo with a password, the command hangs",
            become_users::PW_USER,
            right,
            "41603",
            "timed out",
        ),
        (
            "sudo without a password, the command hangs",
            become_users::NOPW_USER,
            String::new(),
            "41604",
            "timed out",
        ),
    ];
    for (case, user, vars, marker, says) in cases {
        let inv = inventory(&hosts, &format!("    ansible_user: {user}\n{vars}"), &[]).replacen(
            "    ansible_user: root\n",
            "",
            1,
        );
        let book = format!(
            "
- hosts: nodes
  gather_facts: false
  tasks:
    - command: sleep {marker}
      become: true
      timeout: 3
"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(
            dir.path(),
            &[
                ("hosts.yml", &inv),
                ("site.yml", &book),
                ("ansible.cfg", "[defaults]\ntimeout = 4\n"),
            ],
        );
        let start = Instant::now();
        let out = finish(
            spawn_play(dir.path(), &["site.yml", "-i", "hosts.yml"]),
            Duration::from_secs(60),
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{case}: {:?}",
            start.elapsed()
        );
        assert_eq!(out.code, 2, "{case}: {}", both(&out));
        assert_eq!(recap(&out.stdout, "a"), Some([0, 0, 0, 1]), "{case}: {}", both(&out));
        assert!(
            out.stdout.to_lowercase().contains(says),
            "{case}: says what went wrong: {}",
            both(&out)
        );
        let left = gone_within(&format!("sleep {marker}"), Duration::from_secs(10));
        assert!(left.is_empty(), "{case}: sudo or its command still running: {left:?}");
    }
}
