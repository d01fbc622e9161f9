//! Which keywords each kind of playbook object accepts, and the raw keyword values kept for
//! later templating. Unknown keys are refused with the nearest spelling.

use crate::syntax::node::Node;
use crate::syntax::span::Span;
use crate::syntax::{Error, ErrorKind};
use crate::value::Value;

/// A value with the place it was written.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl Spanned<Value> {
    pub fn from_node(node: &Node) -> Spanned<Value> {
        Spanned {
            value: node.to_value(),
            span: node.span.clone(),
        }
    }
}

/// Keywords every playbook object (play, block, task, role entry) accepts.
pub const BASE: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "module_defaults",
    "name",
    "no_log",
    "port",
    "remote_user",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
];

pub const PLAY: &[&str] = &[
    "fact_path",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "hosts",
    "max_fail_percentage",
    "order",
    "post_tasks",
    "pre_tasks",
    "roles",
    "serial",
    "strategy",
    "tasks",
    "vars_files",
    "vars_prompt",
];

/// Keywords this engine adds to plays.
pub const PLAY_EXTENSIONS: &[&str] = &["batch_gate"];

/// Keys of `batch_gate:`.
pub const BATCH_GATE: &[&str] = &["checks", "delay", "pause", "retries"];

pub const BLOCK: &[&str] = &[
    "always",
    "block",
    "delegate_facts",
    "delegate_to",
    "notify",
    "rescue",
    "when",
];

pub const TASK: &[&str] = &[
    "action",
    "args",
    "async",
    "changed_when",
    "delay",
    "delegate_facts",
    "delegate_to",
    "failed_when",
    "local_action",
    "loop",
    "loop_control",
    "notify",
    "poll",
    "register",
    "retries",
    "until",
    "when",
];

/// Handlers are tasks that may also `listen`.
pub const HANDLER: &[&str] = &["listen"];

/// A role entry in `roles:` or `dependencies:`; every other key is a role parameter.
pub const ROLE_ENTRY: &[&str] = &["delegate_facts", "delegate_to", "role", "when"];

pub const LOOP_CONTROL: &[&str] = &[
    "break_when",
    "extended",
    "extended_allitems",
    "index_var",
    "label",
    "loop_var",
    "pause",
];

pub const IMPORT_PLAYBOOK: &[&str] = &["name", "tags", "vars", "when"];

/// Lookups that ship with ansible-core, usable as `with_<name>`.
pub const WITH_LOOKUPS: &[&str] = &[
    "config",
    "csvfile",
    "dict",
    "env",
    "file",
    "fileglob",
    "first_found",
    "indexed_items",
    "ini",
    "inventory_hostnames",
    "items",
    "lines",
    "list",
    "nested",
    "password",
    "pipe",
    "random_choice",
    "sequence",
    "subelements",
    "template",
    "together",
    "unvault",
    "url",
    "varnames",
    "vars",
];

/// The known word closest to `word`, if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

/// Keyword values as written, in written order, for keywords that are templated later.
#[derive(Clone, Debug, Default)]
pub struct Keywords {
    entries: Vec<(&'static str, Spanned<Value>)>,
}

impl Keywords {
    pub fn get(&self, name: &str) -> Option<&Spanned<Value>> {
        self.entries.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Spanned<Value>)> {
        self.entries.iter().map(|(k, v)| (*k, v))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Set a keyword, replacing an earlier value.
    pub fn insert(&mut self, name: &'static str, value: Spanned<Value>) {
        match self.entries.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }
}

/// The `&'static` spelling of `key` if one of `tables` has it.
pub fn find_keyword(key: &str, tables: &[&[&'static str]]) -> Option<&'static str> {
    tables.iter().flat_map(|t| t.iter()).find(|k| **k == key).copied()
}

/// The error for a key no table has, with a suggestion from all of them.
pub fn unknown_keyword(key: &Node, text: &str, context: &'static str, tables: &[&[&'static str]]) -> Error {
    let suggestion = nearest(text, tables.iter().flat_map(|t| t.iter().copied()));
    Error::at(
        ErrorKind::UnknownKeyword {
            keyword: text.to_string(),
            context,
            suggestion,
        },
        &key.span,
    )
}

/// `when`, `notify`, `listen`, `changed_when`...: one value or a list of them, as a list.
pub fn one_or_list(node: &Node) -> Vec<Spanned<Value>> {
    match node.as_seq() {
        Some(items) => items.iter().map(Spanned::from_node).collect(),
        None if node.is_null() => Vec::new(),
        None => vec![Spanned::from_node(node)],
    }
}

/// The text of a mapping key, or an error pointing at it.
pub fn key_text(key: &Node) -> crate::syntax::Result<String> {
    key.key_text().ok_or_else(|| {
        Error::at(
            ErrorKind::WrongType {
                what: "a key".into(),
                expected: "a string",
                found: key.type_name(),
            },
            &key.span,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for t in [
            BASE,
            PLAY,
            BLOCK,
            TASK,
            ROLE_ENTRY,
            LOOP_CONTROL,
            IMPORT_PLAYBOOK,
            WITH_LOOKUPS,
        ] {
            for pair in t.windows(2) {
                if let [a, b] = pair {
                    assert!(a < b, "{a} before {b}");
                }
            }
        }
    }

    #[test]
    fn nearest_finds_typos_only() {
        let cases: &[(&str, Option<&str>)] = &[
            ("whne", Some("when")),
            ("becom", Some("become")),
            ("hots", Some("hosts")),
            ("xyzzy", None),
        ];
        for (word, want) in cases {
            let all = BASE.iter().chain(PLAY).chain(TASK).copied();
            assert_eq!(nearest(word, all).as_deref(), *want, "{word}");
        }
    }
}
