//! The lab's kubeadm/kubelet/kubectl stand-ins enforce what the real tools
//! enforce; their own selftest proves it against a temporary store.

use std::path::Path;
use std::process::Command;

#[test]
fn lab_standins_selftest_passes() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/kube-store/selftest");
    let out = Command::new("python3")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "selftest failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
