//! The maintenance playbooks end to end on labs of their own: os-upgrade.yml upgrades every
//! node's packages and reboots, drained and one at a time, only the nodes that ask for it;
//! node-maintenance.yml drains one node and gives it back.

#[path = "support/lab.rs"]
mod lab;
mod support;

use lab::{Lab, text};
use serde_json::Value;

const NODES: &[&str] = &["cp1", "cp2", "cp3", "w1", "w2", "w3", "w4"];

fn read(lab: &Lab, host: &str, file: &str) -> String {
    std::fs::read_to_string(lab.host_dir(host).join(file)).unwrap_or_default()
}

/// The boot id a session on `host` sees (through the host's mount namespace).
fn boot_id(lab: &Lab, host: &str) -> String {
    let out = lab.lab(&["exec", host, "cat", "/proc/sys/kernel/random/boot_id"]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn reboot_required(lab: &Lab, host: &str) -> bool {
    lab.lab(&["exec", host, "test", "-e", "/var/run/reboot-required"])
        .status
        .success()
}

/// (host, changed) from the PLAY RECAP.
fn recap(stdout: &str) -> Vec<(String, u64)> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("PLAY RECAP"))
        .filter_map(|l| {
            let (host, rest) = l.split_once(" : ")?;
            let changed = rest.split_whitespace().find_map(|f| f.strip_prefix("changed="))?;
            Some((host.trim().to_string(), changed.parse().ok()?))
        })
        .collect()
}

