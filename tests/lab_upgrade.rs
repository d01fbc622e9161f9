//! playbooks/upgrade-cluster.yml end to end on a lab of its own per test: the upgrade a user
//! runs (kube_version bumped in the inventory), the faults it must stop at, and resuming it.
//! Only the health gates' delay and the drain's timeouts are shortened (-e); everything else is
//! the playbook as written. What happened is read from the cluster store's event log and
//! watermarks, the hosts' files and the run journals.

#[path = "support/lab.rs"]
mod lab;
mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lab::Lab;
use serde_json::Value;
use support::Outcome;

const PLAYBOOK: &str = "playbooks/upgrade-cluster.yml";
const OLD: &str = "v1.29.4";
const NEW: &str = "v1.30.4";
const CONTROL_PLANE: [&str; 3] = ["cp1", "cp2", "cp3"];
const WORKERS: [&str; 4] = ["w1", "w2", "w3", "w4"];
/// Fast health gates; everything else as a user runs it.
const FAST: [&str; 2] = ["-e", "upgrade_gate_delay=1"];

/// A lab whose inventory asks for `version`, edited where a user edits it.
fn lab_at(name: &str, net: u8, version: &str) -> Lab {
    let lab = Lab::up(name, net);
    set_kube_version(&lab, version);
    lab
}

fn set_kube_version(lab: &Lab, version: &str) {
    let path = lab.inventory_dir.join("group_vars/k8s_cluster/k8s-cluster.yml");
    let text = std::fs::read_to_string(&path).expect("the lab inventory has k8s-cluster.yml");
    assert!(text.contains("kube_version: "), "{text}");
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("kube_version:") {
                format!("kube_version: {version}")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, edited.join("\n") + "\n").expect("write k8s-cluster.yml");
}

fn upgrade(lab: &Lab, extra: &[&str]) -> Outcome {
    let mut args = FAST.to_vec();
    args.extend_from_slice(extra);
    lab.play(PLAYBOOK, &args)
}

fn show(out: &Outcome) -> String {
    format!("exit {}\nstdout:\n{}\nstderr:\n{}", out.code, out.stdout, out.stderr)
}

fn fault(lab: &Lab, args: &[&str]) {
    let out = lab.kube_store("fault", args);
    assert!(out.status.success(), "fault {args:?}: {}", lab::text(&out));
}

// ---- the store ---------------------------------------------------------------------------

fn events(store: &Value) -> Vec<Value> {
    store["events"].as_array().cloned().unwrap_or_default()
}

fn is(e: &Value, kind: &str, node: &str) -> bool {
    e["kind"] == kind && e["node"] == node
}

/// How many `kind` events the log has for `node`.
fn count(store: &Value, kind: &str, node: &str) -> usize {
    events(store).iter().filter(|e| is(e, kind, node)).count()
}

fn seq_of(store: &Value, pick: impl Fn(&Value) -> bool) -> Vec<i64> {
    events(store)
        .iter()
        .filter(|e| pick(e))
        .filter_map(|e| e["seq"].as_i64())
        .collect()
}

fn kubelet(store: &Value, node: &str) -> String {
    store["nodes"][node]["kubelet"].as_str().unwrap_or_default().to_string()
}

/// Every node's kubelet, every API server and the cluster at `version`, every node Ready and
/// schedulable.
fn assert_all_at(store: &Value, version: &str) {
    assert_eq!(store["cluster_version"], version);
    for node in CONTROL_PLANE.iter().chain(WORKERS.iter()) {
        let n = &store["nodes"][*node];
        assert_eq!(n["kubelet"], version, "{node}: {n}");
        assert_eq!(n["ready"], true, "{node}: {n}");
        assert_eq!(n["unschedulable"], false, "{node}: {n}");
    }
    for cp in CONTROL_PLANE {
        assert_eq!(store["nodes"][cp]["apiserver"], version, "{cp}");
    }
}

