use super::*;
use crate::syntax::ErrorKind;
use std::path::Path;

/// Write `files` (relative path, content) under a fresh directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        let path = tmp.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, text).expect("write");
    }
    tmp
}

fn load_one(name: &str, text: &str) -> Inventory {
    let tmp = tree(&[(name, text)]);
    load(&[tmp.path().join(name)]).unwrap_or_else(|e| panic!("{name} loads: {e}"))
}

fn load_err(name: &str, text: &str) -> crate::syntax::Error {
    let tmp = tree(&[(name, text)]);
    match load(&[tmp.path().join(name)]) {
        Ok(_) => panic!("{name} should not load"),
        Err(e) => e,
    }
}

fn names<'a>(it: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    it.into_iter().map(String::as_str).collect()
}

/// Hosts, groups (direct hosts, children) and variables, as comparable text.
fn shape(inv: &Inventory) -> Vec<String> {
    let mut out = vec![format!("hosts {:?}", names(inv.hosts.keys()))];
    for g in inv.groups.values() {
        out.push(format!(
            "group {} hosts={:?} children={:?} prio={} vars={:?}",
            g.name, g.hosts, g.children, g.priority, g.vars
        ));
    }
    for h in inv.hosts.values() {
        out.push(format!("host {} vars={:?}", h.name, h.vars));
    }
    out
}

const SAMPLE_INI: &str = "\
# a comment
; another comment
bastion ansible_host=10.0.0.1

[web]
web[01:03] http_port=8080 tls=True
db1:2222

[db]
db1 role=primary replicas=\"[1, 2]\"

[app:children]
web
db

[app:vars]
env='prod'
retries=3
ansible_group_priority=5
";

const SAMPLE_YAML: &str = "\
all:
  hosts:
    bastion:
      ansible_host: 10.0.0.1
  children:
    web:
      hosts:
        web[01:03]:
          http_port: 8080
          tls: true
        db1:2222:
    db:
      hosts:
        db1:
          role: primary
          replicas: [1, 2]
    app:
      children:
        web:
        db:
      vars:
        env: prod
        retries: 3
        ansible_group_priority: 5
";

#[test]
fn yaml_and_ini_samples_load_the_same_inventory() {
    let ini = load_one("hosts", SAMPLE_INI);
    let yaml = load_one("hosts.yml", SAMPLE_YAML);
    assert_eq!(names(ini.hosts.keys()), ["bastion", "web01", "web02", "web03", "db1"]);
    assert_eq!(ini.hosts["db1"].vars["ansible_port"], Value::Int(2222));
    assert_eq!(ini.groups["app"].priority, 5);
    assert!(!ini.groups["app"].vars.contains_key("ansible_group_priority"));
    // Group order and `all`'s direct hosts differ by format (YAML lists bastion under all),
    // so compare everything else.
    let strip = |inv: &Inventory| -> Vec<String> {
        let mut s = shape(inv);
        s.retain(|l| !l.starts_with("group all ") && !l.starts_with("group ungrouped "));
        s.sort();
        s
    };
    assert_eq!(strip(&ini), strip(&yaml));
    assert_eq!(ini.groups["ungrouped"].hosts, ["bastion"]);
    assert_eq!(yaml.groups["ungrouped"].hosts, ["bastion"]);
    assert_eq!(yaml.groups["all"].hosts, ["bastion"]);
    assert!(ini.groups["all"].hosts.is_empty());
    assert_eq!(ini.groups["all"].children, ["ungrouped", "app"]);
    assert_eq!(yaml.groups["all"].children, ["ungrouped", "web", "db", "app"]);
}

#[test]
fn ini_values_are_python_literals_inline_and_in_vars_sections() {
    let inv = load_one(
        "hosts",
        "h1 a=5 b=True c=false d='5' e=\"x y\" f=[1,'a'] g=\"{'k':1}\" h=0755 i= j=1.5 k=None l=yes m=\"[1,'a']\"\n\
         [all:vars]\n\
         a = 5\n\
         b = True\n\
         c = '5'\n\
         d = \"quoted\"\n\
         e = two words\n\
         f = x=y\n",
    );
    let h = &inv.hosts["h1"].vars;
    let cases: &[(&str, Value)] = &[
        ("a", Value::Int(5)),
        ("b", Value::Bool(true)),
        ("c", Value::str("false")),
        // shlex removes the quotes first, so the literal is 5.
        ("d", Value::Int(5)),
        ("e", Value::str("x y")),
        // shlex drops the inner quotes too: `[1,a]` is not a literal.
        ("f", Value::str("[1,a]")),
        ("m", Value::List(vec![Value::Int(1), Value::str("a")])),
        ("g", Value::Map(Map::from_iter([("k".to_string(), Value::Int(1))]))),
        ("h", Value::str("0755")),
        ("i", Value::str("")),
        ("j", Value::Float(1.5)),
        ("k", Value::Null),
        ("l", Value::str("yes")),
    ];
    for (k, want) in cases {
        assert_eq!(&h[*k], want, "host var {k}");
    }
    let g = &inv.groups["all"].vars;
    let cases: &[(&str, Value)] = &[
        ("a", Value::Int(5)),
        ("b", Value::Bool(true)),
        // No shell quoting in :vars, so the quotes make it a Python string.
        ("c", Value::str("5")),
        ("d", Value::str("quoted")),
        ("e", Value::str("two words")),
        ("f", Value::str("x=y")),
    ];
    for (k, want) in cases {
        assert_eq!(&g[*k], want, "group var {k}");
    }
}

