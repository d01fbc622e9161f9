//! Task lists: tasks, blocks and static imports, with every key checked.

use super::action::{ActionSource, parse_action};
use super::ast::{Block, Loop, LoopKind, Task, TaskItem, Vars};
use super::keywords::{self as kw, Keywords, Spanned, find_keyword, key_text, one_or_list, unknown_keyword};
use super::loader::{Loader, TaskCtx};
use crate::modules::registry::{self, ModuleSpec};
use crate::syntax::node::Node;
use crate::syntax::{Error, ErrorKind, Result};

/// Keywords an include or import accepts; others must go on a surrounding block (or `apply`).
const INCLUDE_KEYWORDS: &[&str] = &[
    "action",
    "args",
    "collections",
    "debugger",
    "ignore_errors",
    "loop",
    "loop_control",
    "name",
    "no_log",
    "register",
    "run_once",
    "tags",
    "timeout",
    "vars",
    "when",
];

pub(crate) fn parse_task_list(
    node: &Node,
    ctx: &TaskCtx,
    loader: &mut Loader,
    what: &'static str,
) -> Result<Vec<TaskItem>> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let Some(items) = node.as_seq() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: what.to_string(),
                expected: "a list of tasks",
                found: node.type_name(),
            },
            &node.span,
        )
        .with_help("start each task with '- '"));
    };
    items.iter().map(|n| parse_item(n, ctx, loader)).collect()
}

fn parse_item(node: &Node, ctx: &TaskCtx, loader: &mut Loader) -> Result<TaskItem> {
    let what = if ctx.handlers { "a handler" } else { "a task" };
    if node.as_map().is_none() {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: what.to_string(),
                expected: "a mapping",
                found: node.type_name(),
            },
            &node.span,
        )
        .with_help("a task is a mapping of keywords and one module, such as `- name: x` / `  debug: msg=hi`"));
    }
    // Ansible treats any of the three section keys as a block.
    if ["block", "rescue", "always"].iter().any(|k| node.get(k).is_some()) {
        parse_block(node, ctx, loader)
    } else {
        parse_task(node, ctx, loader)
    }
}

/// `vars:` as a mapping (or, as Ansible also accepts, a list of mappings).
pub(crate) fn parse_vars(node: &Node) -> Result<Vars> {
    let mut vars = Vars::new();
    let maps: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    for m in maps {
        if m.is_null() {
            continue;
        }
        let Some(entries) = m.as_map() else {
            return Err(Error::at(
                ErrorKind::WrongType {
                    what: "vars".into(),
                    expected: "a mapping",
                    found: m.type_name(),
                },
                &m.span,
            ));
        };
        for (k, v) in entries {
            vars.insert(key_text(k)?, Spanned::from_node(v));
        }
    }
    Ok(vars)
}