/// Replays the event log: the most nodes of `among` cordoned at the same time.
fn most_cordoned_at_once(store: &Value, among: &[&str]) -> usize {
    let mut now = BTreeSet::new();
    let mut most = 0;
    for e in events(store) {
        let node = e["node"].as_str().unwrap_or_default().to_string();
        if !among.contains(&node.as_str()) {
            continue;
        }
        if e["kind"] == "cordon" {
            now.insert(node);
        } else if e["kind"] == "uncordon" {
            now.remove(&node);
        }
        most = most.max(now.len());
    }
    most
}

/// No PodDisruptionBudget went below minAvailable at any moment (the store keeps the lowest
/// healthy count each one ever had).
fn assert_no_budget_broken(store: &Value) {
    let pdbs = store["pdbs"].as_object().expect("the store has pdbs");
    assert!(!pdbs.is_empty());
    for (name, pdb) in pdbs {
        let low = store["watermarks"]["pdb_lowest"][name]
            .as_i64()
            .expect("a watermark per PDB");
        let min = pdb["minAvailable"].as_i64().expect("minAvailable");
        assert!(
            low >= min,
            "PDB {name}: {low} healthy at the lowest, minAvailable {min}"
        );
    }
    assert!(seq_of(store, |e| e["kind"] == "pdb-violated").is_empty());
}

fn assert_status_check(lab: &Lab) {
    let out = lab.kube_store("status", &["--check"]);
    assert!(out.status.success(), "status --check: {}", lab::text(&out));
}

// ---- the hosts and the output -------------------------------------------------------------

/// (path, content) of every file under each cluster host's bin_dir.
fn bin_files(lab: &Lab) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for host in CONTROL_PLANE.iter().chain(WORKERS.iter()) {
        let dir = lab.host_dir(host).join("bin");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.sort();
        for p in names {
            let bytes = std::fs::read(&p).unwrap_or_default();
            files.push((p, bytes));
        }
    }
    assert!(!files.is_empty(), "the lab hosts have binaries in bin_dir");
    files
}

fn snapshots(lab: &Lab, host: &str) -> Vec<PathBuf> {
    let dir = lab.host_dir(host).join("etcd-backups");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|x| x == "db"));
    found
}

/// `etcdctl snapshot status` accepts the snapshot and finds keys in it.
fn assert_snapshot_verifies(path: &Path) {
    let out = std::process::Command::new("etcdctl")
        .args(["snapshot", "status", &path.display().to_string(), "-w", "json"])
        .env("ETCDCTL_API", "3")
        .output()
        .expect("etcdctl runs (CI installs etcd-client)");
    assert!(out.status.success(), "{}: {}", path.display(), lab::text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).expect("snapshot status is JSON");
    assert!(status["totalKey"].as_i64().unwrap_or(0) > 0, "{status}");
}

/// Per host of the PLAY RECAP: (ok, changed, failed).
fn recap(out: &Outcome) -> Vec<(String, u64, u64, u64)> {
    let field = |l: &str, k: &str| -> u64 {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    };
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .filter(|l| l.contains(": ok="))
        .map(|l| {
            let host = l.split_whitespace().next().unwrap_or_default().to_string();
            (host, field(l, "ok="), field(l, "changed="), field(l, "failed="))
        })
        .collect()
}

/// Lines of task output about `host` (`ok: [w1]`, `changed: [w1 -> cp1]`, ...), the recap aside.
fn task_lines<'a>(out: &'a Outcome, host: &str) -> Vec<&'a str> {
    let plain = format!("[{host}]");
    let delegated = format!("[{host} ->");
    out.stdout
        .lines()
        .take_while(|l| !l.starts_with("PLAY RECAP"))
        .filter(|l| l.contains(&plain) || l.contains(&delegated))
        .collect()
}

// ---- the tests ----------------------------------------------------------------------------

