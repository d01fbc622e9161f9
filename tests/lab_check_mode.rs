//! `--check` on a converged lab cluster changes nothing. The cluster is upgraded for real first
//! (v1.29.4 -> v1.30.4) and its OS brought up to date; then every maintenance playbook runs under
//! `--check --diff`, each with something it WOULD do (a newer kube_version, pending packages and
//! a pending reboot, a forced certificate renewal, a node to drain, a backup to take), and after
//! each run the whole state is compared with the state before the first:
//!
//! - every file under every host's directory (bin_dir, etcd data and backups, the unit state,
//!   the package state behind /var/lib/apt, pid files, the boot id): path, kind, mode, mtime
//!   and a content hash. These are all the places the roles can write: inventory.sh points
//!   bin_dir, etcd_data_dir and etcd_backup_dir into the host's directory.
//!   Not state: the session logs sshd and etcd append to on every connection and request
//!   (sshd.log, etcd.log), and the stand-in systemctl's call log (systemd/systemctl.log), which
//!   records reads too; every line a check run appends there must be a read (`show`, ...).
//!   etcd's own raft files (the data dir) must be identical too, with the raft log's index,
//!   unless a leader was elected meanwhile (the term moved): an election on a loaded machine
//!   appends to the WAL without any client asking; then its revision and keys must still hold.
//! - what lives in each host's /run (its own tmpfs): /var/run/reboot-required and its .pkgs.
//! - the cluster store as a whole: nodes (versions, cordons, readiness), pods, PDBs, faults,
//!   certificates, the event log and the watermarks. Reads do not write it (kubectl get and
//!   version, kubeadm certs check-expiration and crictl pods only read; the first /healthz after
//!   a static-pod restart logs once, and convergence answered those), so all of it is state: a
//!   cordon undone a moment later still leaves two events behind.
//! - etcd on every member, asked through the lab (`lab/lab exec cpN etcdctl`): the revision, every
//!   key with its value and revisions, and the member list.
//! - every host's boot id, read through its own mount namespace.
//!
//! The check runs must also report the work they would do (so a run that silently did nothing
//! cannot pass): from each run's journal, the tasks reported changed and the commands that
//! "would have run if not in check mode" (as ansible-core reports a command under --check).

#[path = "support/lab.rs"]
mod lab;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use lab::{Lab, text};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::Outcome;

const CONVERGED: &str = "v1.30.4";
const NEWER: &str = "v1.31.1";
const CONTROL_PLANE: [&str; 3] = ["cp1", "cp2", "cp3"];
const NODES: [&str; 7] = ["cp1", "cp2", "cp3", "w1", "w2", "w3", "w4"];
/// Fast health gates; everything else as a user runs it.
const FAST: [&str; 2] = ["-e", "upgrade_gate_delay=1"];
/// Logs every session or request appends to: a record of visits, not state.
const SESSION_LOGS: [&str; 2] = ["sshd.log", "etcd.log"];
const SYSTEMCTL_LOG: &str = "systemd/systemctl.log";
/// systemctl verbs that only read.
const SYSTEMCTL_READS: [&str; 8] = [
    "show",
    "status",
    "is-active",
    "is-enabled",
    "is-failed",
    "list-units",
    "list-unit-files",
    "cat",
];
const WOULD_RUN: &str = "Command would have run if not in check mode";

// ---- the snapshot ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
struct Member {
    revision: i64,
    /// (term, raft index): the log moves on an election without any client writing.
    raft: (i64, i64),
    /// Every key with its value and revisions (`get '' --prefix`; `endpoint hashkv` would
    /// commit etcd's backend, a write of its own).
    keys: String,
    members: Vec<String>,
}

#[derive(Clone, Debug)]
struct Snapshot {
    /// host-relative path -> "kind mode mtime sha256" (everything but the logs and etcd's data dir).
    files: BTreeMap<String, String>,
    /// The same for the files of etcd's data dirs.
    etcd_files: BTreeMap<String, String>,
    /// host -> its systemctl call log.
    systemctl: BTreeMap<String, String>,
    /// host -> the contents of /var/run/reboot-required and .pkgs ("" when absent).
    run_flags: BTreeMap<String, String>,
    boot_ids: BTreeMap<String, String>,
    etcd: BTreeMap<String, Member>,
    store: Value,
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        out.push(p.clone());
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        if meta.is_dir() {
            walk(&p, out);
        }
    }
}