fn parse_block(node: &Node, ctx: &TaskCtx, loader: &mut Loader) -> Result<TaskItem> {
    let tables: &[&[&'static str]] = &[kw::BASE, kw::BLOCK];
    let mut b = Block {
        span: node.span.clone(),
        name: None,
        keywords: Keywords::default(),
        when: Vec::new(),
        vars: Vars::new(),
        notify: Vec::new(),
        block: Vec::new(),
        rescue: Vec::new(),
        always: Vec::new(),
    };
    for (k, v) in node.as_map().unwrap_or_default() {
        let key = key_text(k)?;
        let Some(word) = find_keyword(&key, tables) else {
            let e = unknown_keyword(k, &key, "a block", tables);
            return Err(if registry::lookup(&key).is_some() {
                e.with_help("a block holds tasks under `block:`; put this module in a task of its own")
            } else {
                e
            });
        };
        match word {
            "block" => b.block = parse_task_list(v, ctx, loader, "block")?,
            "rescue" => b.rescue = parse_task_list(v, ctx, loader, "rescue")?,
            "always" => b.always = parse_task_list(v, ctx, loader, "always")?,
            "name" => b.name = Some(Spanned::from_node(v)),
            "when" => b.when = one_or_list(v),
            "vars" => b.vars = parse_vars(v)?,
            "notify" => b.notify = one_or_list(v),
            other => b.keywords.insert(other, Spanned::from_node(v)),
        }
    }
    Ok(TaskItem::Block(Box::new(b)))
}

fn set_loop(slot: &mut Option<(Loop, String)>, kind: LoopKind, key: &str, value: &Node, key_node: &Node) -> Result<()> {
    if let Some((_, prev)) = slot {
        return Err(Error::at(
            ErrorKind::Conflict {
                message: format!("a task can loop only once, but it has both '{prev}' and '{key}'"),
            },
            &key_node.span,
        )
        .with_help("keep one of them; `loop` replaces `with_*`"));
    }
    *slot = Some((
        Loop {
            kind,
            items: Spanned::from_node(value),
        },
        key.to_string(),
    ));
    Ok(())
}

fn parse_loop_control(node: &Node) -> Result<Keywords> {
    let mut out = Keywords::default();
    if node.is_null() {
        return Ok(out);
    }
    let Some(entries) = node.as_map() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "loop_control".into(),
                expected: "a mapping",
                found: node.type_name(),
            },
            &node.span,
        ));
    };
    for (k, v) in entries {
        let key = key_text(k)?;
        let Some(word) = find_keyword(&key, &[kw::LOOP_CONTROL]) else {
            return Err(unknown_keyword(k, &key, "loop_control", &[kw::LOOP_CONTROL]));
        };
        out.insert(word, Spanned::from_node(v));
    }
    Ok(out)
}

