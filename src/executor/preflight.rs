//! The last check before a run: every task that may run names a module this engine runs and
//! only arguments that module reads. A misspelt argument would otherwise be ignored on every
//! host, or a missing module fail halfway through a rolling upgrade. Listings skip this check:
//! they work on content whose modules are not all implemented.

use crate::modules::arg_specs::{self, FREE_FORM};
use crate::modules::table::implementation;
use crate::plan::compile::PlaybookPlan;
use crate::plan::tree::{PlanNode, PlanTask};
use crate::plan::{Error, ErrorKind};
use crate::syntax::Span;
use crate::syntax::playbook::keywords::nearest;
use crate::value::Value;
use std::fmt;

/// Actions the executor runs itself instead of a module (play.rs runs `meta`, action.rs runs
/// `async_status`, include.rs the includes). `meta` takes free text the executor reads, so it
/// is not checked here; what an include brings in is known only at run time, so it is not
/// walked either.
const EXECUTOR_ACTIONS: &[&str] = &["async_status", "include_role", "include_tasks", "meta"];

/// Every problem found, in run order; one task may have several.
#[derive(Debug)]
pub struct Problems(pub Vec<Error>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "\n\n")?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n\n{} problems found; no host was contacted", self.0.len())?;
        }
        Ok(())
    }
}