#[test]
fn one_minor_upgrades_every_node_in_order_within_budgets_and_a_second_run_changes_nothing() {
    let lab = lab_at("lu1", 92, NEW);
    let out = upgrade(&lab, &[]);
    assert_eq!(out.code, 0, "{}", show(&out));
    // The playbook's own last check: `kubectl get nodes` lists every kubelet at the new version.
    let verdict = format!("TASK [Every node runs {NEW}]");
    let after: Vec<&str> = out.stdout.lines().skip_while(|l| !l.starts_with(&verdict)).collect();
    assert!(
        after.get(1).is_some_and(|l| l.starts_with("ok: [cp1]")),
        "{}",
        show(&out)
    );
    let st = lab.store();
    assert_all_at(&st, NEW);

    // The control plane finished before any worker was cordoned.
    let cp_upgrades = seq_of(&st, |e| {
        CONTROL_PLANE
            .iter()
            .any(|cp| is(e, "upgrade-apply", cp) || is(e, "upgrade-node", cp))
    });
    assert_eq!(cp_upgrades.len(), 3, "one kubeadm upgrade per control-plane node");
    let worker_cordons = seq_of(&st, |e| WORKERS.iter().any(|w| is(e, "cordon", w)));
    assert_eq!(worker_cordons.len(), 4, "every worker cordoned once");
    assert!(
        cp_upgrades.iter().max() < worker_cordons.iter().min(),
        "{:?}",
        events(&st)
    );

    // serial 20% of 4 workers: one at a time.
    assert_eq!(most_cordoned_at_once(&st, &WORKERS), 1);
    assert_eq!(st["watermarks"]["max_cordoned"], 1);
    assert_no_budget_broken(&st);

    for cp in CONTROL_PLANE {
        let snaps = snapshots(&lab, cp);
        assert_eq!(snaps.len(), 1, "{cp}: {snaps:?}");
        assert_snapshot_verifies(&snaps[0]);
    }
    assert_status_check(&lab);

    let again = upgrade(&lab, &[]);
    assert_eq!(again.code, 0, "{}", show(&again));
    let rows = recap(&again);
    assert_eq!(rows.len(), 7, "{}", show(&again));
    for (host, ok, changed, failed) in rows {
        assert!(
            ok > 0 && changed == 0 && failed == 0,
            "{host} in the second run:\n{}",
            show(&again)
        );
    }
    assert_eq!(
        lab.store()["events"],
        st["events"],
        "a second run touches nothing in the cluster"
    );

    // The lab's own status agrees (every host answers through the bastion only), and the lab
    // goes away with the test.
    let status = lab.lab(&["status"]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.contains("nobody would be paged"), "{text}");
    let dir = lab.dir.clone();
    drop(lab);
    assert!(!dir.exists(), "lab down --purge removes the state dir");
}

#[test]
fn a_two_minor_jump_is_refused_then_serial_two_goes_two_at_a_time_and_the_final_check_sees_the_last_batch() {
    let lab = lab_at("lu2", 93, "v1.31.1");
    let store_before = std::fs::read(lab.store_path()).expect("the store");
    let bins_before = bin_files(&lab);
    let out = upgrade(&lab, &[]);
    assert_ne!(out.code, 0, "{}", show(&out));
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(&format!("runs {OLD} and the target v1.31.1 skips 1 minor version")),
        "both versions named:\n{}",
        show(&out)
    );
    assert!(
        all.contains("upgrade one minor at a time, to v1.30 first"),
        "{}",
        show(&out)
    );
    assert_eq!(std::fs::read(lab.store_path()).expect("the store"), store_before);
    assert!(bin_files(&lab) == bins_before, "a bin_dir file changed");
    for cp in CONTROL_PLANE {
        assert!(snapshots(&lab, cp).is_empty(), "{cp} took a snapshot");
    }

    // The same lab, one minor this time, workers two by two; w4, in the last batch (which no
    // gate follows), goes NotReady right after its uncordon: the final check catches it.
    set_kube_version(&lab, NEW);
    fault(&lab, &["notready-after-uncordon", "w4"]);
    let out = upgrade(&lab, &["-e", "serial=2"]);
    assert_ne!(out.code, 0, "{}", show(&out));
    assert!(out.stdout.contains("batch 2 of 2: w3, w4"), "{}", show(&out));
    assert!(
        out.stdout.contains("nodes not Ready or still cordoned: w4;"),
        "{}",
        show(&out)
    );
    let st = lab.store();
    assert_eq!(most_cordoned_at_once(&st, &WORKERS), 2, "{:?}", events(&st));
    assert_eq!(st["watermarks"]["max_cordoned"], 2);
    assert_no_budget_broken(&st);

    fault(&lab, &["ready", "w4"]);
    let again = upgrade(&lab, &["-e", "serial=2"]);
    assert_eq!(again.code, 0, "{}", show(&again));
    let st = lab.store();
    assert_all_at(&st, NEW);
    assert_status_check(&lab);
}

