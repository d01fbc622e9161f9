//! Which module a task runs and with what arguments, in every spelling Ansible accepts:
//! `copy: {src: a}`, `copy: src=a`, `action: copy src=a`, `local_action: {module: copy, src: a}`,
//! each merged over `args:` (which has the lower priority).

use super::ast::Action;
use super::kv::{parse_kv, split_args};
use crate::modules::registry::{self, FREE_FORM_OPTIONS, ModuleSpec, RawParams};
use crate::syntax::node::{Node, NodeKind};
use crate::syntax::{Error, ErrorKind, Result, Span};
use crate::value::{Map, Value};

pub(crate) enum ActionSource<'a> {
    /// `copy: ...`
    Module {
        key: &'a Node,
        value: &'a Node,
        name: String,
        spec: &'static ModuleSpec,
    },
    /// `action: ...` or `local_action: ...`
    Old {
        local: bool,
        key: &'a Node,
        value: &'a Node,
    },
}

pub(crate) fn parse_action(source: ActionSource, args_node: Option<&Node>) -> Result<Action> {
    let mut args = match args_node {
        Some(n) => extra_args(n)?,
        None => Map::new(),
    };
    let (spec, written, span, inline, local) = match source {
        ActionSource::Module { key, value, name, spec } => {
            (spec, name, key.span.clone(), new_style_args(value, spec)?, false)
        }
        ActionSource::Old { local, key, value } => {
            let (spec, written, inline) = old_style(value, &key.span)?;
            (spec, written, value.span.clone(), inline, local)
        }
    };
    for (k, v) in inline {
        args.insert(k, v);
    }
    finish_args(spec, &written, &mut args, &span)?;
    Ok(Action {
        module: spec,
        written,
        span,
        args,
        local,
    })
}

/// `args:`: a mapping, or a whole-value template kept for later.
fn extra_args(node: &Node) -> Result<Map> {
    match &node.kind {
        NodeKind::Null => Ok(Map::new()),
        NodeKind::Map(_) => Ok(node.to_value().as_map().cloned().unwrap_or_default()),
        NodeKind::Str(s) if s.contains("{{") => {
            Ok(Map::from([("_variable_params".to_string(), Value::Str(s.clone()))]))
        }
        _ => Err(Error::at(
            ErrorKind::WrongType {
                what: "args".into(),
                expected: "a mapping or a template such as \"{{ my_args }}\"",
                found: node.type_name(),
            },
            &node.span,
        )),
    }
}

fn kv(text: &str, spec: &ModuleSpec, span: &Span) -> Result<Map> {
    parse_kv(text, spec.raw_params == RawParams::FreeForm, FREE_FORM_OPTIONS).map_err(|e| {
        Error::at(
            ErrorKind::InvalidValue {
                what: format!("arguments of '{}'", spec.name),
                message: e.message,
            },
            span,
        )
        .with_help("close every quote and every {{ }} block")
    })
}

fn new_style_args(value: &Node, spec: &ModuleSpec) -> Result<Map> {
    match &value.kind {
        NodeKind::Null => Ok(Map::new()),
        NodeKind::Map(_) => Ok(value.to_value().as_map().cloned().unwrap_or_default()),
        NodeKind::Str(s) | NodeKind::Unsafe(s) => kv(s, spec, &value.span),
        NodeKind::Vault(_) => Ok(Map::from([("_raw_params".to_string(), value.to_value())])),
        _ => Err(Error::at(
            ErrorKind::WrongType {
                what: format!("the arguments of '{}'", spec.name),
                expected: "a mapping or a 'key=value' string",
                found: value.type_name(),
            },
            &value.span,
        )),
    }
}

/// `copy src=a` or `module=copy src=a`: the module name and the rest of the text.
fn split_module_string(text: &str, span: &Span) -> Result<(String, String)> {
    let mut tokens = split_args(text).map_err(|e| {
        Error::at(
            ErrorKind::InvalidValue {
                what: "action".into(),
                message: e.message,
            },
            span,
        )
    })?;
    let module = match tokens.iter().position(|t| t.starts_with("module=")) {
        Some(i) => tokens.remove(i).trim_start_matches("module=").trim().to_string(),
        None if tokens.is_empty() => String::new(),
        None => tokens.remove(0).trim().to_string(),
    };
    Ok((module, tokens.join(" ")))
}

