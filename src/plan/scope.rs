//! Variable precedence: the layers a host's variables come from, and the lookup that lets the
//! higher layer win. The order is Ansible's (lowest first); `-e` always wins, and the magic
//! variables the engine sets (`inventory_hostname`, `groups`, ...) cannot be overridden.

use crate::value::{Map, Value};
use std::sync::Arc;

/// Where a variable was set, lowest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    RoleDefaults,
    /// Inventory group vars, already layered by the inventory (all < parents < children,
    /// inventory file < inventory group_vars/ < playbook group_vars/).
    InventoryGroup,
    /// Inventory host vars (inventory file < host_vars/ beside it < host_vars/ beside the playbook).
    InventoryHost,
    Facts,
    PlayVars,
    VarsFiles,
    RoleVars,
    BlockVars,
    TaskVars,
    IncludeVars,
    /// `set_fact` and registered results.
    SetFact,
    RoleParams,
    IncludeParams,
    ExtraVars,
    /// Set by the engine itself.
    Magic,
}

/// A stack of variable maps; the highest layer holding a name wins. Maps are shared, so a
/// scope per host per task costs a few pointers.
#[derive(Clone, Default, Debug)]
pub struct Scope {
    layers: Vec<(Layer, Arc<Map>)>,
}

impl Scope {
    pub fn new() -> Scope {
        Scope::default()
    }

    /// Add a map at `layer`. Within one layer, later pushes win (a child block over its parent).
    pub fn push(&mut self, layer: Layer, vars: Arc<Map>) {
        if vars.is_empty() {
            return;
        }
        let at = self.layers.partition_point(|(l, _)| *l <= layer);
        self.layers.insert(at, (layer, vars));
    }

    pub fn with(mut self, layer: Layer, vars: Arc<Map>) -> Scope {
        self.push(layer, vars);
        self
    }

    /// The winning raw value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.layers.iter().rev().find_map(|(_, m)| m.get(name))
    }

    /// The layer `name` comes from, for `-vvv` explanations and tests.
    pub fn origin(&self, name: &str) -> Option<Layer> {
        self.layers
            .iter()
            .rev()
            .find(|(_, m)| m.contains_key(name))
            .map(|(l, _)| *l)
    }

    /// Every visible name, each once.
    pub fn names(&self) -> Vec<String> {
        let mut seen = indexmap::IndexSet::new();
        for (_, m) in &self.layers {
            for k in m.keys() {
                seen.insert(k.clone());
            }
        }
        seen.into_iter().collect()
    }

    /// All variables flattened into one map, the winners only.
    pub fn flatten(&self) -> Map {
        let mut out = Map::new();
        for (_, m) in &self.layers {
            for (k, v) in m.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Arc<Map> {
        Arc::new(pairs.iter().map(|(k, v)| (k.to_string(), Value::str(*v))).collect())
    }

    #[test]
    fn each_layer_beats_every_layer_below_it() {
        let order = [
            Layer::RoleDefaults,
            Layer::InventoryGroup,
            Layer::InventoryHost,
            Layer::Facts,
            Layer::PlayVars,
            Layer::VarsFiles,
            Layer::RoleVars,
            Layer::BlockVars,
            Layer::TaskVars,
            Layer::IncludeVars,
            Layer::SetFact,
            Layer::RoleParams,
            Layer::IncludeParams,
            Layer::ExtraVars,
            Layer::Magic,
        ];
        for (i, winner) in order.iter().enumerate() {
            // Push in reverse so the result cannot depend on insertion order.
            let mut scope = Scope::new();
            for layer in order[..=i].iter().rev() {
                scope.push(*layer, map(&[("x", &format!("{layer:?}"))]));
            }
            assert_eq!(
                scope.get("x"),
                Some(&Value::str(format!("{winner:?}"))),
                "{winner:?} should win"
            );
            assert_eq!(scope.origin("x"), Some(*winner));
        }
    }

    #[test]
    fn within_a_layer_the_later_push_wins() {
        let scope = Scope::new()
            .with(Layer::BlockVars, map(&[("x", "outer"), ("y", "outer")]))
            .with(Layer::BlockVars, map(&[("x", "inner")]));
        assert_eq!(scope.get("x"), Some(&Value::str("inner")));
        assert_eq!(scope.get("y"), Some(&Value::str("outer")));
    }

    #[test]
    fn extra_vars_beat_set_fact_and_role_params() {
        let scope = Scope::new()
            .with(Layer::ExtraVars, map(&[("kube_version", "v1.30.0")]))
            .with(Layer::SetFact, map(&[("kube_version", "v1.29.0")]))
            .with(Layer::RoleParams, map(&[("kube_version", "v1.28.0")]));
        assert_eq!(scope.get("kube_version"), Some(&Value::str("v1.30.0")));
    }

    #[test]
    fn names_and_flatten_list_each_name_once_with_its_winner() {
        let scope = Scope::new()
            .with(Layer::PlayVars, map(&[("a", "play"), ("b", "play")]))
            .with(Layer::TaskVars, map(&[("a", "task")]));
        let mut names = scope.names();
        names.sort();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(scope.flatten()["a"], Value::str("task"));
    }
}
