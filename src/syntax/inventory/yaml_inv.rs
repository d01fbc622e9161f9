//! YAML inventories as Ansible's `yaml` plugin reads them: top-level keys are groups; a group
//! holds `hosts` (host patterns with null or a mapping of variables), `children` (groups,
//! recursively) and `vars`. A string where one of those mappings is expected stands for a
//! one-entry mapping. Unknown keys are skipped with a warning, as Ansible does.

use super::builder::Builder;
use super::range::expand_host_pattern;
use crate::syntax::error::{Error, ErrorKind, Result};
use crate::syntax::node::{Node, NodeKind};

const SECTIONS: [&str; 3] = ["vars", "children", "hosts"];

pub(super) fn parse(b: &mut Builder, root: &Node) -> Result<()> {
    let Some(entries) = root.as_map() else {
        return Err(Error::at(
            ErrorKind::WrongType {
                what: "a YAML inventory".into(),
                expected: "a mapping of groups",
                found: root.type_name(),
            },
            &root.span,
        ));
    };
    for (key, value) in entries {
        let name = group_name(key)?;
        parse_group(b, name, key, value)?;
    }
    Ok(())
}

fn group_name(key: &Node) -> Result<&str> {
    key.as_str().ok_or_else(|| {
        Error::at(
            ErrorKind::WrongType {
                what: "a group name".into(),
                expected: "a string",
                found: key.type_name(),
            },
            &key.span,
        )
        .with_help("quote group names that look like numbers or booleans")
    })
}

/// One group and everything under it; returns the group's name.
fn parse_group<'a>(b: &mut Builder, name: &'a str, key: &Node, data: &Node) -> Result<&'a str> {
    let entries: &[(Node, Node)] = match &data.kind {
        NodeKind::Map(m) => m,
        NodeKind::Null => &[],
        _ => {
            b.warn(
                format!(
                    "skipping '{name}' as this is not a valid group definition (it is a {}, not a mapping)",
                    data.type_name()
                ),
                Some(&data.span),
            );
            return Ok(name);
        }
    };
    b.add_group(name, Some(&key.span));
    for (k, v) in entries {
        let Some(section) = k.as_str() else {
            b.warn(
                format!(
                    "skipping key ({}) in group ({name}): not a string",
                    k.key_text().unwrap_or_default()
                ),
                Some(&k.span),
            );
            continue;
        };
        let is_section = SECTIONS.contains(&section);
        match &v.kind {
            NodeKind::Map(_) | NodeKind::Null => {}
            NodeKind::Str(_) | NodeKind::Unsafe(_) if is_section => {}
            _ if is_section => {
                return Err(Error::at(
                    ErrorKind::WrongType {
                        what: format!("the \"{section}\" entry of group \"{name}\""),
                        expected: "a mapping",
                        found: v.type_name(),
                    },
                    &v.span,
                )
                .with_help(format!(
                    "write each entry as a key: `{section}:` then `  name:` on the next line"
                )));
            }
            _ => {
                b.warn(
                    format!(
                        "skipping key ({section}) in group ({name}) as it is not a mapping, it is a {}",
                        v.type_name()
                    ),
                    Some(&k.span),
                );
                continue;
            }
        }
        if v.is_null() {
            continue;
        }
        match section {
            "vars" => {
                for (vk, vv) in entries_of(v) {
                    let var = vk.key_text().unwrap_or_default();
                    b.set_group_var(name, &var, vv.map(Node::to_value).unwrap_or_default(), Some(&vk.span))?;
                }
            }
            "children" => {
                for (ck, cv) in entries_of(v) {
                    let child = group_name(ck)?;
                    let null = Node::new(NodeKind::Null, ck.span.clone());
                    let child = parse_group(b, child, ck, cv.unwrap_or(&null))?;
                    b.add_child(name, child, Some(&ck.span))?;
                }
            }
            "hosts" => {
                for (hk, hv) in entries_of(v) {
                    parse_host(b, name, hk, hv)?;
                }
            }
            _ => {
                let suggestion = SECTIONS
                    .iter()
                    .find(|s| strsim::jaro_winkler(s, section) > 0.8)
                    .map(|s| format!("; did you mean '{s}'?"))
                    .unwrap_or_default();
                b.warn(format!("skipping unexpected key ({section}) in group ({name}), only \"vars\", \"children\" and \"hosts\" are valid{suggestion}"), Some(&k.span));
            }
        }
    }
    Ok(name)
}

/// The entries of a section: a mapping's pairs, or a lone string as a key with no value.
fn entries_of(section: &Node) -> Vec<(&Node, Option<&Node>)> {
    match &section.kind {
        NodeKind::Map(m) => m.iter().map(|(k, v)| (k, Some(v))).collect(),
        _ => vec![(section, None)],
    }
}

fn parse_host(b: &mut Builder, group: &str, key: &Node, value: Option<&Node>) -> Result<()> {
    let Some(pattern) = key.as_str() else {
        return Err(Error::at(
            ErrorKind::Inventory {
                message: format!("host pattern {} must be a string", key.key_text().unwrap_or_default()),
            },
            &key.span,
        )
        .with_help("enclose numbers in quotation marks: \"10\":"));
    };
    let vars = match value.map(|v| &v.kind) {
        None | Some(NodeKind::Null) => &[][..],
        Some(NodeKind::Map(m)) => &m[..],
        Some(_) => {
            let v = value.map(|v| (v.type_name(), v.span.clone()));
            let (found, span) = v.unwrap_or(("null", key.span.clone()));
            return Err(Error::at(
                ErrorKind::WrongType {
                    what: format!("the variables of host '{pattern}'"),
                    expected: "a mapping",
                    found,
                },
                &span,
            )
            .with_help("write host variables as `name: value` lines under the host, or leave the host empty"));
        }
    };
    let (hosts, port) = expand_host_pattern(pattern).map_err(|m| {
        Error::at(ErrorKind::Inventory { message: m }, &key.span)
            .with_help("a range is written [1:9], [01:20], [a:f] or [1:10:2]")
    })?;
    for host in &hosts {
        b.add_host(host, Some(group), port, Some(&key.span))?;
        for (k, v) in vars {
            b.set_host_var(host, &k.key_text().unwrap_or_default(), v.to_value());
        }
    }
    Ok(())
}
