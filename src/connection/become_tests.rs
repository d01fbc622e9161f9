//! `become` against a real sshd and the real sudo/su: dedicated unprivileged users are created
//! (once, idempotently) with known passwords and a sudoers.d file. Needs root and sudo.

use super::r#become::{BecomeConnection, BecomeMethod, BecomeSpec};
use super::ssh::SshConnector;
use super::test_sshd::{Lab, Sshd};
use super::{Connection, Error, ErrorKind, ExecRequest, PutFile};
use crate::connection::options::{LocalEnv, Secret, SshOptions};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../../tests/support/become_users.rs"]
mod become_users;
use become_users::{NOPW_PW, NOPW_USER, PW, PW_USER};

/// The users and sudoers rules, set up once per test process.
fn users() {
    become_users::ensure();
}

/// A lab whose files the unprivileged users can read (sshd reads authorized_keys as them).
fn lab() -> (Lab, Sshd) {
    users();
    let lab = Lab::new();
    for p in [lab.dir.path(), &lab.authorized_keys] {
        let mode = if p.is_dir() { 0o755 } else { 0o644 };
        let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
    }
    let sshd = lab.sshd("127.0.0.1", "");
    lab.trust(&sshd);
    (lab, sshd)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn login(lab: &Lab, sshd: &Sshd, user: &str) -> Arc<dyn Connection> {
    let mut o = SshOptions::new("web", sshd.addr.clone(), user);
    o.port = sshd.port;
    o.identity_files = vec![lab.key.clone()];
    o.host_keys.files = vec![lab.known_hosts.clone()];
    let c = SshConnector::new(&LocalEnv::default())
        .connect(&o)
        .await
        .unwrap_or_else(|e| panic!("login as {user}: {e}\n{}", sshd.log_text()));
    Arc::new(c)
}

fn sudo(user: &str, pw: Option<&str>) -> BecomeSpec {
    let mut s = BecomeSpec::new(BecomeMethod::Sudo).user(user);
    s.password = pw.map(Secret::new);
    s
}

async fn run(c: &BecomeConnection, cmd: &str) -> String {
    let out = c
        .exec(&ExecRequest::new(cmd))
        .await
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert_eq!(out.rc, 0, "{cmd}: {}", out.stderr_lossy());
    out.stdout_lossy()
}

fn become_error<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(
            e @ Error {
                kind: ErrorKind::Become { .. },
                ..
            },
        ) => e.to_string(),
        other => panic!("expected a become error, got {other:?}"),
    }
}

#[test]
fn sudo_with_a_hostile_password_runs_as_root_and_as_another_user() {
    let (lab, sshd) = lab();
    rt().block_on(async {
        let login = login(&lab, &sshd, PW_USER).await;
        assert_eq!(
            login
                .exec(&ExecRequest::new("id -un"))
                .await
                .map(|o| o.stdout_lossy())
                .ok(),
            Some(format!("{PW_USER}\n"))
        );
        let root = BecomeConnection::new(login.clone(), sudo("root", Some(PW)));
        assert_eq!(run(&root, "id -u").await, "0\n");
        // Environment and stdin reach the command run as root; output has no marker or prompt.
        let out = root
            .exec(
                &ExecRequest::new("tr a-z A-Z; echo \"$V\" >&2")
                    .stdin("abc")
                    .env("V", "v w"),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((out.rc, out.stdout_lossy()), (0, "ABC".into()));
        assert_eq!(out.stderr_lossy(), "v w\n");
        let other = BecomeConnection::new(login.clone(), sudo(NOPW_USER, Some(PW)));
        assert_eq!(run(&other, "id -un").await, format!("{NOPW_USER}\n"));
    });
    assert!(!Path::new("/tmp/pwned").exists(), "the password was run by a shell");
}

#[test]
fn put_and_get_file_under_sudo_in_a_root_only_directory() {
    let (lab, sshd) = lab();
    let dir = lab.dir.path().join("root-only");
    let _ = std::fs::create_dir(&dir);
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    let dest = dir.join("conf").display().to_string();
    rt().block_on(async {
        let login = login(&lab, &sshd, PW_USER).await;
        // Without become the directory is out of reach.
        assert!(login.put_file(&PutFile::bytes("x", dest.clone())).await.is_err());
        let root = BecomeConnection::new(login, sudo("root", Some(PW)));
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        root.put_file(&PutFile::bytes(big.clone(), dest.clone()).mode(0o640))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.get_file(&dest).await.ok(), Some(big));
        let e = root
            .get_file(&format!("{dest}.missing"))
            .await
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("as root"));
    });
    let meta = std::fs::metadata(&dest).unwrap_or_else(|e| panic!("{dest}: {e}"));
    assert_eq!((meta.uid(), meta.mode() & 0o777), (0, 0o640));
    assert_eq!(
        std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0),
        1,
        "temp file left"
    );
}

