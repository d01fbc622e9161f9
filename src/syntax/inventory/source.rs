//! Inventory sources: files, directories of files, and `host1,host2` lists, read in order into
//! one inventory, then the `group_vars/` and `host_vars/` next to each source.
//!
//! Format detection follows Ansible's plugin order: a file starting with `#!` is an inventory
//! script (not supported here); a file named `*.yml`, `*.yaml`, `*.json` or without an
//! extension is YAML when it parses as a mapping; everything else is INI. Where Ansible only
//! warns that a source could not be parsed and carries on without it, this is an error.

use super::address::parse_address;
use super::builder::Builder;
use super::vars_dirs::{Decrypt, VarsDirs, load_vars_dirs, open_whole_file};
use super::{Inventory, LOCALHOST_NAMES, implicit_host, ini, yaml_inv};
use crate::syntax::error::{Error, ErrorKind, Result};
use crate::syntax::node::NodeKind;
use crate::syntax::yaml;
use std::path::{Path, PathBuf};

/// Extensions Ansible skips in an inventory directory (`INVENTORY_IGNORE_EXTS`).
const IGNORED_EXTS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];
/// Names Ansible always skips in an inventory directory.
const IGNORED_NAMES: [&str; 3] = ["host_vars", "group_vars", "vars_plugins"];
const YAML_EXTS: [&str; 3] = [".yml", ".yaml", ".json"];

#[derive(Default)]
pub struct LoadOptions<'a> {
    /// Opens vault-encrypted `group_vars`/`host_vars` files; without it they are an error.
    pub decrypt: Option<Decrypt<'a>>,
}

/// Load inventory sources (files, directories, or `a,b,` host lists), merged in order.
pub fn load(sources: &[PathBuf]) -> Result<Inventory> {
    load_with(sources, &LoadOptions::default())
}

pub fn load_with(sources: &[PathBuf], options: &LoadOptions) -> Result<Inventory> {
    let mut b = Builder::new();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for source in sources {
        let text = source.to_string_lossy();
        if text.contains(',') && !source.exists() {
            host_list(&mut b, &text)?;
            continue;
        }
        let path = std::path::absolute(source).unwrap_or_else(|_| source.clone());
        let meta = std::fs::metadata(&path).map_err(|e| {
            Error::new(
                ErrorKind::Io {
                    path: path.clone(),
                    message: e.to_string(),
                },
                None,
            )
            .with_help("check the -i/--inventory path; several sources may be given")
        })?;
        if meta.is_dir() {
            load_dir(&mut b, &path, options.decrypt)?;
            dirs.push(path);
        } else {
            load_file(&mut b, &path, options.decrypt)?;
            dirs.push(path.parent().map(Path::to_path_buf).unwrap_or_default());
        }
    }
    b.reconcile()?;
    let mut inv = b.inv;
    // A directory named twice loads once, at its last place: the result is the same.
    let mut unique: Vec<PathBuf> = Vec::new();
    for d in dirs.into_iter().rev() {
        if !unique.contains(&d) {
            unique.insert(0, d);
        }
    }
    inv.source_dirs = unique;
    attach_vars_files(&mut inv, options.decrypt)?;
    Ok(inv)
}

/// `-i 'web1,web2:2222,'`: each entry a host in `ungrouped`.
fn host_list(b: &mut Builder, text: &str) -> Result<()> {
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (host, port) = match parse_address(entry) {
            Some((h, p)) if !h.contains('[') => (h, p),
            _ => (entry.to_string(), None),
        };
        if !b.inv.hosts.contains_key(&host) {
            b.add_host(&host, Some("ungrouped"), port, None)?;
        }
    }
    Ok(())
}

fn load_dir(b: &mut Builder, dir: &Path, decrypt: Option<Decrypt>) -> Result<()> {
    let io = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io {
                path: dir.to_path_buf(),
                message: e.to_string(),
            },
            None,
        )
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    for name in names {
        if is_ignored(&name) {
            continue;
        }
        let path = dir.join(&name);
        if std::fs::metadata(&path).map(|m| m.is_dir()).unwrap_or(false) {
            load_dir(b, &path, decrypt)?;
        } else {
            load_file(b, &path, decrypt)?;
        }
    }
    Ok(())
}

fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || IGNORED_NAMES.contains(&name) || IGNORED_EXTS.iter().any(|ext| name.ends_with(ext))
}

/// One inventory file; with `decrypt`, its inline `!vault` values are opened now, so a wrong
/// password or altered data fails before anything runs.
fn load_file(b: &mut Builder, path: &Path, decrypt: Option<Decrypt>) -> Result<()> {
    let source = yaml::read_source(path)?;
    if let Some(plain) = open_whole_file(path, &source, decrypt)? {
        // A whole encrypted inventory: read the plaintext; errors name lines, never quote them.
        return load_text(b, path, plain, decrypt).map_err(|mut e| {
            e.span = e.span.as_ref().map(crate::syntax::vault::blind_span);
            e
        });
    }
    load_text(b, path, source, decrypt)
}

fn load_text(
    b: &mut Builder,
    path: &Path,
    source: std::sync::Arc<crate::syntax::SourceFile>,
    decrypt: Option<Decrypt>,
) -> Result<()> {
    if source.text.starts_with("#!") {
        return Err(Error::new(
            ErrorKind::Inventory {
                message: format!("{} is an inventory script; scripts are not supported", path.display()),
            },
            None,
        )
        .with_help("export its output once (`./script --list`) as a YAML inventory, or use a static inventory"));
    }
    b.current_source = Some(path.to_path_buf());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = name.rfind('.').filter(|i| *i > 0).map(|i| &name[i..]).unwrap_or("");
    let yaml_ext = YAML_EXTS.contains(&ext);
    let result = if yaml_ext || ext.is_empty() {
        let parsed = yaml::parse(source.clone()).map(|mut node| {
            if let Some(d) = decrypt {
                crate::syntax::vault::decrypt_in_place_with(&mut node, &|text| d(path, text))?;
            }
            Ok(node)
        });
        match parsed {
            Ok(Err(e)) => Err(e),
            Ok(Ok(node)) => match &node.kind {
                NodeKind::Map(_) if node.get("plugin").is_some() => Err(Error::at(
                    ErrorKind::Inventory {
                        message: "this is an inventory plugin configuration, and inventory plugins are not supported"
                            .into(),
                    },
                    &node.span,
                )
                .with_help("use a static YAML or INI inventory")),
                NodeKind::Map(_) => yaml_inv::parse(b, &node),
                NodeKind::Null => Ok(()),
                // Plain host lists read as one YAML string: they are INI.
                _ => ini::parse(b, &source),
            },
            Err(yaml_err) => match ini::parse(b, &source) {
                Ok(()) => Ok(()),
                Err(ini_err) if yaml_ext || looks_like_yaml(&source.text) => {
                    let _ = ini_err;
                    Err(yaml_err)
                }
                Err(ini_err) => Err(ini_err),
            },
        }
    } else {
        ini::parse(b, &source)
    };
    b.current_source = None;
    result
}

/// For a file without an extension that neither format accepts: whose error to show.
fn looks_like_yaml(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'));
    first.is_some_and(|l| l == "---" || l.ends_with(':') || l.starts_with("- "))
}

/// Attach each host's and group's `host_vars/`/`group_vars/` files from every source
/// directory, in source order; also those of the implicit localhost names.
fn attach_vars_files(inv: &mut Inventory, decrypt: Option<Decrypt>) -> Result<()> {
    let dirs: Vec<VarsDirs> = inv
        .source_dirs
        .iter()
        .map(|d| load_vars_dirs(d))
        .collect::<Result<_>>()?;
    for d in &dirs {
        inv.warnings.extend(d.warnings.iter().cloned());
    }
    for name in LOCALHOST_NAMES {
        if !inv.hosts.contains_key(name) {
            inv.implicit.insert(name.to_string(), implicit_host(name));
        }
    }
    for (i, d) in dirs.iter().enumerate() {
        if !d.group_vars.is_empty() {
            for g in inv.groups.values_mut() {
                g.file_vars.extend(d.group_vars.load(&g.name, i, decrypt)?);
            }
        }
        if !d.host_vars.is_empty() {
            for h in inv.hosts.values_mut().chain(inv.implicit.values_mut()) {
                h.file_vars.extend(d.host_vars.load(&h.name, i, decrypt)?);
            }
        }
    }
    Ok(())
}