#[test]
fn ini_ungrouped_hosts_leave_ungrouped_when_grouped_later() {
    let inv = load_one("hosts", "h1\nh2\nh3\n[servers]\nh3\nh4\n");
    assert_eq!(inv.groups["ungrouped"].hosts, ["h1", "h2"]);
    assert_eq!(inv.groups["servers"].hosts, ["h3", "h4"]);
    assert_eq!(inv.hosts["h3"].groups, ["servers"]);
}

#[test]
fn ini_children_may_be_declared_later_in_the_file() {
    let inv = load_one("hosts", "[k8s:children]\nmasters\nnodes\n[masters]\nm1\n[nodes]\nn1\n");
    assert_eq!(inv.groups["k8s"].children, ["masters", "nodes"]);
    assert_eq!(inv.groups["masters"].parents, ["k8s"]);
    assert_eq!(inv.groups["all"].children, ["ungrouped", "k8s"]);
}

#[test]
fn a_port_counts_only_where_the_host_is_first_seen() {
    let inv = load_one("hosts", "[a]\nh1:2222\n[b]\nh1:3333\nh2:22 ansible_port=44\n");
    assert_eq!(inv.hosts["h1"].vars["ansible_port"], Value::Int(2222));
    assert_eq!(inv.hosts["h2"].vars["ansible_port"], Value::Int(44));
}

#[test]
fn yaml_strings_stand_for_one_entry_mappings_and_unknown_keys_warn() {
    let inv = load_one(
        "inv.yml",
        "web:\n  hosts: w1\n  host:\n    w2:\n  children: sub\nsub:\n  hosts:\n    s1:\n",
    );
    assert_eq!(inv.groups["web"].hosts, ["w1"]);
    assert_eq!(inv.groups["web"].children, ["sub"]);
    assert!(!inv.hosts.contains_key("w2"));
    let w = inv
        .warnings
        .iter()
        .find(|w| w.message.contains("unexpected key (host)"))
        .expect("warned");
    assert!(w.message.contains("did you mean 'hosts'"), "{w}");
    assert_eq!(w.span.as_ref().map(|s| (s.line, s.col)), Some((3, 3)));
}

#[test]
fn groups_shared_by_several_parents_and_vars_merge() {
    let inv = load_one(
        "inv.yaml",
        "all:\n  vars: {a: 1}\n  children:\n    p1:\n      children:\n        shared:\n          hosts: {h1: {x: 1}}\n    p2:\n      children:\n        shared:\n          hosts: {h1: {y: 2}, h2: }\n          vars: {v: 2}\n",
    );
    assert_eq!(inv.groups["shared"].parents, ["p1", "p2"]);
    assert_eq!(inv.groups["shared"].hosts, ["h1", "h2"]);
    let h1 = &inv.hosts["h1"].vars;
    assert_eq!((h1["x"].clone(), h1["y"].clone()), (Value::Int(1), Value::Int(2)));
    assert_eq!(inv.groups["all"].vars["a"], Value::Int(1));
}

#[test]
fn hosts_and_groups_with_one_name_warn() {
    let inv = load_one("hosts", "[web]\nweb\n");
    assert!(
        inv.warnings
            .iter()
            .any(|w| { w.message.contains("both group and host with same name: web") })
    );
}

#[test]
fn implicit_localhost_only_without_a_real_one() {
    let inv = load_one("hosts", "[web]\nw1\n");
    assert!(inv.hosts.get("localhost").is_none());
    let lh = inv.implicit_localhost("localhost").expect("implicit");
    assert!(lh.implicit);
    assert_eq!(lh.vars["ansible_connection"], Value::str("local"));
    assert!(inv.implicit_localhost("web1").is_none());
    let inv = load_one("hosts", "[local]\n127.0.0.1 ansible_connection=local\n");
    assert_eq!(inv.localhost.as_deref(), Some("127.0.0.1"));
    assert!(inv.implicit_localhost("localhost").is_none());
    assert_eq!(
        inv.localhost_for("localhost").map(|h| h.name.as_str()),
        Some("127.0.0.1")
    );
}

