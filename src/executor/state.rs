//! The run's mutable state, in one place: per-host facts, `set_fact`/registered variables,
//! `include_vars`, counters for the recap, and whether a host has failed or gone unreachable.

use crate::output::events::Stats;
use crate::value::{Map, Value};
use indexmap::IndexMap;
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, Default)]
pub struct HostState {
    /// Gathered facts, without the `ansible_` prefix (`ansible_facts` as a variable).
    pub facts: Arc<Map>,
    /// The same facts as top-level `ansible_<name>` variables, and `ansible_facts` itself.
    pub fact_vars: Arc<Map>,
    /// `set_fact` results and registered task results.
    pub set_facts: Arc<Map>,
    pub include_vars: Arc<Map>,
    pub stats: Stats,
    /// Failed in this run: later plays leave the host out.
    pub failed: bool,
    pub unreachable: bool,
}

#[derive(Debug, Default)]
pub struct RunState {
    hosts: RwLock<IndexMap<String, HostState>>,
}

impl RunState {
    pub fn get(&self, host: &str) -> HostState {
        self.hosts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .cloned()
            .unwrap_or_default()
    }

    /// Change one host's state.
    pub fn update<R>(&self, host: &str, f: impl FnOnce(&mut HostState) -> R) -> R {
        let mut guard = self.hosts.write().unwrap_or_else(|p| p.into_inner());
        f(guard.entry(host.to_string()).or_default())
    }

    pub fn set_var(&self, host: &str, name: &str, value: Value) {
        self.update(host, |s| {
            Arc::make_mut(&mut s.set_facts).insert(name.to_string(), value);
        });
    }

    /// Adds facts a host reported; returns the connection/become variables it tried to set,
    /// which are dropped (see `fact_names`).
    pub fn merge_facts(&self, host: &str, facts: &Map) -> Vec<String> {
        let (facts, dropped) = super::fact_names::clean(facts);
        self.update(host, |s| {
            let f = Arc::make_mut(&mut s.facts);
            let fv = Arc::make_mut(&mut s.fact_vars);
            for (k, v) in facts {
                fv.insert(format!("ansible_{k}"), v.clone());
                f.insert(k, v);
            }
            // Built once here, not on every task: tasks only share the map.
            fv.insert("ansible_facts".into(), Value::Map(f.clone()));
        });
        dropped
    }

    /// Every host seen, sorted by name as ansible-playbook's recap is, with its counters.
    pub fn recap(&self) -> Vec<(String, Stats)> {
        let mut all: Vec<(String, Stats)> = self
            .hosts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(h, s)| (h.clone(), s.stats))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    pub fn failed_hosts(&self) -> Vec<String> {
        self.hosts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, s)| s.failed || s.unreachable)
            .map(|(h, _)| h.clone())
            .collect()
    }
}
