use super::*;
use crate::modules::registry;
use crate::modules::table::{IMPLEMENTED, implementation};
use crate::modules::test_support::Fixture;
use crate::value::{Map, Value};

#[test]
fn table_is_sorted_and_unique() {
    for pair in SPECS.windows(2) {
        if let [a, b] = pair {
            assert!(a.module < b.module, "{} must come before {}", a.module, b.module);
        }
    }
    for s in SPECS {
        for list in [s.args, s.not_yet] {
            for pair in list.windows(2) {
                if let [a, b] = pair {
                    assert!(a < b, "{}: {a} must come before {b}", s.module);
                }
            }
        }
        for n in s.not_yet {
            assert!(!s.args.contains(n), "{}: {n} is both supported and not yet", s.module);
        }
        for n in s.no_effect {
            assert!(
                s.args.contains(n),
                "{}: {n} has no effect but is not accepted",
                s.module
            );
        }
    }
}

#[test]
fn every_row_names_a_registry_module() {
    for s in SPECS {
        assert_eq!(
            registry::lookup(s.module).map(|m| m.name),
            Some(s.module),
            "{} is not a registry name",
            s.module
        );
    }
}

#[test]
fn every_implemented_module_has_a_checked_row() {
    for (name, _) in IMPLEMENTED {
        assert!(
            SPECS.binary_search_by(|s| s.module.cmp(name)).is_ok(),
            "{name} is implemented but has no row in SPECS"
        );
    }
}

/// Every module that refuses unknown arguments is run with all the names its row lists plus
/// one bogus name: the refusal must name only the bogus one, and list as supported exactly
/// the row's names. So the row and the code cannot drift apart.
#[test]
fn rows_agree_with_what_the_code_accepts() {
    let fx = Fixture::new();
    let mut checked = 0;
    for s in SPECS.iter().filter(|s| !s.args.contains(&ANY)) {
        let Some(code) = implementation(s.module) else {
            continue;
        };
        let mut args: Map = s.names().map(|n| (n.to_string(), Value::Null)).collect();
        args.insert("zz_bogus".into(), Value::Null);
        let mut o = fx.run(code, &args, true);
        if o.skipped {
            // `fetch` skips in check mode before it reads its arguments.
            o = fx.run(code, &args, false);
        }
        // The code names the module by its short name (`(sysctl)`, `(systemd)` for
        // `systemd_service`): only the argument lists are compared.
        let want = format!(
            ") module: zz_bogus. Supported parameters include: {}.",
            s.names().collect::<Vec<_>>().join(", ")
        );
        let msg = o.msg.unwrap_or_default();
        assert!(
            msg.starts_with("Unsupported parameters for (") && msg.ends_with(&want),
            "row of {}: {msg}",
            s.module
        );
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} modules were checked");
}

#[test]
fn accepts_knows_markers_and_names() {
    let cases: &[(&str, &str, bool)] = &[
        ("copy", "dest", true),
        ("copy", "dset", false),
        ("copy", FREE_FORM, false),
        ("command", FREE_FORM, true),
        ("command", "chdir", true),
        ("set_fact", "anything", true),
        ("set_fact", FREE_FORM, false),
        ("add_host", "ansible_host", true),
        ("apt", "update_cache", true),
        ("apt", "update_cach", false),
    ];
    for (module, arg, want) in cases {
        let spec = lookup(module).unwrap_or_else(|| panic!("{module} has no row"));
        assert_eq!(spec.accepts(arg), *want, "{module} {arg}");
    }
    assert!(lookup("meta").is_none());
}

#[test]
fn readme_has_a_row_for_every_module() {
    let readme = include_str!("../../README.md");
    for s in SPECS {
        let row = format!("| `{}` |", s.module);
        assert!(readme.contains(&row), "README.md has no row starting {row}");
    }
}