fn parse_task(node: &Node, ctx: &TaskCtx, loader: &mut Loader) -> Result<TaskItem> {
    let tables: &[&[&'static str]] = if ctx.handlers {
        &[kw::BASE, kw::TASK, kw::HANDLER]
    } else {
        &[kw::BASE, kw::TASK]
    };
    let context = if ctx.handlers { "a handler" } else { "a task" };
    let mut module: Option<(&Node, &Node, String, &'static ModuleSpec)> = None;
    let mut old_style: Option<(&'static str, &Node, &Node)> = None;
    let mut unknown: Vec<(&Node, String)> = Vec::new();
    let mut looping: Option<(Loop, String)> = None;
    let mut args_node: Option<&Node> = None;
    let mut t_name = None;
    let mut keywords = Keywords::default();
    let (mut when, mut notify, mut listen) = (Vec::new(), Vec::new(), Vec::new());
    let mut vars = Vars::new();
    let mut loop_control = Keywords::default();

    for (k, v) in node.as_map().unwrap_or_default() {
        let key = key_text(k)?;
        if let Some(word) = find_keyword(&key, tables) {
            match word {
                "name" => t_name = Some(Spanned::from_node(v)),
                "when" => when = one_or_list(v),
                "vars" => vars = parse_vars(v)?,
                "notify" => notify = one_or_list(v),
                "listen" => listen = one_or_list(v),
                "loop" => set_loop(&mut looping, LoopKind::Loop, &key, v, k)?,
                "loop_control" => loop_control = parse_loop_control(v)?,
                "args" => args_node = Some(v),
                "action" | "local_action" => {
                    if let Some((prev, _, _)) = old_style {
                        return Err(Error::at(
                            ErrorKind::Conflict {
                                message: format!("'{prev}' and '{word}' cannot be used together"),
                            },
                            &k.span,
                        ));
                    }
                    old_style = Some((word, k, v));
                }
                other => keywords.insert(other, Spanned::from_node(v)),
            }
        } else if let Some(lookup) = key.strip_prefix("with_") {
            if !(kw::WITH_LOOKUPS.contains(&lookup) || lookup.contains('.')) {
                let suggestion = kw::nearest(lookup, kw::WITH_LOOKUPS.iter().copied()).map(|s| format!("with_{s}"));
                return Err(Error::at(
                    ErrorKind::UnknownKeyword {
                        keyword: key.clone(),
                        context,
                        suggestion,
                    },
                    &k.span,
                )
                .with_help("`with_<name>` needs a lookup plugin of that name; or use `loop`"));
            }
            set_loop(&mut looping, LoopKind::With(lookup.to_string()), &key, v, k)?;
        } else if let Some(spec) = registry::lookup(&key) {
            if let Some((_, _, prev, _)) = &module {
                return Err(Error::at(
                    ErrorKind::Conflict {
                        message: format!("conflicting action statements: '{prev}' and '{key}'"),
                    },
                    &k.span,
                )
                .with_help("a task runs exactly one module; split it into two tasks"));
            }
            module = Some((k, v, key, spec));
        } else {
            unknown.push((k, key));
        }
    }

    // Keys that are neither keywords nor modules: a misspelt keyword, or a misspelt module.
    if let Some((k, key)) = unknown.first() {
        let keyword_hint = kw::nearest(key, tables.iter().flat_map(|t| t.iter().copied()));
        let has_action = module.is_some() || old_style.is_some();
        if has_action || (keyword_hint.is_some() && unknown.len() > 1) {
            return Err(unknown_keyword(k, key, context, tables));
        }
        let suggestion = registry::nearest(key).map(str::to_string);
        return Err(Error::at(
            ErrorKind::UnknownModule {
                name: key.clone(),
                suggestion,
            },
            &k.span,
        )
        .with_help("this is not a task keyword nor a module this engine knows"));
    }

    let source = match (module, old_style) {
        (Some((k, _, name, _)), Some((word, _, _))) => {
            return Err(Error::at(
                ErrorKind::Conflict {
                    message: format!("conflicting action statements: '{word}' and '{name}'"),
                },
                &k.span,
            ));
        }
        (Some((k, v, name, spec)), None) => ActionSource::Module {
            key: k,
            value: v,
            name,
            spec,
        },
        (None, Some((word, k, v))) => ActionSource::Old {
            local: word == "local_action",
            key: k,
            value: v,
        },
        (None, None) => {
            return Err(Error::at(
                ErrorKind::Missing {
                    what: "module".into(),
                    context,
                },
                &node.span,
            )
            .with_help("add the module to run, such as `debug: msg=hello`"));
        }
    };
    let action = parse_action(source, args_node)?;
    if action.local {
        keywords.insert(
            "delegate_to",
            Spanned {
                value: "localhost".into(),
                span: action.span.clone(),
            },
        );
    }

    let m = action.module.name;
    let is_include = matches!(m, "import_tasks" | "include_tasks" | "import_role" | "include_role");
    if is_include {
        for (name, value) in keywords.iter() {
            if !INCLUDE_KEYWORDS.contains(&name) {
                let help = if m.starts_with("include") {
                    "use `apply:` to pass it to the included tasks"
                } else {
                    "put it on a block around the import"
                };
                return Err(Error::at(
                    ErrorKind::UnknownKeyword {
                        keyword: name.to_string(),
                        context: "an import or include",
                        suggestion: None,
                    },
                    &value.span,
                )
                .with_help(help));
            }
        }
    }
    if m == "include_tasks" {
        super::import::check_options(&action, &["_raw_params", "apply", "file"])?;
    }
    if m == "include_role" {
        super::import::check_options(&action, super::import::ROLE_OPTIONS)?;
        if !action.args.contains_key("name") && !action.args.contains_key("role") {
            return Err(Error::at(
                ErrorKind::Missing {
                    what: "name".into(),
                    context: "include_role",
                },
                &action.span,
            ));
        }
    }
    if matches!(m, "import_tasks" | "import_role") {
        if let Some((l, key)) = &looping {
            return Err(Error::at(
                ErrorKind::Conflict {
                    message: format!("'{m}' cannot loop ('{key}')"),
                },
                &l.items.span,
            )
            .with_help(format!("use '{}' to loop", m.replacen("import", "include", 1))));
        }
        return super::import::resolve(node, t_name, keywords, when, vars, action, ctx, loader);
    }

    Ok(TaskItem::Task(Box::new(Task {
        span: node.span.clone(),
        name: t_name,
        action,
        keywords,
        when,
        vars,
        looping: looping.map(|(l, _)| l),
        loop_control,
        notify,
        listen,
    })))
}
