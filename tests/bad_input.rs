//! Bad input of every kind, in playbooks, inventories, group_vars and roles, through the
//! binary: each stops with exit 1 (5 for a bad command line) and a message naming
//! file:line:col where the input has a position, never panics, and runs nothing — the only
//! host points at a closed port (a run would exit 4) and no journal or retry file appears.
//! tests/errors.rs covers suggestions, vault and the compat corpus; this file covers the
//! shapes of broken input.

mod support;
use support::play;

/// What to put at a path.
enum Put {
    Text(Vec<u8>),
    /// A sparse file of this many bytes: the size check must not need to read it.
    Sparse(u64),
    Dir,
}

fn text(s: &str) -> Put {
    Put::Text(s.as_bytes().to_vec())
}

const HOSTS_INI: &str = "[web]\nw1 ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody\n";
const SITE: &str = "- hosts: web\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n";
const ROLE_SITE: &str = "- hosts: web\n  gather_facts: false\n  roles: [r]\n";
const FIFTY_MB: u64 = 50 * 1024 * 1024;

/// `x:` followed by `n` nested flow lists.
fn deep_flow(n: usize) -> String {
    format!("x: {}{}\n", "[".repeat(n), "]".repeat(n))
}

/// `n` nested block sequences written compactly on one line (`- - - ... x`), at `indent`.
fn deep_block(indent: usize, n: usize) -> String {
    format!(
        "{}x:\n{}  {}x\n",
        " ".repeat(indent),
        " ".repeat(indent),
        "- ".repeat(n)
    )
}

/// Billion laughs: nine levels of nine aliases, 9^9 strings once expanded.
fn alias_bomb(indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut s = format!("{pad}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        s.push_str(&format!("{pad}a{i}: &a{i} [{refs}]\n"));
    }
    s
}

struct Case {
    name: &'static str,
    files: Vec<(&'static str, Put)>,
    args: Vec<&'static str>,
    code: i32,
    /// Each must appear in stderr (positions as `file:line:col`).
    want: Vec<String>,
}

fn case(name: &'static str, files: Vec<(&'static str, Put)>, want: &[&str]) -> Case {
    Case {
        name,
        files,
        args: vec!["site.yml", "-i", "hosts.ini"],
        code: 1,
        want: want.iter().map(|s| s.to_string()).collect(),
    }
}

/// The project every case starts from, with `over` written on top.
fn project(over: Vec<(&'static str, Put)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = vec![
        ("hosts.ini", text(HOSTS_INI)),
        ("site.yml", text(SITE)),
        ("roles/r/tasks/main.yml", text("- debug: msg=in-role\n")),
    ];
    files.extend(over);
    for (rel, put) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let _ = std::fs::remove_file(&path);
        match put {
            Put::Text(bytes) => std::fs::write(&path, bytes).expect("write"),
            Put::Sparse(len) => std::fs::File::create(&path)
                .and_then(|f| f.set_len(len))
                .expect("sparse file"),
            Put::Dir => std::fs::create_dir_all(&path).expect("mkdir"),
        }
    }
    dir
}

fn check(c: Case) {
    let dir = project(c.files);
    let o = play(dir.path(), &c.args);
    let name = c.name;
    assert!(!o.stderr.contains("panicked"), "{name}: {}", o.stderr);
    assert_eq!(
        o.code, c.code,
        "{name}: exit\nstdout:\n{}\nstderr:\n{}",
        o.stdout, o.stderr
    );
    assert!(o.stderr.starts_with("ERROR! "), "{name}: {}", o.stderr);
    for w in &c.want {
        assert!(o.stderr.contains(w.as_str()), "{name}: wanted {w:?} in:\n{}", o.stderr);
    }
    // Nothing ran: no play started, no journal, no retry file.
    assert!(!o.stdout.contains("PLAY ["), "{name}: {}", o.stdout);
    assert!(!dir.path().join(".play").exists(), "{name}: a journal was written");
    let retry = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".retry"));
    assert!(!retry, "{name}: a retry file was written");
    // A readable message: a long line is cut to a window around the column.
    assert!(o.stderr.len() < 4_000, "{name}: {} bytes of error", o.stderr.len());
}