/// Every entry under every host's directory, with what identifies its content.
fn host_files(
    lab: &Lab,
) -> (
    BTreeMap<String, String>,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
) {
    let root = lab.dir.join("hosts");
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    let (mut files, mut etcd_files, mut systemctl) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for p in paths {
        let rel = p
            .strip_prefix(&root)
            .expect("under the hosts dir")
            .display()
            .to_string();
        let mut parts = rel.splitn(2, '/');
        let (host, inside) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        if SESSION_LOGS.contains(&inside) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&p).expect("stat");
        if inside == SYSTEMCTL_LOG {
            systemctl.insert(host.to_string(), std::fs::read_to_string(&p).unwrap_or_default());
            continue;
        }
        let content = if meta.is_file() {
            sha256(&std::fs::read(&p).unwrap_or_else(|e| panic!("read {rel}: {e}")))
        } else if meta.is_symlink() {
            std::fs::read_link(&p)
                .map(|t| t.display().to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let kind = if meta.is_dir() {
            "dir"
        } else if meta.is_symlink() {
            "link"
        } else {
            "file"
        };
        let id = format!(
            "{kind} {:o} {}.{:09} {content}",
            meta.permissions().mode() & 0o7777,
            meta.mtime(),
            meta.mtime_nsec()
        );
        if inside == "etcd" || inside.starts_with("etcd/") {
            etcd_files.insert(rel, id);
        } else {
            files.insert(rel, id);
        }
    }
    (files, etcd_files, systemctl)
}

/// `sh -c SCRIPT` in `host`'s namespaces, as its sessions see the host.
fn exec(lab: &Lab, host: &str, script: &str) -> String {
    let out = lab.lab(&["exec", host, "sh", "-c", script]);
    assert!(out.status.success(), "{host}: {script}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn etcd_member(lab: &Lab, host: &str) -> Member {
    let raw = exec(
        lab,
        host,
        "export ETCDCTL_API=3; etcdctl endpoint status -w json && echo '#' && \
         etcdctl get '' --prefix -w json && echo '#' && etcdctl member list -w json",
    );
    let parts: Vec<Value> = raw
        .split("\n#\n")
        .map(|p| serde_json::from_str(p.trim()).unwrap_or_else(|e| panic!("{host}: {e}: {raw}")))
        .collect();
    assert_eq!(parts.len(), 3, "{host}: {raw}");
    let header = &parts[0][0]["Status"]["header"];
    let mut members: Vec<String> = parts[2]["members"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| format!("{} {} {}", m["name"], m["ID"], m["peerURLs"]))
                .collect()
        })
        .unwrap_or_default();
    members.sort();
    Member {
        revision: header["revision"].as_i64().unwrap_or(-1),
        raft: (
            header["raft_term"].as_i64().unwrap_or(-1),
            parts[0][0]["Status"]["raftIndex"].as_i64().unwrap_or(-1),
        ),
        keys: sha256(parts[1]["kvs"].to_string().as_bytes()),
        members,
    }
}

fn snapshot(lab: &Lab) -> Snapshot {
    let (files, etcd_files, systemctl) = host_files(lab);
    let mut run_flags = BTreeMap::new();
    let mut boot_ids = BTreeMap::new();
    for h in NODES {
        let raw = exec(
            lab,
            h,
            "cat /proc/sys/kernel/random/boot_id; echo '#'; \
             for f in /var/run/reboot-required /var/run/reboot-required.pkgs; do \
             [ -e $f ] && { echo \"$f:\"; cat $f; }; done; true",
        );
        let (boot, flags) = raw.split_once("#\n").unwrap_or((&raw, ""));
        boot_ids.insert(h.to_string(), boot.trim().to_string());
        run_flags.insert(h.to_string(), flags.to_string());
    }
    let etcd = CONTROL_PLANE
        .iter()
        .map(|h| (h.to_string(), etcd_member(lab, h)))
        .collect();
    Snapshot {
        files,
        etcd_files,
        systemctl,
        run_flags,
        boot_ids,
        etcd,
        store: lab.store(),
    }
}

fn diff_maps(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| format!("{k}: {:?} -> {:?}", before.get(k), after.get(k)))
        .collect()
}

fn events(store: &Value) -> Vec<Value> {
    store["events"].as_array().cloned().unwrap_or_default()
}