fn resolve_module(name: &str, span: &Span) -> Result<&'static ModuleSpec> {
    if name.is_empty() {
        return Err(Error::at(
            ErrorKind::Missing {
                what: "module".into(),
                context: "the action",
            },
            span,
        ));
    }
    registry::lookup(name).ok_or_else(|| {
        Error::at(
            ErrorKind::UnknownModule {
                name: name.to_string(),
                suggestion: registry::nearest(name).map(str::to_string),
            },
            span,
        )
    })
}

fn old_style(value: &Node, span: &Span) -> Result<(&'static ModuleSpec, String, Map)> {
    match &value.kind {
        NodeKind::Str(s) | NodeKind::Unsafe(s) => {
            let (name, rest) = split_module_string(s, &value.span)?;
            let spec = resolve_module(&name, &value.span)?;
            Ok((spec, name, kv(&rest, spec, &value.span)?))
        }
        NodeKind::Map(entries) => {
            let Some(module) = value.get("module") else {
                return Err(Error::at(
                    ErrorKind::Missing {
                        what: "module".into(),
                        context: "the action mapping",
                    },
                    &value.span,
                ));
            };
            let Some(text) = module.as_str() else {
                return Err(Error::at(
                    ErrorKind::WrongType {
                        what: "module".into(),
                        expected: "a string",
                        found: module.type_name(),
                    },
                    &module.span,
                ));
            };
            let (name, rest) = split_module_string(text, &module.span)?;
            let spec = resolve_module(&name, &module.span)?;
            let mut args = Map::new();
            for (k, v) in entries {
                match k.key_text().as_deref() {
                    Some("module") | None => {}
                    // `action: {module: x, args: {...}}` is allowed too.
                    Some("args") => match &v.kind {
                        NodeKind::Str(s) => args.extend(kv(s, spec, &v.span)?),
                        _ => {
                            if let Some(m) = v.to_value().as_map() {
                                args.extend(m.clone());
                            }
                        }
                    },
                    Some(key) => {
                        args.insert(key.to_string(), v.to_value());
                    }
                }
            }
            args.extend(kv(&rest, spec, &module.span)?);
            Ok((spec, name, args))
        }
        _ => Err(Error::at(
            ErrorKind::WrongType {
                what: "action".into(),
                expected: "a string or a mapping",
                found: value.type_name(),
            },
            span,
        )),
    }
}

/// Ansible's last touches on arguments: a whole-template free text on a module that takes
/// none becomes `_variable_params` (a mapping known when templated), other free text is an
/// error, and `cmd` of command/shell/script is their free text.
fn finish_args(spec: &ModuleSpec, written: &str, args: &mut Map, span: &Span) -> Result<()> {
    let invalid = |message: String| {
        Error::at(
            ErrorKind::InvalidValue {
                what: format!("arguments of '{written}'"),
                message,
            },
            span,
        )
    };
    let raw_text = args.get("_raw_params").map(|v| v.as_str().map(str::to_string));
    if spec.raw_params == RawParams::No
        && let Some(raw) = raw_text.clone()
        && raw.as_deref() != Some("")
    {
        match raw {
            Some(t) if t.contains("{{") || t.contains("{%") => {
                args.shift_remove("_raw_params");
                args.insert("_variable_params".to_string(), Value::Str(t));
            }
            _ => {
                let shown = args.get("_raw_params").map(|v| v.to_string()).unwrap_or_default();
                return Err(invalid(format!(
                    "'{shown}' is not a key=value pair and this module takes no free-form text"
                ))
                .with_help("write arguments as key=value pairs or as a mapping"));
            }
        }
    }
    if matches!(spec.name, "command" | "shell" | "script")
        && let Some(cmd) = args.shift_remove("cmd")
    {
        if raw_text.flatten().is_some_and(|t| !t.is_empty()) {
            return Err(invalid("'cmd' cannot be used together with free-form text".into())
                .with_help("put the command in one place or the other"));
        }
        args.insert("_raw_params".to_string(), cmd);
    }
    if spec.raw_params != RawParams::FreeForm
        && let Some(bad) = args.keys().find(|k| k.starts_with("_ansible_"))
    {
        return Err(invalid(format!("'{bad}': the _ansible_ prefix is reserved")));
    }
    Ok(())
}
