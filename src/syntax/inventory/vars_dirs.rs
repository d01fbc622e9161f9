//! `group_vars/` and `host_vars/` directories, found the way Ansible's `host_group_vars` plugin
//! finds them: for a name, the first of `<name>`, `<name>.yml`, `<name>.yaml`, `<name>.json`
//! that exists is used; a directory is read whole (sorted, recursively, skipping hidden files,
//! `~` backups, other extensions, and subdirectories with an extension). Files are read only
//! for names asked for, so a stray `README.md` never breaks a run.

use super::Warning;
use crate::syntax::error::{Error, ErrorKind, Result};
use crate::syntax::span::{SourceFile, Span};
use crate::syntax::{vault, yaml};
use crate::value::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const EXTENSIONS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

/// One variables file as loaded.
#[derive(Debug, Clone)]
pub struct VarsFile {
    /// Which directory it came from: an index into [`super::Inventory::source_dirs`] for
    /// inventory-adjacent files; 0 for a lone [`VarsDirs`].
    pub source: usize,
    pub path: PathBuf,
    pub vars: Map,
}

/// The `group_vars/` and `host_vars/` of one directory.
#[derive(Debug, Clone, Default)]
pub struct VarsDirs {
    pub dir: PathBuf,
    pub group_vars: VarsDir,
    pub host_vars: VarsDir,
    /// `group_vars` or `host_vars` that exist but are not directories (Ansible skips them).
    pub warnings: Vec<Warning>,
}

/// One `group_vars/` or `host_vars/` directory: its listing, read once.
#[derive(Debug, Clone, Default)]
pub struct VarsDir {
    pub path: PathBuf,
    /// Entry name → whether it is a directory. Empty when the directory does not exist.
    entries: HashMap<String, bool>,
}

/// The options that reach vars files: how to open vault-encrypted ones.
pub type Decrypt<'a> = &'a dyn Fn(&Path, &str) -> Result<String>;

/// List `dir/group_vars` and `dir/host_vars` (either may be missing).
pub fn load_vars_dirs(dir: &Path) -> Result<VarsDirs> {
    let mut out = VarsDirs {
        dir: dir.to_path_buf(),
        ..VarsDirs::default()
    };
    for (sub, slot) in [("group_vars", &mut out.group_vars), ("host_vars", &mut out.host_vars)] {
        let path = dir.join(sub);
        slot.path = path.clone();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => slot.entries = list_dir(&path)?,
            Ok(_) => out.warnings.push(Warning {
                message: format!("found {sub} that is not a directory, skipping: {}", path.display()),
                span: None,
            }),
            Err(_) => {}
        }
    }
    Ok(out)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
        None,
    )
}

fn list_dir(path: &Path) -> Result<HashMap<String, bool>> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir(path).map_err(|e| io_error(path, e))? {
        let entry = entry.map_err(|e| io_error(path, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Follow symlinks, as Ansible's isdir does.
        let is_dir = std::fs::metadata(entry.path()).map(|m| m.is_dir()).unwrap_or(false);
        out.insert(name, is_dir);
    }
    Ok(out)
}

impl VarsDir {
    /// Whether the directory exists and has anything in it.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The files for host or group `name`, in the order Ansible loads them, with their
    /// variables. Empty files are skipped; a file that is not a mapping is an error.
    pub fn load(&self, name: &str, source: usize, decrypt: Option<Decrypt>) -> Result<Vec<VarsFile>> {
        let mut out = Vec::new();
        // Names that look like absolute paths are never looked up (chroot-style hosts).
        if self.entries.is_empty() || name.is_empty() || name.starts_with('/') {
            return Ok(out);
        }
        for ext in EXTENSIONS {
            let candidate = format!("{name}{ext}");
            let is_dir = if candidate.contains('/') {
                match std::fs::metadata(self.path.join(&candidate)) {
                    Ok(m) => m.is_dir(),
                    Err(_) => continue,
                }
            } else {
                match self.entries.get(&candidate) {
                    Some(d) => *d,
                    None => continue,
                }
            };
            let path = self.path.join(&candidate);
            let mut files = Vec::new();
            if is_dir {
                dir_files(&path, &mut files)?;
            } else {
                files.push(path);
            }
            for file in files {
                if let Some(vars) = load_vars_file(&file, decrypt)? {
                    out.push(VarsFile {
                        source,
                        path: file,
                        vars,
                    });
                }
            }
            break;
        }
        Ok(out)
    }
}

/// Every vars file under a `group_vars/<name>/` directory, sorted, recursively.
fn dir_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| io_error(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = dir.join(&name);
        let ext = extension(&name);
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, e))?;
        if meta.is_dir() {
            if ext.is_empty() {
                dir_files(&path, out)?;
            }
        } else if meta.is_file() && EXTENSIONS.contains(&ext) {
            out.push(path);
        }
    }
    Ok(())
}

