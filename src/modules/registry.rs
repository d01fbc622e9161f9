//! The one table of every module and action a task may name: the builtin set of
//! ansible-core 2.19 plus the few collection modules implemented natively. Sorted by name so
//! lookups are a binary search and a test keeps it that way.

/// How a module takes text that is not `key=value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawParams {
    /// Only `key=value` pairs (or a mapping); stray words are an error.
    No,
    /// Stray words become `_raw_params` (`include_tasks: file.yml`, `meta: flush_handlers`).
    Allowed,
    /// Free-form: every `key=value` except a few known options stays in `_raw_params`
    /// (`command: echo a=b chdir=/tmp`).
    FreeForm,
}

#[derive(Debug)]
pub struct ModuleSpec {
    /// The short name for builtins (`copy`), the FQCN for collection modules (`ansible.posix.sysctl`).
    pub name: &'static str,
    /// The name a task may also use without its collection (`sysctl`), for collection modules.
    pub short: &'static str,
    pub raw_params: RawParams,
    /// Runs entirely on the controller: never opens a connection to the host.
    pub on_controller: bool,
}

impl ModuleSpec {
    pub fn is_builtin(&self) -> bool {
        !self.name.contains('.')
    }

    /// The fully qualified name (`ansible.builtin.copy`).
    pub fn fqcn(&self) -> String {
        if self.is_builtin() {
            format!("ansible.builtin.{}", self.name)
        } else {
            self.name.to_string()
        }
    }
}

/// Words in a free-form string that command-like modules still read as options.
pub const FREE_FORM_OPTIONS: &[&str] = &[
    "chdir",
    "creates",
    "executable",
    "removes",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "warn",
];

const fn m(name: &'static str) -> ModuleSpec {
    ModuleSpec {
        name,
        short: name,
        raw_params: RawParams::No,
        on_controller: false,
    }
}
const fn free(name: &'static str) -> ModuleSpec {
    ModuleSpec {
        name,
        short: name,
        raw_params: RawParams::FreeForm,
        on_controller: false,
    }
}
const fn ctl(name: &'static str) -> ModuleSpec {
    ModuleSpec {
        name,
        short: name,
        raw_params: RawParams::No,
        on_controller: true,
    }
}
const fn ctl_raw(name: &'static str) -> ModuleSpec {
    ModuleSpec {
        name,
        short: name,
        raw_params: RawParams::Allowed,
        on_controller: true,
    }
}
const fn coll(name: &'static str, short: &'static str) -> ModuleSpec {
    ModuleSpec {
        name,
        short,
        raw_params: RawParams::No,
        on_controller: false,
    }
}

/// Sorted by `name` (byte order). Keep it so: `table_is_sorted_and_unique` checks.
pub static MODULES: &[ModuleSpec] = &[
    ctl_raw("add_host"),
    coll("ansible.posix.mount", "mount"),
    coll("ansible.posix.sysctl", "sysctl"),
    m("apt"),
    m("apt_key"),
    m("apt_repository"),
    m("assemble"),
    ctl("assert"),
    m("async_status"),
    m("blockinfile"),
    free("command"),
    coll("community.general.modprobe", "modprobe"),
    m("copy"),
    m("cron"),
    m("deb822_repository"),
    m("debconf"),
    ctl("debug"),
    m("dnf"),
    m("dnf5"),
    m("dpkg_selections"),
    m("expect"),
    ctl("fail"),
    m("fetch"),
    m("file"),
    m("find"),
    m("gather_facts"),
    m("get_url"),
    m("getent"),
    m("git"),
    m("group"),
    ctl_raw("group_by"),
    m("hostname"),
    ctl_raw("import_playbook"),
    ctl_raw("import_role"),
    ctl_raw("import_tasks"),
    ctl_raw("include_role"),
    ctl_raw("include_tasks"),
    ctl_raw("include_vars"),
    m("iptables"),
    m("known_hosts"),
    m("lineinfile"),
    ctl_raw("meta"),
    m("mount_facts"),
    m("package"),
    m("package_facts"),
    ctl("pause"),
    m("ping"),
    m("pip"),
    free("raw"),
    m("reboot"),
    m("replace"),
    m("rpm_key"),
    free("script"),
    m("service"),
    m("service_facts"),
    ctl_raw("set_fact"),
    ctl("set_stats"),
    m("setup"),
    free("shell"),
    m("slurp"),
    m("stat"),
    m("subversion"),
    m("systemd"),
    m("systemd_service"),
    m("sysvinit"),
    m("tempfile"),
    m("template"),
    m("unarchive"),
    m("uri"),
    m("user"),
    ctl("validate_argument_spec"),
    m("wait_for"),
    m("wait_for_connection"),
    m("yum_repository"),
];