#[test]
fn a_budget_that_cannot_be_met_stops_the_run_at_the_first_worker_and_uncordons_it() {
    let lab = lab_at("lu4", 94, NEW);
    // As many as the app=web pods: no eviction is ever allowed.
    let out = lab.lab(&["fault", "pdb", "web", "minAvailable=8"]);
    assert!(out.status.success(), "{}", lab::text(&out));
    let drain = [
        "-e",
        "drain_timeout=2s",
        "-e",
        "drain_retries=1",
        "-e",
        "drain_retry_delay_seconds=1",
    ];
    let out = upgrade(&lab, &drain);
    assert_ne!(out.code, 0, "{}", show(&out));
    assert!(out.stdout.contains("draining w1 failed"), "{}", show(&out));
    let st = lab.store();
    // The drain gave up on its timeout (once per attempt), then w1 was uncordoned again.
    assert_eq!(count(&st, "drain-timeout", "w1"), 2, "{:?}", events(&st));
    let timeouts = seq_of(&st, |e| is(e, "drain-timeout", "w1"));
    let uncordons = seq_of(&st, |e| is(e, "uncordon", "w1"));
    assert_eq!(uncordons.len(), 1);
    assert!(uncordons[0] > timeouts[1]);
    assert_eq!(st["nodes"]["w1"]["unschedulable"], false);
    // No later batch started.
    for w in ["w2", "w3", "w4"] {
        assert_eq!(count(&st, "cordon", w), 0, "{w} was cordoned");
        assert_eq!(count(&st, "upgrade-node", w), 0, "{w} was upgraded");
        assert_eq!(kubelet(&st, w), OLD);
    }
    assert_eq!(kubelet(&st, "w1"), OLD);
    assert!(task_lines(&out, "w2").iter().all(|l| !l.contains("Cordon")));
    assert_no_budget_broken(&st);
}

#[test]
fn a_worker_not_ready_after_its_uncordon_stops_the_rollout_at_the_health_gate() {
    let lab = lab_at("lu5", 95, NEW);
    fault(&lab, &["notready-after-uncordon", "w2"]);
    let out = upgrade(&lab, &["-e", "upgrade_gate_retries=2"]);
    assert_ne!(out.code, 0, "{}", show(&out));
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("health gate after batch 2 failed")
            && all.contains("'The node is Ready and uncordoned'")
            && all.contains("on host w2"),
        "the gate, the batch and the host are named:\n{}",
        show(&out)
    );
    let st = lab.store();
    assert_eq!(st["nodes"]["w2"]["ready"], false);
    assert_eq!(kubelet(&st, "w1"), NEW);
    assert_eq!(kubelet(&st, "w2"), NEW);
    for w in ["w3", "w4"] {
        assert_eq!(count(&st, "cordon", w), 0, "{w} was cordoned");
        assert_eq!(kubelet(&st, w), OLD);
        assert!(
            task_lines(&out, w).iter().all(|l| !l.contains("->")),
            "{w} saw batch work"
        );
    }

    // Healed: --resume runs batch 2 again, its gate passes this time, and the rest follows.
    fault(&lab, &["ready", "w2"]);
    let resumed = upgrade(&lab, &["-e", "upgrade_gate_retries=2", "--resume"]);
    assert_eq!(resumed.code, 0, "{}", show(&resumed));
    assert!(task_lines(&resumed, "w1").is_empty(), "{}", show(&resumed));
    assert!(resumed.stdout.contains("batch 2 of 4: w2"), "{}", show(&resumed));
    let st = lab.store();
    assert_eq!(count(&st, "cordon", "w1"), 1);
    assert_eq!(count(&st, "cordon", "w2"), 2, "batch 2 ran again");
    assert_all_at(&st, NEW);
    assert_status_check(&lab);
}