#[test]
fn broken_playbooks() {
    let cases = vec![
        case(
            "malformed YAML",
            vec![("site.yml", text("- hosts: web\n  tasks:\n    - debug: {msg: x\n"))],
            &["site.yml:3:14", "invalid YAML: unclosed bracket"],
        ),
        case(
            "hosts is a number",
            vec![("site.yml", text("- hosts: 3\n  tasks: []\n"))],
            &[
                "site.yml:1:10",
                "hosts must be a host pattern or a list of them, not integer",
            ],
        ),
        case(
            "tasks is a mapping",
            vec![("site.yml", text("- hosts: web\n  tasks: {}\n"))],
            &["site.yml:2:10", "tasks must be a list of tasks, not mapping"],
        ),
        case(
            "a play is a string",
            vec![("site.yml", text("- hosts: web\n- just text\n"))],
            &["site.yml:2:3"],
        ),
        case(
            "unknown play keyword",
            vec![("site.yml", text("- hosts: web\n  bogus: 1\n  tasks: []\n"))],
            &["site.yml:2:3", "'bogus' is not a valid keyword for a play"],
        ),
        case(
            "unknown task keyword",
            vec![(
                "site.yml",
                text("- hosts: web\n  tasks:\n    - debug: msg=x\n      whatever: 1\n"),
            )],
            &["site.yml:4:7", "'whatever' is not a valid keyword for a task"],
        ),
        case(
            "bad regex host pattern",
            vec![("site.yml", text("- hosts: '~('\n  tasks: []\n"))],
            &["site.yml:1:10", "bad host pattern '~('"],
        ),
        case(
            "a bare '!' would target every host",
            vec![("site.yml", text("- hosts: 'web:!'\n  tasks: []\n"))],
            &["site.yml:1:10", "bad host pattern '!'"],
        ),
        case(
            "out-of-range subscript",
            vec![("site.yml", text("- hosts: 'web[5]'\n  tasks: []\n"))],
            &["site.yml:1:10", "bad host pattern 'web[5]'"],
        ),
        case(
            "huge file",
            vec![("site.yml", Put::Sparse(FIFTY_MB))],
            &["site.yml", "byte limit"],
        ),
        case(
            "10,000 nested lists",
            vec![(
                "site.yml",
                text(&format!(
                    "- hosts: web\n  vars:\n    {}  tasks: []\n",
                    deep_flow(10_000)
                )),
            )],
            &["site.yml:3:", "nest more than 32 levels"],
        ),
        case(
            "10,000 nested block lists",
            vec![(
                "site.yml",
                text(&format!("- hosts: web\n  vars:\n{}", deep_block(4, 10_000))),
            )],
            &["site.yml:", "nest more than 32 levels"],
        ),
        case(
            "billion laughs",
            vec![(
                "site.yml",
                text(&format!("- hosts: web\n  vars:\n{}  tasks: []\n", alias_bomb(4))),
            )],
            &["site.yml:", "alias bomb"],
        ),
        case(
            "not UTF-8",
            vec![(
                "site.yml",
                Put::Text(b"- hosts: web\n  tasks:\n    - debug: msg=\"\xff\xfe\"\n".to_vec()),
            )],
            &["site.yml:3:19", "is not UTF-8 text"],
        ),
        case(
            "UTF-16 with a byte-order mark",
            vec![("site.yml", Put::Text(b"\xff\xfe-\x00 \x00h\x00".to_vec()))],
            &["site.yml:1:1", "is not UTF-8 text"],
        ),
        case(
            "empty file",
            vec![("site.yml", text(""))],
            &["site.yml:1:1", "the file is empty, nothing to do"],
        ),
        case(
            "only comments",
            vec![("site.yml", text("# TODO\n---\n"))],
            &["site.yml:1:1", "the file is empty"],
        ),
        case(
            "empty imported playbook",
            vec![
                ("site.yml", text("- import_playbook: other.yml\n")),
                ("other.yml", text("")),
            ],
            &["other.yml:1:1", "the file is empty"],
        ),
        case(
            "vars_files names a directory",
            vec![
                ("site.yml", text("- hosts: web\n  vars_files: [vdir]\n  tasks: []\n")),
                ("vdir", Put::Dir),
            ],
            &["site.yml:2:16", "vars file 'vdir' not found"],
        ),
        case(
            "import_tasks names a directory",
            vec![
                ("site.yml", text("- hosts: web\n  tasks:\n    - import_tasks: tdir\n")),
                ("tdir", Put::Dir),
            ],
            &["site.yml:3:7", "task file 'tdir' not found"],
        ),
        Case {
            code: 5,
            ..case(
                "the playbook is a directory",
                vec![("book.yml", Put::Dir)],
                &["book.yml"],
            )
        },
    ];
    let mut cases = cases;
    if let Some(last) = cases.last_mut() {
        last.args = vec!["book.yml", "-i", "hosts.ini"];
    }
    for c in cases {
        check(c);
    }
}

