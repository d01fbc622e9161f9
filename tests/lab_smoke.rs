//! A lab of its own comes up, every host answers through its bastion, and it goes away.

#[path = "support/lab.rs"]
mod lab;
mod support;

use lab::Lab;

#[test]
fn a_lab_comes_up_and_every_host_answers_through_the_bastion() {
    let lab = Lab::up("lsm", 91);
    let dir = lab.dir.clone();
    let status = lab.lab(&["status"]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(text.contains("nobody would be paged"), "{text}");
    drop(lab);
    assert!(!dir.exists(), "lab down --purge removes the state dir");
}
