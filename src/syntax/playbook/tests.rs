use super::*;
use crate::syntax::role::RoleSearch;
use crate::value::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/playbooks")
        .join(name)
}

/// Write `files` into a temporary project and load `site.yml` from it.
fn load_files(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::syntax::Result<Playbook>) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, text).expect("write");
    }
    let pb = load_playbook(&dir.path().join("site.yml"), &RoleSearch::default());
    (dir, pb)
}

/// (what, files, expected `file:line:col`, texts the message must contain)
type ErrorCase<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);
/// (what, files, number of plays)
type OkCase<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);

fn task(item: &TaskItem) -> &Task {
    match item {
        TaskItem::Task(t) => t,
        other => panic!("not a task: {other:?}"),
    }
}

fn s(v: &str) -> Value {
    Value::str(v)
}

#[test]
fn full_fixture_loads_with_imports_flattened() {
    let pb = load_playbook(&fixture("full/site.yml"), &RoleSearch::default()).expect("loads");
    assert_eq!(pb.plays.len(), 2);

    let base = &pb.plays[0];
    assert_eq!(
        base.vars["from_import"].value,
        Value::Int(1),
        "import vars override play vars"
    );
    assert_eq!(base.vars["own"].value, Value::Int(1));
    assert_eq!(base.import_tags.len(), 1);
    assert_eq!(base.import_when[0].value, s("run_base | default(true)"));
    assert_eq!(
        base.keywords.get("gather_facts").map(|k| &k.value),
        Some(&Value::Bool(false))
    );
    assert_eq!(task(&base.tasks[0]).action.module.name, "ping");

    let web = &pb.plays[1];
    assert_eq!(web.hosts.value, Value::List(vec![s("web"), s("db")]));
    assert_eq!(web.keywords.get("become").map(|k| &k.value), Some(&Value::Bool(true)));
    assert_eq!(
        web.keywords.get("serial").map(|k| (k.span.line, k.span.col)),
        Some((10, 11))
    );
    assert_eq!(web.roles.len(), 4);
    assert_eq!(web.roles[3].name, "common");
    assert_eq!(web.roles[3].params.get("flavour"), Some(&s("x")));
    assert_eq!(web.roles[2].vars["port"].value, Value::Int(81));

    let pre = task(&web.pre_tasks[0]);
    assert_eq!(
        (pre.action.written.as_str(), pre.action.module.name),
        ("ansible.builtin.debug", "debug")
    );
    assert_eq!(pre.action.args.get("msg"), Some(&s("{{ greeting }} there")));
    assert_eq!(
        pre.action.args.get("verbosity"),
        Some(&s("1")),
        "k=v values are strings"
    );

    let copy = task(&web.tasks[0]);
    assert_eq!(
        copy.action.args.get("mode"),
        Some(&Value::Int(0o644)),
        "inline args win over args:, typed"
    );
    assert_eq!(copy.action.args.get("owner"), Some(&s("root")));
    assert_eq!(copy.notify[0].value, s("restart app"));

    let cmd = task(&web.tasks[1]);
    assert_eq!(cmd.action.args.get("_raw_params"), Some(&s("echo a=b")));
    assert_eq!(cmd.action.args.get("chdir"), Some(&s("/tmp")));
    assert_eq!(cmd.action.args.get("creates"), Some(&s("/x")));

    let TaskItem::Block(block) = &web.tasks[2] else {
        panic!("block expected")
    };
    assert_eq!(block.when[0].value, s("x"));
    let TaskItem::Import(imp) = &block.block[0] else {
        panic!("import expected")
    };
    assert_eq!(imp.when[0].value, s("extra"));
    let ImportTarget::Tasks {
        children: Some(children),
        path: Some(path),
        ..
    } = &imp.target
    else {
        panic!("resolved import expected")
    };
    assert!(path.ends_with("tasks/extra.yml"));
    assert_eq!(children.len(), 2);
    let TaskItem::Import(nested) = &children[1] else {
        panic!("nested import")
    };
    let ImportTarget::Tasks { children: Some(nc), .. } = &nested.target else {
        panic!("nested resolved")
    };
    assert_eq!(
        task(&nc[0]).action.args.get("msg"),
        Some(&s("nested")),
        "nested import resolves beside its importer"
    );
    let rescue = task(&block.rescue[0]);
    assert!(rescue.action.local);
    assert_eq!(
        rescue.keywords.get("delegate_to").map(|k| &k.value),
        Some(&s("localhost"))
    );
    assert_eq!(rescue.action.args.get("_raw_params"), Some(&s("echo rescued")));
    let always = task(&block.always[0]);
    assert_eq!(
        (always.action.module.name, always.action.args.get("msg")),
        ("debug", Some(&s("done")))
    );

    let TaskItem::Import(role_import) = &web.tasks[3] else {
        panic!("import_role expected")
    };
    let ImportTarget::Role { role, allow_duplicates } = &role_import.target else {
        panic!("role import")
    };
    assert!(*allow_duplicates);
    assert_eq!(role.key.from.tasks.as_deref(), Some("other"));
    let other = pb.roles.get(&role.key).expect("tasks_from variant loaded");
    assert_eq!(task(&other.tasks[0]).action.args.get("msg"), Some(&s("other")));

    let inc = task(&web.tasks[4]);
    assert_eq!(inc.action.module.name, "include_tasks");
    assert_eq!(inc.action.args.get("_raw_params"), Some(&s("{{ dyn }}.yml")));

    let sysctl = task(&web.tasks[5]);
    assert_eq!(sysctl.action.module.name, "ansible.posix.sysctl");
    assert!(matches!(
        sysctl.looping,
        Some(Loop {
            kind: LoopKind::Loop,
            ..
        })
    ));
    assert_eq!(sysctl.loop_control.get("loop_var").map(|k| &k.value), Some(&s("n")));

    let h = task(&web.handlers[0]);
    assert_eq!(h.listen[0].value, s("restart all"));
}