#[test]
fn a_wrong_sudo_password_fails_fast_with_a_clear_message() {
    let (lab, sshd) = lab();
    rt().block_on(async {
        let login = login(&lab, &sshd, PW_USER).await;
        let c = BecomeConnection::new(login.clone(), sudo("root", Some("not-the-password")));
        let start = Instant::now();
        let e = become_error(c.exec(&ExecRequest::new("id -u")).await);
        assert!(start.elapsed() < Duration::from_secs(8), "took {:?}", start.elapsed());
        assert!(
            e.contains("incorrect password") && e.contains("ansible_become_password") && e.contains("-K"),
            "{e}"
        );
        assert!(!e.contains("not-the-password"), "{e}");
        // No password at all where one is required: fails at once.
        let c = BecomeConnection::new(login.clone(), sudo("root", None));
        let start = Instant::now();
        let e = become_error(c.exec(&ExecRequest::new("id -u")).await);
        assert!(start.elapsed() < Duration::from_secs(3), "took {:?}", start.elapsed());
        assert!(e.contains("password is required"), "{e}");
        // The session survives.
        assert_eq!(
            login.exec(&ExecRequest::new("echo ok")).await.map(|o| o.stdout).ok(),
            Some(b"ok\n".to_vec())
        );
    });
}

#[test]
fn nopasswd_sudo_works_with_and_without_a_password() {
    let (lab, sshd) = lab();
    rt().block_on(async {
        let login = login(&lab, &sshd, NOPW_USER).await;
        for pw in [None, Some("ignored-anyway")] {
            let c = BecomeConnection::new(login.clone(), sudo("root", pw));
            assert_eq!(run(&c, "id -u").await, "0\n", "{pw:?}");
            let out = c
                .exec(&ExecRequest::new("cat").stdin("in"))
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(out.stdout, b"in");
        }
    });
}

#[test]
fn su_answers_the_terminal_prompt() {
    let (lab, sshd) = lab();
    let secret = format!("/home/{NOPW_USER}/su-secret");
    let _ = std::fs::write(&secret, "only for the su target\n");
    let _ = Command::new("chown").arg(NOPW_USER).arg(&secret).status();
    let _ = std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600));
    rt().block_on(async {
        let login = login(&lab, &sshd, PW_USER).await;
        let spec = BecomeSpec::new(BecomeMethod::Su)
            .user(NOPW_USER)
            .password(Secret::new(NOPW_PW));
        let c = BecomeConnection::new(login.clone(), spec.clone());
        assert_eq!(run(&c, "id -un").await, format!("{NOPW_USER}\n"));
        assert_eq!(
            c.get_file(&secret).await.unwrap_or_else(|e| panic!("{e}")),
            b"only for the su target\n"
        );
        let wrong = BecomeConnection::new(login, spec.password(Secret::new("nope")));
        let start = Instant::now();
        let e = become_error(wrong.exec(&ExecRequest::new("id -un")).await);
        assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
        assert!(
            e.contains("su to play-nopasswd") && e.contains("incorrect password"),
            "{e}"
        );
    });
}

#[test]
fn password_authentication_logs_in_and_a_wrong_password_is_refused() {
    users();
    let lab = Lab::new();
    let sshd = lab.sshd("127.0.0.1", "PasswordAuthentication yes");
    lab.trust(&sshd);
    let options = |password: &str| {
        let mut o = SshOptions::new("web", sshd.addr.clone(), PW_USER);
        o.port = sshd.port;
        o.host_keys.files = vec![lab.known_hosts.clone()];
        o.password = Some(Secret::new(password));
        o
    };
    rt().block_on(async {
        let c = SshConnector::new(&LocalEnv::default())
            .connect(&options(PW))
            .await
            .unwrap_or_else(|e| panic!("password login: {e}\n{}", sshd.log_text()));
        let out = c
            .exec(&ExecRequest::new("id -un"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.stdout_lossy().trim(), PW_USER);

        let wrong = SshConnector::new(&LocalEnv::default())
            .connect(&options("not the password"))
            .await;
        let err = match wrong {
            Ok(_) => panic!("a wrong password logged in"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(PW_USER), "{err}");
        assert!(!err.contains("not the password"), "the password leaked: {err}");
    });
}
