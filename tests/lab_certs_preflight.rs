//! certs-renew.yml and preflight.yml end to end, each on a lab of its own: the certificates
//! of every control-plane node renewed one node at a time with its static pods restarted, and
//! a read-only preflight that names every problem before failing.

#[path = "support/lab.rs"]
mod lab;
mod support;

use lab::{Lab, text};

/// (kind, node) of the store's events of the given kinds, in order.
fn events(lab: &Lab, kinds: &[&str]) -> Vec<(String, String)> {
    let store = lab.store();
    let list = store["events"].as_array().cloned().unwrap_or_default();
    list.iter()
        .filter_map(|e| {
            let kind = e["kind"].as_str()?;
            kinds
                .contains(&kind)
                .then(|| (kind.to_string(), e["node"].as_str().unwrap_or("").to_string()))
        })
        .collect()
}

/// Recreate the lab's store as `lab/kube-store/up` does, with extra `init` options.
fn reinit(lab: &Lab, extra: &[&str]) {
    let store = lab.store_path().display().to_string();
    let mut args = vec![
        "--store",
        &store,
        "--version",
        "v1.29.4",
        "--control-plane",
        "cp1,cp2,cp3",
        "--workers",
        "w1,w2,w3,w4",
        "--pods-per-worker",
        "2",
    ];
    args.extend_from_slice(extra);
    let out = lab.kube_store("init", &args);
    assert!(out.status.success(), "init: {}", text(&out));
}

fn status_check(lab: &Lab) -> (bool, String) {
    let out = lab.kube_store("status", &["--check"]);
    (out.status.success(), text(&out))
}

/// Every line of the PLAY RECAP says changed=0.
fn nothing_changed(stdout: &str) -> bool {
    let recap: Vec<&str> = stdout.lines().filter(|l| l.contains(" ok=")).collect();
    !recap.is_empty() && recap.iter().all(|l| l.contains("changed=0 "))
}

fn store_bytes(lab: &Lab) -> Vec<u8> {
    std::fs::read(lab.store_path()).expect("the lab store exists")
}

#[test]
fn certs_renew_renews_every_control_plane_node_one_at_a_time() {
    let lab = Lab::up("lcr", 88);
    reinit(&lab, &["--pdb", "app=web:minAvailable=4", "--certs-age-days", "300"]);
    let gate = ["-e", "certs_renew_gate_delay=1"];

    let o = lab.play("playbooks/certs-renew.yml", &gate);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("(64 days left): renewing"), "{}", o.stdout);
    assert!(
        o.stdout.contains("the certificates now expire in 364 days"),
        "{}",
        o.stdout
    );
    let mut want = Vec::new();
    for cp in ["cp1", "cp2", "cp3"] {
        want.push(("certs-renewed".to_string(), cp.to_string()));
        for _ in 0..3 {
            want.push(("static-pod-restarted".to_string(), cp.to_string()));
        }
        want.push(("apiserver-healthy".to_string(), cp.to_string()));
    }
    let kinds = ["certs-renewed", "static-pod-restarted", "apiserver-healthy"];
    assert_eq!(
        events(&lab, &kinds),
        want,
        "one node at a time, each answering /healthz before the next is renewed"
    );
    let (ok, status) = status_check(&lab);
    assert!(ok, "{status}");

    // Fresh certificates: a second run renews nothing.
    let o = lab.play("playbooks/certs-renew.yml", &gate);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(nothing_changed(&o.stdout), "{}", o.stdout);
    assert!(o.stdout.contains("nothing to renew"), "{}", o.stdout);
    assert_eq!(events(&lab, &kinds), want, "no new renewal");

    // Renewed without the restart: the API server still serves the old certificates.
    let o = lab.play(
        "playbooks/certs-renew.yml",
        &["-e", "certs_renew_force=true", "--skip-tags", "restart", "-l", "cp2"],
    );
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let (ok, status) = status_check(&lab);
    assert!(!ok, "{status}");
    assert!(
        status.contains("cp2 serves certificates from before their renewal"),
        "{status}"
    );

    // A forced run renews and restarts it again.
    let o = lab.play(
        "playbooks/certs-renew.yml",
        &["-e", "certs_renew_force=true", "-l", "cp2"],
    );
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let (ok, status) = status_check(&lab);
    assert!(ok, "{status}");
}

#[test]
fn preflight_is_read_only_and_names_every_problem() {
    let lab = Lab::up("lpf", 89);
    let before = store_bytes(&lab);

    for args in [&[][..], &["--check"][..]] {
        let o = lab.play("playbooks/preflight.yml", args);
        assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
        assert!(nothing_changed(&o.stdout), "{}", o.stdout);
        assert!(o.stdout.contains("\"etcd\": \"3."), "etcd versions read: {}", o.stdout);
    }
    assert_eq!(store_bytes(&lab), before, "preflight changed the store");

    // The upgrade's own preflight refuses a skipped minor before anything changes.
    let o = lab.play("playbooks/upgrade-cluster.yml", &["-e", "kube_version=v1.31.1"]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("skips 1 minor version(s)"), "{}", o.stdout);
    assert_eq!(store_bytes(&lab), before, "a refused upgrade changed the store");

    // A kubelet four minors behind the target, one ahead of the API server, a budget that
    // allows no disruption, no room for a drained worker's pods, and a target two minors ahead.
    reinit(
        &lab,
        &[
            "--kubelet",
            "w2=v1.27.4",
            "--kubelet",
            "w3=v1.30.4",
            "--pdb",
            "app=web:minAvailable=8",
            "--max-pods",
            "3",
        ],
    );
    let before = store_bytes(&lab);
    let o = lab.play("playbooks/preflight.yml", &["-e", "kube_version=v1.31.1"]);
    assert_eq!(o.code, 2, "{}\n{}", o.stdout, o.stderr);
    for needle in [
        "kube-apiserver on cp1 runs v1.29.4 and the target v1.31.1 skips 1 minor version(s)",
        "kube-apiserver on cp3 runs v1.29.4 and the target v1.31.1 skips 1 minor version(s)",
        "kubelet on w2 runs v1.27.4, more than three minor versions older than the target v1.31.1",
        "kubelet on w3 runs v1.30.4, newer than the API server v1.29.4",
        "PodDisruptionBudget default/web allows no disruption (8 healthy, 8 required)",
        "would leave 2 of its 2 pods Pending: the other schedulable workers have room for 0 more pods",
        "7 preflight problem(s), listed above; nothing was changed",
    ] {
        assert!(o.stdout.contains(needle), "missing {needle:?}:\n{}", o.stdout);
    }
    assert!(nothing_changed(&o.stdout), "{}", o.stdout);
    assert_eq!(store_bytes(&lab), before, "a failed preflight changed the store");
}
