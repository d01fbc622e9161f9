//! Reading roles: resolving a name to a directory, parsing role entries, and loading a
//! role's defaults, vars, meta, tasks and handlers once per identity.

use super::{Role, RoleFrom, RoleKey, RoleRef};
use crate::syntax::node::{Node, NodeKind};
use crate::syntax::playbook::Vars;
use crate::syntax::playbook::keywords::{
    self as kw, Keywords, Spanned, find_keyword, key_text, one_or_list, unknown_keyword,
};
use crate::syntax::playbook::loader::{Loader, TaskCtx, is_templated};
use crate::syntax::playbook::task::parse_vars;
use crate::syntax::{Error, ErrorKind, Result, Span};
use crate::value::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a role entry was written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RefKind {
    Play,
    Dependency,
}

impl RefKind {
    fn context(self) -> &'static str {
        match self {
            RefKind::Play => "a role in roles:",
            RefKind::Dependency => "a role dependency",
        }
    }
}

/// The role's name and directory for `name` (a name or a path).
pub(crate) fn find_role(
    loader: &Loader,
    name: &str,
    play_dir: &Path,
    parent_role_dir: Option<&Path>,
    span: &Span,
) -> Result<(String, PathBuf)> {
    match loader.search.find(name, play_dir, parent_role_dir) {
        Ok(path) => {
            // A role found under a roles directory keeps its name as written
            // (`kubernetes/node`); one given as a path is named by its last component.
            let as_path = name.starts_with(['/', '.', '~']);
            let short = if as_path {
                Path::new(name)
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| name.to_string())
            } else {
                name.trim_end_matches('/').to_string()
            };
            let path = path.canonicalize().unwrap_or(path);
            Ok((short, path))
        }
        Err(searched) => Err(Error::at(
            ErrorKind::NotFound {
                what: "role",
                name: name.to_string(),
                searched,
            },
            span,
        )
        .with_help("check the spelling, or add the directory holding it to roles_path")),
    }
}

