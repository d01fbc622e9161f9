//! etcd-backup.yml and etcd-restore.yml on a lab's real three-member etcd: snapshots taken,
//! verified, pruned and fetched; a restore refused until it is safe, then the cluster back at
//! the snapshot's data, whole and healthy, with the old data dirs kept.

#[path = "support/lab.rs"]
mod lab;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lab::{Lab, repo_root, text};
use support::Outcome;

const MEMBERS: [&str; 3] = ["cp1", "cp2", "cp3"];

/// The lab's own `lab_etcdctl` (etcdctl from the bastion, every member as an endpoint).
fn etcdctl(lab: &Lab, args: &[&str]) -> Output {
    let script =
        "cd \"$1\" && shift && . lab/config.sh && . lab/lib/hosts.sh && . lab/lib/etcd.sh && lab_etcdctl \"$@\"";
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(repo_root())
        .args(args)
        .envs(lab.env())
        .output()
        .expect("bash runs")
}

fn etcdctl_ok(lab: &Lab, args: &[&str]) -> String {
    let out = etcdctl(lab, args);
    assert!(out.status.success(), "etcdctl {args:?}:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of KEY, or None when the key does not exist.
fn get(lab: &Lab, key: &str) -> Option<String> {
    let out = etcdctl_ok(lab, &["get", key, "--print-value-only"]);
    let value = out.trim_end_matches('\n');
    (!value.is_empty()).then(|| value.to_string())
}

/// The lab's systemctl on HOST (inside its namespace, with its unit state).
fn host_systemctl(lab: &Lab, host: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", &format!("{}-{host}", lab.name)])
        .arg("env")
        .arg(format!(
            "STANDIN_STATE={}",
            lab.host_dir(host).join("systemd").display()
        ))
        .arg(repo_root().join("lab/standins/systemctl"))
        .args(args)
        .output()
        .expect("ip netns exec runs")
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        name.starts_with("snapshot-") && name.ends_with(".db")
    });
    found.sort();
    found
}

/// `etcdctl snapshot status -w json` of a snapshot file: (totalKey, totalSize).
fn snapshot_status(path: &Path) -> (u64, u64) {
    let out = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["snapshot", "status", "-w", "json"])
        .arg(path)
        .output()
        .expect("etcdctl runs");
    assert!(
        out.status.success(),
        "snapshot status {}:\n{}",
        path.display(),
        text(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("snapshot status prints JSON");
    (
        json["totalKey"].as_u64().unwrap_or(0),
        json["totalSize"].as_u64().unwrap_or(0),
    )
}

fn all(out: &Outcome) -> String {
    format!("{}\n{}", out.stdout, out.stderr)
}

/// The lines of one task's section of the run output.
fn task_section<'a>(out: &'a str, task: &str) -> &'a str {
    let start = out.find(&format!("TASK [{task}]")).unwrap_or(out.len());
    let rest = &out[start..];
    let end = rest[1..].find("TASK [").map(|i| i + 1).unwrap_or(rest.len());
    &rest[..end]
}

fn recap_changed(out: &str, host: &str) -> String {
    out.lines()
        .find(|l| l.starts_with(host) && l.contains("changed="))
        .and_then(|l| l.split_whitespace().find(|w| w.starts_with("changed=")))
        .unwrap_or("changed=?")
        .to_string()
}

