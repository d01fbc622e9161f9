//! `unarchive` with archives made by this machine's `tar` and `python3 -m zipfile`.

use super::*;
use crate::modules::file_tests::{Harness, mode_of, p, s, tmp};
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// `<root>/files/app.tgz`, `app.tar` and `app.zip`, each holding `app/bin/run` and `app/README`.
fn archives(root: &Path) {
    let tree = root.join("tree");
    let _ = std::fs::create_dir_all(tree.join("app/bin"));
    let _ = std::fs::write(tree.join("app/bin/run"), "#!/bin/sh\necho run\n");
    let _ = std::fs::write(tree.join("app/README"), "readme\n");
    let files = root.join("files");
    let _ = std::fs::create_dir_all(&files);
    for (flag, name) in [("-czf", "app.tgz"), ("-cf", "app.tar")] {
        let st = Command::new("tar")
            .args([
                flag,
                &files.join(name).display().to_string(),
                "-C",
                &tree.display().to_string(),
                "app",
            ])
            .status();
        assert!(st.map(|s| s.success()).unwrap_or(false), "tar failed");
    }
    let st = Command::new("python3")
        .current_dir(&tree)
        .args([
            "-m",
            "zipfile",
            "-c",
            &files.join("app.zip").display().to_string(),
            "app",
        ])
        .status();
    assert!(st.map(|s| s.success()).unwrap_or(false), "zip failed");
}

#[test]
fn tgz_from_controller_check_idempotence_and_drift() {
    let root = tmp();
    archives(root.path());
    let h = Harness::new(vec![root.path().to_path_buf()]);
    let d = tmp();
    let dest = d.path().display().to_string();
    let args = json!({"src": "app.tgz", "dest": dest, "list_files": true});
    let c = h.check(run, args.clone());
    assert!(c.changed && !c.failed, "{c:?}");
    assert!(!d.path().join("app").exists(), "check mode unpacked");
    let r = h.run(run, args.clone());
    assert!(r.changed && !r.failed, "{r:?}");
    assert_eq!(s(&r, "handler"), "TgzArchive");
    assert_eq!(
        std::fs::read_to_string(d.path().join("app/README")).unwrap_or_default(),
        "readme\n"
    );
    let files = r.data.get("files").and_then(Value::as_list).map(<[Value]>::len);
    assert_eq!(files, Some(4), "{r:?}");
    assert_eq!(s(&r, "state"), "directory");
    let again = h.run(run, args.clone());
    assert!(!again.changed && !again.failed, "{again:?}");
    assert!(!h.check(run, args.clone()).changed);
    // A changed member is put back.
    let _ = std::fs::write(d.path().join("app/README"), "edited\n");
    let fixed = h.run(run, args);
    assert!(fixed.changed, "{fixed:?}");
    assert_eq!(
        std::fs::read_to_string(d.path().join("app/README")).unwrap_or_default(),
        "readme\n"
    );
    // A mode for every member, then no change.
    let m = json!({"src": "app.tgz", "dest": dest, "mode": "0700"});
    assert!(h.run(run, m.clone()).changed);
    assert_eq!(mode_of(&d.path().join("app/README")), 0o700);
    assert_eq!(mode_of(&d.path().join("app")), 0o700);
    let m2 = h.run(run, m);
    assert!(!m2.changed, "{m2:?}");
}

