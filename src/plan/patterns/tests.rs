use super::*;
use crate::syntax::inventory::{self, Inventory};
use std::path::PathBuf;

fn fixture() -> Inventory {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory/patterns/hosts");
    inventory::load(&[path]).expect("fixture loads")
}

#[test]
fn split_host_pattern_matches_ansible() {
    let cases: &[(&str, &[&str])] = &[
        ("a", &["a"]),
        ("a, b", &["a", "b"]),
        ("a , b", &["a", "b"]),
        (" a,b ,c[1:2] ", &["a", "b", "c[1:2]"]),
        ("9a01:7f8:191:7701::9", &["9a01:7f8:191:7701::9"]),
        ("9a01:7f8:191:7701::9,foo", &["9a01:7f8:191:7701::9", "foo"]),
        ("foo[1:2]", &["foo[1:2]"]),
        ("a::b", &["a::b"]),
        ("a:b", &["a", "b"]),
        (" a : b ", &["a", "b"]),
        ("foo:bar:baz[1:2]", &["foo", "bar", "baz[1:2]"]),
        ("a,,b", &["a", "b"]),
        ("a,  ,b,,c, ,", &["a", "b", "c"]),
        ("web:&db:!web1", &["web", "&db", "!web1"]),
        ("web db", &["web", "db"]),
        ("~(web|db)[0-9]:x", &["~(web|db)[0-9]", "x"]),
        (",", &[]),
        ("", &[]),
    ];
    for (p, want) in cases {
        assert_eq!(split_host_pattern(p), *want, "for {p:?}");
    }
}

#[test]
fn subscripts_match_ansible() {
    let letters: Vec<usize> = (0..52).collect();
    let cases: &[(&str, &str, Option<Subscript>, &[usize])] = &[
        ("a", "a", None, &[]),
        ("a[0]", "a", Some((0, None)), &[0]),
        ("a[1]", "a", Some((1, None)), &[1]),
        ("a[2:3]", "a", Some((2, Some(3))), &[2, 3]),
        ("a[-1]", "a", Some((-1, None)), &[51]),
        ("a[-2]", "a", Some((-2, None)), &[50]),
        ("a[48:]", "a", Some((48, Some(-1))), &[48, 49, 50, 51]),
        ("a[1-2]", "a", Some((1, Some(2))), &[1, 2]),
        ("a[3:0]", "a", Some((3, Some(0))), &[3]),
        ("a[:2]", "a[:2]", None, &[]),
        ("~a[1]", "~a[1]", None, &[]),
    ];
    for (p, base, sub, picked) in cases {
        let (b, s) = split_subscript(p);
        assert_eq!((b, s), (*base, *sub), "split {p}");
        if s.is_some() {
            assert_eq!(apply_subscript(letters.clone(), s).unwrap(), *picked, "apply {p}");
        }
    }
    assert_eq!(apply_subscript(letters.clone(), Some((52, None))), None);
    assert_eq!(apply_subscript(letters, Some((60, Some(70)))), Some(vec![]));
}

#[test]
fn patterns_select_hosts_in_ansibles_order() {
    let inv = fixture();
    let index = InventoryIndex::new(&inv);
    let all: &[&str] = &["lb1.example.com", "10.0.0.5", "web3", "db2", "web1", "web2", "db1"];
    let cases: &[(&str, &[&str])] = &[
        // `all` walks groups breadth first: lb and staging (children of all) before app's kids.
        ("all", all),
        ("*", all),
        ("web", &["web1", "web2", "web3"]),
        ("web:db", &["web1", "web2", "web3", "db1", "db2"]),
        ("db,web", &["db1", "db2", "web1", "web2", "web3"]),
        ("staging:web", &["web3", "db2", "web1", "web2"]),
        ("app", &["web1", "web2", "web3", "db1", "db2"]),
        ("app:&staging", &["web3", "db2"]),
        ("app:!staging", &["web1", "web2", "db1"]),
        // Unions first, then intersections, then exclusions, whatever the written order.
        ("!staging:&app:web", &["web1", "web2"]),
        ("&web", &["web3", "web1", "web2"]),
        ("!web", &["lb1.example.com", "10.0.0.5", "db2", "db1"]),
        ("web*", &["web1", "web2", "web3"]),
        ("w?b2", &["web2"]),
        ("web[0]", &["web1"]),
        ("web[-1]", &["web3"]),
        ("web[0:1]", &["web1", "web2"]),
        ("web[1:]", &["web2", "web3"]),
        ("web[1-2]", &["web2", "web3"]),
        // Ansible has no [:n] subscript: this is the wildcard class [:2].
        ("web[:2]", &["web2"]),
        // The wildcard matches the group and the hosts: the subscript sees both.
        ("web*[4]", &["web2"]),
        ("~web[12]", &["web1", "web2"]),
        ("~(web|db)", &["web1", "web2", "web3", "db1", "db2"]),
        ("~.*\\.com", &["lb1.example.com"]),
        ("10.0.0.5", &["10.0.0.5"]),
        ("lb*.example.com", &["lb1.example.com"]),
        ("web1,web1", &["web1"]),
        ("db[0]:web[0]", &["db1", "web1"]),
        ("localhost", &["localhost"]),
        ("ungrouped", &[]),
    ];
    for (p, want) in cases {
        let got = resolve(&index, p, None).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(got.hosts, *want, "for {p:?}");
    }
}