#[test]
fn etcd_backup_takes_verifies_prunes_and_fetches_snapshots() {
    let lab = Lab::up("lbk", 86);
    let fetch = lab.dir.join("fetched");
    let fetch_arg = format!("etcd_backup_fetch_dir={}", fetch.display());
    let backup = |extra: &[&str]| {
        let mut args = vec!["-e", "etcd_backups_keep=2", "-e", &fetch_arg];
        args.extend_from_slice(extra);
        lab.play("playbooks/etcd-backup.yml", &args)
    };
    etcdctl_ok(&lab, &["put", "/lab/greeting", "hello"]);

    // One snapshot, on the first healthy member only, verified, and copied to the controller.
    let first = backup(&[]);
    assert_eq!(first.code, 0, "{}", all(&first));
    let on_cp1 = snapshots(&lab.host_dir("cp1").join("etcd-backups"));
    assert_eq!(on_cp1.len(), 1, "{on_cp1:?}");
    for h in ["cp2", "cp3"] {
        assert!(
            snapshots(&lab.host_dir(h).join("etcd-backups")).is_empty(),
            "{h} took no snapshot"
        );
    }
    let (keys, size) = snapshot_status(&on_cp1[0]);
    assert!(keys > 0 && size > 0, "snapshot status: {keys} keys, {size} bytes");
    let fetched = snapshots(&fetch);
    assert_eq!(
        fetched.iter().map(|p| p.file_name()).collect::<Vec<_>>(),
        on_cp1.iter().map(|p| p.file_name()).collect::<Vec<_>>()
    );
    assert_eq!(std::fs::read(&fetched[0]).ok(), std::fs::read(&on_cp1[0]).ok());

    // --check takes no snapshot and changes nothing.
    let check = backup(&["--check"]);
    assert_eq!(check.code, 0, "{}", all(&check));
    assert_eq!(snapshots(&lab.host_dir("cp1").join("etcd-backups")), on_cp1);

    // Every run takes a new snapshot; with etcd_backups_keep=2 the third run prunes the first.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = backup(&[]);
    assert_eq!(second.code, 0, "{}", all(&second));
    assert_eq!(recap_changed(&second.stdout, "cp1"), "changed=2", "{}", second.stdout);
    assert_eq!(recap_changed(&second.stdout, "cp2"), "changed=0", "{}", second.stdout);
    let prune = task_section(&second.stdout, "etcd : Keep the newest 2 snapshots");
    assert!(!prune.contains("changed:"), "nothing to prune yet:\n{prune}");
    assert_eq!(snapshots(&lab.host_dir("cp1").join("etcd-backups")).len(), 2);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let third = backup(&[]);
    assert_eq!(third.code, 0, "{}", all(&third));
    let prune = task_section(&third.stdout, "etcd : Keep the newest 2 snapshots");
    assert!(prune.contains("changed: [cp1]"), "the oldest is pruned:\n{prune}");
    let kept = snapshots(&lab.host_dir("cp1").join("etcd-backups"));
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(!kept.contains(&on_cp1[0]), "the oldest snapshot is gone: {kept:?}");
    for k in &kept {
        snapshot_status(k);
    }
    assert_eq!(snapshots(&fetch).len(), 3, "the controller's copies are not pruned");

    // With cp1's etcd stopped, the next healthy member takes the snapshot.
    let stop = host_systemctl(&lab, "cp1", &["stop", "etcd"]);
    assert!(stop.status.success(), "{}", text(&stop));
    let failover = backup(&[]);
    assert_eq!(failover.code, 0, "{}", all(&failover));
    assert_eq!(
        snapshots(&lab.host_dir("cp2").join("etcd-backups")).len(),
        1,
        "{}",
        failover.stdout
    );
    assert_eq!(snapshots(&lab.host_dir("cp1").join("etcd-backups")), kept);

    // No healthy member: the backup fails and says why.
    for h in ["cp2", "cp3"] {
        let stop = host_systemctl(&lab, h, &["stop", "etcd"]);
        assert!(stop.status.success(), "{}", text(&stop));
    }
    let none = backup(&[]);
    assert_eq!(none.code, 2, "{}", all(&none));
    assert!(all(&none).contains("no etcd member answers"), "{}", all(&none));
    for h in MEMBERS {
        let start = host_systemctl(&lab, h, &["start", "etcd"]);
        assert!(start.status.success(), "{}", text(&start));
    }
    wait_healthy(&lab);
    let _ = std::fs::remove_file(repo_root().join("playbooks/etcd-backup.retry"));
}

