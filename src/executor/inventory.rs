//! The inventory as a run sees it: every host's variables layered once at the start, group
//! membership, and the `groups` variable. `add_host` and `group_by` change it during the run.

use crate::plan::inventory_index::InventoryIndex;
use crate::plan::inventory_vars::{PlaybookVars, host_vars};
use crate::value::{Map, Value};
use indexmap::IndexMap;
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, Default)]
pub struct HostInfo {
    pub vars: Arc<Map>,
    pub groups: Vec<String>,
}

#[derive(Debug, Default)]
struct Inner {
    hosts: IndexMap<String, HostInfo>,
    /// group → hosts, in inventory order.
    groups: IndexMap<String, Vec<String>>,
    groups_var: Arc<Value>,
}

#[derive(Debug, Default)]
pub struct RunInventory {
    inner: RwLock<Inner>,
    /// Bumped by every change, so cached copies of `groups` know they are stale.
    generation: std::sync::atomic::AtomicU64,
}

impl RunInventory {
    pub fn new(index: &InventoryIndex, play_vars: &PlaybookVars) -> RunInventory {
        let mut hosts = IndexMap::new();
        for name in index.inv.hosts.keys() {
            let vars = host_vars(index, play_vars, name).unwrap_or_default();
            let groups = index.group_names(name).iter().map(|s| s.to_string()).collect();
            hosts.insert(
                name.clone(),
                HostInfo {
                    vars: Arc::new(vars),
                    groups,
                },
            );
        }
        let mut groups = IndexMap::new();
        if let Value::Map(m) = index.groups_var() {
            for (g, members) in m {
                let list = members
                    .as_list()
                    .map(|l| l.iter().map(|v| v.to_string()).collect())
                    .unwrap_or_default();
                groups.insert(g, list);
            }
        }
        let mut inner = Inner {
            hosts,
            groups,
            groups_var: Arc::new(Value::Null),
        };
        inner.refresh_groups_var();
        RunInventory {
            inner: RwLock::new(inner),
            generation: Default::default(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn host(&self, name: &str) -> Option<HostInfo> {
        self.read().hosts.get(name).cloned()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn changed(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub fn host_names(&self) -> Vec<String> {
        self.read().hosts.keys().cloned().collect()
    }

    pub fn groups_var(&self) -> Arc<Value> {
        self.read().groups_var.clone()
    }

    /// `add_host`: a new host (or more groups and vars for a known one).
    pub fn add_host(&self, name: &str, groups: &[String], vars: &Map) {
        let mut inner = self.write();
        let entry = inner.hosts.entry(name.to_string()).or_default();
        let mut merged = (*entry.vars).clone();
        for (k, v) in vars {
            merged.insert(k.clone(), v.clone());
        }
        entry.vars = Arc::new(merged);
        for g in groups {
            if !entry.groups.contains(g) {
                entry.groups.push(g.clone());
            }
        }
        let mut wanted: Vec<String> = groups.to_vec();
        wanted.push("all".into());
        for g in wanted {
            let members = inner.groups.entry(g).or_default();
            if !members.iter().any(|h| h == name) {
                members.push(name.to_string());
            }
        }
        inner.refresh_groups_var();
        drop(inner);
        self.changed();
    }

    /// `group_by`: put a host into a group (created if new) and its parents.
    pub fn add_to_group(&self, host: &str, group: &str, parents: &[String]) {
        let mut inner = self.write();
        for g in std::iter::once(group.to_string()).chain(parents.iter().cloned()) {
            let members = inner.groups.entry(g.clone()).or_default();
            if !members.iter().any(|h| h == host) {
                members.push(host.to_string());
            }
            if let Some(h) = inner.hosts.get_mut(host)
                && !h.groups.contains(&g)
            {
                h.groups.push(g);
            }
        }
        inner.refresh_groups_var();
        drop(inner);
        self.changed();
    }
}

impl Inner {
    fn refresh_groups_var(&mut self) {
        let map: Map = self
            .groups
            .iter()
            .map(|(g, hosts)| {
                (
                    g.clone(),
                    Value::List(hosts.iter().map(|h| Value::str(h.clone())).collect()),
                )
            })
            .collect();
        self.groups_var = Arc::new(Value::Map(map));
    }
}