/// Python's `os.path.splitext(name)[1]`: the last `.suffix`, unless the name only starts with
/// dots.
fn extension(name: &str) -> &str {
    let trimmed = name.trim_start_matches('.');
    match trimmed.rfind('.') {
        Some(i) => &trimmed[i..],
        None => "",
    }
}

/// The plaintext of an inventory or vars file encrypted as a whole, `None` when it is not;
/// without a decryption hook an encrypted file is an error at its first line.
pub fn open_whole_file(
    path: &Path,
    source: &Arc<SourceFile>,
    decrypt: Option<Decrypt>,
) -> Result<Option<Arc<SourceFile>>> {
    if !vault::is_encrypted(&source.text) {
        return Ok(None);
    }
    let Some(decrypt) = decrypt else {
        return Err(Error::at(
            ErrorKind::Vault {
                message: format!("{} is vault-encrypted and no vault password was given", path.display()),
            },
            &Span::new(source.clone(), 1, 1),
        )
        .with_help("pass --vault-password-file or --ask-vault-pass"));
    };
    Ok(Some(SourceFile::new(path, decrypt(path, &source.text)?)))
}

/// A vars file's mapping; `None` when the file is empty.
pub fn load_vars_file(path: &Path, decrypt: Option<Decrypt>) -> Result<Option<Map>> {
    let mut source = yaml::read_source(path)?;
    let opened = open_whole_file(path, &source, decrypt)?;
    let encrypted = opened.is_some();
    if let Some(plain) = opened {
        source = plain;
    }
    // Errors about a decrypted file point at its lines but never quote them.
    let blind = |mut e: Error| {
        if encrypted {
            e.span = e.span.as_ref().map(vault::blind_span);
        }
        e
    };
    let mut node = yaml::parse(source).map_err(blind)?;
    if let Some(decrypt) = decrypt {
        vault::decrypt_in_place_with(&mut node, &|text| decrypt(path, text)).map_err(blind)?;
    }
    let value = node.to_value();
    match value {
        Value::Map(m) => Ok(Some(m)),
        // Ansible ignores files whose content is empty or false-like.
        Value::Null | Value::Bool(false) => Ok(None),
        Value::Str(ref s) if s.is_empty() => Ok(None),
        Value::List(ref l) if l.is_empty() => Ok(None),
        other => Err(blind(
            Error::at(
                ErrorKind::WrongType {
                    what: format!("the variables file {}", path.display()),
                    expected: "a mapping",
                    found: other.type_name(),
                },
                &node.span,
            )
            .with_help("a vars file holds `name: value` lines"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_is_pythons_splitext() {
        for (name, ext) in [
            ("all.yml", ".yml"),
            ("all", ""),
            ("node1.example.com", ".com"),
            (".hidden", ""),
            ("a.tar.gz", ".gz"),
        ] {
            assert_eq!(extension(name), ext, "{name}");
        }
    }

    #[test]
    fn first_existing_candidate_wins_and_directories_are_read_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        let gv = tmp.path().join("group_vars");
        std::fs::create_dir_all(gv.join("web/sub")).unwrap();
        std::fs::write(gv.join("web.yml"), "ignored: true\n").unwrap();
        std::fs::write(gv.join("web/b.yml"), "b: 1\n").unwrap();
        std::fs::write(gv.join("web/a.yaml"), "a: 1\n").unwrap();
        std::fs::write(gv.join("web/sub/c"), "c: 1\n").unwrap();
        std::fs::write(gv.join("web/notes.txt"), "not: loaded\n").unwrap();
        std::fs::write(gv.join("web/.hidden.yml"), "not: loaded\n").unwrap();
        std::fs::write(gv.join("web/x.yml~"), "not: loaded\n").unwrap();
        std::fs::write(gv.join("web/empty.yml"), "# nothing\n").unwrap();
        std::fs::write(gv.join("db.json"), "{\"port\": 5432}\n").unwrap();
        std::fs::write(gv.join("README.md"), "{{ broken yaml\n").unwrap();
        let dirs = load_vars_dirs(tmp.path()).unwrap();
        let web = dirs.group_vars.load("web", 0, None).unwrap();
        let names: Vec<_> = web
            .iter()
            .map(|f| f.path.strip_prefix(&gv).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["web/a.yaml", "web/b.yml", "web/sub/c"]);
        let db = dirs.group_vars.load("db", 0, None).unwrap();
        assert_eq!(db[0].vars["port"], Value::Int(5432));
        assert!(dirs.group_vars.load("missing", 0, None).unwrap().is_empty());
        assert!(dirs.host_vars.load("web", 0, None).unwrap().is_empty());
    }

    #[test]
    fn non_mapping_and_vault_files_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let hv = tmp.path().join("host_vars");
        std::fs::create_dir_all(&hv).unwrap();
        std::fs::write(hv.join("h1.yml"), "- a\n- b\n").unwrap();
        std::fs::write(hv.join("h2.yml"), "$ANSIBLE_VAULT;1.1;AES256\n6162\n").unwrap();
        let dirs = load_vars_dirs(tmp.path()).unwrap();
        let e = dirs.host_vars.load("h1", 0, None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::WrongType { .. }), "{e}");
        assert!(e.to_string().contains("h1.yml:1:1"), "{e}");
        let e = dirs.host_vars.load("h2", 0, None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Vault { .. }), "{e}");
        let decrypt = |_: &Path, _: &str| -> Result<String> { Ok("secret: 1\n".into()) };
        let ok = dirs.host_vars.load("h2", 0, Some(&decrypt)).unwrap();
        assert_eq!(ok[0].vars["secret"], Value::Int(1));
    }

    #[test]
    fn inline_vault_values_open_with_the_hook_and_errors_point_at_them() {
        let tmp = tempfile::tempdir().unwrap();
        let inline = tmp.path().join("inline.yml");
        std::fs::write(&inline, "plain: 1\npw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n").unwrap();
        // Without a hook the value stays closed (using it is the error).
        let closed = load_vars_file(&inline, None).unwrap().unwrap();
        assert!(matches!(&closed["pw"], Value::Vault(v) if v.plaintext.is_none()));
        let open = |_: &Path, text: &str| -> Result<String> {
            assert!(text.starts_with("$ANSIBLE_VAULT;"), "{text}");
            Ok("hunter2".into())
        };
        let opened = load_vars_file(&inline, Some(&open)).unwrap().unwrap();
        assert_eq!(opened["pw"].as_str(), Some("hunter2"));
        let refuse = |p: &Path, _: &str| -> Result<String> {
            Err(Error::new(
                ErrorKind::Vault {
                    message: format!("cannot open {}", p.display()),
                },
                None,
            ))
        };
        let e = load_vars_file(&inline, Some(&refuse)).unwrap_err();
        assert!(
            e.to_string().contains("inline.yml:3:3"),
            "the error points at the value: {e}"
        );

        // A YAML error inside an encrypted file names the line but never quotes it.
        let whole = tmp.path().join("whole.yml");
        std::fs::write(&whole, "$ANSIBLE_VAULT;1.1;AES256\n6162\n").unwrap();
        let broken = |_: &Path, _: &str| -> Result<String> { Ok("ok: 1\nhunter2: [unclosed\n".into()) };
        let e = load_vars_file(&whole, Some(&broken)).unwrap_err();
        assert!(e.to_string().contains("whole.yml:"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let listed = |_: &Path, _: &str| -> Result<String> { Ok("- hunter2\n".into()) };
        let e = load_vars_file(&whole, Some(&listed)).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
