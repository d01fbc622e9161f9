//! The variables a host gets from the inventory, layered as Ansible's `VariableManager` layers
//! them (lowest first, later replaces earlier key by key):
//!
//! | # | layer | Ansible name |
//! |---|-------|--------------|
//! | 1 | `all` group vars written in the inventory | `all_inventory` |
//! | 2 | the host's other groups' inventory vars, sorted by depth, `ansible_group_priority`, name | `groups_inventory` |
//! | 3 | `group_vars/all` next to each inventory source, source by source | `all_plugins_inventory` |
//! | 4 | `group_vars/all` next to the playbook | `all_plugins_play` |
//! | 5 | `group_vars/<group>` next to each source: per source, groups in the order of 2 | `groups_plugins_inventory` |
//! | 6 | `group_vars/<group>` next to the playbook, groups in the order of 2 | `groups_plugins_play` |
//! | 7 | host vars written in the inventory, `inventory_file`/`inventory_dir` first, then `inventory_hostname`, `inventory_hostname_short`, `group_names` | `host.get_vars()` |
//! | 8 | `host_vars/<host>` next to each inventory source | inventory host_vars |
//! | 9 | `host_vars/<host>` next to the playbook | playbook host_vars |
//!
//! `groups` (every group to its hosts) is the same for every host, so it is computed once by
//! [`InventoryIndex::groups_var`] rather than copied into each host's map.

use super::inventory_index::InventoryIndex;
use crate::syntax::inventory::{Decrypt, HostEntry, Inventory, LOCALHOST_NAMES, VarsDirs, VarsFile, load_vars_dirs};
use crate::value::{Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// `group_vars/` and `host_vars/` files next to the playbook(s), loaded for the inventory's
/// groups and hosts. `VarsFile::source` indexes the directories given.
#[derive(Debug, Default)]
pub struct PlaybookVars {
    pub groups: HashMap<String, Vec<VarsFile>>,
    pub hosts: HashMap<String, Vec<VarsFile>>,
    pub dirs: usize,
}

impl PlaybookVars {
    /// Load the files under each of `dirs` (playbook directories, in order) for every group and
    /// host of `inv` (and the implicit localhost names).
    pub fn load(dirs: &[&Path], inv: &Inventory, decrypt: Option<Decrypt>) -> crate::syntax::Result<PlaybookVars> {
        let mut out = PlaybookVars {
            dirs: dirs.len(),
            ..PlaybookVars::default()
        };
        for (i, dir) in dirs.iter().enumerate() {
            let d: VarsDirs = load_vars_dirs(dir)?;
            if !d.group_vars.is_empty() {
                for name in inv.groups.keys() {
                    let files = d.group_vars.load(name, i, decrypt)?;
                    if !files.is_empty() {
                        out.groups.entry(name.clone()).or_default().extend(files);
                    }
                }
            }
            if !d.host_vars.is_empty() {
                for name in inv
                    .hosts
                    .keys()
                    .map(String::as_str)
                    .chain(LOCALHOST_NAMES.into_iter().filter(|n| !inv.hosts.contains_key(*n)))
                {
                    let files = d.host_vars.load(name, i, decrypt)?;
                    if !files.is_empty() {
                        out.hosts.entry(name.to_string()).or_default().extend(files);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Inventory variables of `host` (an inventory host or an implicit localhost name); `None` for
/// a name that is neither.
pub fn host_vars(index: &InventoryIndex, play: &PlaybookVars, host: &str) -> Option<Map> {
    let entry = index.host_entry(host)?;
    let inv = index.inv;
    let groups = index.sorted_groups(host);
    let sources = inv.source_dirs.len().max(1);
    let mut vars = Map::new();
    let all = inv.groups.get("all");
    let overlay = |vars: &mut Map, m: &Map| {
        for (k, v) in m {
            vars.insert(k.clone(), v.clone());
        }
    };

    if let Some(all) = all {
        overlay(&mut vars, &all.vars);
    }
    for &g in &groups {
        overlay(&mut vars, &inv.groups[g].vars);
    }
    if let Some(all) = all {
        for f in &all.file_vars {
            overlay(&mut vars, &f.vars);
        }
    }
    for f in play.groups.get("all").into_iter().flatten() {
        overlay(&mut vars, &f.vars);
    }
    for s in 0..sources {
        for &g in &groups {
            for f in inv.groups[g].file_vars.iter().filter(|f| f.source == s) {
                overlay(&mut vars, &f.vars);
            }
        }
    }
    for s in 0..play.dirs {
        for &g in &groups {
            for f in play
                .groups
                .get(&inv.groups[g].name)
                .into_iter()
                .flatten()
                .filter(|f| f.source == s)
            {
                overlay(&mut vars, &f.vars);
            }
        }
    }
    if let Some(source) = &entry.source {
        vars.insert("inventory_file".into(), Value::str(source.to_string_lossy()));
        let dir = source
            .parent()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        vars.insert("inventory_dir".into(), Value::str(dir));
    } else if !entry.implicit {
        vars.insert("inventory_file".into(), Value::Null);
        vars.insert("inventory_dir".into(), Value::Null);
    }
    overlay(&mut vars, &entry.vars);
    magic_vars(index, entry, &mut vars);
    for f in &entry.file_vars {
        overlay(&mut vars, &f.vars);
    }
    for f in play.hosts.get(host).into_iter().flatten() {
        overlay(&mut vars, &f.vars);
    }
    Some(vars)
}

/// `inventory_hostname`, `inventory_hostname_short` and `group_names`.
fn magic_vars(index: &InventoryIndex, entry: &HostEntry, vars: &mut Map) {
    let name = entry.name.as_str();
    vars.insert("inventory_hostname".into(), Value::str(name));
    let short = if crate::syntax::inventory::is_ip_address(name) {
        name
    } else {
        name.split('.').next().unwrap_or(name)
    };
    vars.insert("inventory_hostname_short".into(), Value::str(short));
    let names = index.group_names(name).into_iter().map(Value::str).collect();
    vars.insert("group_names".into(), Value::List(names));
}

#[cfg(test)]
mod tests;