/// Every member answers `endpoint health` within 30 s.
fn wait_healthy(lab: &Lab) {
    let mut last = None;
    for _ in 0..30 {
        let out = etcdctl(lab, &["--dial-timeout=2s", "endpoint", "health"]);
        if out.status.success() {
            return;
        }
        last = Some(out);
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    panic!("etcd is not healthy: {}", last.map(|o| text(&o)).unwrap_or_default());
}

fn etcd_pids(lab: &Lab) -> Vec<String> {
    MEMBERS
        .iter()
        .map(|h| std::fs::read_to_string(lab.host_dir(h).join("etcd.pid")).unwrap_or_default())
        .collect()
}

fn kept_data_dirs(lab: &Lab, host: &str) -> Vec<String> {
    std::fs::read_dir(lab.host_dir(host))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("etcd.before-restore-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn etcd_restore_refuses_until_safe_then_brings_the_cluster_back_to_the_snapshot() {
    let lab = Lab::up("lrs", 87);
    let fetch = lab.dir.join("fetched");
    etcdctl_ok(&lab, &["put", "/app/config", "old"]);
    let backup = lab.play(
        "playbooks/etcd-backup.yml",
        &["-e", &format!("etcd_backup_fetch_dir={}", fetch.display())],
    );
    assert_eq!(backup.code, 0, "{}", all(&backup));
    let snapshot = snapshots(&fetch).into_iter().next().expect("a fetched snapshot");
    let snapshot_arg = format!("etcd_restore_snapshot={}", snapshot.display());
    etcdctl_ok(&lab, &["put", "/app/config", "new"]);
    etcdctl_ok(&lab, &["put", "/app/later", "added after the backup"]);

    let pids = etcd_pids(&lab);
    assert!(pids.iter().all(|p| !p.trim().is_empty()), "{pids:?}");
    let untouched = |out: &Outcome, why: &str| {
        assert_eq!(out.code, 2, "{why}: {}", all(out));
        assert!(all(out).contains("refusing to restore"), "{why}: {}", all(out));
        assert_eq!(etcd_pids(&lab), pids, "{why}: no etcd was stopped");
        assert_eq!(get(&lab, "/app/config").as_deref(), Some("new"), "{why}");
        for h in MEMBERS {
            assert!(kept_data_dirs(&lab, h).is_empty(), "{why}: {h}'s data dir untouched");
        }
    };

    let restore = |args: &[&str]| lab.play("playbooks/etcd-restore.yml", args);
    let no_snapshot = restore(&["-e", "etcd_restore_confirm=yes"]);
    untouched(&no_snapshot, "no snapshot named");
    assert!(
        all(&no_snapshot).contains("-e etcd_restore_snapshot="),
        "{}",
        all(&no_snapshot)
    );

    let unconfirmed = restore(&["-e", &snapshot_arg]);
    untouched(&unconfirmed, "not confirmed");
    assert!(
        all(&unconfirmed).contains("-e etcd_restore_confirm=yes"),
        "{}",
        all(&unconfirmed)
    );

    let dry = restore(&["-e", &snapshot_arg, "-e", "etcd_restore_confirm=yes", "--check"]);
    untouched(&dry, "--check");
    assert!(all(&dry).contains("under --check"), "{}", all(&dry));

    let missing = restore(&[
        "-e",
        "etcd_restore_snapshot=/nonexistent/snap.db",
        "-e",
        "etcd_restore_confirm=yes",
    ]);
    untouched(&missing, "missing snapshot");
    assert!(
        all(&missing).contains("is not a file on the controller"),
        "{}",
        all(&missing)
    );

    // Garbage, and a real snapshot cut short (`snapshot status` still reads that one; only
    // rebuilding a data dir notices the missing hash).
    let bytes = std::fs::read(&snapshot).expect("the snapshot reads");
    let garbage = lab.dir.join("garbage.db");
    std::fs::write(&garbage, vec![0x5a_u8; bytes.len()]).expect("write");
    let truncated = lab.dir.join("truncated.db");
    std::fs::write(&truncated, &bytes[..bytes.len().saturating_sub(32)]).expect("write");
    for (bad, what) in [(&garbage, "garbage snapshot"), (&truncated, "truncated snapshot")] {
        let out = restore(&[
            "-e",
            &format!("etcd_restore_snapshot={}", bad.display()),
            "-e",
            "etcd_restore_confirm=yes",
        ]);
        untouched(&out, what);
        assert!(all(&out).contains("nothing was stopped"), "{what}: {}", all(&out));
    }

    let done = restore(&["-e", &snapshot_arg, "-e", "etcd_restore_confirm=yes"]);
    assert_eq!(done.code, 0, "{}", all(&done));
    assert_eq!(get(&lab, "/app/config").as_deref(), Some("old"));
    assert_eq!(
        get(&lab, "/app/later"),
        None,
        "the key written after the backup is gone"
    );

    let members: serde_json::Value =
        serde_json::from_str(&etcdctl_ok(&lab, &["member", "list", "-w", "json"])).expect("member list JSON");
    let mut names: Vec<&str> = members["members"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["name"].as_str()).collect())
        .unwrap_or_default();
    names.sort();
    assert_eq!(names, MEMBERS);
    let health = etcdctl(&lab, &["endpoint", "health"]);
    assert!(health.status.success(), "{}", text(&health));
    // etcdctl 3.4 prints the health lines on stderr.
    assert_eq!(text(&health).matches("is healthy").count(), 3, "{}", text(&health));
    for h in MEMBERS {
        let kept = kept_data_dirs(&lab, h);
        assert_eq!(kept.len(), 1, "{h}: {kept:?}");
        assert!(
            lab.host_dir(h).join(&kept[0]).join("member").is_dir(),
            "{h}'s old data dir kept whole"
        );
        assert!(!lab.host_dir(h).join("etcd.restoring").exists());
    }
    assert_ne!(etcd_pids(&lab), pids, "every member was restarted");

    // The lab itself sees one healthy cluster, and `lab down` stops the restored members.
    let status = lab.lab(&["status"]);
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).matches("is healthy").count(),
        3,
        "{}",
        text(&status)
    );
    let down = lab.lab(&["down"]);
    assert!(down.status.success(), "{}", text(&down));
    for pid in etcd_pids(&lab) {
        assert!(pid.trim().is_empty(), "lab down stops etcd through its unit");
    }
    let _ = std::fs::remove_file(repo_root().join("playbooks/etcd-restore.retry"));
}
