//! Reading YAML the way Ansible's loader (PyYAML, YAML 1.1) reads it, through serde-saphyr:
//! unquoted `yes/no/on/off/true/false` (lower, Title or UPPER case) are booleans, `y`/`n` stay
//! strings, `0755` is octal, anchors, aliases and merge keys work, `!unsafe` and `!vault` are kept.

use super::error::{Error, ErrorKind, Result};
use super::node::{Node, NodeKind};
use super::span::{SourceFile, Span};
use crate::value::VaultValue;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// Files larger than this are refused before parsing: no real playbook or inventory comes close
/// (10,000 hosts with a dozen variables each is about 3 MiB), and a debug-build parse of this
/// much YAML already takes seconds and hundreds of MiB.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// How deep collections may nest. Kubespray's deepest file nests about 12 levels; the limit
/// keeps the recursive tree walks far from the end of the stack.
pub const MAX_DEPTH: usize = 32;

/// Read and parse a YAML file.
pub fn load_file(path: &Path) -> Result<Node> {
    let source = read_source(path)?;
    parse(source)
}

/// Read a file as UTF-8 text, with errors that name it.
pub fn read_source(path: &Path) -> Result<Arc<SourceFile>> {
    let io_err = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
            None,
        )
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::new(
            ErrorKind::Io {
                path: path.to_path_buf(),
                message: format!(
                    "file is {} bytes, larger than the {} byte limit",
                    meta.len(),
                    MAX_FILE_BYTES
                ),
            },
            None,
        ));
    }
    let bytes = std::fs::read(path).map_err(io_err)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(path, text)),
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() as u32 + 1;
            let col = good.iter().rev().take_while(|b| **b != b'\n').count() as u32 + 1;
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let span = Span::new(SourceFile::new(path, text), line, col);
            Err(Error::at(
                ErrorKind::NotUtf8 {
                    path: path.to_path_buf(),
                },
                &span,
            )
            .with_help("save the file as UTF-8"))
        }
    }
}

/// Parse one YAML document. An empty document is `Null`.
pub fn parse(source: Arc<SourceFile>) -> Result<Node> {
    let text = source.text.as_str();
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Ok(Node::new(NodeKind::Null, Span::new(source.clone(), 1, 1)));
    }
    let raw: Raw =
        serde_saphyr::from_str_with_options(text, options(text.len())).map_err(|e| yaml_error(&source, e))?;
    convert(raw, &source)
}

fn options(text_len: usize) -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.legacy_octal_numbers = true;
    // Booleans are decided below from the source text, so `y` and `n` stay strings as in PyYAML.
    o.strict_booleans = true;
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    o.with_snippet = false;
    // Big inventories (10,000 hosts with variables) hold more nodes than the default budget.
    // Without aliases a document has at most about one node per byte, so the node budget
    // grows with the file while alias bombs in small files stay bounded as before.
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_nodes = budget.max_nodes.max(text_len);
    budget.max_events = budget.max_events.max(text_len.saturating_mul(2));
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    o.budget = Some(budget);
    o
}

fn yaml_error(source: &Arc<SourceFile>, e: serde_saphyr::Error) -> Error {
    let (line, col) = e
        .location()
        .map(|l| (l.line() as u32, l.column() as u32))
        .unwrap_or((0, 0));
    let span = Span::new(source.clone(), line, col);
    if let Some((message, help)) = limit_message(&e) {
        return Error::at(ErrorKind::Yaml { message }, &span).with_help(help);
    }
    let mut message = e.to_string();
    // serde-saphyr appends its own position; ours comes first in the message.
    if let Some(i) = message.find(" at line ") {
        message.truncate(i);
    }
    Error::at(ErrorKind::Yaml { message }, &span)
        .with_help("check the indentation and quoting on this line; values starting with {{ must be quoted")
}

