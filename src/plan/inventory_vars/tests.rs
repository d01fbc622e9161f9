use super::*;
use crate::syntax::inventory;
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory/layering")
}

/// The layers for host h1 of the fixture, lowest first. In the fixture, the layer at position
/// N (1-based) sets `upto_NN` and every later `upto_*` key, so each `upto_NN` must come out
/// as layer N: every layer beats every layer before it.
const LAYERS: [&str; 15] = [
    "all_inventory",
    // Inventory groups: parent (depth 1, priority 1), zeta (depth 1, priority 10), child (depth 2).
    "parent_inventory",
    "zeta_inventory",
    "child_inventory",
    "all_files_inventory",
    "all_files_play",
    "parent_files_inventory",
    "zeta_files_inventory",
    "child_files_inventory",
    "parent_files_play",
    "zeta_files_play",
    "child_files_play",
    "host_inventory",
    "host_files_inventory",
    "host_files_play",
];

fn load_fixture() -> (Inventory, PlaybookVars) {
    let dir = fixture_dir();
    let inv = inventory::load(&[dir.join("inventory/hosts.yml")]).expect("fixture loads");
    let play_dir = dir.join("playbook");
    let play = PlaybookVars::load(&[play_dir.as_path()], &inv, None).expect("playbook vars load");
    (inv, play)
}

#[test]
fn every_layer_beats_the_ones_before_it() {
    let (inv, play) = load_fixture();
    let index = InventoryIndex::new(&inv);
    let vars = host_vars(&index, &play, "h1").expect("h1 exists");
    for (i, layer) in LAYERS.iter().enumerate() {
        let key = format!("upto_{:02}", i + 1);
        assert_eq!(
            vars.get(&key),
            Some(&Value::str(*layer)),
            "{key} should come from layer {layer}"
        );
    }
}

#[test]
fn group_order_is_depth_then_priority_then_name() {
    let (inv, play) = load_fixture();
    let index = InventoryIndex::new(&inv);
    let order: Vec<&str> = index
        .sorted_groups("h2")
        .iter()
        .map(|&g| inv.groups[g].name.as_str())
        .collect();
    assert_eq!(order, ["alpha", "parent", "zeta", "child"]);
    assert_eq!(index.depth("all"), Some(0));
    assert_eq!(index.depth("child"), Some(2));
    let vars = host_vars(&index, &play, "h2").unwrap();
    assert_eq!(vars["prio"], Value::str("zeta"));
    assert_eq!(vars["only_alpha"], Value::str("alpha"));
    assert!(!vars.contains_key("ansible_group_priority"));
}

#[test]
fn magic_and_file_vars_of_a_host() {
    let (inv, play) = load_fixture();
    let index = InventoryIndex::new(&inv);
    let vars = host_vars(&index, &play, "h1").unwrap();
    let groups: Vec<Value> = ["child", "parent", "zeta"].into_iter().map(Value::str).collect();
    assert_eq!(vars["group_names"], Value::List(groups));
    assert_eq!(vars["inventory_hostname"], Value::str("h1"));
    assert_eq!(vars["inventory_hostname_short"], Value::str("h1"));
    // Written in the inventory, so it replaces the automatic value.
    assert_eq!(vars["inventory_dir"], Value::str("set-inline"));
    let file = fixture_dir().join("inventory/hosts.yml");
    assert_eq!(vars["inventory_file"], Value::str(file.to_string_lossy()));
    // Files of a host_vars directory apply in sorted order.
    assert_eq!(vars["split"], Value::str("second"));
    let h2 = host_vars(&index, &play, "h2").unwrap();
    assert_eq!(
        h2["inventory_dir"],
        Value::str(fixture_dir().join("inventory").to_string_lossy())
    );
}

#[test]
fn short_names_keep_addresses_whole() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hosts"), "n1.example.com\n10.1.2.3\nfe80::1\n").unwrap();
    let inv = inventory::load(&[tmp.path().join("hosts")]).unwrap();
    let index = InventoryIndex::new(&inv);
    let play = PlaybookVars::default();
    for (host, short) in [
        ("n1.example.com", "n1"),
        ("10.1.2.3", "10.1.2.3"),
        ("fe80::1", "fe80::1"),
    ] {
        assert_eq!(
            host_vars(&index, &play, host).unwrap()["inventory_hostname_short"],
            Value::str(short),
            "{host}"
        );
        assert_eq!(
            host_vars(&index, &play, host).unwrap()["group_names"],
            Value::List(vec![Value::str("ungrouped")]),
            "{host}"
        );
    }
}

#[test]
fn group_vars_of_several_sources_apply_source_by_source() {
    let tmp = tempfile::tempdir().unwrap();
    let files: &[(&str, &str)] = &[
        ("a/hosts", "[g1]\nh\n[g1:children]\ng2\n[g2]\nh\n"),
        ("b/hosts", "[g2]\nh\n"),
        ("a/group_vars/g2.yml", "k: A-g2\n"),
        ("b/group_vars/g1.yml", "k: B-g1\n"),
    ];
    for (rel, text) in files {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let inv = inventory::load(&[tmp.path().join("a/hosts"), tmp.path().join("b/hosts")]).unwrap();
    let index = InventoryIndex::new(&inv);
    // Ansible walks sources, then groups: (a,g1) (a,g2) (b,g1) (b,g2), so b's g1 wins.
    assert_eq!(
        host_vars(&index, &PlaybookVars::default(), "h").unwrap()["k"],
        Value::str("B-g1")
    );
}

#[test]
fn implicit_localhost_gets_all_vars_and_its_host_vars() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("host_vars")).unwrap();
    std::fs::write(tmp.path().join("hosts"), "[web]\nw1\n[all:vars]\nx=1\n").unwrap();
    std::fs::write(tmp.path().join("host_vars/localhost.yml"), "y: 2\n").unwrap();
    let inv = inventory::load(&[tmp.path().join("hosts")]).unwrap();
    let index = InventoryIndex::new(&inv);
    let vars = host_vars(&index, &PlaybookVars::default(), "localhost").unwrap();
    assert_eq!(vars["x"], Value::Int(1));
    assert_eq!(vars["y"], Value::Int(2));
    assert_eq!(vars["ansible_connection"], Value::str("local"));
    assert_eq!(vars["group_names"], Value::List(vec![]));
    assert!(host_vars(&index, &PlaybookVars::default(), "nosuch").is_none());
}

#[test]
fn groups_var_lists_every_group() {
    let (inv, _) = load_fixture();
    let index = InventoryIndex::new(&inv);
    let groups = index.groups_var();
    let m = groups.as_map().unwrap();
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(keys, ["all", "ungrouped", "parent", "child", "zeta", "alpha"]);
    assert_eq!(m["all"], Value::List(vec![Value::str("h1"), Value::str("h2")]));
    assert_eq!(m["ungrouped"], Value::List(vec![]));
    assert_eq!(m["parent"], Value::List(vec![Value::str("h1"), Value::str("h2")]));
}
