//! What host patterns and variable layering need from an inventory, computed once: each
//! group's hosts in Ansible's order, each group's depth (longest distance from `all`), and the
//! groups each host belongs to (directly or through a child group).
//!
//! A group's hosts, as Ansible lists them: the group's own hosts, then those of its children,
//! then grandchildren, level by level (breadth first), each host once. Within a level, Ansible
//! walks parents in an unordered set; here they are walked in the order they were reached,
//! which is the same whenever only one group per level has children.

use crate::syntax::inventory::{HostEntry, Inventory, LOCALHOST_NAMES};
use crate::value::Value;
use std::collections::HashMap;

pub struct InventoryIndex<'a> {
    pub inv: &'a Inventory,
    /// Per group (index as in `inv.groups`): its hosts, as host indices, in Ansible's order.
    group_hosts: Vec<Vec<usize>>,
    /// Per group: longest distance from `all` (which is 0).
    depth: Vec<u32>,
    /// Per host (index as in `inv.hosts`): every group it is in, `all` included, unordered.
    host_groups: Vec<Vec<usize>>,
}

impl<'a> InventoryIndex<'a> {
    pub fn new(inv: &'a Inventory) -> InventoryIndex<'a> {
        let n = inv.groups.len();
        let group_id = |name: &str| inv.groups.get_index_of(name);
        let children: Vec<Vec<usize>> = inv
            .groups
            .values()
            .map(|g| g.children.iter().filter_map(|c| group_id(c)).collect())
            .collect();
        let parents: Vec<Vec<usize>> = inv
            .groups
            .values()
            .map(|g| g.parents.iter().filter_map(|p| group_id(p)).collect())
            .collect();
        let own_hosts: Vec<Vec<usize>> = inv
            .groups
            .values()
            .map(|g| g.hosts.iter().filter_map(|h| inv.hosts.get_index_of(h)).collect())
            .collect();

        let mut depth = vec![u32::MAX; n];
        for g in 0..n {
            group_depth(g, &parents, &mut depth);
        }

        let mut seen_host = vec![false; inv.hosts.len()];
        let mut group_hosts = Vec::with_capacity(n);
        for g in 0..n {
            let mut out = Vec::new();
            for kid in descendants(g, &children) {
                for &h in &own_hosts[kid] {
                    if !seen_host[h] {
                        seen_host[h] = true;
                        out.push(h);
                    }
                }
            }
            for &h in &out {
                seen_host[h] = false;
            }
            group_hosts.push(out);
        }

        let ancestors: Vec<Vec<usize>> = (0..n).map(|g| ancestors(g, &parents)).collect();
        let host_groups = inv
            .hosts
            .values()
            .map(|h| {
                let mut gs: Vec<usize> = Vec::new();
                for direct in h.groups.iter().filter_map(|g| group_id(g)) {
                    for &g in std::iter::once(&direct).chain(&ancestors[direct]) {
                        if !gs.contains(&g) {
                            gs.push(g);
                        }
                    }
                }
                gs
            })
            .collect();
        InventoryIndex {
            inv,
            group_hosts,
            depth,
            host_groups,
        }
    }

    /// The hosts of group `name` in Ansible's order (empty for an unknown group).
    pub fn group_hosts(&self, name: &str) -> Vec<&'a str> {
        match self.inv.groups.get_index_of(name) {
            Some(g) => self.group_host_ids(g).iter().map(|&h| self.host_name(h)).collect(),
            None => Vec::new(),
        }
    }

    pub(crate) fn group_host_ids(&self, group: usize) -> &[usize] {
        self.group_hosts.get(group).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(crate) fn host_name(&self, host: usize) -> &'a str {
        self.inv.hosts.get_index(host).map(|(k, _)| k.as_str()).unwrap_or("")
    }

    /// Depth of group `name`: 0 for `all`, 1 for its children, and so on by the longest path.
    pub fn depth(&self, name: &str) -> Option<u32> {
        self.inv.groups.get_index_of(name).map(|g| self.depth[g])
    }

    /// The groups `host` is in, except `all`, in the order their variables apply: by depth,
    /// then `ansible_group_priority`, then name (Ansible's `sort_groups`).
    pub fn sorted_groups(&self, host: &str) -> Vec<usize> {
        let Some(h) = self.inv.hosts.get_index_of(host) else {
            return Vec::new();
        };
        let mut gs: Vec<usize> = self.host_groups[h]
            .iter()
            .copied()
            .filter(|&g| self.inv.groups.get_index(g).is_some_and(|(n, _)| n != "all"))
            .collect();
        gs.sort_by(|&a, &b| {
            let (ga, gb) = (&self.inv.groups[a], &self.inv.groups[b]);
            (self.depth[a], ga.priority, &ga.name).cmp(&(self.depth[b], gb.priority, &gb.name))
        });
        gs
    }

    /// `group_names`: the host's groups except `all`, sorted by name.
    pub fn group_names(&self, host: &str) -> Vec<&'a str> {
        let Some(h) = self.inv.hosts.get_index_of(host) else {
            return Vec::new();
        };
        let mut names: Vec<&str> = self.host_groups[h]
            .iter()
            .filter_map(|&g| self.inv.groups.get_index(g).map(|(n, _)| n.as_str()))
            .filter(|n| *n != "all")
            .collect();
        names.sort_unstable();
        names
    }

    /// The `groups` magic variable: every group (`all` and `ungrouped` included) to its hosts.
    pub fn groups_var(&self) -> Value {
        let map = self
            .inv
            .groups
            .keys()
            .enumerate()
            .map(|(g, name)| {
                (
                    name.clone(),
                    Value::List(
                        self.group_host_ids(g)
                            .iter()
                            .map(|&h| Value::str(self.host_name(h)))
                            .collect(),
                    ),
                )
            })
            .collect();
        Value::Map(map)
    }

    /// An inventory host or the implicit localhost of that name.
    pub fn host_entry(&self, name: &str) -> Option<&'a HostEntry> {
        self.inv.host_or_implicit(name)
    }

    /// Whether `name` is a localhost name not in the inventory (so an implicit host).
    pub fn is_implicit(&self, name: &str) -> bool {
        LOCALHOST_NAMES.contains(&name) && !self.inv.hosts.contains_key(name)
    }
}

fn group_depth(g: usize, parents: &[Vec<usize>], depth: &mut [u32]) -> u32 {
    if depth[g] != u32::MAX {
        return depth[g];
    }
    // The builder refuses cycles, so this recursion ends; mark first to be safe anyway.
    depth[g] = 0;
    let d = parents[g]
        .iter()
        .map(|&p| group_depth(p, parents, depth) + 1)
        .max()
        .unwrap_or(0);
    depth[g] = d;
    d
}

/// `g` and its descendants, breadth first, each once.
fn descendants(g: usize, children: &[Vec<usize>]) -> Vec<usize> {
    let mut order = vec![g];
    let mut seen: HashMap<usize, ()> = HashMap::from([(g, ())]);
    let mut i = 0;
    while i < order.len() {
        let cur = order[i];
        i += 1;
        for &c in &children[cur] {
            if seen.insert(c, ()).is_none() {
                order.push(c);
            }
        }
    }
    order
}

fn ancestors(g: usize, parents: &[Vec<usize>]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut stack = parents[g].clone();
    while let Some(p) = stack.pop() {
        if !out.contains(&p) {
            out.push(p);
            stack.extend(&parents[p]);
        }
    }
    out
}