/// Names ansible-core 2.19 still accepts and sends to another builtin (its runtime redirects).
const REDIRECTS: &[(&str, &str)] = &[("yum", "dnf")];

/// Find a module by the name a task uses: `copy`, `ansible.builtin.copy`, `ansible.legacy.copy`,
/// or a collection module by FQCN or short name (`ansible.posix.sysctl`, `sysctl`).
pub fn lookup(name: &str) -> Option<&'static ModuleSpec> {
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."));
    let key = short.unwrap_or(name);
    let key = REDIRECTS
        .iter()
        .find(|(from, _)| *from == key)
        .map_or(key, |(_, to)| to);
    if let Ok(i) = MODULES.binary_search_by(|s| s.name.cmp(key)) {
        let spec = MODULES.get(i)?;
        // `ansible.builtin.sysctl` is not a thing: only builtins take the builtin prefixes.
        if short.is_some() && !spec.is_builtin() {
            return None;
        }
        return Some(spec);
    }
    if short.is_some() {
        return None;
    }
    MODULES.iter().find(|s| !s.is_builtin() && s.short == name)
}

/// The closest known module name, for "did you mean" hints.
pub fn nearest(name: &str) -> Option<&'static str> {
    let key = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name);
    MODULES
        .iter()
        .flat_map(|s| [s.name, s.short])
        .map(|n| (strsim::jaro_winkler(key, n), n))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in MODULES.windows(2) {
            if let [a, b] = pair {
                assert!(a.name < b.name, "{} must come before {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn short_names_of_collection_modules_do_not_shadow_builtins() {
        for s in MODULES.iter().filter(|s| !s.is_builtin()) {
            assert!(
                MODULES.binary_search_by(|x| x.name.cmp(s.short)).is_err(),
                "{} shadows a builtin",
                s.short
            );
        }
    }

    #[test]
    fn redirected_names_find_their_target() {
        for name in ["yum", "ansible.builtin.yum", "ansible.legacy.yum"] {
            assert_eq!(lookup(name).map(|s| s.name), Some("dnf"), "{name}");
        }
    }

    #[test]
    fn lookup_accepts_the_spellings_tasks_use() {
        let cases: &[(&str, Option<&str>)] = &[
            ("copy", Some("copy")),
            ("ansible.builtin.copy", Some("copy")),
            ("ansible.legacy.copy", Some("copy")),
            ("ansible.builtin.import_playbook", Some("import_playbook")),
            ("ansible.posix.sysctl", Some("ansible.posix.sysctl")),
            ("sysctl", Some("ansible.posix.sysctl")),
            ("modprobe", Some("community.general.modprobe")),
            ("community.general.modprobe", Some("community.general.modprobe")),
            ("ansible.builtin.sysctl", None),
            ("copyy", None),
            ("", None),
            ("ansible.builtin.", None),
        ];
        for (name, want) in cases {
            assert_eq!(lookup(name).map(|s| s.name), *want, "for {name}");
        }
    }

    #[test]
    fn free_form_and_controller_flags() {
        assert_eq!(lookup("shell").map(|s| s.raw_params), Some(RawParams::FreeForm));
        assert_eq!(lookup("include_tasks").map(|s| s.raw_params), Some(RawParams::Allowed));
        assert_eq!(lookup("copy").map(|s| s.raw_params), Some(RawParams::No));
        assert_eq!(lookup("debug").map(|s| s.on_controller), Some(true));
        assert_eq!(lookup("file").map(|s| s.on_controller), Some(false));
        assert_eq!(
            lookup("copy").map(|s| s.fqcn()),
            Some("ansible.builtin.copy".to_string())
        );
    }

    #[test]
    fn nearest_suggests_close_names_only() {
        assert_eq!(nearest("lineinfle"), Some("lineinfile"));
        assert_eq!(nearest("ansible.builtin.temlpate"), Some("template"));
        assert_eq!(nearest("zzzzzz"), None);
    }
}