#[test]
fn unmatched_parts_are_reported_not_errors() {
    let inv = fixture();
    let index = InventoryIndex::new(&inv);
    let got = resolve(&index, "web1:nosuch:!other", None).unwrap();
    assert_eq!(got.hosts, ["web1"]);
    assert_eq!(got.unmatched, ["nosuch", "other"]);
    assert!(resolve(&index, "all", None).unwrap().unmatched.is_empty());
}

#[test]
fn malformed_patterns_are_bad_pattern_errors() {
    let inv = fixture();
    let index = InventoryIndex::new(&inv);
    for p in ["web[5]", "web[-4]", "~(web", "db:~[z-a]", "!", "web:!", "&", "web,&"] {
        let e = resolve(&index, p, None).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::BadPattern { .. }), "{p}: {e}");
        assert!(e.help.is_some(), "{p} has help");
    }
}

#[test]
fn limit_narrows_as_an_intersection() {
    let inv = fixture();
    let index = InventoryIndex::new(&inv);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("limit.txt");
    std::fs::write(&file, "web1\n\ndb1\n").unwrap();
    let at_file = format!("@{}", file.display());
    let cases: &[(&str, &str, &[&str])] = &[
        ("all", "web", &["web3", "web1", "web2"]),
        ("app", "!db", &["web2", "web3"]),
        ("all", &at_file, &["web1", "db1"]),
        ("web", "web[0]", &["web1"]),
        ("web", "db2:lb", &[]),
        ("all", "staging,lb", &["lb1.example.com", "10.0.0.5", "web3", "db2"]),
    ];
    for (pattern, limit, want) in cases {
        let limit = Limit::parse(limit).unwrap();
        assert_eq!(
            resolve(&index, pattern, Some(&limit)).unwrap().hosts,
            *want,
            "{pattern} limited to {limit:?}"
        );
    }
    let e = Limit::parse("@/nonexistent/limit").unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BadPattern { .. }));
}

#[test]
fn a_real_localhost_answers_for_all_localhost_names() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hosts"), "[local]\n127.0.0.1\n").unwrap();
    let inv = inventory::load(&[tmp.path().join("hosts")]).unwrap();
    let index = InventoryIndex::new(&inv);
    assert_eq!(resolve(&index, "localhost", None).unwrap().hosts, ["127.0.0.1"]);
    assert_eq!(resolve(&index, "all", None).unwrap().hosts, ["127.0.0.1"]);
    let inv = fixture();
    let index = InventoryIndex::new(&inv);
    // The implicit localhost is never part of `all`.
    assert!(
        !resolve(&index, "all", None)
            .unwrap()
            .hosts
            .contains(&"localhost".to_string())
    );
    assert_eq!(
        resolve(&index, "localhost:web[0]", None).unwrap().hosts,
        ["localhost", "web1"]
    );
}

#[test]
fn play_hosts_given_as_a_list() {
    let inv = fixture();
    let index = InventoryIndex::new(&inv);
    let got = resolve_list(&index, &["db".to_string(), "lb:!10.0.0.5".to_string()], None).unwrap();
    assert_eq!(got.hosts, ["db1", "db2", "web1", "lb1.example.com"]);
}