#[test]
fn roles_load_defaults_vars_meta_and_handlers() {
    let pb = load_playbook(&fixture("full/site.yml"), &RoleSearch::default()).expect("loads");
    let app = pb.roles.roles.values().find(|r| r.name == "app").expect("app");
    assert_eq!(app.defaults.get("app_port"), Some(&Value::Int(80)));
    assert_eq!(
        app.dependencies.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["common", "db"]
    );
    assert_eq!(app.dependencies[1].params.get("db_port"), Some(&Value::Int(5432)));
    assert_eq!(app.handlers.len(), 1);
    let common = pb
        .roles
        .roles
        .values()
        .find(|r| r.name == "common" && r.from.tasks.is_none())
        .expect("common");
    assert_eq!(common.defaults.get("a"), Some(&Value::Int(1)));
    assert_eq!(
        common.defaults.get("b"),
        Some(&Value::Int(2)),
        "files of defaults/main/ merge in name order"
    );
    assert_eq!(common.vars.get("common_var"), Some(&Value::Int(1)));
    assert!(!common.allow_duplicates);
}

#[test]
fn errors_point_at_the_problem_and_suggest_a_fix() {
    let cases: &[ErrorCase] = &[
        (
            "misspelt task keyword",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - debug: msg=hi\n      whne: x\n",
            )],
            "site.yml:4:7",
            &["did you mean 'when'"],
        ),
        (
            "empty playbook (ansible-playbook refuses it too)",
            &[("site.yml", "# nothing\n")],
            "site.yml:1:1",
            &["the file is empty, nothing to do"],
        ),
        (
            "empty imported playbook",
            &[("site.yml", "- import_playbook: other.yml\n"), ("other.yml", "---\n")],
            "other.yml:1:1",
            &["the file is empty"],
        ),
        (
            "play without hosts",
            &[("site.yml", "- name: x\n  tasks: []\n")],
            "site.yml:1:3",
            &["has no 'hosts'"],
        ),
        (
            "misspelt play keyword",
            &[("site.yml", "- hosts: all\n  becom: yes\n")],
            "site.yml:2:3",
            &["did you mean 'become'"],
        ),
        (
            "misspelt module",
            &[("site.yml", "- hosts: all\n  tasks:\n    - debgu: msg=x\n")],
            "site.yml:3:7",
            &["no module or action named 'debgu'", "did you mean 'debug'"],
        ),
        (
            "two modules",
            &[("site.yml", "- hosts: all\n  tasks:\n    - debug: msg=x\n      ping:\n")],
            "site.yml:4:7",
            &["conflicting action statements"],
        ),
        (
            "no module",
            &[("site.yml", "- hosts: all\n  tasks:\n    - name: x\n")],
            "site.yml:3:7",
            &["has no 'module'"],
        ),
        (
            "loop and with_items",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      with_items: [2]\n",
            )],
            "site.yml:5:7",
            &["both 'loop' and 'with_items'"],
        ),
        (
            "task that is a list",
            &[("site.yml", "- hosts: all\n  tasks:\n    - - debug: msg=x\n")],
            "site.yml:3:7",
            &["a task must be a mapping, not list"],
        ),
        (
            "play that is a string",
            &[("site.yml", "- foo\n")],
            "site.yml:1:3",
            &["a play must be a mapping, not string"],
        ),
        (
            "playbook that is a mapping",
            &[("site.yml", "hosts: all\n")],
            "site.yml:1:1",
            &["a playbook must be a list of plays"],
        ),
        (
            "tasks that are a mapping",
            &[("site.yml", "- hosts: all\n  tasks:\n    debug: msg=x\n")],
            "site.yml:3:5",
            &["tasks must be a list of tasks"],
        ),
        (
            "free text for a k=v module",
            &[("site.yml", "- hosts: all\n  tasks:\n    - copy: foo\n")],
            "site.yml:3:7",
            &["takes no free-form text"],
        ),
        (
            "unbalanced quote",
            &[("site.yml", "- hosts: all\n  tasks:\n    - debug: msg='x\n")],
            "site.yml:3:14",
            &["unbalanced"],
        ),
        (
            "misspelt with_",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - debug: msg=x\n      with_itmes: [1]\n",
            )],
            "site.yml:4:7",
            &["did you mean 'with_items'"],
        ),
        (
            "import_tasks with a loop",
            &[
                (
                    "site.yml",
                    "- hosts: all\n  tasks:\n    - import_tasks: t.yml\n      loop: [1]\n",
                ),
                ("t.yml", "[]\n"),
            ],
            "site.yml:4:13",
            &["'import_tasks' cannot loop"],
        ),
        (
            "missing task file",
            &[("site.yml", "- hosts: all\n  tasks:\n    - import_tasks: nope.yml\n")],
            "site.yml:3:7",
            &["task file 'nope.yml' not found", "looked in"],
        ),
        (
            "missing role",
            &[("site.yml", "- hosts: all\n  roles: [nope]\n")],
            "site.yml:2:11",
            &["role 'nope' not found", "/roles"],
        ),
        (
            "role tasks that are a mapping",
            &[
                ("site.yml", "- hosts: all\n  roles: [r]\n"),
                ("roles/r/tasks/main.yml", "debug: msg=x\n"),
            ],
            "main.yml:1:1",
            &["a task file must be a list of tasks, not mapping"],
        ),
        (
            "import_playbook cycle",
            &[
                ("site.yml", "- import_playbook: b.yml\n"),
                ("b.yml", "- import_playbook: site.yml\n"),
            ],
            "b.yml:1:20",
            &["imports form a cycle", "site.yml -> ", "b.yml -> "],
        ),
        (
            "become on an import",
            &[
                (
                    "site.yml",
                    "- hosts: all\n  tasks:\n    - import_tasks: t.yml\n      become: true\n",
                ),
                ("t.yml", "[]\n"),
            ],
            "site.yml:4:15",
            &["'become' is not a valid keyword for an import"],
        ),
        (
            "misspelt loop_control key",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      loop_control: {loop_vr: y}\n",
            )],
            "site.yml:5:22",
            &["did you mean 'loop_var'"],
        ),
        (
            "hosts of the wrong type",
            &[("site.yml", "- hosts: [a, {b: c}]\n")],
            "site.yml:1:10",
            &["hosts must be a host pattern"],
        ),
        (
            "unknown module in action",
            &[("site.yml", "- hosts: all\n  tasks:\n    - action: frob x=1\n")],
            "site.yml:3:15",
            &["no module or action named 'frob'"],
        ),
        (
            "module in a block",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - block: []\n      debug: msg=x\n",
            )],
            "site.yml:4:7",
            &["not a valid keyword for a block"],
        ),
        (
            "vars that are a list of scalars",
            &[("site.yml", "- hosts: all\n  vars: [1]\n")],
            "site.yml:2:10",
            &["vars must be a mapping"],
        ),
        (
            "old-style role requirement",
            &[("site.yml", "- hosts: all\n  roles: ['a,b']\n")],
            "site.yml:2:11",
            &["old-style"],
        ),
        (
            "templated role name",
            &[("site.yml", "- hosts: all\n  roles: ['{{ r }}']\n")],
            "site.yml:2:11",
            &["resolved before variables"],
        ),
        (
            "tasks_from that does not exist",
            &[
                (
                    "site.yml",
                    "- hosts: all\n  tasks:\n    - import_role: name=r tasks_from=nope\n",
                ),
                ("roles/r/tasks/main.yml", "[]\n"),
            ],
            "site.yml:3:7",
            &["role file 'tasks/nope' not found"],
        ),
        (
            "tasks_from leaving the role",
            &[
                (
                    "site.yml",
                    "- hosts: all\n  tasks:\n    - import_role: name=r tasks_from=../../x\n",
                ),
                ("roles/r/tasks/main.yml", "[]\n"),
            ],
            "site.yml:3:7",
            &["leaves the role"],
        ),
        (
            "bad import_role option",
            &[
                (
                    "site.yml",
                    "- hosts: all\n  tasks:\n    - import_role: name=r task_from=x\n",
                ),
                ("roles/r/tasks/main.yml", "[]\n"),
            ],
            "site.yml:3:7",
            &["unknown option(s): task_from"],
        ),
        (
            "unknown role meta key",
            &[
                ("site.yml", "- hosts: all\n  roles: [r]\n"),
                ("roles/r/meta/main.yml", "dependecies: []\n"),
            ],
            "main.yml:1:1",
            &["did you mean 'dependencies'"],
        ),
        (
            "missing imported playbook",
            &[("site.yml", "- import_playbook: nope.yml\n")],
            "site.yml:1:20",
            &["playbook 'nope.yml' not found"],
        ),
        (
            "args that are a bare string",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - command: ls\n      args: chdir\n",
            )],
            "site.yml:4:13",
            &["args must be a mapping or a template"],
        ),
    ];
    for (what, files, at, needles) in cases {
        let (_dir, result) = load_files(files);
        let err = match result {
            Ok(_) => panic!("{what}: loaded without error"),
            Err(e) => e,
        };
        let text = err.to_string();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains(&format!("{at}:")),
            "{what}: expected position {at} in {first:?}"
        );
        for n in *needles {
            assert!(text.contains(n), "{what}: expected {n:?} in:\n{text}");
        }
    }
}