/// Every item of `after` as in `before`; `run` names the check run for the messages.
fn assert_unchanged(run: &str, before: &Snapshot, after: &Snapshot) {
    // The cluster: no event at all (no cordon, however short; no eviction, restart, upgrade).
    let (old, new) = (events(&before.store), events(&after.store));
    let added: Vec<&Value> = new.iter().skip(old.len()).collect();
    assert!(
        added.is_empty() && new.len() == old.len(),
        "{run}: the cluster's event log grew: {added:?}"
    );
    for n in NODES {
        assert_eq!(
            after.store["nodes"][n]["unschedulable"], false,
            "{run}: {n} is cordoned"
        );
    }
    assert_eq!(
        before.store["watermarks"], after.store["watermarks"],
        "{run}: the lowest PDB availability or the most nodes cordoned at once moved"
    );
    assert!(
        before.store == after.store,
        "{run}: the cluster store changed:\nbefore {}\nafter {}",
        before.store,
        after.store
    );

    let changed = diff_maps(&before.files, &after.files);
    assert!(changed.is_empty(), "{run}: files changed:\n{}", changed.join("\n"));
    assert_eq!(before.run_flags, after.run_flags, "{run}: /var/run/reboot-required");
    assert_eq!(before.boot_ids, after.boot_ids, "{run}: a host rebooted");
    assert_eq!(
        before.etcd,
        after
            .etcd
            .iter()
            .map(|(h, m)| {
                // The raft log is compared below, with the raft files.
                let mut m = m.clone();
                m.raft = before.etcd.get(h).map_or((-1, -1), |b| b.raft);
                (h.clone(), m)
            })
            .collect::<BTreeMap<_, _>>(),
        "{run}: etcd's revision, keyspace or membership changed"
    );
    if before
        .etcd
        .values()
        .zip(after.etcd.values())
        .all(|(b, a)| b.raft.0 == a.raft.0)
    {
        let raft = |s: &Snapshot| s.etcd.iter().map(|(h, m)| (h.clone(), m.raft)).collect::<Vec<_>>();
        assert_eq!(
            raft(before),
            raft(after),
            "{run}: etcd's raft log grew with no election"
        );
        let changed = diff_maps(&before.etcd_files, &after.etcd_files);
        assert!(
            changed.is_empty(),
            "{run}: etcd's data dir changed with no election (raft term, index: {:?}):\n{}",
            raft(after),
            changed.join("\n")
        );
    } else {
        eprintln!("{run}: etcd elected a leader meanwhile; its raft files are compared by revision only");
        let (b, a): (BTreeSet<_>, BTreeSet<_>) =
            (before.etcd_files.keys().collect(), after.etcd_files.keys().collect());
        let moved: Vec<_> = b.symmetric_difference(&a).collect();
        assert!(
            moved.iter().all(|p| p.contains("/member/wal/")),
            "{run}: etcd's data dir gained or lost files: {moved:?}"
        );
    }

    // Only reads were asked of systemctl, on every host.
    for (host, log) in &after.systemctl {
        let old = before.systemctl.get(host).map(String::as_str).unwrap_or("");
        let tail = log
            .strip_prefix(old)
            .unwrap_or_else(|| panic!("{run}: {host}'s systemctl log was rewritten"));
        for line in tail.lines() {
            let verb = line
                .split_whitespace()
                .find(|w| !w.starts_with('-'))
                .unwrap_or_default();
            assert!(
                SYSTEMCTL_READS.contains(&verb),
                "{run}: `systemctl {line}` ran on {host}"
            );
        }
    }
}

// ---- the runs -------------------------------------------------------------------------------

fn show(out: &Outcome) -> String {
    format!("exit {}\nstdout:\n{}\nstderr:\n{}", out.code, out.stdout, out.stderr)
}

/// What a run reported it did or would do: (task, host) of every result reported changed, and
/// of every command that would have run.
#[derive(Debug, Default)]
struct Work {
    changed: BTreeSet<(String, String)>,
    would_run: BTreeSet<(String, String)>,
}

impl Work {
    fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.would_run.is_empty()
    }
    fn changed_on(&self, task: &str) -> BTreeSet<String> {
        pick(&self.changed, task)
    }
    fn would_run_on(&self, task: &str) -> BTreeSet<String> {
        pick(&self.would_run, task)
    }
}

fn pick(set: &BTreeSet<(String, String)>, task: &str) -> BTreeSet<String> {
    set.iter().filter(|(t, _)| t == task).map(|(_, h)| h.clone()).collect()
}

