//! `apt` and `dpkg_selections` against a real local apt repository: two tiny packages built
//! with dpkg-deb, indexed with dpkg-scanpackages, listed in /etc/apt/sources.list.d for the
//! test's life and really installed, upgraded, held, downgraded and removed through a real sshd.

use crate::modules::sys_lab::SysLab;
use crate::modules::test_support::args;
use crate::value::{Map, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const PKG: &str = "play-test-pkg";

fn sh(line: &str) -> (i32, String) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(line)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn build(repo: &Path, version: &str) {
    let root = repo.join(format!("build-{version}"));
    let _ = std::fs::create_dir_all(root.join("DEBIAN"));
    let _ = std::fs::create_dir_all(root.join("usr/share").join(PKG));
    let control = format!(
        "Package: {PKG}\nVersion: {version}\nArchitecture: all\nMaintainer: Test <test@example.invalid>\nDescription: test package\n"
    );
    let _ = std::fs::write(root.join("DEBIAN/control"), control);
    let _ = std::fs::write(root.join("usr/share").join(PKG).join("version"), version);
    let (rc, out) = sh(&format!(
        "dpkg-deb --build {} {}/{PKG}_{version}_all.deb && rm -rf {}",
        root.display(),
        repo.display(),
        root.display()
    ));
    assert_eq!(rc, 0, "{out}");
}

/// Removes the sources entry and the package however the test ends.
struct Repo {
    list: PathBuf,
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.list);
        sh(&format!(
            "echo '{PKG} install' | dpkg --set-selections; dpkg --purge {PKG} >/dev/null 2>&1"
        ));
    }
}

fn installed() -> String {
    sh(&format!(
        "dpkg-query -W -f '${{Status}} ${{Version}}' {PKG} 2>/dev/null"
    ))
    .1
}

fn a(pairs: &[(&str, Value)]) -> Map {
    args(pairs)
}

#[test]
fn packages_from_a_local_repository_over_ssh() {
    assert!(
        Path::new("/usr/bin/dpkg-scanpackages").exists(),
        "dpkg-scanpackages is missing: apt-get install -y dpkg-dev"
    );
    let lab = SysLab::new(&[]);
    let repo = lab.lab.dir.path().join("repo");
    let _ = std::fs::create_dir_all(&repo);
    build(&repo, "1.0-1");
    build(&repo, "2.0-1");
    let (rc, out) = sh(&format!(
        "cd {} && dpkg-scanpackages --multiversion . > Packages",
        repo.display()
    ));
    assert_eq!(rc, 0, "{out}");
    let list = PathBuf::from(format!("/etc/apt/sources.list.d/{PKG}-{}.list", std::process::id()));
    std::fs::write(&list, format!("deb [trusted=yes] file:{} ./\n", repo.display())).unwrap_or_else(|e| panic!("{e}"));
    let _guard = Repo { list };
    let name = |v: &str| {
        Value::str(if v.is_empty() {
            PKG.to_string()
        } else {
            format!("{PKG}={v}")
        })
    };

    let o = lab.run(super::apt::run, &a(&[("update_cache", Value::Bool(true))]), false);
    assert!(
        o.changed && o.data.get("cache_updated") == Some(&Value::Bool(true)),
        "{o:?}"
    );
    let first = a(&[("name", name("1.0-1")), ("update_cache", Value::Bool(true))]);
    let o = lab.run(super::apt::run, &first, true);
    assert!(o.changed && !o.failed, "{o:?}");
    assert!(!installed().contains("installed"), "check mode installed it");
    let o = lab.run(super::apt::run, &first, false);
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(o.data.get("cache_updated"), Some(&Value::Bool(true)));
    assert!(matches!(o.data.get("cache_update_time"), Some(Value::Int(t)) if *t > 0));
    assert!(
        o.data
            .get("stdout")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .contains(PKG)
    );
    assert_eq!(installed(), "install ok installed 1.0-1");
    let o = lab.run(
        super::apt::run,
        &a(&[("name", name("1.0-1")), ("cache_valid_time", Value::Int(3600))]),
        false,
    );
    assert!(
        !o.changed && o.data.get("cache_updated") == Some(&Value::Bool(false)),
        "{o:?}"
    );
    let o = lab.run(super::apt::run, &a(&[("name", Value::List(vec![name("1.*")]))]), false);
    assert!(
        !o.changed && !o.failed,
        "a wildcard the installed version matches: {o:?}"
    );

    // Held: apt refuses to upgrade it, as on any Debian host.
    let hold = a(&[("name", Value::str(PKG)), ("selection", Value::str("hold"))]);
    let o = lab.run(super::dpkg_selections::run, &hold, false);
    assert!(
        o.changed && o.data.get("before") == Some(&Value::str("install")),
        "{o:?}"
    );
    assert!(!lab.run(super::dpkg_selections::run, &hold, false).changed);
    let latest = a(&[("name", name("")), ("state", Value::str("latest"))]);
    let o = lab.run(super::apt::run, &latest, false);
    assert!(o.failed && o.msg.clone().unwrap_or_default().contains("held"), "{o:?}");
    assert_eq!(installed(), "hold ok installed 1.0-1");
    let unhold = a(&[("name", Value::str(PKG)), ("selection", Value::str("install"))]);
    assert!(lab.run(super::dpkg_selections::run, &unhold, false).changed);
    let o = lab.run(super::apt::run, &latest, false);
    assert!(o.changed && !o.failed, "{o:?}");
    assert_eq!(installed(), "install ok installed 2.0-1");
    assert!(!lab.run(super::apt::run, &latest, false).changed);

    // A downgrade needs allow_downgrade.
    let down = a(&[("name", name("1.0-*"))]);
    let o = lab.run(super::apt::run, &down, false);
    assert!(
        o.failed && o.msg.clone().unwrap_or_default().contains("downgrade"),
        "{o:?}"
    );
    let mut allowed = down.clone();
    allowed.insert("allow_downgrade".into(), Value::Bool(true));
    assert!(lab.run(super::apt::run, &allowed, false).changed);
    assert_eq!(installed(), "install ok installed 1.0-1");

    let bad = [
        (a(&[("name", name("9.*"))]), "No package matching"),
        (
            a(&[("name", name("1.0-1")), ("state", Value::str("latest"))]),
            "version number inconsistent",
        ),
        (
            a(&[("name", name("")), ("bogus", Value::Int(1))]),
            "Unsupported parameters",
        ),
    ];
    for (args, msg) in bad {
        let o = lab.run(super::apt::run, &args, false);
        assert!(o.failed && o.msg.clone().unwrap_or_default().contains(msg), "{o:?}");
    }
    let o = lab.run(
        super::dpkg_selections::run,
        &a(&[("name", Value::str("pt-no-such")), ("selection", Value::str("hold"))]),
        false,
    );
    assert_eq!(
        o.msg.as_deref(),
        Some("Failed to find package 'pt-no-such' to perform selection 'hold'.")
    );

    let gone = a(&[
        ("name", name("")),
        ("state", Value::str("absent")),
        ("purge", Value::Bool(true)),
    ]);
    assert!(lab.run(super::apt::run, &gone, false).changed);
    assert!(!installed().contains("ok installed"));
    assert!(!lab.run(super::apt::run, &gone, false).changed);
}