#[test]
fn odd_but_valid_input_loads() {
    let cases: &[OkCase] = &[
        ("empty task list", &[("site.yml", "- hosts: all\n  tasks:\n")], 1),
        (
            "hosts as a list with numbers",
            &[("site.yml", "- hosts: [web, 10]\n")],
            1,
        ),
        (
            "vars as a list of mappings",
            &[("site.yml", "- hosts: all\n  vars: [{a: 1}, {b: 2}]\n")],
            1,
        ),
        (
            "templated import_tasks stays lazy",
            &[("site.yml", "- hosts: all\n  tasks:\n    - import_tasks: '{{ f }}'\n")],
            1,
        ),
        (
            "role with empty files",
            &[
                ("site.yml", "- hosts: all\n  roles: [r]\n"),
                ("roles/r/tasks/main.yml", ""),
                ("roles/r/meta/main.yml", ""),
            ],
            1,
        ),
        (
            "role given by a number",
            &[
                ("site.yml", "- hosts: all\n  roles: [42]\n"),
                ("roles/42/tasks/main.yml", "[]\n"),
            ],
            1,
        ),
        (
            "action mapping form",
            &[(
                "site.yml",
                "- hosts: all\n  tasks:\n    - action:\n        module: copy\n        src: a\n        dest: b\n",
            )],
            1,
        ),
        (
            "import in a role resolves from the role's tasks dir",
            &[
                ("site.yml", "- hosts: all\n  roles: [r]\n"),
                ("roles/r/tasks/main.yml", "- import_tasks: sub.yml\n"),
                ("roles/r/tasks/sub.yml", "- ping:\n"),
            ],
            1,
        ),
        (
            "role dependency found beside its parent",
            &[
                ("site.yml", "- hosts: all\n  roles: [other/r]\n"),
                ("other/r/meta/main.yml", "dependencies: [s]\n"),
                ("other/s/tasks/main.yml", "- ping:\n"),
            ],
            1,
        ),
    ];
    for (what, files, plays) in cases {
        let (_dir, result) = load_files(files);
        match result {
            Ok(pb) => assert_eq!(pb.plays.len(), *plays, "{what}"),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

#[test]
fn argument_touches_match_ansible() {
    let (_dir, pb) = load_files(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - copy: \"{{ copy_args }}\"\n    - command:\n        cmd: ls -l\n        chdir: /tmp\n    - command: echo hi\n      args:\n        chdir: /\n",
    )]);
    let pb = pb.expect("loads");
    let tasks = &pb.plays[0].tasks;
    assert_eq!(
        task(&tasks[0]).action.args.get("_variable_params"),
        Some(&s("{{ copy_args }}"))
    );
    assert_eq!(task(&tasks[0]).action.args.get("_raw_params"), None);
    assert_eq!(task(&tasks[1]).action.args.get("_raw_params"), Some(&s("ls -l")));
    assert_eq!(task(&tasks[1]).action.args.get("cmd"), None);
    assert_eq!(task(&tasks[2]).action.args.get("chdir"), Some(&s("/")));
    let (_dir, bad) = load_files(&[(
        "site.yml",
        "- hosts: all\n  tasks:\n    - command: ls\n      args: {cmd: pwd}\n",
    )]);
    assert!(
        bad.err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("'cmd' cannot be used")
    );
}

#[test]
fn role_found_through_a_search_path_keeps_its_name_as_written() {
    let (_dir, pb) = load_files(&[
        ("site.yml", "- hosts: all\n  roles: [roles/r]\n"),
        ("roles/r/tasks/main.yml", "[]\n"),
    ]);
    // Found as <playbook dir>/roles/r through the search path: Ansible keeps the name as written.
    let pb = pb.expect("loads");
    assert_eq!(pb.plays[0].roles[0].name, "roles/r");
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "- hosts: all\n  tasks: [1, 'x', null, [], {}]\n",
        "- hosts: all\n  roles: [null]\n",
        "- hosts: all\n  roles: [{}]\n",
        "- hosts: all\n  handlers: 3\n",
        "- hosts: all\n  tasks:\n    - debug: [1]\n",
        "- hosts: all\n  tasks:\n    - action: ''\n",
        "- hosts: all\n  tasks:\n    - action: {}\n",
        "- hosts: all\n  tasks:\n    - action: {module: 3}\n",
        "- hosts: all\n  tasks:\n    - local_action: 'module='\n",
        "- hosts: all\n  tasks:\n    - import_tasks:\n",
        "- hosts: all\n  tasks:\n    - import_role: {}\n",
        "- hosts: all\n  tasks:\n    - block: 3\n",
        "- import_playbook: [1]\n",
        "- import_playbook:\n",
        "[[[]]]\n",
        "- hosts: all\n  tasks:\n    - shell: \"\\\\\"\n",
        "- hosts: all\n  tasks:\n    - debug: msg=\\u12\n",
        "- hosts: ''\n",
    ];
    for text in inputs {
        let (_dir, result) = load_files(&[("site.yml", text)]);
        if let Err(e) = result {
            let _ = e.to_string();
        }
    }
}