/// A breached parser limit said in words a user can act on (the parser's own text names its
/// internal counters).
fn limit_message(e: &serde_saphyr::Error) -> Option<(String, &'static str)> {
    use serde_saphyr::budget::BudgetBreach as B;
    let too_deep = || {
        (
            format!("collections nest more than {MAX_DEPTH} levels deep"),
            "no playbook, inventory or vars file needs this depth; flatten the data",
        )
    };
    let mut e = e;
    while let serde_saphyr::Error::AliasError { error, .. } | serde_saphyr::Error::WithSnippet { error, .. } = e {
        e = error;
    }
    match e {
        serde_saphyr::Error::Budget { breach, .. } => Some(match breach {
            B::Depth { .. } => too_deep(),
            B::Nodes { .. }
            | B::Events { .. }
            | B::Aliases { .. }
            | B::AliasAnchorRatio { .. }
            | B::RecordedAnchorEvents { .. }
            | B::RecordedAnchorBytes { .. } => (
                "the document expands to too many values (aliases repeating aliases: a YAML alias bomb?)".to_string(),
                "write the data out, or use fewer levels of aliases that repeat other aliases",
            ),
            other => (
                format!("the document is over a parser limit ({other:?})"),
                "split the file or simplify its data",
            ),
        }),
        _ if e.to_string().contains("recursion limit exceeded") => Some(too_deep()),
        _ => None,
    }
}

/// The tree serde-saphyr hands us, with positions as it reports them.
struct Raw {
    kind: RawKind,
    tag: Option<String>,
    line: u32,
    col: u32,
    /// Byte offset of where the node is defined (for aliases: the anchored node).
    defined_byte: Option<u64>,
}

enum RawKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Raw>),
    Map(Vec<(Raw, Raw)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Raw, D::Error> {
        let s: Spanned<Tagged<RawKind>> = Spanned::deserialize(d)?;
        Ok(Raw {
            line: s.referenced.line() as u32,
            col: s.referenced.column() as u32,
            defined_byte: s.defined.span().byte_offset(),
            tag: s.value.1,
            kind: s.value.0,
        })
    }
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<RawKind, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }
    fn visit_i128<E>(self, v: i128) -> std::result::Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }
    fn visit_u128<E>(self, v: u128) -> std::result::Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Float(v as f64),
        })
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = a.next_element::<Raw>()? {
            items.push(n);
        }
        Ok(RawKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = a.next_entry::<Raw, Raw>()? {
            entries.push(entry);
        }
        Ok(RawKind::Map(entries))
    }
}

/// PyYAML's YAML 1.1 boolean spellings.
fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Whether the scalar at `byte` was written plain (not quoted, not a block scalar).
fn written_plain(source: &SourceFile, byte: Option<u64>) -> bool {
    let Some(b) = byte else { return false };
    match source.text.as_bytes().get(b as usize) {
        Some(b'"' | b'\'' | b'|' | b'>' | b'!') => false,
        Some(_) => true,
        None => false,
    }
}

fn convert(raw: Raw, source: &Arc<SourceFile>) -> Result<Node> {
    let span = Span::new(source.clone(), raw.line, raw.col);
    let tag = raw.tag.as_deref().map(normalize_tag);
    let kind = match raw.kind {
        RawKind::Null => NodeKind::Null,
        RawKind::Bool(b) => NodeKind::Bool(b),
        RawKind::Int(i) => NodeKind::Int(i),
        RawKind::Float(f) => NodeKind::Float(f),
        RawKind::Str(s) => match (tag, yaml11_bool(&s)) {
            (None, Some(b)) if written_plain(source, raw.defined_byte) => NodeKind::Bool(b),
            _ => NodeKind::Str(s),
        },
        RawKind::Seq(items) => NodeKind::Seq(items.into_iter().map(|r| convert(r, source)).collect::<Result<_>>()?),
        RawKind::Map(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = convert(k, source)?;
                if matches!(key.kind, NodeKind::Seq(_) | NodeKind::Map(_)) {
                    return Err(Error::at(
                        ErrorKind::Yaml {
                            message: "a mapping key must be a plain value, not a list or mapping".into(),
                        },
                        &key.span,
                    )
                    .with_help("a value that starts with {{ must be quoted: key: \"{{ var }}\""));
                }
                out.push((key, convert(v, source)?));
            }
            NodeKind::Map(out)
        }
    };
    let node = Node::new(kind, span);
    match tag {
        None | Some("str" | "int" | "float" | "bool" | "null" | "seq" | "map" | "merge" | "binary" | "timestamp") => {
            Ok(node)
        }
        Some("unsafe") => Ok(mark_unsafe(node)),
        Some("vault") => match node.kind {
            NodeKind::Str(ciphertext) => Ok(Node::new(
                NodeKind::Vault(Arc::new(VaultValue {
                    ciphertext,
                    plaintext: None,
                })),
                node.span,
            )),
            _ => Err(Error::at(
                ErrorKind::WrongType {
                    what: "a !vault value".into(),
                    expected: "a string",
                    found: node.type_name(),
                },
                &node.span,
            )),
        },
        Some(other) => Err(Error::at(
            ErrorKind::UnknownTag {
                tag: format!("!{other}"),
            },
            &node.span,
        )
        .with_help("Ansible YAML knows !unsafe and !vault; quote the value if the ! is part of the text")),
    }
}