#[test]
fn a_failed_batch_is_shown_by_play_runs_and_resume_starts_there_once_the_fault_is_cleared() {
    let lab = lab_at("lu6", 96, NEW);
    fault(&lab, &["kubeadm-fail", "w3"]);
    let first = upgrade(&lab, &["-e", "serial=1"]);
    assert_ne!(first.code, 0, "{}", show(&first));
    assert!(
        first.stdout.contains("lab fault: kubeadm upgrade fails on w3"),
        "{}",
        show(&first)
    );
    let st = lab.store();
    assert_eq!(kubelet(&st, "w1"), NEW);
    assert_eq!(kubelet(&st, "w2"), NEW);
    assert_eq!(kubelet(&st, "w3"), OLD);
    assert_eq!(count(&st, "cordon", "w4"), 0);

    let runs = lab.play_args(&["runs", PLAYBOOK, "latest"]);
    assert_eq!(runs.code, 0, "{}", show(&runs));
    assert!(runs.stdout.contains("failed (exit"), "{}", show(&runs));
    assert!(
        runs.stdout.contains("play 4 batch 3: ended with failures  w3"),
        "{}",
        show(&runs)
    );
    assert!(!runs.stdout.contains("play 4 batch 4"), "{}", show(&runs));
    assert!(runs.stdout.contains("play 4 batch 2: done  w2"), "{}", show(&runs));
    assert!(runs.stdout.contains("--resume"), "{}", show(&runs));

    fault(&lab, &["clear"]);
    let resumed = upgrade(&lab, &["-e", "serial=1", "--resume"]);
    assert_eq!(resumed.code, 0, "{}", show(&resumed));
    for w in ["w1", "w2"] {
        assert!(
            task_lines(&resumed, w).is_empty(),
            "{w} in the resumed run:\n{}",
            show(&resumed)
        );
    }
    assert!(!task_lines(&resumed, "w3").is_empty(), "{}", show(&resumed));
    let st = lab.store();
    for w in WORKERS {
        assert_eq!(count(&st, "cordon", w), 1, "{w}: {:?}", events(&st));
    }
    assert_all_at(&st, NEW);
    assert_status_check(&lab);
}

/// The newest journal under `runs` that is not in `known`.
fn newest_journal(runs: &Path, known: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    std::fs::read_dir(runs)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl") && !known.contains(p))
        .max()
}

/// Journal lines written since the first batch of play `play` started, if it has.
fn lines_into_play(path: &Path, play: i64) -> Option<usize> {
    let file = std::fs::File::open(path).ok()?;
    let lines: Vec<String> = BufReader::new(file).lines().map_while(Result::ok).collect();
    let start = lines.iter().position(|l| {
        serde_json::from_str::<Value>(l).is_ok_and(|e| e["event"] == "batch_start" && e["play"] == play)
    })?;
    Some(lines.len() - start - 1)
}

/// Where a journal stopped: its last `batch_start`, and its last line.
fn last_batch(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let batch = text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "batch_start")
        .map(|e| format!("in play {} batch {} {}", e["play"], e["number"], e["hosts"]))
        .unwrap_or_else(|| "before any batch".into());
    let last: String = text.lines().next_back().unwrap_or_default().chars().take(120).collect();
    format!("{batch}, after {last}")
}

