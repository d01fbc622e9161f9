//! Role expansion: the roles a play runs, dependencies first, each identical role once per
//! play (unless it allows duplicates), as Ansible orders and deduplicates them. Cycles among
//! roles (through `dependencies:` or `import_role`) are refused before anything runs.

use super::error::{Error, ErrorKind, Result};
use crate::syntax::Span;
use crate::syntax::playbook::{ImportTarget, Play, RoleStore, TaskItem};
use crate::syntax::role::{Role, RoleKey, RoleRef};
use crate::value::{Map, Value};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;
use std::sync::Arc;

/// One role to run, in order.
#[derive(Clone, Debug)]
pub struct RoleInstance {
    pub role: Arc<Role>,
    /// The entry that brought it in: its parameters, `when`, `tags`, `vars` and keywords.
    pub via: RoleRef,
    /// Names of the roles that pulled this one in as a dependency, outermost first.
    pub parents: Vec<String>,
    /// The entries that pulled this one in, outermost first: their `tags` and `when` apply
    /// to this role too.
    pub parent_refs: Vec<RoleRef>,
    /// An identical use already ran in this play: listed, but skipped when running.
    pub duplicate: bool,
}

/// What makes two uses of a role the same use (Ansible compares the same things).
#[derive(Debug, PartialEq)]
struct Identity {
    key: RoleKey,
    params: Map,
    when: Vec<Value>,
    tags: Option<Value>,
    vars: Vec<(String, Value)>,
}

impl Identity {
    fn of(r: &RoleRef) -> Identity {
        Identity {
            key: r.key.clone(),
            params: r.params.clone(),
            when: r.when.iter().map(|w| w.value.clone()).collect(),
            tags: r.keywords.get("tags").map(|t| t.value.clone()),
            vars: r.vars.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
        }
    }
}

/// Expands role references for one play, remembering which role uses already ran in it.
pub struct RoleExpander<'a> {
    store: &'a RoleStore,
    seen: Vec<Identity>,
}

impl<'a> RoleExpander<'a> {
    /// Checks the store for role cycles first, so expansion always ends.
    pub fn new(store: &'a RoleStore) -> Result<RoleExpander<'a>> {
        check_cycles(store)?;
        Ok(RoleExpander {
            store,
            seen: Vec::new(),
        })
    }

    /// The play's `roles:` in run order.
    pub fn play_roles(&mut self, play: &Play) -> Result<Vec<RoleInstance>> {
        let mut out = Vec::new();
        for r in &play.roles {
            self.expand_into(r, None, &[], &[], &mut out)?;
        }
        Ok(out)
    }

    /// The roles an `import_role` brings in (`allow_duplicates` is the import's own option,
    /// true unless set, as in Ansible; its dependencies follow their own metadata).
    pub fn import_role(&mut self, r: &RoleRef, allow_duplicates: bool) -> Result<Vec<RoleInstance>> {
        let mut out = Vec::new();
        self.expand_into(r, Some(allow_duplicates), &[], &[], &mut out)?;
        Ok(out)
    }

    fn expand_into(
        &mut self,
        r: &RoleRef,
        allow_override: Option<bool>,
        parents: &[String],
        parent_refs: &[RoleRef],
        out: &mut Vec<RoleInstance>,
    ) -> Result<()> {
        let role = self
            .store
            .get(&r.key)
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::RoleNotLoaded { name: r.name.clone() }, Some(r.span.clone())))?;
        let mut chain = parents.to_vec();
        chain.push(role.name.clone());
        let mut refs = parent_refs.to_vec();
        refs.push(r.clone());
        // Dependencies dedupe on their own, even when this role itself is skipped.
        for dep in &role.dependencies {
            self.expand_into(dep, None, &chain, &refs, out)?;
        }
        let id = Identity::of(r);
        let already = self.seen.contains(&id);
        let duplicate = already && !allow_override.unwrap_or(role.allow_duplicates);
        if !already {
            self.seen.push(id);
        }
        out.push(RoleInstance {
            role,
            via: r.clone(),
            parents: parents.to_vec(),
            parent_refs: parent_refs.to_vec(),
            duplicate,
        });
        Ok(())
    }
}

