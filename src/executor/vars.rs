//! The variables a task sees on a host, layered in Ansible's precedence (see `plan::scope`),
//! and `hostvars[other]` built on demand from the same layers without the task's own.

use super::shared::Shared;
use crate::plan::scope::{Layer, Scope};
use crate::plan::tree::PlanTask;
use crate::template::Vars;
use crate::value::{Map, Value};
use std::sync::Arc;

/// Variables fixed for one play (and one batch of it).
#[derive(Default)]
pub struct PlayVars {
    pub role_defaults: Arc<Map>,
    pub role_vars: Arc<Map>,
    pub play_vars: Arc<Map>,
    pub vars_files: Arc<Map>,
    /// `playbook_dir`, `ansible_play_name`, `ansible_play_hosts_all`, `ansible_play_batch`,
    /// `groups`...
    pub magic: Arc<Map>,
    /// The inventory's generation `magic["groups"]` was taken at.
    pub inventory_generation: u64,
}

/// One host's variables for one task: a stack of shared maps, cheap to build.
pub struct HostVars {
    pub scope: Scope,
    pub shared: Arc<Shared>,
    pub play: Arc<PlayVars>,
}

impl Vars for HostVars {
    fn get(&self, name: &str) -> Option<Value> {
        self.scope.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.scope.names()
    }

    fn host(&self, host: &str) -> Option<Arc<dyn Vars>> {
        self.shared.inventory.host(host)?;
        Some(Arc::new(host_scope(&self.shared, &self.play, host, None, &[])))
    }

    fn host_names(&self) -> Vec<String> {
        self.shared.inventory.host_names()
    }
}

/// Layers for `host`, with the task's own layers when a task is given; `extra` maps go on
/// top at the task-vars layer (loop variables, a registered result under evaluation).
pub fn host_scope(
    shared: &Arc<Shared>,
    play: &Arc<PlayVars>,
    host: &str,
    task: Option<&PlanTask>,
    extra: &[Arc<Map>],
) -> HostVars {
    let info = shared.inventory.host(host).unwrap_or_default();
    let state = shared.state.get(host);
    let mut s = Scope::new();
    s.push(Layer::RoleDefaults, play.role_defaults.clone());
    s.push(Layer::InventoryHost, info.vars.clone());
    s.push(Layer::Facts, state.fact_vars.clone());
    s.push(Layer::PlayVars, play.play_vars.clone());
    s.push(Layer::VarsFiles, play.vars_files.clone());
    s.push(Layer::RoleVars, play.role_vars.clone());
    s.push(Layer::IncludeVars, state.include_vars.clone());
    s.push(Layer::SetFact, state.set_facts.clone());
    s.push(Layer::ExtraVars, shared.extra_vars.clone());
    s.push(Layer::Magic, play.magic.clone());

    let mut magic = Map::new();
    magic.insert("inventory_hostname".into(), Value::str(host));
    let short = host.split('.').next().unwrap_or(host);
    magic.insert("inventory_hostname_short".into(), Value::str(short));
    magic.insert(
        "group_names".into(),
        Value::List(
            info.groups
                .iter()
                .filter(|g| g.as_str() != "all" && g.as_str() != "ungrouped")
                .map(|g| Value::str(g.clone()))
                .collect(),
        ),
    );
    // `groups` is in the play's magic layer; only an add_host/group_by since makes it stale.
    if shared.inventory.generation() != play.inventory_generation {
        magic.insert("groups".into(), (*shared.inventory.groups_var()).clone());
    }
    if state.facts.is_empty() {
        magic.insert("ansible_facts".into(), Value::Map(Map::new()));
    }

    if let Some(t) = task {
        if let Some(inst) = &t.role {
            s.push(Layer::RoleDefaults, Arc::new(inst.role.defaults.clone()));
            s.push(Layer::RoleVars, Arc::new(inst.role.vars.clone()));
            s.push(Layer::RoleParams, Arc::new(inst.via.params.clone()));
            magic.insert("role_name".into(), Value::str(inst.via.name.clone()));
            magic.insert(
                "role_path".into(),
                Value::str(inst.role.path.to_string_lossy().into_owned()),
            );
            magic.insert(
                "ansible_parent_role_names".into(),
                Value::List(inst.parents.iter().map(|p| Value::str(p.clone())).collect()),
            );
        }
        for b in &t.block_vars {
            s.push(Layer::BlockVars, b.clone());
        }
        if !t.task.vars.is_empty() {
            let own: Map = t.task.vars.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect();
            s.push(Layer::TaskVars, Arc::new(own));
        }
    }
    for e in extra {
        s.push(Layer::TaskVars, e.clone());
    }
    s.push(Layer::Magic, Arc::new(magic));
    HostVars {
        scope: s,
        shared: shared.clone(),
        play: play.clone(),
    }
}