/// Parse one entry of `roles:` or `dependencies:` and load the role it names.
pub(crate) fn parse_role_ref(
    node: &Node,
    play_dir: &Path,
    parent_role_dir: Option<&Path>,
    loader: &mut Loader,
    kind: RefKind,
) -> Result<RoleRef> {
    let tables: &[&[&'static str]] = &[kw::BASE, kw::ROLE_ENTRY];
    let mut params = Map::new();
    let mut keywords = Keywords::default();
    let mut when = Vec::new();
    let mut vars = Vars::new();
    let name_node: &Node = match &node.kind {
        NodeKind::Str(s) | NodeKind::Unsafe(s) => {
            if s.contains(',') {
                return Err(Error::at(
                    ErrorKind::InvalidValue {
                        what: "role".into(),
                        message: format!("'{s}' is an old-style role requirement"),
                    },
                    &node.span,
                )
                .with_help("write the role as a mapping: {role: name, param: value}"));
            }
            node
        }
        NodeKind::Int(_) => node,
        NodeKind::Map(entries) => {
            let Some(n) = node.get("role").or_else(|| node.get("name")) else {
                return Err(Error::at(
                    ErrorKind::Missing {
                        what: "role".into(),
                        context: kind.context(),
                    },
                    &node.span,
                ));
            };
            for (k, v) in entries {
                let key = key_text(k)?;
                match find_keyword(&key, tables) {
                    Some("role" | "name") => {}
                    Some("when") => when = one_or_list(v),
                    Some("vars") => vars = parse_vars(v)?,
                    Some(word) => keywords.insert(word, Spanned::from_node(v)),
                    None => {
                        params.insert(key, v.to_value());
                    }
                }
            }
            n
        }
        _ => {
            return Err(Error::at(
                ErrorKind::WrongType {
                    what: kind.context().to_string(),
                    expected: "a role name or a mapping",
                    found: node.type_name(),
                },
                &node.span,
            ));
        }
    };
    let name = match name_node.key_text() {
        Some(n)
            if !n.is_empty()
                && matches!(
                    name_node.kind,
                    NodeKind::Str(_) | NodeKind::Unsafe(_) | NodeKind::Int(_)
                ) =>
        {
            n
        }
        _ => {
            return Err(Error::at(
                ErrorKind::WrongType {
                    what: "a role name".into(),
                    expected: "a non-empty string",
                    found: name_node.type_name(),
                },
                &name_node.span,
            ));
        }
    };
    if is_templated(name_node) {
        return Err(Error::at(
            ErrorKind::InvalidValue {
                what: "role name".into(),
                message: "role names are resolved before variables are known".into(),
            },
            &name_node.span,
        )
        .with_help("name the role literally here, or use include_role"));
    }
    let (role_name, path) = find_role(loader, &name, play_dir, parent_role_dir, &name_node.span)?;
    let key = RoleKey {
        path,
        from: RoleFrom::default(),
    };
    ensure_loaded(loader, &key, &role_name, play_dir, &node.span)?;
    Ok(RoleRef {
        span: node.span.clone(),
        name: role_name,
        key,
        params,
        keywords,
        when,
        vars,
    })
}

/// Load the role `key` into the store unless it is there (or being loaded: a cycle the plan reports).
pub(crate) fn ensure_loaded(
    loader: &mut Loader,
    key: &RoleKey,
    name: &str,
    play_dir: &Path,
    span: &Span,
) -> Result<()> {
    if loader.roles.roles.contains_key(key) || loader.loading.contains(key) {
        return Ok(());
    }
    loader.loading.insert(key.clone());
    loader.roles.first_reached.push(key.clone());
    let out = load_role(loader, key, name, play_dir, span);
    loader.loading.remove(key);
    let role = out?;
    loader.roles.roles.insert(key.clone(), Arc::new(role));
    Ok(())
}

fn load_role(loader: &mut Loader, key: &RoleKey, name: &str, play_dir: &Path, span: &Span) -> Result<Role> {
    let path = &key.path;
    let defaults = load_vars(loader, path, "defaults", key.from.defaults.as_deref(), span)?;
    let vars = load_vars(loader, path, "vars", key.from.vars.as_deref(), span)?;
    let (dependencies, allow_duplicates) = load_meta(loader, path, play_dir, span)?;
    let ctx = TaskCtx {
        dir: path.join("tasks"),
        play_dir: play_dir.to_path_buf(),
        role: Some(path.clone()),
        handlers: false,
    };
    let tasks = load_tasks(loader, path, "tasks", key.from.tasks.as_deref(), &ctx, span)?;
    let hctx = TaskCtx {
        dir: path.join("handlers"),
        handlers: true,
        ..ctx
    };
    let handlers = load_tasks(loader, path, "handlers", key.from.handlers.as_deref(), &hctx, span)?;
    Ok(Role {
        name: name.to_string(),
        path: path.clone(),
        from: key.from.clone(),
        defaults,
        vars,
        tasks,
        handlers,
        dependencies,
        allow_duplicates,
    })
}

fn load_tasks(
    loader: &mut Loader,
    role: &Path,
    subdir: &str,
    main: Option<&str>,
    ctx: &TaskCtx,
    span: &Span,
) -> Result<Vec<crate::syntax::playbook::TaskItem>> {
    let files = role_files(role, subdir, main, false, span)?;
    let Some(file) = files.first() else {
        return Ok(Vec::new());
    };
    loader.load_task_file(file, ctx, Some(span))
}

/// Role defaults or vars: `main.yml` (or `*_from`), or every file of a `main/` directory merged.
fn load_vars(loader: &Loader, role: &Path, subdir: &str, main: Option<&str>, span: &Span) -> Result<Map> {
    let mut out = Map::new();
    for file in role_files(role, subdir, main, true, span)? {
        let node = loader.load_yaml(&file)?;
        match node.to_value() {
            Value::Null => {}
            Value::Map(m) => out.extend(m),
            other => {
                return Err(Error::at(
                    ErrorKind::WrongType {
                        what: format!("{subdir} of a role"),
                        expected: "a mapping of variables",
                        found: other.type_name(),
                    },
                    &node.span,
                ));
            }
        }
    }
    Ok(out)
}

fn load_meta(
    loader: &mut Loader,
    role: &Path,
    play_dir: &Path,
    span: &Span,
) -> Result<(Vec<crate::syntax::role::RoleRef>, bool)> {
    let files = role_files(role, "meta", None, false, span)?;
    let Some(file) = files.first() else {
        return Ok((Vec::new(), false));
    };
    let node = loader.load_yaml(file)?;
    if node.is_null() {
        return Ok((Vec::new(), false));
    }
    let Some(entries) = node.as_map() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "role meta".into(),
                expected: "a mapping",
                found: node.type_name(),
            },
            &node.span,
        ));
    };
    const META: &[&str] = &[
        "allow_duplicates",
        "argument_specs",
        "collections",
        "dependencies",
        "galaxy_info",
    ];
    let mut deps = Vec::new();
    let mut allow = false;
    let parent = role.parent().map(Path::to_path_buf);
    for (k, v) in entries {
        let key = key_text(k)?;
        match find_keyword(&key, &[META]) {
            Some("dependencies") => {
                if v.is_null() {
                    continue;
                }
                let Some(items) = v.as_seq() else {
                    return Err(Error::at(
                        ErrorKind::WrongType {
                            what: "dependencies".into(),
                            expected: "a list of roles",
                            found: v.type_name(),
                        },
                        &v.span,
                    ));
                };
                for item in items {
                    deps.push(parse_role_ref(
                        item,
                        play_dir,
                        parent.as_deref(),
                        loader,
                        RefKind::Dependency,
                    )?);
                }
            }
            Some("allow_duplicates") => {
                allow = v.to_value().as_bool_loose().ok_or_else(|| {
                    Error::at(
                        ErrorKind::WrongType {
                            what: "allow_duplicates".into(),
                            expected: "a boolean",
                            found: v.type_name(),
                        },
                        &v.span,
                    )
                })?;
            }
            Some(_) => {}
            None => return Err(unknown_keyword(k, &key, "role meta", &[META])),
        }
    }
    Ok((deps, allow))
}