#[test]
fn an_upgrade_killed_at_any_point_resumes_to_a_healthy_cluster() {
    let lab = lab_at("lu7", 97, NEW);
    let runs_dir = lab.state_dir().join("runs");
    let inventory = lab.inventory().display().to_string();
    let mut known = BTreeSet::new();
    // SIGKILL at (play, journal lines into it): while etcd is backed up, after the first
    // control-plane node's kubeadm upgrade, after the first worker's new binaries are in place
    // but before its kubelet restart. Each later run resumes the one before.
    for (i, (play, kill_after)) in [(2, 4usize), (3, 12), (4, 12)].into_iter().enumerate() {
        let mut args = vec![PLAYBOOK, "-i", inventory.as_str()];
        args.extend_from_slice(&FAST);
        if i > 0 {
            args.push("--resume");
        }
        let mut child = lab
            .play_command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("play starts");
        let deadline = Instant::now() + Duration::from_secs(300);
        let journal = loop {
            let found =
                newest_journal(&runs_dir, &known).filter(|j| lines_into_play(j, play).is_some_and(|n| n >= kill_after));
            if let Some(j) = found {
                break j;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("run {i} ended ({status}) before play {play} line {kill_after}");
            }
            assert!(
                Instant::now() < deadline,
                "run {i} never reached play {play} line {kill_after}"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        child.kill().expect("SIGKILL the engine");
        let _ = child.wait();
        eprintln!("run {i} killed {}", last_batch(&journal));
        known.insert(journal);
    }
    let last = upgrade(&lab, &["--resume"]);
    assert_eq!(last.code, 0, "{}", show(&last));
    let st = lab.store();
    assert_all_at(&st, NEW);
    assert_status_check(&lab);
    assert_no_budget_broken(&st);
    for cp in CONTROL_PLANE {
        let snaps = snapshots(&lab, cp);
        assert!(!snaps.is_empty(), "{cp}: no snapshot");
        for snap in snaps {
            assert_snapshot_verifies(&snap);
        }
    }
}

#[test]
fn a_node_an_operator_cordoned_stays_cordoned_and_one_a_stopped_run_cordoned_is_given_back() {
    let lab = lab_at("lu8", 98, NEW);
    // w2: cordoned by an operator before the run. w3: cordoned by an earlier run of ours that
    // stopped before giving it back (the mark the upgrade role leaves on its own cordons).
    let kubectl = |args: &[&str]| {
        let out = std::process::Command::new(lab.host_dir("cp1").join("bin/kubectl"))
            .args(args)
            .env("KUBE_LAB_STORE", lab.store_path())
            .env("KUBE_LAB_NODE", "cp1")
            .output()
            .expect("cp1's kubectl runs");
        assert!(out.status.success(), "kubectl {args:?}: {}", lab::text(&out));
    };
    kubectl(&["cordon", "w2"]);
    kubectl(&["annotate", "node", "w3", "play/cordoned=true"]);
    kubectl(&["cordon", "w3"]);

    let out = upgrade(&lab, &["-e", "serial=2"]);
    assert_eq!(out.code, 0, "{}", show(&out));
    let st = lab.store();
    for node in CONTROL_PLANE.iter().chain(WORKERS.iter()) {
        let n = &st["nodes"][*node];
        assert_eq!(n["kubelet"], NEW, "{node}: {n}");
        assert_eq!(n["ready"], true, "{node}: {n}");
        assert_eq!(n["unschedulable"], *node == "w2", "{node}: {n}");
        let marks = n["annotations"].as_object().map(|a| a.len()).unwrap_or(0);
        assert_eq!(marks, 0, "{node} keeps an annotation: {n}");
    }
    // w2 was drained for its upgrade all the same, and nobody uncordoned it.
    assert_eq!(count(&st, "uncordon", "w2"), 0, "{:?}", events(&st));
    assert!(
        count(&st, "drain", "w2") + count(&st, "drained", "w2") > 0,
        "{:?}",
        events(&st)
    );
    assert_eq!(count(&st, "uncordon", "w3"), 1, "{:?}", events(&st));
    assert_no_budget_broken(&st);
    assert!(!out.stdout.contains("STILL TO UNDO"), "{}", show(&out));

    // Converged: the second run changes nothing and leaves w2 as the operator left it.
    let again = upgrade(&lab, &["-e", "serial=2"]);
    assert_eq!(again.code, 0, "{}", show(&again));
    assert!(
        again
            .stdout
            .lines()
            .filter(|l| l.contains("changed="))
            .all(|l| l.contains("changed=0")),
        "{}",
        show(&again)
    );
    assert_eq!(lab.store()["nodes"]["w2"]["unschedulable"], true);
}
