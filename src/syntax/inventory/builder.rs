//! Building an inventory the way Ansible's `InventoryData` does: groups and hosts are added as
//! the parsers meet them, variables merge (later wins), and `reconcile` attaches every parentless
//! group to `all` and puts every group-less host in `ungrouped`.

use super::{GroupEntry, HostEntry, Inventory, LOCALHOST_NAMES, Warning};
use crate::syntax::error::{Error, ErrorKind, Result};
use crate::syntax::span::Span;
use crate::value::Value;
use std::collections::HashSet;
use std::path::PathBuf;

pub(super) struct Builder {
    pub inv: Inventory,
    /// Per group (same index as `inv.groups`): the hosts it holds, for constant-time checks.
    members: Vec<HashSet<String>>,
    /// The inventory file being read, recorded on hosts first seen in it.
    pub current_source: Option<PathBuf>,
    /// Ansible shows its invalid-group-name warning once.
    warned_group_chars: bool,
}

fn inventory_error(message: String, span: Option<&Span>) -> Error {
    Error::new(ErrorKind::Inventory { message }, span.cloned())
}

impl Builder {
    pub fn new() -> Builder {
        let mut b = Builder {
            inv: Inventory::default(),
            members: Vec::new(),
            current_source: None,
            warned_group_chars: false,
        };
        b.add_group("all", None);
        b.add_group("ungrouped", None);
        // Cannot fail: two fresh groups.
        let _ = b.add_child("all", "ungrouped", None);
        b
    }

    pub fn warn(&mut self, message: String, span: Option<&Span>) {
        self.inv.warnings.push(Warning {
            message,
            span: span.cloned(),
        });
    }

    /// Add a group if it is new; the first place it was written is kept.
    pub fn add_group(&mut self, name: &str, span: Option<&Span>) {
        if let Some(g) = self.inv.groups.get_mut(name) {
            if g.span.is_none() {
                g.span = span.cloned();
            }
            return;
        }
        if has_invalid_group_chars(name) && !self.warned_group_chars {
            self.warned_group_chars = true;
            self.warn(
                format!("invalid characters were found in group names (first: '{name}') but not replaced"),
                span,
            );
        }
        self.inv.groups.insert(
            name.to_string(),
            GroupEntry {
                name: name.to_string(),
                priority: 1,
                span: span.cloned(),
                ..GroupEntry::default()
            },
        );
        self.members.push(HashSet::new());
    }

    /// Add a host (if new) and put it in `group`. A port only counts when the host is new,
    /// as in Ansible.
    pub fn add_host(&mut self, name: &str, group: Option<&str>, port: Option<i64>, span: Option<&Span>) -> Result<()> {
        if name.is_empty() {
            return Err(inventory_error("a host name may not be empty".into(), span));
        }
        if !self.inv.hosts.contains_key(name) {
            let mut host = HostEntry {
                name: name.to_string(),
                span: span.cloned(),
                source: self.current_source.clone(),
                ..HostEntry::default()
            };
            if let Some(port) = port {
                host.vars.insert("ansible_port".into(), Value::Int(port));
            }
            self.inv.hosts.insert(name.to_string(), host);
            if LOCALHOST_NAMES.contains(&name) {
                match &self.inv.localhost {
                    None => self.inv.localhost = Some(name.to_string()),
                    Some(first) => {
                        let message = format!(
                            "a duplicate localhost-like entry was found ({name}); the first one found was {first}"
                        );
                        self.warn(message, span);
                    }
                }
            }
        }
        if let Some(group) = group {
            self.put_host_in_group(name, group, span)?;
        }
        Ok(())
    }

    fn put_host_in_group(&mut self, host: &str, group: &str, span: Option<&Span>) -> Result<()> {
        let Some(gi) = self.inv.groups.get_index_of(group) else {
            return Err(inventory_error(
                format!("could not find group {group} in inventory"),
                span,
            ));
        };
        if self.members[gi].insert(host.to_string()) {
            self.inv.groups[gi].hosts.push(host.to_string());
            if let Some(h) = self.inv.hosts.get_mut(host) {
                h.groups.push(group.to_string());
            }
        }
        Ok(())
    }

    pub fn set_host_var(&mut self, host: &str, key: &str, value: Value) {
        if let Some(h) = self.inv.hosts.get_mut(host) {
            h.vars.insert(key.to_string(), value);
        }
    }

    /// `ansible_group_priority` sets the group's priority instead of becoming a variable.
    pub fn set_group_var(&mut self, group: &str, key: &str, value: Value, span: Option<&Span>) -> Result<()> {
        let Some(g) = self.inv.groups.get_mut(group) else {
            return Err(inventory_error(
                format!("could not identify group or host named {group}"),
                span,
            ));
        };
        if key == "ansible_group_priority" {
            g.priority = python_int(&value).ok_or_else(|| {
                inventory_error(
                    format!("ansible_group_priority of group '{group}' must be an integer, not '{value}'"),
                    span,
                )
            })?;
        } else {
            g.vars.insert(key.to_string(), value);
        }
        Ok(())
    }