/// The files a role part is read from, in Ansible's order: `main.yml`, `main.yaml`,
/// `main.json`, `main` (or the `*_from` name as given, then with those extensions). A missing
/// `*_from` file is an error; a missing `main` is not.
fn role_files(role: &Path, subdir: &str, main: Option<&str>, allow_dir: bool, span: &Span) -> Result<Vec<PathBuf>> {
    let dir = role.join(subdir);
    if let Some(m) = main {
        // Role files stay inside the role.
        if Path::new(m)
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(Error::at(
                ErrorKind::InvalidValue {
                    what: format!("{subdir}_from"),
                    message: format!("'{m}' leaves the role's {subdir}/ directory"),
                },
                span,
            ));
        }
    }
    let (base, exts): (&str, &[&str]) = match main {
        None => ("main", &[".yml", ".yaml", ".json", ""]),
        Some(m) => (m, &["", ".yml", ".yaml", ".json"]),
    };
    let candidates: Vec<PathBuf> = exts.iter().map(|e| dir.join(format!("{base}{e}"))).collect();
    for c in &candidates {
        if allow_dir && c.is_dir() {
            let mut files = Vec::new();
            collect_dir(c, &mut files);
            files.sort();
            return Ok(files);
        }
        if c.is_file() {
            return Ok(vec![c.clone()]);
        }
    }
    match main {
        None => Ok(Vec::new()),
        Some(m) => Err(Error::at(
            ErrorKind::NotFound {
                what: "role file",
                name: format!("{subdir}/{m}"),
                searched: candidates,
            },
            span,
        )),
    }
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            collect_dir(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("yml" | "yaml" | "json") | None
        ) {
            out.push(p);
        }
    }
}