fn nodes_with(store: &Value, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = store["events"]
        .as_array()
        .map(|evs| {
            evs.iter()
                .filter(|e| e["kind"] == kind)
                .filter_map(|e| e["node"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.dedup();
    v
}

fn assert_all_ready_and_schedulable(store: &Value) {
    for n in NODES {
        let node = &store["nodes"][n];
        assert_eq!(node["ready"], true, "{n} is not Ready: {node}");
        assert_eq!(node["unschedulable"], false, "{n} is still cordoned: {node}");
    }
}

#[test]
fn os_upgrade_reboots_only_the_nodes_that_ask_one_at_a_time_drained() {
    let lab = Lab::up("lou", 84);
    // A kernel (reboot needed) on one control-plane node and one worker; only openssl on w1.
    let seeded = lab.lab(&["seed-upgrades", "cp2", "w3"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let seeded = lab.lab(&["seed-upgrades", "--no-reboot", "w1"]);
    assert!(seeded.status.success(), "{}", text(&seeded));
    stand_ins_keep_the_real_apt_and_shutdown_away(&lab);
    let this_machine_needed_reboot = std::path::Path::new("/run/reboot-required").exists();
    let before: Vec<String> = NODES.iter().map(|h| boot_id(&lab, h)).collect();
    for (h, id) in NODES.iter().zip(&before) {
        assert_eq!(
            id,
            read(&lab, h, "boot_id").trim(),
            "{h}: the session's boot id is the host's own file"
        );
    }
    let distinct: std::collections::BTreeSet<&String> = before.iter().collect();
    assert_eq!(distinct.len(), NODES.len(), "every host has a boot id of its own");

    let etcd_before = read(&lab, "cp2", "etcd.pid");
    let run = lab.play("playbooks/os-upgrade.yml", &["-e", "upgrade_gate_delay=1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let rebooted = ["cp2", "w3"];
    for (h, old) in NODES.iter().zip(&before) {
        let now = boot_id(&lab, h);
        if rebooted.contains(h) {
            assert_ne!(&now, old, "{h} was not rebooted");
        } else {
            assert_eq!(&now, old, "{h} was rebooted without needing it");
        }
        assert!(!reboot_required(&lab, h), "{h} still has /var/run/reboot-required");
        // Everything the mirror offered is installed.
        let lists = read(&lab, h, "packages/mirror");
        let installed = read(&lab, h, "packages/installed");
        for line in lists.lines() {
            let mut f = line.split('\t');
            let (name, version) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
            assert!(
                installed.lines().any(|l| l == format!("{name}\t{version}")),
                "{h}: {name} {version} is not installed:\n{installed}"
            );
        }
    }
    assert!(read(&lab, "w1", "packages/installed").contains("openssl\t3.0.15-1~lab.2"));
    assert_eq!(
        std::path::Path::new("/run/reboot-required").exists(),
        this_machine_needed_reboot,
        "the lab's upgrade reached this machine's /run"
    );

    let store = lab.store();
    assert_eq!(
        nodes_with(&store, "cordon"),
        rebooted,
        "only the rebooted nodes were cordoned"
    );
    assert_eq!(
        nodes_with(&store, "kubelet-stopped"),
        rebooted,
        "only the rebooted nodes went down"
    );
    assert_eq!(
        store["watermarks"]["max_cordoned"], 1,
        "never more than one node cordoned at once"
    );
    assert_all_ready_and_schedulable(&store);
    let status = lab.kube_store("status", &["--check"]);
    assert!(status.status.success(), "{}", text(&status));
    // The control plane went first: cp2 was back before w3 was cordoned.
    let order: Vec<String> = store["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|e| e["kind"] == "cordon")
                .filter_map(|e| e["node"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(order, ["cp2", "w3"]);

    // cp2's reboot took its etcd member down and brought it back; the cluster is healthy.
    assert_ne!(
        read(&lab, "cp2", "etcd.pid"),
        etcd_before,
        "etcd on cp2 was not restarted"
    );
    let status = lab.lab(&["status"]);
    let shown = String::from_utf8_lossy(&status.stdout).into_owned();
    assert_eq!(shown.matches(":2379 is healthy").count(), 3, "{shown}");

    let check = lab.play("playbooks/os-upgrade.yml", &["--check", "-e", "upgrade_gate_delay=1"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert!(recap(&check.stdout).iter().all(|(_, c)| *c == 0), "{}", check.stdout);

    let again = lab.play("playbooks/os-upgrade.yml", &["-e", "upgrade_gate_delay=1"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let r = recap(&again.stdout);
    assert_eq!(r.len(), NODES.len(), "{}", again.stdout);
    assert!(
        r.iter().all(|(_, c)| *c == 0),
        "second run changed something:\n{}",
        again.stdout
    );
    for (h, old) in NODES.iter().zip(&before) {
        if !rebooted.contains(h) {
            assert_eq!(&boot_id(&lab, h), old, "{h}");
        }
    }
}

#[test]
fn node_maintenance_drains_one_node_and_gives_it_back() {
    let lab = Lab::up("lnm", 85);
    let missing = lab.play("playbooks/node-maintenance.yml", &[]);
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    assert!(
        missing.stdout.contains("no node given: name one with -e node=NAME"),
        "{}",
        missing.stdout
    );
    let unknown = lab.play("playbooks/node-maintenance.yml", &["-e", "node=w9"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stdout);
    assert!(
        unknown.stdout.contains("node w9 is not in the inventory"),
        "{}",
        unknown.stdout
    );

    let drain = lab.play("playbooks/node-maintenance.yml", &["-e", "node=w2"]);
    assert_eq!(drain.code, 0, "{}\n{}", drain.stdout, drain.stderr);
    let store = lab.store();
    assert_eq!(store["nodes"]["w2"]["unschedulable"], true, "w2 stays cordoned");
    let left: Vec<&Value> = store["pods"]
        .as_object()
        .map(|p| {
            p.values()
                .filter(|p| p["node"] == "w2" && p["owner"] != "DaemonSet")
                .collect()
        })
        .unwrap_or_default();
    assert!(left.is_empty(), "pods left on w2: {left:?}");
    assert_eq!(nodes_with(&store, "cordon"), ["w2"]);

    let back = lab.play(
        "playbooks/node-maintenance.yml",
        &["-e", "node=w2", "-e", "uncordon=true"],
    );
    assert_eq!(back.code, 0, "{}\n{}", back.stdout, back.stderr);
    assert!(
        recap(&back.stdout).iter().any(|(h, c)| h == "w2" && *c == 1),
        "{}",
        back.stdout
    );
    assert_all_ready_and_schedulable(&lab.store());
    let status = lab.kube_store("status", &["--check"]);
    assert!(status.status.success(), "{}", text(&status));
    let again = lab.play(
        "playbooks/node-maintenance.yml",
        &["-e", "node=w2", "-e", "uncordon=true"],
    );
    assert!(recap(&again.stdout).iter().all(|(_, c)| *c == 0), "{}", again.stdout);
}

/// What a lab host runs for apt and shutdown: the stand-ins, even by absolute path, refusing
/// what the real tools refuse; and the stand-ins refuse to run outside a lab host.
fn stand_ins_keep_the_real_apt_and_shutdown_away(lab: &Lab) {
    let cases: &[(&[&str], i32, &str)] = &[
        (&["/usr/bin/dpkg-query", "-W", "openssl"], 0, "openssl\t3.0.15-1~lab.1"),
        (
            &["/usr/bin/dpkg", "-i", "x.deb"],
            100,
            "dpkg is not available on lab hosts",
        ),
        (
            &["apt-get", "install", "-y", "no-such-pkg"],
            100,
            "E: Unable to locate package no-such-pkg",
        ),
        (&["apt-get", "dist-upgrade"], 0, "0 upgraded, 0 newly installed"),
        (
            &["apt-get", "-s", "--bogus", "upgrade"],
            100,
            "--bogus is not understood",
        ),
        (&["shutdown", "-h", "now"], 1, "cannot be powered off"),
        (&["shutdown", "-r", "12:00"], 1, "not supported"),
    ];
    for (argv, rc, want) in cases {
        let mut args = vec!["exec", "w2"];
        args.extend_from_slice(argv);
        let out = lab.lab(&args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(*rc), "{argv:?}: {all}");
        assert!(all.contains(want), "{argv:?}: want {want:?} in {all}");
    }
    // Outside the host's mount namespace, even with the host's directory given.
    let out = std::process::Command::new(lab::repo_root().join("lab/standins/apt-get"))
        .args(["-s", "dist-upgrade"])
        .env("LAB_HOST_DIR", lab.host_dir("w2"))
        .output()
        .expect("the apt-get stand-in runs");
    assert_eq!(out.status.code(), Some(100), "{}", text(&out));
    assert!(
        text(&out).contains("not inside a lab host's mount namespace"),
        "{}",
        text(&out)
    );
}
