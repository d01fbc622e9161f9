//! Inventories as Ansible reads them: YAML and INI files (or directories of them, or
//! `host1,host2,` lists), host ranges, inline and section variables, and the `group_vars/` and
//! `host_vars/` directories next to each source. Loading builds the same groups, hosts and
//! memberships Ansible's inventory holds after parsing, in the same order, so host patterns
//! and variable layering (in `plan`) can reproduce Ansible exactly.
//!
//! The implicit `localhost`: a pattern naming `localhost`, `127.0.0.1` or `::1` that matches no
//! inventory host gets a host that is in no group (not even `all`), made by
//! [`Inventory::implicit_localhost`]. When the inventory has a host with one of those names,
//! the first such host ([`Inventory::localhost`]) stands for all three.

mod address;
mod builder;
mod ini;
mod pyliteral;
mod range;
mod shlex;
mod source;
mod vars_dirs;
mod yaml_inv;

pub use address::{is_ip_address, parse_address};
pub use pyliteral::literal_eval;
pub use range::expand_host_pattern;
pub use source::{LoadOptions, load, load_with};
pub use vars_dirs::{Decrypt, VarsDir, VarsDirs, VarsFile, load_vars_dirs, load_vars_file};

use super::span::Span;
use crate::value::{Map, Value};
use indexmap::IndexMap;
use std::path::PathBuf;

/// The names Ansible treats as the control machine itself.
pub const LOCALHOST_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

#[derive(Debug, Default)]
pub struct Inventory {
    /// Every host, in the order it was first seen.
    pub hosts: IndexMap<String, HostEntry>,
    /// Every group, in the order it was first seen; always has `all` and `ungrouped` first.
    pub groups: IndexMap<String, GroupEntry>,
    /// The directories whose `group_vars/` and `host_vars/` belong to the inventory, in source
    /// order. [`VarsFile::source`] indexes this list.
    pub source_dirs: Vec<PathBuf>,
    /// The first host named `localhost`, `127.0.0.1` or `::1`: it answers to all three.
    pub localhost: Option<String>,
    /// Implicit localhost entries (one per name), used only when the inventory has none.
    pub implicit: IndexMap<String, HostEntry>,
    /// What Ansible would warn about while loading.
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Default)]
pub struct HostEntry {
    pub name: String,
    /// Variables written in the inventory source (inline, `hosts:` values, `ansible_port` from
    /// `host:port`), merged in the order they were read.
    pub vars: Map,
    /// Where the host was first written.
    pub span: Option<Span>,
    /// `host_vars/<host>` files next to the inventory sources, in load order.
    pub file_vars: Vec<VarsFile>,
    /// The inventory file the host was first seen in (Ansible's `inventory_file`).
    pub source: Option<PathBuf>,
    /// The groups the host was put in directly, in order (ancestors not included).
    pub groups: Vec<String>,
    /// The implicit localhost: not part of any group.
    pub implicit: bool,
}

#[derive(Debug, Clone, Default)]
pub struct GroupEntry {
    pub name: String,
    /// Hosts put directly in this group, in order.
    pub hosts: Vec<String>,
    /// Child groups, in the order they were attached.
    pub children: Vec<String>,
    /// Parent groups, in the order they were attached.
    pub parents: Vec<String>,
    pub vars: Map,
    /// `ansible_group_priority` (default 1): among groups at the same depth, higher wins.
    pub priority: i64,
    /// Where the group was first written (`None` for `all` and `ungrouped` unless written).
    pub span: Option<Span>,
    /// `group_vars/<group>` files next to the inventory sources, in load order.
    pub file_vars: Vec<VarsFile>,
}

/// A problem Ansible only warns about; the caller shows it.
#[derive(Debug, Clone)]
pub struct Warning {
    pub message: String,
    pub span: Option<Span>,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{span}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Inventory {
    pub fn host(&self, name: &str) -> Option<&HostEntry> {
        self.hosts.get(name)
    }

    pub fn group(&self, name: &str) -> Option<&GroupEntry> {
        self.groups.get(name)
    }

    /// The host a pattern naming `name` reaches when no inventory host matched it: the
    /// inventory's own localhost if it has one, else an implicit one. `None` when `name` is not
    /// a localhost name.
    pub fn localhost_for(&self, name: &str) -> Option<&HostEntry> {
        if !LOCALHOST_NAMES.contains(&name) {
            return None;
        }
        match &self.localhost {
            Some(real) => self.hosts.get(real),
            None => self.implicit.get(name),
        }
    }

    /// The implicit localhost called `name` (`ansible_connection: local`, in no group), when the
    /// inventory has no localhost-like host of its own.
    pub fn implicit_localhost(&self, name: &str) -> Option<&HostEntry> {
        if self.localhost.is_some() {
            return None;
        }
        self.implicit.get(name)
    }

    /// A host of the inventory, or the implicit localhost of that name.
    pub fn host_or_implicit(&self, name: &str) -> Option<&HostEntry> {
        self.hosts.get(name).or_else(|| self.implicit_localhost(name))
    }
}

/// A fresh implicit localhost entry.
fn implicit_host(name: &str) -> HostEntry {
    let mut vars = Map::new();
    vars.insert("ansible_connection".into(), Value::str("local"));
    HostEntry {
        name: name.to_string(),
        vars,
        implicit: true,
        ..HostEntry::default()
    }
}

#[cfg(test)]
mod tests;