/// Check every task of every play (handlers and health-gate checks included) that the tag
/// selection lets run. On success, the warnings to show: arguments accepted but not acted on.
pub fn check(plans: &[PlaybookPlan]) -> Result<Vec<String>, Problems> {
    let mut problems: Vec<Error> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for pb in plans {
        for play in &pb.plays {
            let t = &play.tree;
            let lists = t.sections.iter().map(|(_, n)| n).chain([&t.handlers, &t.gate_checks]);
            for nodes in lists {
                walk(nodes, &mut |task| {
                    for w in no_effect(task) {
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                    }
                    for e in check_task(task) {
                        // A role used twice holds the same tasks twice: report each once.
                        let key = e.to_string();
                        if !seen.contains(&key) {
                            seen.push(key);
                            problems.push(e);
                        }
                    }
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(warnings)
    } else {
        Err(Problems(problems))
    }
}

fn walk(nodes: &[PlanNode], visit: &mut dyn FnMut(&PlanTask)) {
    for n in nodes {
        match n {
            PlanNode::Task(t) => visit(t),
            PlanNode::Block(b) => {
                walk(&b.block, visit);
                walk(&b.rescue, visit);
                walk(&b.always, visit);
            }
        }
    }
}

/// The problems of one task, as the executor would meet them.
fn check_task(t: &PlanTask) -> Vec<Error> {
    // The executor skips these too (play.rs `run_task`).
    if !t.selected || t.role.as_ref().is_some_and(|r| r.duplicate) {
        return Vec::new();
    }
    let task = &t.task;
    let action = &task.action;
    let name = action.module.name;
    let written = action.written.as_str();
    if name == "meta" {
        return Vec::new();
    }
    if implementation(name).is_none() && !EXECUTOR_ACTIONS.contains(&name) {
        let help = "replace or remove the task; the README's Modules section lists the modules play runs";
        return vec![
            Error::new(
                ErrorKind::ModuleNotImplemented {
                    module: written.to_string(),
                },
                Some(action.span.clone()),
            )
            .with_help(help),
        ];
    }
    let Some(spec) = arg_specs::lookup(name) else {
        // A module without a row is caught by the table tests; nothing to check against.
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in &action.args {
        if key == "_variable_params" {
            out.push(
                Error::new(
                    ErrorKind::TemplatedArguments {
                        module: written.to_string(),
                    },
                    Some(argument_span(&task.span, &action.span, "args", true)),
                )
                .with_help("write the arguments as a mapping and template each value (name: \"{{ value }}\")"),
            );
            continue;
        }
        if key == FREE_FORM {
            if spec.free_form() || is_empty(value) {
                continue;
            }
            let templated = value.as_str().is_some_and(|s| s.contains("{{") || s.contains("{%"));
            let kind = if templated {
                ErrorKind::TemplatedArguments {
                    module: written.to_string(),
                }
            } else {
                ErrorKind::FreeFormNotTaken {
                    module: written.to_string(),
                }
            };
            out.push(Error::new(kind, Some(action.span.clone())).with_help(format!(
                "write the arguments of '{written}' as key=value pairs or a mapping"
            )));
            continue;
        }
        if spec.accepts(key) {
            continue;
        }
        let not_yet = spec.not_yet.contains(&key.as_str());
        let mut help = format!("'{written}' takes: {}", spec.names().collect::<Vec<_>>().join(", "));
        if not_yet {
            help = format!("play does not read '{key}' yet; {help}");
        }
        out.push(
            Error::new(
                ErrorKind::UnknownArgument {
                    module: written.to_string(),
                    argument: key.clone(),
                    suggestion: suggest(key, spec),
                    not_yet,
                },
                Some(argument_span(&task.span, &action.span, key, false)),
            )
            .with_help(help),
        );
    }
    out
}

/// Arguments the task gives that its module accepts but does not act on yet.
fn no_effect(t: &PlanTask) -> Vec<String> {
    let action = &t.task.action;
    let Some(spec) = arg_specs::lookup(action.module.name) else {
        return Vec::new();
    };
    if !t.selected || implementation(action.module.name).is_none() {
        return Vec::new();
    }
    action
        .args
        .iter()
        .filter(|(k, v)| spec.no_effect.contains(&k.as_str()) && !is_empty(v))
        .map(|(k, _)| {
            let at = argument_span(&t.task.span, &action.span, k, false);
            format!(
                "{at}: '{}' accepts '{k}' but does not act on it yet; the host may differ from what Ansible would leave",
                action.written
            )
        })
        .collect()
}

/// The closest argument name; short names swapped by one typo (`mgs`) are too far apart for
/// the similarity score alone.
fn suggest(key: &str, spec: &arg_specs::Spec) -> Option<String> {
    nearest(key, spec.names()).or_else(|| {
        spec.names()
            .filter(|n| strsim::osa_distance(key, n) == 1)
            .min()
            .map(str::to_string)
    })
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        other => other.as_str().is_some_and(|s| s.trim().is_empty()),
    }
}

/// Where `key` is written inside the task, when it can be found: on the action's own line
/// (`copy: src=a dset=b`, `copy: {dset: b}`) or on a line nested deeper than the task's own
/// keywords (or, for a task keyword such as `args`, at their level). Arguments keep no
/// positions of their own, so this reads the source; anything unclear points at the action.
fn argument_span(task: &Span, action: &Span, key: &str, keyword: bool) -> Span {
    let Ok(pattern) = regex::Regex::new(&format!(r"(?:^|[\s{{,]){}(?:\s*:(?:\s|$)|=)", regex::escape(key))) else {
        return action.clone();
    };
    let key_indent = task.col.saturating_sub(1) as usize;
    let lines = task
        .source
        .text
        .lines()
        .enumerate()
        .skip(task.line.saturating_sub(1) as usize);
    for (i, text) in lines {
        let line = i as u32 + 1;
        let indent = text.len() - text.trim_start().len();
        let blank = text.trim().is_empty() || text.trim_start().starts_with('#');
        let later = line > task.line && !blank;
        if later && indent < key_indent {
            break; // the next task, or whatever holds this one
        }
        // Deeper than the task's keywords: under the action or `args:` (or another keyword).
        let nested = later && (indent > key_indent || keyword && indent == key_indent);
        if (line == action.line || nested)
            && let Some(m) = pattern.find(text)
        {
            let start = m.as_str().find(key).map_or(m.start(), |o| m.start() + o);
            let col = text.get(..start).map_or(0, |s| s.chars().count()) as u32 + 1;
            return Span::new(task.source.clone(), line, col);
        }
    }
    action.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::span::SourceFile;

    fn at(text: &str, task: (u32, u32), action: (u32, u32), key: &str) -> (u32, u32) {
        let src = SourceFile::new("t.yml", text);
        let s = argument_span(
            &Span::new(src.clone(), task.0, task.1),
            &Span::new(src, action.0, action.1),
            key,
            key == "args",
        );
        (s.line, s.col)
    }

    #[test]
    fn argument_positions() {
        let block = "- hosts: all\n  tasks:\n    - name: dset\n      copy:\n        src: a\n        dset: b\n    - debug:\n        dset: x\n";
        let inline = "    - copy: src=a dset=b\n";
        let flow = "    - {copy: {src: a, dset: b}}\n";
        let args = "    - name: x\n      copy:\n      args:\n        dset: b\n";
        let content = "    - copy:\n        content: |\n          dset: in the text\n        dset: /x\n";
        type At = (u32, u32);
        // (source, task at, action at, key, where the key is reported)
        let cases: &[(&str, At, At, &str, At)] = &[
            // The task's name is a keyword, not the argument; the next task is not searched.
            (block, (3, 7), (4, 7), "dset", (6, 9)),
            (block, (3, 7), (4, 7), "nope", (4, 7)),
            (inline, (1, 7), (1, 7), "dset", (1, 19)),
            (flow, (1, 8), (1, 8), "dset", (1, 23)),
            (args, (1, 7), (2, 7), "dset", (4, 9)),
            (args, (1, 7), (2, 7), "args", (3, 7)),
            // A key-like line inside a block scalar is taken for the argument: a known limit,
            // and still a place inside the task.
            (content, (1, 7), (1, 7), "dset", (3, 11)),
        ];
        for (text, task, action, key, want) in cases {
            assert_eq!(at(text, *task, *action, key), *want, "{key} in {text:?}");
        }
    }
}