/// The roles a task list imports with `import_role`, in written order (through blocks and
/// imported task files).
fn imported_roles<'t>(items: &'t [TaskItem], out: &mut Vec<&'t RoleRef>) {
    for item in items {
        match item {
            TaskItem::Task(_) => {}
            TaskItem::Block(b) => {
                imported_roles(&b.block, out);
                imported_roles(&b.rescue, out);
                imported_roles(&b.always, out);
            }
            TaskItem::Import(i) => match &i.target {
                ImportTarget::Role { role, .. } => out.push(role),
                ImportTarget::Tasks { children: Some(c), .. } => imported_roles(c, out),
                ImportTarget::Tasks { children: None, .. } => {}
            },
        }
    }
}

/// Refuse roles that reach themselves through dependencies or imports; the error names the
/// chain and points at the reference that closes it.
pub fn check_cycles(store: &RoleStore) -> Result<()> {
    let mut graph: DiGraph<&RoleKey, &RoleRef> = DiGraph::new();
    let mut index: HashMap<&RoleKey, NodeIndex> = HashMap::new();
    for key in store.roles.keys() {
        index.insert(key, graph.add_node(key));
    }
    for (key, role) in &store.roles {
        let mut refs: Vec<&RoleRef> = role.dependencies.iter().collect();
        imported_roles(&role.tasks, &mut refs);
        imported_roles(&role.handlers, &mut refs);
        for r in refs {
            if let (Some(&a), Some(&b)) = (index.get(key), index.get(&r.key)) {
                graph.add_edge(a, b, r);
            }
        }
    }
    for scc in petgraph::algo::tarjan_scc(&graph) {
        let cyclic = scc.len() > 1 || scc.first().is_some_and(|&n| graph.contains_edge(n, n));
        if !cyclic {
            continue;
        }
        // Start from the role the user reached first, so the chain reads as written.
        let reached = |n: &&NodeIndex| {
            let key = graph.node_weight(**n).copied();
            store
                .first_reached
                .iter()
                .position(|k| Some(k) == key)
                .unwrap_or(usize::MAX)
        };
        let Some(&start) = scc.iter().min_by_key(reached) else {
            continue;
        };
        if let Some((path, closing)) = find_cycle(&graph, start, &scc) {
            let name = |n: NodeIndex| {
                graph
                    .node_weight(n)
                    .and_then(|k| store.get(k))
                    .map(|r| r.name.clone())
                    .unwrap_or_default()
            };
            let mut chain: Vec<String> = path.iter().map(|&n| name(n)).collect();
            chain.push(name(start));
            return Err(Error::new(ErrorKind::RoleCycle { chain }, Some(closing)).with_help(
                "a role cannot depend on itself, directly or through other roles; remove one of these dependencies",
            ));
        }
    }
    Ok(())
}

/// A path from `start` back to `start` inside one component, and the span of the last edge.
fn find_cycle(
    graph: &DiGraph<&RoleKey, &RoleRef>,
    start: NodeIndex,
    scc: &[NodeIndex],
) -> Option<(Vec<NodeIndex>, Span)> {
    let mut path = vec![start];
    let mut visited = vec![start];
    // Each frame: the node and the edges still to try, in written order.
    let mut stack: Vec<Vec<(NodeIndex, Span)>> = vec![edges_of(graph, start)];
    while let Some(frame) = stack.last_mut() {
        let Some((next, span)) = frame.pop() else {
            stack.pop();
            path.pop();
            continue;
        };
        if next == start {
            return Some((path, span));
        }
        if visited.contains(&next) || !scc.contains(&next) {
            continue;
        }
        visited.push(next);
        path.push(next);
        stack.push(edges_of(graph, next));
    }
    None
}

