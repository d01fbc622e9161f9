//! `copy` of a controller directory: `src: dir` lands as `dest/dir/...`, `src: dir/` puts the
//! directory's contents into `dest/`. Directories are made first (one round trip), then every
//! file goes through the same write path as a single `copy`.

use super::remote_file::{Probe, parse_records, probe_script};
use super::write_file::{WriteRequest, write};
use super::{ModuleCtx, Outcome};
use crate::connection::quote::quote;
use crate::connection::{self, ExecRequest};
use crate::value::Value;
use std::path::{Path, PathBuf};

/// One directory copy; `files` holds everything but the content and destination.
pub struct Tree {
    pub root: PathBuf,
    /// `src` as Ansible reports it (the controller path, with the trailing `/` if written).
    pub src_label: String,
    /// The directory on the host the tree's contents land in.
    pub into: String,
    /// `mode: preserve`: each file keeps its controller mode.
    pub preserve: bool,
    /// `dest` as Ansible reports it (always ending in `/`).
    pub dest_label: String,
    pub files: WriteRequest,
}

/// Relative directory names, and relative file names with their controller paths.
type Listing = (Vec<String>, Vec<(String, PathBuf)>);

/// The tree's directories and files, relative, in a stable order (parents first).
fn walk(root: &Path) -> Result<Listing, String> {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| format!("could not read {}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries.into_iter().rev() {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            let path = e.path();
            if path.is_dir() {
                stack.push((path, r));
            } else {
                files.push((r, path));
            }
        }
        if !rel.is_empty() {
            dirs.push(rel);
        }
    }
    dirs.sort();
    files.sort();
    Ok((dirs, files))
}

pub async fn copy(ctx: &ModuleCtx<'_>, mut tree: Tree) -> connection::Result<Outcome> {
    tree.into = match super::remote_file::expand_user(ctx, &tree.into).await? {
        Ok(d) => d,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let (dirs, files) = match walk(&tree.root) {
        Ok(w) => w,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let base = tree.into.trim_end_matches('/').to_string();
    let mut all_dirs = vec![base.clone()];
    all_dirs.extend(dirs.iter().map(|d| format!("{base}/{d}")));
    // Which directories are missing, and (outside check mode) make them.
    let mut line = String::new();
    for d in &all_dirs {
        match probe_script(d, Probe::default()) {
            Ok(s) => line.push_str(&s),
            Err(e) => return Ok(Outcome::fail(e)),
        }
    }
    let out = ctx.conn.exec(&ExecRequest::new(line)).await?;
    let stats = match parse_records(&out.stdout) {
        Ok(s) => s,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let missing: Vec<&String> = all_dirs
        .iter()
        .zip(stats.iter())
        .filter(|(_, st)| st.is_none())
        .map(|(d, _)| d)
        .collect();
    let mut changed = !missing.is_empty();
    if changed && !ctx.check {
        let mut mk = String::from("mkdir -p");
        if let Some(m) = tree.files.directory_mode {
            mk.push_str(&format!(" -m {m:04o}"));
        }
        mk.push_str(" --");
        for d in &missing {
            match quote(d) {
                Ok(q) => {
                    mk.push(' ');
                    mk.push_str(&q);
                }
                Err(e) => return Ok(Outcome::fail(e.to_string())),
            }
        }
        let r = ctx.exec(mk).await?;
        if r.rc != 0 {
            return Ok(Outcome::fail(format!(
                "could not create {base}: {}",
                r.stderr_lossy().trim()
            )));
        }
    }
    for (rel, path) in files {
        let content = match std::fs::read(&path) {
            Ok(c) => c,
            Err(e) => return Ok(Outcome::fail(format!("could not read {}: {e}", path.display()))),
        };
        let mut want = tree.files.want.clone();
        if tree.preserve {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o644);
            want.mode = Some(super::args::Mode::Bits(mode));
        }
        let req = WriteRequest {
            content,
            dest: format!("{base}/{rel}"),
            src_name: None,
            src_label: path.display().to_string(),
            want,
            force: tree.files.force,
            backup: tree.files.backup,
            validate: tree.files.validate.clone(),
            directory_mode: tree.files.directory_mode,
            remote_src: None,
        };
        let r = write(ctx, req).await?;
        if r.failed {
            return Ok(r);
        }
        changed |= r.changed;
    }
    Ok(Outcome::changed(changed)
        .with("dest", tree.dest_label.as_str())
        .with("src", Value::str(tree.src_label)))
}