fn normalize_tag(tag: &str) -> &str {
    let t = tag.strip_prefix("tag:yaml.org,2002:").unwrap_or(tag);
    t.trim_start_matches('!')
}

/// `!unsafe` on a collection makes every string inside it unsafe, as Ansible does.
fn mark_unsafe(node: Node) -> Node {
    let kind = match node.kind {
        NodeKind::Str(s) => NodeKind::Unsafe(s),
        NodeKind::Seq(items) => NodeKind::Seq(items.into_iter().map(mark_unsafe).collect()),
        NodeKind::Map(entries) => NodeKind::Map(entries.into_iter().map(|(k, v)| (k, mark_unsafe(v))).collect()),
        other => other,
    };
    Node::new(kind, node.span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn value(text: &str) -> Value {
        parse(SourceFile::new("t.yml", text)).expect("parses").to_value()
    }

    #[test]
    fn yaml11_scalars_read_as_ansible_reads_them() {
        let cases: &[(&str, Value)] = &[
            ("yes", Value::Bool(true)),
            ("Yes", Value::Bool(true)),
            ("YES", Value::Bool(true)),
            ("on", Value::Bool(true)),
            ("ON", Value::Bool(true)),
            ("off", Value::Bool(false)),
            ("No", Value::Bool(false)),
            ("True", Value::Bool(true)),
            ("FALSE", Value::Bool(false)),
            ("y", Value::str("y")),
            ("n", Value::str("n")),
            ("'yes'", Value::str("yes")),
            ("\"on\"", Value::str("on")),
            ("0755", Value::Int(493)),
            ("'0755'", Value::str("0755")),
            ("0x1f", Value::Int(31)),
            ("42", Value::Int(42)),
            ("1.5", Value::Float(1.5)),
            ("~", Value::Null),
            ("null", Value::Null),
            ("", Value::Null),
            ("!unsafe '{{ x }}'", Value::Unsafe("{{ x }}".into())),
            ("!!str yes", Value::str("yes")),
        ];
        for (text, want) in cases {
            assert_eq!(
                &value(&format!("k: {text}\n")).as_map().unwrap()["k"],
                want,
                "for {text:?}"
            );
        }
    }

    #[test]
    fn keys_y_and_n_stay_strings() {
        let v = value("y: 1\nn: 2\n");
        let keys: Vec<_> = v.as_map().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["y", "n"]);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = value("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nagain: *b\n");
        let m = v.as_map().unwrap();
        let other = m["other"].as_map().unwrap();
        assert_eq!(other["x"], Value::Int(1));
        assert_eq!(other["y"], Value::Int(3));
        assert_eq!(m["again"], m["base"]);
    }

    #[test]
    fn aliased_booleans_keep_their_meaning() {
        let v = value("a: &t yes\nb: *t\nc: &s 'yes'\nd: *s\n");
        let m = v.as_map().unwrap();
        assert_eq!(m["b"], Value::Bool(true));
        assert_eq!(m["d"], Value::str("yes"));
    }

    #[test]
    fn unsafe_on_a_collection_marks_every_string() {
        let v = value("k: !unsafe\n  a: '{{ x }}'\n  b: ['{{ y }}']\n");
        let k = v.as_map().unwrap()["k"].as_map().unwrap().clone();
        assert_eq!(k["a"], Value::Unsafe("{{ x }}".into()));
        assert_eq!(k["b"], Value::List(vec![Value::Unsafe("{{ y }}".into())]));
    }

    #[test]
    fn vault_tag_keeps_the_ciphertext() {
        let v = value("pw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  3132\n");
        match &v.as_map().unwrap()["pw"] {
            Value::Vault(vv) => assert!(vv.ciphertext.starts_with("$ANSIBLE_VAULT;1.1;AES256")),
            other => panic!("not a vault value: {other:?}"),
        }
    }

    #[test]
    fn nodes_know_where_they_were_written() {
        let n = parse(SourceFile::new(
            "p.yml",
            "- hosts: all\n  tasks:\n    - debug: msg=hi\n",
        ))
        .unwrap();
        let task = &n.as_seq().unwrap()[0].get("tasks").unwrap().as_seq().unwrap()[0];
        assert_eq!((task.span.line, task.span.col), (3, 7));
    }

    #[test]
    fn broken_yaml_is_an_error_with_a_position() {
        let e = parse(SourceFile::new("bad.yml", "a: [1, 2\nb: 3\n")).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("bad.yml:"), "{text}");
        assert!(matches!(e.kind, ErrorKind::Yaml { .. }));
    }

    #[test]
    fn unquoted_template_is_an_error_that_says_to_quote() {
        let e = parse(SourceFile::new("t.yml", "a: {{ x }}\n")).unwrap_err();
        assert!(e.to_string().contains("must be quoted"), "{e}");
    }

    #[test]
    fn unknown_tags_are_refused() {
        let e = parse(SourceFile::new("t.yml", "a: !frobnicate x\n")).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::UnknownTag { .. }), "{e}");
    }

    #[test]
    fn alias_bombs_are_refused_not_expanded() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(SourceFile::new("bomb.yml", bomb)).unwrap_err();
        assert!(e.to_string().contains("alias bomb"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_with_a_position_not_a_stack_overflow() {
        let flow = format!("x: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let block = format!("x:\n  {}1\n", "- ".repeat(10_000));
        let mixed = format!("x: {}1{}\n", "{a: ".repeat(10_000), "}".repeat(10_000));
        for (name, text) in [("flow", flow), ("block", block), ("mixed", mixed)] {
            let e = parse(SourceFile::new("deep.yml", text)).unwrap_err();
            let shown = e.to_string();
            assert!(shown.contains("nest more than 32 levels"), "{name}: {shown}");
            assert!(shown.starts_with("deep.yml:"), "{name}: {shown}");
            assert!(e.span.as_ref().is_some_and(|s| s.line > 0), "{name}: a position");
            // The snippet of a 20,000-character line is a window, not the whole line.
            assert!(shown.len() < 2_000, "{name}: {} bytes", shown.len());
        }
        let ok = format!("x: {}1{}\n", "[".repeat(MAX_DEPTH - 2), "]".repeat(MAX_DEPTH - 2));
        assert!(
            parse(SourceFile::new("ok.yml", ok)).is_ok(),
            "nesting under the limit loads"
        );
    }

    #[test]
    fn oversized_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.yml");
        let f = std::fs::File::create(&path).unwrap();
        // Sparse: the size check must not need the bytes.
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = read_source(&path).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Io { .. }), "{e}");
        assert!(e.to_string().contains("byte limit"), "{e}");
    }

    #[test]
    fn a_long_line_shows_a_window_with_the_caret_under_the_column() {
        let text = format!("a: [{}, {{{{ x }}}}]\n", "1, ".repeat(1_000).trim_end_matches(", "));
        let e = parse(SourceFile::new("long.yml", text)).unwrap_err();
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        let src = lines.iter().find(|l| l.starts_with("1 | ")).expect("source line");
        let caret = lines.iter().find(|l| l.trim_end().ends_with('^')).expect("caret line");
        assert!(src.starts_with("1 | ...") && src.len() < 200, "{shown}");
        let col = caret.len() - 1;
        assert_eq!(&src[col..col + 1], "{", "{shown}");
    }
}
