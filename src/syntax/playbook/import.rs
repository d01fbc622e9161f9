//! Static imports inside task lists: `import_tasks` reads its file now (unless the name is
//! templated), `import_role` loads the role now.

use super::ast::{Action, Import, ImportTarget, TaskItem, Vars};
use super::keywords::{Keywords, Spanned};
use super::loader::{Loader, TaskCtx, first_file};
use crate::syntax::node::Node;
use crate::syntax::role::{self, RoleFrom, RoleKey, RoleRef};
use crate::syntax::{Error, ErrorKind, Result};
use crate::value::{Map, Value};
use std::path::{Path, PathBuf};

#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve(
    node: &Node,
    name: Option<Spanned<Value>>,
    keywords: Keywords,
    when: Vec<Spanned<Value>>,
    vars: Vars,
    action: Action,
    ctx: &TaskCtx,
    loader: &mut Loader,
) -> Result<TaskItem> {
    let target = match action.module.name {
        "import_tasks" => import_tasks(&action, ctx, loader)?,
        _ => import_role(&action, ctx, loader)?,
    };
    Ok(TaskItem::Import(Box::new(Import {
        span: node.span.clone(),
        name,
        keywords,
        when,
        vars,
        target,
    })))
}

pub(crate) fn check_options(action: &Action, allowed: &[&str]) -> Result<()> {
    let bad: Vec<&str> = action
        .args
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::at(
        ErrorKind::InvalidValue {
            what: format!("options for {}", action.module.name),
            message: format!("unknown option(s): {}", bad.join(", ")),
        },
        &action.span,
    )
    .with_help(format!("{} accepts: {}", action.module.name, allowed.join(", "))))
}

fn import_tasks(action: &Action, ctx: &TaskCtx, loader: &mut Loader) -> Result<ImportTarget> {
    check_options(action, &["_raw_params", "file"])?;
    let file = action
        .args
        .get("_raw_params")
        .filter(|v| !v.is_null())
        .or_else(|| action.args.get("file"))
        .cloned()
        .unwrap_or_default();
    let spanned = Spanned {
        value: file.clone(),
        span: action.span.clone(),
    };
    let Some(text) = file.as_str().filter(|s| !s.is_empty()) else {
        return Err(Error::at(
            ErrorKind::Missing {
                what: "file".into(),
                context: "import_tasks",
            },
            &action.span,
        ));
    };
    if text.contains("{{") || text.contains("{%") {
        return Ok(ImportTarget::Tasks {
            file: spanned,
            path: None,
            children: None,
        });
    }
    let path = first_file("task file", text, task_file_candidates(text, ctx), &action.span)?;
    let children = loader.load_task_file(&path, ctx, Some(&action.span))?;
    Ok(ImportTarget::Tasks {
        file: spanned,
        path: Some(path),
        children: Some(children),
    })
}

/// Where `import_tasks: name` may be: beside the importing file, in the role's `tasks/`, at
/// the role's top, then relative to the playbook.
pub(crate) fn task_file_candidates(name: &str, ctx: &TaskCtx) -> Vec<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return vec![p.to_path_buf()];
    }
    let mut out = vec![ctx.dir.join(p)];
    if let Some(r) = &ctx.role {
        out.push(r.join("tasks").join(p));
        out.push(r.join(p));
    }
    out.push(ctx.play_dir.join(p));
    out.dedup();
    out
}

fn text_arg(action: &Action, key: &str) -> Result<Option<String>> {
    match action.args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(Error::at(
                ErrorKind::WrongType {
                    what: format!("{key} of import_role"),
                    expected: "a string",
                    found: v.type_name(),
                },
                &action.span,
            )),
        },
    }
}

/// Options `import_role` and `include_role` accept.
pub(crate) const ROLE_OPTIONS: &[&str] = &[
    "allow_duplicates",
    "apply",
    "defaults_from",
    "handlers_from",
    "name",
    "public",
    "role",
    "rolespec_validate",
    "tasks_from",
    "vars_from",
];

fn import_role(action: &Action, ctx: &TaskCtx, loader: &mut Loader) -> Result<ImportTarget> {
    check_options(action, ROLE_OPTIONS)?;
    if action.args.contains_key("apply") {
        return Err(Error::at(
            ErrorKind::InvalidValue {
                what: "options for import_role".into(),
                message: "'apply' is only for include_role".into(),
            },
            &action.span,
        ));
    }
    let Some(name) = text_arg(action, "name")?.or(text_arg(action, "role")?) else {
        return Err(Error::at(
            ErrorKind::Missing {
                what: "name".into(),
                context: "import_role",
            },
            &action.span,
        ));
    };
    let from = RoleFrom {
        tasks: text_arg(action, "tasks_from")?,
        vars: text_arg(action, "vars_from")?,
        defaults: text_arg(action, "defaults_from")?,
        handlers: text_arg(action, "handlers_from")?,
    };
    let allow_duplicates = match action.args.get("allow_duplicates") {
        None => true,
        Some(v) => v.as_bool_loose().ok_or_else(|| {
            Error::at(
                ErrorKind::WrongType {
                    what: "allow_duplicates".into(),
                    expected: "a boolean",
                    found: v.type_name(),
                },
                &action.span,
            )
        })?,
    };
    let parent = ctx.role.as_deref().and_then(Path::parent);
    let (role_name, path) = role::find_role(loader, &name, &ctx.play_dir, parent, &action.span)?;
    let key = RoleKey { path, from };
    role::ensure_loaded(loader, &key, &role_name, &ctx.play_dir, &action.span)?;
    let role = RoleRef {
        span: action.span.clone(),
        name: role_name,
        key,
        params: Map::new(),
        keywords: Keywords::default(),
        when: Vec::new(),
        vars: Vars::new(),
    };
    Ok(ImportTarget::Role { role, allow_duplicates })
}