fn edges_of(graph: &DiGraph<&RoleKey, &RoleRef>, n: NodeIndex) -> Vec<(NodeIndex, Span)> {
    // petgraph lists outgoing edges newest first; reversed twice (collect, then pop) gives written order.
    graph
        .edges(n)
        .map(|e| (petgraph::visit::EdgeRef::target(&e), e.weight().span.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::playbook::{Playbook, load_playbook};
    use crate::syntax::role::RoleSearch;
    use std::path::Path;

    fn fixture(name: &str) -> Playbook {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/playbooks")
            .join(name)
            .join("site.yml");
        load_playbook(&p, &RoleSearch::default()).expect("fixture loads")
    }

    fn names(list: &[RoleInstance]) -> Vec<String> {
        // Uses skipped as duplicates at run time are listed but do not count here.
        list.iter()
            .filter(|i| !i.duplicate)
            .map(|i| format!("{}<{}>", i.role.name, i.parents.join("/")))
            .collect()
    }

    #[test]
    fn dependencies_first_and_identical_uses_run_once() {
        let pb = fixture("full");
        let mut ex = RoleExpander::new(&pb.roles).expect("no cycles");
        let got = names(&ex.play_roles(&pb.plays[1]).expect("expands"));
        // app twice with the same (empty) params runs once; app with other vars runs again;
        // common with a parameter is a new use; common as a dependency of db was already run.
        assert_eq!(got, ["common<app>", "db<app>", "app<>", "app<>", "common<>"]);
    }

    #[test]
    fn import_role_runs_again_unless_told_not_to() {
        let pb = fixture("full");
        let mut ex = RoleExpander::new(&pb.roles).expect("no cycles");
        let first = ex.play_roles(&pb.plays[1]).expect("expands");
        let app = first
            .iter()
            .find(|i| i.role.name == "app")
            .map(|i| i.via.clone())
            .expect("app");
        assert_eq!(names(&ex.import_role(&app, true).expect("expands")), ["app<>"]);
        let again = ex.import_role(&app, false).expect("expands");
        assert!(again.iter().all(|i| i.duplicate), "{:?}", names(&again));
    }

    #[test]
    fn allow_duplicates_in_meta_lets_a_role_run_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let w = |p: &str, t: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, t).expect("write");
        };
        w("site.yml", "- hosts: all\n  roles: [a, a, b, b]\n");
        w("roles/a/meta/main.yml", "allow_duplicates: true\n");
        w("roles/b/tasks/main.yml", "[]\n");
        let pb = load_playbook(&dir.path().join("site.yml"), &RoleSearch::default()).expect("loads");
        let mut ex = RoleExpander::new(&pb.roles).expect("no cycles");
        assert_eq!(
            names(&ex.play_roles(&pb.plays[0]).expect("expands")),
            ["a<>", "a<>", "b<>"]
        );
    }

    #[test]
    fn dependency_cycle_is_named_and_located() {
        let pb = fixture("cycle");
        let err = match RoleExpander::new(&pb.roles) {
            Ok(_) => panic!("cycle not found"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.contains("role dependencies form a cycle: a -> b -> c -> a"),
            "{text}"
        );
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains("roles/c/meta/main.yml:3:5:"),
            "the dependency that closes the cycle: {first}"
        );
    }

    #[test]
    fn cycle_through_import_role_is_found() {
        let pb = fixture("import_cycle");
        let err = match RoleExpander::new(&pb.roles) {
            Ok(_) => panic!("cycle not found"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.contains("cycle: x -> y -> x") || text.contains("cycle: y -> x -> y"),
            "{text}"
        );
    }

    #[test]
    fn self_dependency_is_a_cycle() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("roles/s/meta")).expect("mkdir");
        std::fs::write(dir.path().join("site.yml"), "- hosts: all\n  roles: [s]\n").expect("write");
        std::fs::write(dir.path().join("roles/s/meta/main.yml"), "dependencies: [s]\n").expect("write");
        let pb = load_playbook(&dir.path().join("site.yml"), &RoleSearch::default()).expect("loads");
        let err = RoleExpander::new(&pb.roles)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("cycle: s -> s"), "{err}");
    }
}