    /// Make `child` (a group, or failing that a host) a member of group `parent`.
    pub fn add_child(&mut self, parent: &str, child: &str, span: Option<&Span>) -> Result<()> {
        if !self.inv.groups.contains_key(parent) {
            return Err(inventory_error(format!("{parent} is not a known group"), span));
        }
        if !self.inv.groups.contains_key(child) {
            if self.inv.hosts.contains_key(child) {
                return self.put_host_in_group(child, parent, span);
            }
            return Err(inventory_error(format!("{child} is not a known host nor group"), span));
        }
        if parent == child {
            return Err(inventory_error(
                format!("group '{child}' cannot be a child of itself"),
                span,
            ));
        }
        if self.inv.groups[parent].children.iter().any(|c| c == child) {
            return Ok(());
        }
        if self.is_ancestor(child, parent) {
            return Err(inventory_error(
                format!("adding group '{child}' as a child of '{parent}' creates a recursive dependency loop"),
                span,
            )
            .with_help("a group may not contain, directly or through its children, a group that contains it"));
        }
        if let Some(p) = self.inv.groups.get_mut(parent) {
            p.children.push(child.to_string());
        }
        if let Some(c) = self.inv.groups.get_mut(child)
            && !c.parents.iter().any(|p| p == parent)
        {
            c.parents.push(parent.to_string());
        }
        Ok(())
    }

    /// Whether `maybe` is `group` or one of its ancestors.
    fn is_ancestor(&self, maybe: &str, group: &str) -> bool {
        let mut stack = vec![group];
        let mut seen = HashSet::new();
        while let Some(g) = stack.pop() {
            if g == maybe {
                return true;
            }
            if seen.insert(g)
                && let Some(entry) = self.inv.groups.get(g)
            {
                stack.extend(entry.parents.iter().map(String::as_str));
            }
        }
        false
    }

    /// Ansible's `reconcile_inventory`, run once after every source is read.
    pub fn reconcile(&mut self) -> Result<()> {
        let roots: Vec<String> = self
            .inv
            .groups
            .values()
            .filter(|g| g.name != "all" && g.parents.is_empty())
            .map(|g| g.name.clone())
            .collect();
        for root in roots {
            self.add_child("all", &root, None)?;
        }
        let ungrouped = self.inv.groups.get_index_of("ungrouped").unwrap_or(1);
        let names: Vec<String> = self.inv.hosts.keys().cloned().collect();
        let mut leave_ungrouped: HashSet<String> = HashSet::new();
        for name in names {
            let closure = self.host_group_closure(&name);
            if closure.contains("ungrouped") {
                // A host listed as ungrouped and also in a real group leaves ungrouped.
                if closure.iter().any(|g| g != "all" && g != "ungrouped") {
                    if let Some(h) = self.inv.hosts.get_mut(&name) {
                        h.groups.retain(|g| g != "ungrouped");
                    }
                    leave_ungrouped.insert(name);
                }
            } else if closure.is_empty() || (closure.len() == 1 && closure.contains("all")) {
                self.put_host_in_group(&name, "ungrouped", None)?;
            }
        }
        if !leave_ungrouped.is_empty() {
            // One pass, not one per host: many inventories list every host ungrouped first.
            self.inv.groups[ungrouped]
                .hosts
                .retain(|h| !leave_ungrouped.contains(h));
            self.members[ungrouped].retain(|h| !leave_ungrouped.contains(h));
        }
        let clashes: Vec<(String, Option<Span>)> = self
            .inv
            .groups
            .values()
            .filter(|g| self.inv.hosts.contains_key(&g.name))
            .map(|g| (g.name.clone(), g.span.clone()))
            .collect();
        for (name, span) in clashes {
            self.warn(
                format!("found both group and host with same name: {name}"),
                span.as_ref(),
            );
        }
        Ok(())
    }

    /// The groups a host belongs to: those it was put in and all their ancestors.
    fn host_group_closure(&self, host: &str) -> HashSet<String> {
        let mut out = HashSet::new();
        let Some(h) = self.inv.hosts.get(host) else {
            return out;
        };
        let mut stack: Vec<&str> = h.groups.iter().map(String::as_str).collect();
        while let Some(g) = stack.pop() {
            if out.insert(g.to_string())
                && let Some(entry) = self.inv.groups.get(g)
            {
                stack.extend(entry.parents.iter().map(String::as_str));
            }
        }
        out
    }
}

/// Ansible's `int(value)` for `ansible_group_priority`.
fn python_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        Value::Str(s) | Value::Unsafe(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Ansible's test for group names that are not valid variable names (it warns about them).
fn has_invalid_group_chars(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        None => false,
        Some(c) if c.is_numeric() || !(c.is_alphanumeric() || c == '_') => true,
        Some(_) => chars.any(|c| !(c.is_alphanumeric() || c == '_')),
    }
}