fn inv(name: &'static str, file: &'static str, content: Put, want: &[&str]) -> Case {
    Case {
        args: vec!["site.yml", "-i", file],
        ..case(name, vec![(file, content)], want)
    }
}

#[test]
fn broken_inventories() {
    let cases = vec![
        inv(
            "malformed YAML inventory",
            "hosts.yml",
            text("all:\n  hosts:\n    a: [\n"),
            &["hosts.yml:3:8", "invalid YAML"],
        ),
        inv(
            "hosts is a list",
            "hosts.yml",
            text("all:\n  hosts: [a, b]\n"),
            &["hosts.yml:2:10", "must be a mapping, not list"],
        ),
        inv(
            "children is a number",
            "hosts.yml",
            text("all:\n  children: 3\n"),
            &["hosts.yml:2:13"],
        ),
        inv(
            "unclosed INI section",
            "hosts.ini",
            text("[web\nw1\n"),
            &["hosts.ini:1:1"],
        ),
        inv(
            "bad INI host range",
            "hosts.ini",
            text("[web]\nw[1:x]\n"),
            &["hosts.ini:2:"],
        ),
        inv(
            "huge inventory",
            "hosts.yml",
            Put::Sparse(FIFTY_MB),
            &["hosts.yml", "byte limit"],
        ),
        inv(
            "10,000 nested block lists in inventory vars",
            "hosts.yml",
            text(&format!("all:\n  vars:\n{}", deep_block(4, 10_000))),
            &["hosts.yml:", "nest more than 32 levels"],
        ),
        inv(
            "billion laughs in inventory vars",
            "hosts.yml",
            text(&format!("all:\n  hosts:\n    w1:\n  vars:\n{}", alias_bomb(4))),
            &["hosts.yml:", "alias bomb"],
        ),
        inv(
            "non-UTF-8 YAML inventory",
            "hosts.yml",
            Put::Text(b"all:\n  hosts:\n    w\xe91:\n".to_vec()),
            &["hosts.yml:3:6", "not UTF-8"],
        ),
        inv(
            "non-UTF-8 INI inventory",
            "hosts.ini",
            Put::Text(b"[web]\nw\xe91\n".to_vec()),
            &["hosts.ini:2:2", "not UTF-8"],
        ),
        Case {
            args: vec!["site.yml", "-i", "hosts.ini", "--limit", "~("],
            ..case("bad --limit pattern", vec![], &["bad host pattern '~('"])
        },
    ];
    for c in cases {
        check(c);
    }
}

#[test]
fn broken_group_vars() {
    let gv = "group_vars/web.yml";
    let cases = vec![
        case(
            "malformed YAML",
            vec![(gv, text("a: [\n"))],
            &["group_vars/web.yml:1:4", "invalid YAML"],
        ),
        case(
            "a list, not a mapping",
            vec![(gv, text("- a\n- b\n"))],
            &["group_vars/web.yml:1:1", "must be a mapping, not list"],
        ),
        case(
            "huge",
            vec![(gv, Put::Sparse(FIFTY_MB))],
            &["group_vars/web.yml", "byte limit"],
        ),
        case(
            "deeply nested",
            vec![(gv, text(&deep_flow(10_000)))],
            &["group_vars/web.yml:1:", "nest more than 32 levels"],
        ),
        case(
            "billion laughs",
            vec![(gv, text(&alias_bomb(0)))],
            &["group_vars/web.yml:", "alias bomb"],
        ),
        case(
            "not UTF-8",
            vec![(gv, Put::Text(b"a: 1\nb: \"\xc3\x28\"\n".to_vec()))],
            &["group_vars/web.yml:2:5", "not UTF-8"],
        ),
        case(
            "host_vars with a wrong type",
            vec![("host_vars/w1.yml", text("42\n"))],
            &["host_vars/w1.yml:1:1"],
        ),
    ];
    for c in cases {
        check(c);
    }
}