#[test]
fn remote_tar_zip_and_creates() {
    let root = tmp();
    archives(root.path());
    let h = Harness::new(vec![root.path().to_path_buf()]);
    let d = tmp();
    let dest = d.path().display().to_string();
    let tar = p(&root.path().join("files"), "app.tar");
    let r = h.run(run, json!({"src": tar, "dest": dest, "remote_src": true}));
    assert!(
        r.changed && s(&r, "handler") == "TarArchive" && s(&r, "src") == tar,
        "{r:?}"
    );
    assert!(d.path().join("app/bin/run").exists());
    let skipped = h.run(
        run,
        json!({"src": tar, "dest": dest, "remote_src": true, "creates": p(d.path(), "app")}),
    );
    assert!(skipped.skipped && !skipped.changed, "{skipped:?}");
    let z = tmp();
    let args = json!({"src": "app.zip", "dest": z.path()});
    let r = h.run(run, args.clone());
    assert!(r.changed && s(&r, "handler") == "ZipArchive", "{r:?}");
    assert_eq!(
        std::fs::read_to_string(z.path().join("app/bin/run")).unwrap_or_default(),
        "#!/bin/sh\necho run\n"
    );
    assert!(!h.run(run, args).changed);
    // The uploaded copy does not stay on the host.
    let leftovers = Command::new("sh")
        .args(["-c", "ls -d /tmp/tmp.*/app.zip 2>/dev/null | wc -l"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert_eq!(leftovers, "0");
}

#[test]
fn bad_arguments_and_bad_archives() {
    let root = tmp();
    archives(root.path());
    let _ = std::fs::write(root.path().join("files/not.tgz"), "plain text, not an archive\n");
    let h = Harness::new(vec![root.path().to_path_buf()]);
    let d = tmp();
    let dest = d.path().display().to_string();
    let missing = p(d.path(), "nope");
    let table = [
        (json!({"dest": dest}), "missing required arguments: src".to_string()),
        (
            json!({"src": "app.tgz", "dest": missing}),
            format!("dest '{missing}' must be an existing dir"),
        ),
        (
            json!({"src": "gone.tgz", "dest": dest}),
            "Could not find or access 'gone.tgz' on the Ansible Controller.".into(),
        ),
        (
            json!({"src": "not.tgz", "dest": dest}),
            "Failed to find handler for".into(),
        ),
        (
            json!({"src": "app.tgz", "dest": dest, "exclude": ["x"]}),
            "Unsupported parameters for (unarchive) module: exclude".into(),
        ),
    ];
    for (args, msg) in table {
        let r = h.run(run, args.clone());
        assert!(
            r.failed && r.msg.as_deref().unwrap_or_default().starts_with(&msg),
            "{args}: {r:?}"
        );
    }
}

#[test]
fn extract_commands_match_the_handler() {
    let w = extract_words("TgzArchive", "/s.tgz", "/d", &["--strip-components=1".into()]);
    assert_eq!(
        w,
        [
            "tar",
            "--extract",
            "-C",
            "/d",
            "-z",
            "--strip-components=1",
            "-f",
            "/s.tgz"
        ]
    );
    let z = extract_words("ZipArchive", "/s.zip", "/d", &[]);
    assert_eq!(z, ["unzip", "-o", "/s.zip", "-d", "/d"]);
}

#[test]
fn unsafe_member_table() {
    let cases: [(&[&str], Option<&str>); 7] = [
        (&["app/", "app/bin/run", "app/README"], None),
        (&["./app/", "./app/x"], None),
        (&["../x"], Some("member '../x' has a '..' component")),
        (&["a/../../x"], Some("'..' component")),
        (&["/etc/x"], Some("member '/etc/x' has an absolute path")),
        (&["l", "l/x"], Some("member 'l/x' is under 'l'")),
        (&["./l", "l/sub/x"], Some("member 'l/sub/x' is under 'l'")),
    ];
    for (files, want) in cases {
        let files: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        let got = unsafe_member(&files);
        match want {
            None => assert_eq!(got, None, "{files:?}"),
            Some(w) => assert!(got.as_deref().unwrap_or_default().contains(w), "{files:?}: {got:?}"),
        }
    }
}

/// Hostile archives built with Python's tarfile and zipfile: a `../` member, an absolute
/// member, and a link to a directory outside followed by a file written through it. Each
/// fails with a clear message and writes nothing, inside dest or outside it.
#[test]
fn hostile_archives_are_refused_and_write_nothing() {
    let root = tmp();
    let files = root.path().join("files");
    let _ = std::fs::create_dir_all(&files);
    let outside = root.path().join("outside");
    let _ = std::fs::create_dir_all(&outside);
    let script = format!(
        r#"
import io, tarfile, zipfile
out = {outside:?}
def tar(name, members):
    with tarfile.open({files:?} + "/" + name, "w") as t:
        for n, kind, data in members:
            i = tarfile.TarInfo(n)
            if kind == "link":
                i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)
            else:
                b = data.encode(); i.size = len(b); t.addfile(i, io.BytesIO(b))
def zip_(name, members):
    with zipfile.ZipFile({files:?} + "/" + name, "w") as z:
        for n, kind, data in members:
            if kind == "link":
                i = zipfile.ZipInfo(n); i.external_attr = (0o120777 << 16); z.writestr(i, data)
            else:
                z.writestr(zipfile.ZipInfo(n), data)
for mk, ext in ((tar, "tar"), (zip_, "zip")):
    mk("dotdot." + ext, [("ok", "file", "ok"), ("../../outside/dotdot", "file", "x")])
    mk("abs." + ext, [("ok", "file", "ok"), (out + "/abs", "file", "x")])
    mk("link." + ext, [("l", "link", out), ("l/through", "file", "x")])
"#,
        outside = outside.display().to_string(),
        files = files.display().to_string(),
    );
    let st = Command::new("python3").args(["-c", &script]).status();
    assert!(
        st.map(|s| s.success()).unwrap_or(false),
        "python3 could not build the archives"
    );
    let h = Harness::new(vec![root.path().to_path_buf()]);
    let table = [
        ("dotdot", "has a '..' component"),
        ("abs", "has an absolute path"),
        ("link", "is under 'l'"),
    ];
    for ext in ["tar", "zip"] {
        for (name, why) in table {
            let d = tmp();
            let inner = d.path().join("dest");
            let _ = std::fs::create_dir_all(&inner);
            let args = json!({"src": format!("{name}.{ext}"), "dest": inner});
            let r = h.run(run, args);
            let msg = r.msg.clone().unwrap_or_default();
            assert!(
                r.failed && msg.contains("refusing to unpack") && msg.contains(why),
                "{name}.{ext}: {r:?}"
            );
            let outside_now: Vec<_> = std::fs::read_dir(&outside).map(|d| d.count()).into_iter().collect();
            assert_eq!(outside_now, vec![0], "{name}.{ext} wrote outside dest");
            let dest_now = std::fs::read_dir(&inner).map(|d| d.count()).unwrap_or(1);
            assert_eq!(dest_now, 0, "{name}.{ext} unpacked part of a refused archive");
            assert_eq!(
                std::fs::read_dir(d.path()).map(|d| d.count()).unwrap_or(0),
                1,
                "{name}.{ext}"
            );
        }
    }
}