#[test]
fn errors_point_at_file_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        ("hosts", "[web]\nw[1:]\n", "hosts:2:1"),
        ("hosts", "[web]\nw1 novalue\n", "hosts:2:1"),
        ("hosts", "[web]\n  w1 x='open\n", "hosts:2:3"),
        ("hosts", "[web:kids]\n", "hosts:1:1"),
        ("hosts", "[web group]\n", "hosts:1:1"),
        ("hosts", "[p:children]\nmissing\n", "hosts:2:1"),
        ("hosts", "[ghost:vars]\nx=1\n", "hosts:1:1"),
        ("hosts", "[a:children]\nb\n[b:children]\na\n", "hosts:4:1"),
        ("hosts", "[web]\nw1:\n", "hosts:2:1"),
        ("inv.yml", "web:\n  hosts:\n    - w1\n", "inv.yml:3:5"),
        ("inv.yml", "web:\n  hosts:\n    w1: [1]\n", "inv.yml:3:9"),
        ("inv.yml", "web:\n  hosts:\n    10:\n", "inv.yml:3:5"),
        ("inv.yml", "web:\n  hosts:\n    n[3:a]:\n", "inv.yml:3:5"),
        (
            "inv.yml",
            "web:\n  vars:\n    ansible_group_priority: high\n",
            "inv.yml:3:5",
        ),
        ("inv.yml", "a:\n  children:\n    a:\n", "inv.yml:3:5"),
        ("inv.yml", "plugin: aws_ec2\n", "inv.yml:1:1"),
        ("inv.yml", "web: [1\n", "inv.yml:"),
    ];
    for (name, text, at) in cases {
        let e = load_err(name, text);
        let shown = e.to_string();
        let pos = shown
            .find(at)
            .unwrap_or_else(|| panic!("{name} {text:?}: error should mention {at}: {shown}"));
        assert!(pos < 200 || shown[..pos].ends_with('/'), "{shown}");
    }
}

#[test]
fn a_missing_source_and_a_script_are_errors() {
    let e = load(&[Path::new("/nonexistent/inventory").to_path_buf()]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Io { .. }));
    let e = load_err("inv.sh", "#!/bin/sh\necho {}\n");
    assert!(e.to_string().contains("script"), "{e}");
}

#[test]
fn host_lists_are_sources_too() {
    let inv = load(&[Path::new("web1,web2:2222, 10.0.0.5").to_path_buf()]).unwrap();
    assert_eq!(names(inv.hosts.keys()), ["web1", "web2", "10.0.0.5"]);
    assert_eq!(inv.hosts["web2"].vars["ansible_port"], Value::Int(2222));
    assert_eq!(inv.groups["ungrouped"].hosts.len(), 3);
    assert!(inv.source_dirs.is_empty());
}

#[test]
fn a_directory_source_reads_its_files_sorted_and_its_vars_dirs() {
    let tmp = tree(&[
        ("inv/01-hosts.ini", "[web]\nw1\n"),
        ("inv/02-more.yml", "db:\n  hosts:\n    d1:\n"),
        ("inv/notes.txt", "not an inventory {{\n"),
        ("inv/old.retry", "junk\n"),
        ("inv/.hidden", "junk [\n"),
        ("inv/ansible.cfg", "[defaults]\nx=1 2\n"),
        ("inv/sub/03-extra", "[extra]\ne1\n"),
        ("inv/group_vars/web.yml", "http_port: 80\n"),
        ("inv/group_vars/all/a.yml", "a: 1\n"),
        ("inv/group_vars/all/b.yml", "b: 2\n"),
        ("inv/host_vars/w1.yml", "h: 1\n"),
        ("inv/host_vars/localhost.yml", "lh: 1\n"),
    ]);
    let inv = load(&[tmp.path().join("inv")]).unwrap();
    assert_eq!(names(inv.hosts.keys()), ["w1", "d1", "e1"]);
    assert_eq!(inv.source_dirs, [tmp.path().join("inv")]);
    let all: Vec<_> = inv.groups["all"]
        .file_vars
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(all, ["a.yml", "b.yml"]);
    assert_eq!(inv.groups["web"].file_vars[0].vars["http_port"], Value::Int(80));
    assert_eq!(inv.hosts["w1"].file_vars[0].vars["h"], Value::Int(1));
    assert_eq!(
        inv.hosts["w1"].source.as_deref(),
        Some(tmp.path().join("inv/01-hosts.ini").as_path())
    );
    assert_eq!(
        inv.implicit_localhost("localhost").unwrap().file_vars[0].vars["lh"],
        Value::Int(1)
    );
}

#[test]
fn several_sources_merge_in_order() {
    let tmp = tree(&[
        ("a/hosts", "[web]\nw1 x=1\n"),
        ("b/hosts.yml", "web:\n  hosts:\n    w1: {x: 2}\n    w2:\n"),
        ("b/group_vars/web", "from_b: true\n"),
    ]);
    let inv = load(&[tmp.path().join("a/hosts"), tmp.path().join("b/hosts.yml")]).unwrap();
    assert_eq!(inv.groups["web"].hosts, ["w1", "w2"]);
    assert_eq!(inv.hosts["w1"].vars["x"], Value::Int(2));
    assert_eq!(inv.source_dirs, [tmp.path().join("a"), tmp.path().join("b")]);
    assert_eq!(inv.groups["web"].file_vars[0].source, 1);
}

#[test]
fn a_plain_host_list_file_without_extension_is_ini() {
    let inv = load_one("hosts", "h1\nh2\n");
    assert_eq!(names(inv.hosts.keys()), ["h1", "h2"]);
    let inv = load_one("empty.yml", "# nothing yet\n");
    assert!(inv.hosts.is_empty());
}