fn hosts(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The run's journal (named on its last lines) read back.
fn work(out: &Outcome) -> Work {
    let path = out
        .stderr
        .lines()
        .chain(out.stdout.lines())
        .find_map(|l| l.strip_prefix("journal: "))
        .unwrap_or_else(|| panic!("the run names its journal:\n{}", show(out)));
    let text = std::fs::read_to_string(path.trim()).expect("the journal");
    let mut w = Work::default();
    let mut task = String::new();
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("journal lines are JSON");
        match e["event"].as_str() {
            Some("task_start") => task = e["name"].as_str().unwrap_or_default().to_string(),
            Some("result") => {
                let host = e["host"].as_str().unwrap_or_default().to_string();
                let r = &e["result"];
                let mut results = vec![r];
                if let Some(items) = r["results"].as_array() {
                    results.extend(items.iter());
                }
                for r in results {
                    if r["changed"] == true {
                        w.changed.insert((task.clone(), host.clone()));
                    }
                    if r["msg"] == WOULD_RUN {
                        w.would_run.insert((task.clone(), host.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    w
}

/// (host, changed) from the PLAY RECAP.
fn recap_changed(out: &Outcome) -> BTreeMap<String, u64> {
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .filter_map(|l| {
            let (host, rest) = l.split_once(" : ")?;
            let changed = rest.split_whitespace().find_map(|f| f.strip_prefix("changed="))?;
            Some((host.trim().to_string(), changed.parse().ok()?))
        })
        .collect()
}

fn set_kube_version(lab: &Lab, version: &str) {
    let path = lab.inventory_dir.join("group_vars/k8s_cluster/k8s-cluster.yml");
    let text = std::fs::read_to_string(&path).expect("the lab inventory has k8s-cluster.yml");
    assert!(text.contains("kube_version: "), "{text}");
    let edited: String = text
        .lines()
        .map(|l| {
            if l.starts_with("kube_version:") {
                format!("kube_version: {version}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&path, edited).expect("write k8s-cluster.yml");
}

fn run(lab: &Lab, playbook: &str, extra: &[&str]) -> Outcome {
    let mut args = FAST.to_vec();
    args.extend_from_slice(extra);
    lab.play(&format!("playbooks/{playbook}"), &args)
}

/// `playbook` under --check --diff: it ends with `code`, and changes nothing of `before`.
fn check(lab: &Lab, before: &Snapshot, playbook: &str, extra: &[&str], code: i32) -> (Outcome, Work) {
    let mut args = vec!["--check", "--diff"];
    args.extend_from_slice(extra);
    let out = run(lab, playbook, &args);
    let name = format!("{playbook} --check {}", extra.join(" "));
    // The state first: when check mode is broken, what it changed says more than how it ended.
    assert_unchanged(&name, before, &snapshot(lab));
    assert_eq!(out.code, code, "{name}:\n{}", show(&out));
    let w = work(&out);
    (out, w)
}

#[test]
fn every_maintenance_playbook_under_check_changes_nothing_on_a_converged_cluster() {
    let lab = Lab::up("chk", 91);

    // Converge: a real one-minor upgrade, then the OS brought up to date (nothing pending).
    set_kube_version(&lab, CONVERGED);
    let out = run(&lab, "upgrade-cluster.yml", &[]);
    assert_eq!(out.code, 0, "converging upgrade:\n{}", show(&out));
    let out = run(&lab, "os-upgrade.yml", &[]);
    assert_eq!(out.code, 0, "converging os-upgrade:\n{}", show(&out));
    assert!(recap_changed(&out).values().all(|c| *c == 0), "{}", show(&out));
    let backup = std::fs::read_dir(lab.host_dir("cp1").join("etcd-backups"))
        .expect("the upgrade backed etcd up")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .expect("a snapshot from the upgrade on cp1");

    // Something each playbook would do: pending packages the hosts' daily `apt-get update`
    // already knows of on cp2 and w3 (a kernel among them), a reboot w1 still asks for, and a
    // key written after the backup (a restore would lose it, a write would move the revision).
    let seeded = lab.lab(&["seed-upgrades", "cp2", "w3"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    for h in ["cp2", "w3"] {
        exec(&lab, h, "apt-get update >/dev/null");
    }
    exec(
        &lab,
        "w1",
        "echo '*** System restart required ***' >/var/run/reboot-required; \
         echo linux-image-amd64 >/var/run/reboot-required.pkgs",
    );
    exec(
        &lab,
        "cp1",
        "ETCDCTL_API=3 etcdctl put /check-mode/canary written-after-the-backup",
    );
    // etcd commits its backend in batches (100 ms): let the put reach the files.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let before = snapshot(&lab);
    assert!(before.etcd.values().all(|m| m.revision > 1), "{:?}", before.etcd);
    assert!(
        before.run_flags["w1"].contains("reboot-required"),
        "{:?}",
        before.run_flags
    );

    // The same version: nothing to do, and nothing reported.
    let (out, w) = check(&lab, &before, "upgrade-cluster.yml", &[], 0);
    assert!(w.is_empty(), "{w:?}\n{}", show(&out));
    assert!(recap_changed(&out).values().all(|c| *c == 0), "{}", show(&out));

    // A newer version: every node would be cordoned, drained, upgraded and restarted.
    let kube = format!("kube_version={NEWER}");
    let (out, w) = check(&lab, &before, "upgrade-cluster.yml", &["-e", &kube], 0);
    let all = hosts(&NODES);
    assert_eq!(
        w.would_run_on("upgrade/pre-upgrade : Cordon the node"),
        all,
        "{}",
        show(&out)
    );
    assert_eq!(w.would_run_on("upgrade/pre-upgrade : Drain the node"), all);
    assert_eq!(
        w.would_run_on("kubernetes/control-plane : Upgrade the first control-plane node"),
        hosts(&["cp1"])
    );
    assert_eq!(
        w.changed_on(&format!("kubernetes/control-plane : Install kubeadm {NEWER}")),
        hosts(&CONTROL_PLANE)
    );
    assert_eq!(
        w.changed_on(&format!(
            "kubernetes/node : Install kubeadm, kubelet and kubectl {NEWER}"
        )),
        hosts(&["w1", "w2", "w3", "w4"])
    );
    assert_eq!(w.would_run_on("upgrade/post-upgrade : Uncordon the node"), all);
    assert!(
        recap_changed(&out).values().all(|c| *c > 0),
        "every host reports changes:\n{}",
        show(&out)
    );

    // Packages on cp2 and w3, and w1's pending reboot: upgraded, drained and rebooted — not.
    let (out, w) = check(&lab, &before, "os-upgrade.yml", &[], 0);
    assert_eq!(
        w.changed_on("os/upgrade : Upgrade the OS packages"),
        hosts(&["cp2", "w3"]),
        "{}",
        show(&out)
    );
    assert_eq!(w.changed_on("os/reboot : Reboot the node"), hosts(&["w1"]));
    assert_eq!(w.would_run_on("upgrade/pre-upgrade : Cordon the node"), hosts(&["w1"]));
    assert!(
        out.stdout.contains("linux-image-amd64"),
        "the diff names the kernel:\n{}",
        show(&out)
    );

    let (out, w) = check(&lab, &before, "certs-renew.yml", &["-e", "certs_renew_force=true"], 0);
    assert_eq!(
        w.would_run_on("certs-renew : Renew all certificates"),
        hosts(&CONTROL_PLANE),
        "{}",
        show(&out)
    );

    let (out, w) = check(&lab, &before, "node-maintenance.yml", &["-e", "node=w2"], 0);
    assert_eq!(
        w.would_run_on("upgrade/pre-upgrade : Cordon the node"),
        hosts(&["w2"]),
        "{}",
        show(&out)
    );
    assert_eq!(w.would_run_on("upgrade/pre-upgrade : Drain the node"), hosts(&["w2"]));
    // Giving back a node that is not cordoned: nothing to do.
    let (out, w) = check(
        &lab,
        &before,
        "node-maintenance.yml",
        &["-e", "node=w2", "-e", "uncordon=true"],
        0,
    );
    assert!(w.is_empty(), "{w:?}\n{}", show(&out));

    // One snapshot would be taken (on the first healthy member) and none copied to the controller.
    let fetch = lab.dir.join("fetched-backups");
    let fetch_arg = format!("etcd_backup_fetch_dir={}", fetch.display());
    let (out, w) = check(&lab, &before, "etcd-backup.yml", &["-e", &fetch_arg], 0);
    assert_eq!(
        w.would_run_on("etcd : Take a snapshot"),
        hosts(&["cp1"]),
        "{}",
        show(&out)
    );
    assert!(!fetch.exists(), "the check run copied a snapshot to the controller");

    let (out, w) = check(&lab, &before, "preflight.yml", &["-e", &kube], 0);
    assert!(w.is_empty(), "{w:?}\n{}", show(&out));

    // A confirmed restore of a real snapshot is refused under --check, before anything.
    let snap = format!("etcd_restore_snapshot={}", backup.display());
    let (out, w) = check(
        &lab,
        &before,
        "etcd-restore.yml",
        &["-e", &snap, "-e", "etcd_restore_confirm=yes"],
        2,
    );
    assert!(
        out.stdout.contains("refusing to restore under --check"),
        "{}",
        show(&out)
    );
    assert!(w.is_empty(), "{w:?}\n{}", show(&out));
}
