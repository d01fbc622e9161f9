//! `copy`: put `content:` or a controller file (`src:`, looked up under `files/`) at `dest`.

use super::args::Args;
use super::file_attrs::Wanted;
use super::write_file::{COMMON_FILE_ARGS, WriteRequest, write};
use super::{ModuleCtx, Outcome};
use crate::connection::{self, BoxFuture};

pub fn run<'a>(ctx: &'a ModuleCtx<'a>) -> BoxFuture<'a, connection::Result<Outcome>> {
    Box::pin(async move {
        match request(ctx) {
            Ok(Plan::File(req)) => write(ctx, req).await,
            Ok(Plan::Tree(tree)) => super::copy_tree::copy(ctx, tree).await,
            Err(msg) => Ok(Outcome::fail(msg)),
        }
    })
}

enum Plan {
    File(WriteRequest),
    Tree(super::copy_tree::Tree),
}

fn request(ctx: &ModuleCtx<'_>) -> Result<Plan, String> {
    let args = Args::new("copy", ctx.args);
    let mut known = vec!["src", "content", "dest"];
    known.extend_from_slice(COMMON_FILE_ARGS);
    args.only(&known)?;
    let dest = args.required_str("dest")?;
    if dest.is_empty() {
        return Err("dest is required".into());
    }
    let preserve = super::file_attrs::is_preserve(&args);
    let want = if preserve {
        // The mode comes from each source file below.
        Wanted {
            mode: None,
            owner: args.str("owner")?,
            group: args.str("group")?,
        }
    } else {
        Wanted::from_args(&args)?
    };
    let force = args.bool("force", true)?;
    let backup = args.bool("backup", false)?;
    if args.bool("remote_src", false)? {
        let src = args.str("src")?.ok_or("src is required with remote_src")?;
        if args.get("validate").is_some() || preserve {
            return Err("validate and mode=preserve with remote_src are not supported yet".into());
        }
        let name = src.trim_end_matches('/').rsplit('/').next().unwrap_or(&src).to_string();
        return Ok(Plan::File(WriteRequest {
            content: Vec::new(),
            dest,
            src_name: Some(name),
            src_label: src.clone(),
            want,
            force,
            backup,
            validate: None,
            directory_mode: super::write_file::directory_mode(&args)?,
            remote_src: Some(src),
        }));
    }
    match (args.str("content")?, args.str("src")?) {
        (Some(_), Some(_)) => Err("src and content are mutually exclusive".into()),
        (None, None) => Err("src (or content) is required".into()),
        (Some(_), None) if preserve => Err("mode=preserve needs src, not content".into()),
        (Some(content), None) => Ok(Plan::File(WriteRequest {
            content: content.into_bytes(),
            src_label: dest.clone(),
            dest,
            src_name: None,
            want,
            force,
            backup,
            validate: args.str("validate")?,
            directory_mode: super::write_file::directory_mode(&args)?,
            remote_src: None,
        })),
        (None, Some(src)) => {
            let path = ctx
                .find_source("files", &src)
                .ok_or_else(|| format!("Could not find or access '{src}' on the Ansible Controller."))?;
            if path.is_dir() {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let into = match (src.ends_with('/'), dest.ends_with('/')) {
                    (true, _) => dest.clone(),
                    (false, true) => format!("{dest}{name}"),
                    (false, false) => format!("{dest}/{name}"),
                };
                let label = if src.ends_with('/') {
                    format!("{}/", path.display().to_string().trim_end_matches('/'))
                } else {
                    path.display().to_string()
                };
                return Ok(Plan::Tree(super::copy_tree::Tree {
                    root: path,
                    src_label: label,
                    into,
                    preserve,
                    dest_label: if dest.ends_with('/') {
                        dest.clone()
                    } else {
                        format!("{dest}/")
                    },
                    files: WriteRequest {
                        content: Vec::new(),
                        dest: String::new(),
                        src_name: None,
                        src_label: String::new(),
                        want,
                        force,
                        backup,
                        validate: args.str("validate")?,
                        directory_mode: super::write_file::directory_mode(&args)?,
                        remote_src: None,
                    },
                }));
            }
            let content = std::fs::read(&path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
            let want = if preserve {
                Wanted::from_args_preserving(&args, &path)?
            } else {
                want
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| src.clone());
            Ok(Plan::File(WriteRequest {
                content,
                dest,
                src_name: Some(name),
                src_label: path.display().to_string(),
                want,
                force,
                backup,
                validate: args.str("validate")?,
                directory_mode: super::write_file::directory_mode(&args)?,
                remote_src: None,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::modules::file_tests::{HOSTILE, Harness, mode_of, p, s, tmp};
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn content_is_written_once_with_ansible_fields() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let dest = p(d.path(), "c1");
        let args = json!({"content": "hello\n", "dest": dest});
        let c = h.check(run, args.clone());
        assert!(c.changed && !Path::new(&dest).exists() && c.data.is_empty(), "{c:?}");
        assert_eq!(c.diff.first().map(|d| d.after.as_str()), Some("hello\n"));
        let r = h.run(run, args.clone());
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"hello\n");
        assert_eq!(mode_of(Path::new(&dest)), 0o644);
        let fields = ["dest", "checksum", "md5sum", "mode", "state", "size"].map(|k| s(&r, k));
        assert_eq!(
            fields,
            [
                dest.as_str(),
                "f572d396fae9206628714fb2ce00f72e94f2258f",
                "b1946ac92492d2347c6235b4d2611184",
                "0644",
                "file",
                "6"
            ]
            .map(String::from)
        );
        let again = h.run(run, args);
        assert!(
            !again.changed && s(&again, "path") == dest && !again.data.contains_key("md5sum"),
            "{again:?}"
        );
        // A new mode and content; then only a mode change.
        let r = h.run(run, json!({"content": "hello2\n", "dest": dest, "mode": "0600"}));
        assert!(r.changed && s(&r, "mode") == "0600" && s(&r, "size") == "7", "{r:?}");
        assert_eq!(mode_of(Path::new(&dest)), 0o600);
        let r = h.run(run, json!({"content": "hello2\n", "dest": dest, "mode": "0640"}));
        assert!(r.changed && s(&r, "mode") == "0640", "{r:?}");
        // No mode given: an existing file keeps its mode.
        let r = h.run(run, json!({"content": "hello3\n", "dest": dest}));
        assert!(r.changed && s(&r, "mode") == "0640", "{r:?}");
        // force: false leaves an existing file alone.
        let r = h.run(run, json!({"content": "new", "dest": dest, "force": false}));
        assert!(!r.changed);
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"hello3\n");
    }

    #[test]
    fn src_into_a_directory_and_failures() {
        let d = tmp();
        let files = d.path().join("files");
        let _ = std::fs::create_dir_all(&files);
        let _ = std::fs::write(files.join("app.cfg"), "k=v\n");
        let out = d.path().join("out");
        let _ = std::fs::create_dir_all(&out);
        let h = Harness::new(vec![d.path().to_path_buf()]);
        let r = h.run(run, json!({"src": "app.cfg", "dest": format!("{}/", out.display())}));
        assert!(r.changed && s(&r, "dest") == p(&out, "app.cfg"), "{r:?}");
        assert_eq!(std::fs::read(out.join("app.cfg")).unwrap_or_default(), b"k=v\n");
        let r = h.run(run, json!({"src": "app.cfg", "dest": out.display().to_string()}));
        assert!(!r.changed && !r.failed, "{r:?}");
        // A `dest/` that is not there is made (0755) for a source file.
        let r = h.run(
            run,
            json!({"src": "app.cfg", "dest": format!("{}/", p(d.path(), "made"))}),
        );
        assert!(
            r.changed && s(&r, "dest") == p(&d.path().join("made"), "app.cfg"),
            "{r:?}"
        );
        assert_eq!(mode_of(&d.path().join("made")), 0o755);
        let r = h.run(run, json!({"content": "x", "dest": out.display().to_string()}));
        assert_eq!(r.msg.as_deref(), Some("can not use content with a dir as dest"));
        // mode: preserve takes the controller file's mode.
        let _ = std::fs::write(files.join("run.sh"), "exe\n");
        let _ = std::fs::set_permissions(
            files.join("run.sh"),
            std::os::unix::fs::PermissionsExt::from_mode(0o750),
        );
        let r = h.run(
            run,
            json!({"src": "run.sh", "dest": p(&out, "run.sh"), "mode": "preserve"}),
        );
        assert!(r.changed && s(&r, "mode") == "0750", "{r:?}");
        assert_eq!(mode_of(&out.join("run.sh")), 0o750);
        let r = h.run(run, json!({"src": "nope.cfg", "dest": p(&out, "x")}));
        assert!(r.failed);
        let r = h.run(run, json!({"content": "x", "dest": p(d.path(), "no/such/dir/f")}));
        assert!(
            r.failed && r.msg.as_deref().unwrap_or_default().contains("does not exist"),
            "{r:?}"
        );
    }

    #[test]
    fn validate_guards_the_destination() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let dest = p(d.path(), "sudoers x");
        let _ = std::fs::write(&dest, "good old\n");
        let _ = std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o440));
        let r = h.run(
            run,
            json!({"content": "bad\n", "dest": dest, "validate": "grep -q good %s"}),
        );
        assert!(r.failed && r.msg.as_deref() == Some("failed to validate"), "{r:?}");
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"good old\n");
        let r = h.run(
            run,
            json!({"content": "good new\n", "dest": dest, "validate": "grep -q good %s"}),
        );
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"good new\n");
        assert_eq!(mode_of(Path::new(&dest)), 0o440);
        assert_eq!(std::fs::read_dir(d.path()).map(|r| r.count()).unwrap_or(0), 1);
        let r = h.run(run, json!({"content": "x", "dest": dest, "validate": "true"}));
        assert!(r.failed && r.msg.as_deref().unwrap_or_default().contains("%s"), "{r:?}");
    }

    /// Modes as ansible-core 2.19 leaves them: a new file gets the umask default, a replaced
    /// one the source's mode.
    #[test]
    fn remote_src_copies_on_the_host() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let src = p(d.path(), "src");
        let _ = std::fs::write(&src, "secret\n");
        let _ = std::fs::set_permissions(&src, std::os::unix::fs::PermissionsExt::from_mode(0o600));
        let exist = p(d.path(), "exist");
        let _ = std::fs::write(&exist, "old\n");
        let _ = std::fs::set_permissions(&exist, std::os::unix::fs::PermissionsExt::from_mode(0o640));
        let sum = "fc683cd9ed1990ca2ea10b84e5e6fba048c24929";
        let table = [
            (p(d.path(), "new"), true, 0o644, p(d.path(), "new")),
            (exist.clone(), true, 0o600, exist.clone()),
            (exist.clone(), false, 0o600, exist.clone()),
            (
                format!("{}/", p(d.path(), "dir")),
                true,
                0o644,
                p(&d.path().join("dir"), "src"),
            ),
        ];
        for (dest, changed, mode, lands) in table {
            let r = h.run(run, json!({"src": src, "dest": dest, "remote_src": true}));
            assert_eq!(
                (r.changed, s(&r, "checksum"), s(&r, "dest")),
                (changed, sum.to_string(), lands.clone()),
                "{r:?}"
            );
            assert_eq!(std::fs::read(&lands).unwrap_or_default(), b"secret\n");
            assert_eq!(mode_of(Path::new(&lands)), mode, "{lands}");
        }
        let r = h.run(
            run,
            json!({"src": p(d.path(), "nosrc"), "dest": p(d.path(), "x"), "remote_src": true}),
        );
        assert_eq!(r.msg, Some(format!("Source {} not found", p(d.path(), "nosrc"))));
        let names: Vec<String> = std::fs::read_dir(d.path())
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(names.iter().all(|n| !n.starts_with('.')), "temp files left: {names:?}");
    }

    /// What ansible-core 2.19 leaves for a directory source, with and without a trailing `/`.
    #[test]
    fn directory_sources_copy_their_tree() {
        let d = tmp();
        let tree = d.path().join("files/tree");
        let _ = std::fs::create_dir_all(tree.join("sub"));
        let _ = std::fs::write(tree.join("a"), "a\n");
        let _ = std::fs::write(tree.join("sub/b"), "b\n");
        let _ = std::fs::set_permissions(tree.join("sub/b"), std::os::unix::fs::PermissionsExt::from_mode(0o755));
        let out = d.path().join("out");
        let _ = std::fs::create_dir_all(&out);
        let h = Harness::new(vec![d.path().to_path_buf()]);
        let o = out.display().to_string();
        let r = h.run(run, json!({"src": "tree", "dest": format!("{o}/")}));
        assert!(
            r.changed && s(&r, "dest") == format!("{o}/") && s(&r, "src") == tree.display().to_string(),
            "{r:?}"
        );
        assert!(!h.run(run, json!({"src": "tree", "dest": format!("{o}/")})).changed);
        let c = h.check(run, json!({"src": "tree/", "dest": p(&out, "flat"), "mode": "0600"}));
        assert!(c.changed && !out.join("flat").exists(), "{c:?}");
        let r = h.run(run, json!({"src": "tree/", "dest": p(&out, "flat"), "mode": "0600"}));
        assert!(r.changed && s(&r, "dest") == format!("{}/", p(&out, "flat")), "{r:?}");
        let modes: Vec<(&str, u32)> = vec![
            ("tree", 0o755),
            ("tree/a", 0o644),
            ("tree/sub", 0o755),
            ("tree/sub/b", 0o644),
            ("flat", 0o755),
            ("flat/a", 0o600),
            ("flat/sub/b", 0o600),
        ];
        for (rel, mode) in modes {
            assert_eq!(mode_of(&out.join(rel)), mode, "{rel}");
        }
        assert_eq!(std::fs::read(out.join("flat/sub/b")).unwrap_or_default(), b"b\n");
    }

    /// As ansible-core 2.19 does (follow: false): a symlink dest becomes a plain file and
    /// what it pointed to is left alone.
    #[test]
    fn a_symlink_dest_is_replaced() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let target = p(d.path(), "target");
        let _ = std::fs::write(&target, "a\n");
        let link = p(d.path(), "link");
        let _ = std::os::unix::fs::symlink(&target, &link);
        assert!(h.run(run, json!({"content": "zz", "dest": link})).changed);
        assert!(!Path::new(&link).is_symlink());
        assert_eq!(std::fs::read(&target).unwrap_or_default(), b"a\n");
        assert_eq!(std::fs::read(&link).unwrap_or_default(), b"zz");
    }

    /// A replaced file keeps an owner and group that are not the connecting user's.
    #[test]
    fn replacing_keeps_a_foreign_owner() {
        use std::os::unix::fs::MetadataExt;
        let d = tmp();
        let h = Harness::new(vec![]);
        let f = p(d.path(), "f");
        let _ = std::fs::write(&f, "old\n");
        // The tests run as root (CI does): only root can hand a file to another user.
        if let Err(e) = std::os::unix::fs::chown(&f, Some(65534), Some(65534)) {
            panic!("this test must run as root to create a file owned by another user: {e}");
        }
        let r = h.run(run, json!({"content": "new\n", "dest": f}));
        assert!(r.changed && s(&r, "uid") == "65534" && s(&r, "gid") == "65534", "{r:?}");
        let m = std::fs::metadata(&f).map(|m| (m.uid(), m.gid())).unwrap_or_default();
        assert_eq!(m, (65534, 65534));
        let lf = crate::modules::lineinfile::run;
        assert!(h.run(lf, json!({"path": f, "line": "more"})).changed);
        let m = std::fs::metadata(&f).map(|m| (m.uid(), m.gid())).unwrap_or_default();
        assert_eq!(m, (65534, 65534));
        assert_eq!(std::fs::read(&f).unwrap_or_default(), b"new\nmore\n");
    }

    #[test]
    fn backup_keeps_the_old_content() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let dest = p(d.path(), "f");
        let _ = std::fs::write(&dest, "old\n");
        let r = h.run(run, json!({"content": "new\n", "dest": dest, "backup": true}));
        let b = s(&r, "backup_file");
        assert!(b.starts_with(&format!("{dest}.")) && b.ends_with('~'), "{b}");
        assert_eq!(std::fs::read(&b).unwrap_or_default(), b"old\n");
    }

    #[test]
    fn hostile_dest_is_one_literal_name() {
        let d = tmp();
        let h = Harness::new(vec![]);
        let dest = p(d.path(), HOSTILE);
        let r = h.run(run, json!({"content": "x", "dest": dest, "mode": "0640"}));
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(std::fs::read(&dest).unwrap_or_default(), b"x");
        assert!(
            !h.run(run, json!({"content": "x", "dest": dest, "mode": "0640"}))
                .changed
        );
        assert_eq!(std::fs::read_dir(d.path()).map(|r| r.count()).unwrap_or(0), 1);
    }
}