fn role(name: &'static str, files: Vec<(&'static str, Put)>, want: &[&str]) -> Case {
    let mut all = vec![("site.yml", text(ROLE_SITE))];
    all.extend(files);
    case(name, all, want)
}

#[test]
fn broken_roles() {
    let cases = vec![
        role(
            "tasks are a mapping",
            vec![("roles/r/tasks/main.yml", text("a: 1\n"))],
            &[
                "roles/r/tasks/main.yml:1:1",
                "a task file must be a list of tasks, not mapping",
            ],
        ),
        role(
            "malformed tasks YAML",
            vec![("roles/r/tasks/main.yml", text("- debug:\n    msg: [x\n"))],
            &["roles/r/tasks/main.yml:", "invalid YAML"],
        ),
        role(
            "unknown task keyword in a role",
            vec![("roles/r/tasks/main.yml", text("- debug: msg=x\n  wehn: true\n"))],
            &["roles/r/tasks/main.yml:2:3", "did you mean 'when'"],
        ),
        role(
            "dependencies is a number",
            vec![("roles/r/meta/main.yml", text("dependencies: 3\n"))],
            &[
                "roles/r/meta/main.yml:1:15",
                "dependencies must be a list of roles, not integer",
            ],
        ),
        role(
            "unknown meta keyword",
            vec![("roles/r/meta/main.yml", text("bogus: 1\n"))],
            &["roles/r/meta/main.yml:1:1", "'bogus' is not a valid keyword"],
        ),
        role(
            "defaults are a list",
            vec![("roles/r/defaults/main.yml", text("- a\n"))],
            &["roles/r/defaults/main.yml:1:1", "must be a mapping"],
        ),
        role(
            "deeply nested defaults",
            vec![("roles/r/defaults/main.yml", text(&deep_flow(10_000)))],
            &["roles/r/defaults/main.yml:1:", "nest more than 32 levels"],
        ),
        role(
            "billion laughs in role vars",
            vec![("roles/r/vars/main.yml", text(&alias_bomb(0)))],
            &["roles/r/vars/main.yml:", "alias bomb"],
        ),
        role(
            "huge tasks file",
            vec![("roles/r/tasks/main.yml", Put::Sparse(FIFTY_MB))],
            &["roles/r/tasks/main.yml", "byte limit"],
        ),
        role(
            "tasks not UTF-8",
            vec![("roles/r/tasks/main.yml", Put::Text(b"- debug: msg=\xff\n".to_vec()))],
            &["roles/r/tasks/main.yml:1:14", "not UTF-8"],
        ),
        role(
            "roles entry is a number",
            vec![("site.yml", text("- hosts: web\n  roles: [3]\n"))],
            &["site.yml:2:11"],
        ),
    ];
    for c in cases {
        check(c);
    }
}

/// Empty inventories, group_vars and role files are valid (as in Ansible): they load, and
/// the play finds nothing to do rather than failing.
#[test]
fn empty_vars_and_inventory_files_are_not_errors() {
    let dir = project(vec![
        ("empty.ini", text("")),
        ("group_vars/web.yml", text("")),
        ("roles/r/defaults/main.yml", text("# nothing yet\n")),
        ("site.yml", text(ROLE_SITE)),
    ]);
    let o = play(dir.path(), &["site.yml", "-i", "empty.ini", "--list-hosts"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("hosts (0):"), "{}", o.stdout);
    let o = play(dir.path(), &["site.yml", "-i", "hosts.ini", "--list-tasks"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("debug\tTAGS"), "{}", o.stdout);
}
