//! The modules this engine implements, sorted by name: the executor finds a task's code here.
//! Names are the registry's (`copy`, `ansible.posix.sysctl`).

use super::ModuleFn;

/// `(name, code)`, sorted by name and unique (a test keeps it so).
pub const IMPLEMENTED: &[(&str, ModuleFn)] = &[
    ("add_host", super::add_host::run),
    ("ansible.posix.mount", super::mount::run),
    ("ansible.posix.sysctl", super::sysctl::run),
    ("apt", super::apt::run),
    ("assert", super::assert::run),
    ("blockinfile", super::blockinfile::run),
    ("command", super::command::run),
    ("community.general.modprobe", super::modprobe::run),
    ("copy", super::copy::run),
    ("debug", super::debug::run),
    ("dpkg_selections", super::dpkg_selections::run),
    ("fail", super::fail::run),
    ("fetch", super::fetch::run),
    ("file", super::file::run),
    ("find", super::find::run),
    ("get_url", super::get_url::run),
    ("group", super::group::run),
    ("group_by", super::group_by::run),
    ("hostname", super::hostname::run),
    ("include_vars", super::include_vars::run),
    ("lineinfile", super::lineinfile::run),
    ("package", super::package::run),
    ("pause", super::pause::run),
    ("ping", super::ping::run),
    ("raw", super::raw::run),
    ("reboot", super::reboot::run),
    ("replace", super::replace::run),
    ("script", super::script::run),
    ("service", super::service::run),
    ("set_fact", super::set_fact::run),
    ("set_stats", super::set_stats::run),
    ("setup", super::setup::run),
    ("shell", super::shell::run),
    ("slurp", super::slurp::run),
    ("stat", super::stat::run),
    ("systemd", super::systemd::run),
    ("systemd_service", super::systemd::run),
    ("tempfile", super::tempfile::run),
    ("template", super::template::run),
    ("unarchive", super::unarchive::run),
    ("uri", super::uri::run),
    ("user", super::user::run),
    ("wait_for", super::wait_for::run),
    ("wait_for_connection", super::wait_for_connection::run),
];

/// The code for a registry name, if it is implemented.
pub fn implementation(name: &str) -> Option<ModuleFn> {
    IMPLEMENTED
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .and_then(|i| IMPLEMENTED.get(i))
        .map(|(_, f)| *f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_registered() {
        for pair in IMPLEMENTED.windows(2) {
            if let [a, b] = pair {
                assert!(a.0 < b.0, "{} before {}", a.0, b.0);
            }
        }
        for (name, _) in IMPLEMENTED {
            assert!(
                crate::modules::registry::lookup(name).is_some(),
                "{name} is implemented but not in the registry"
            );
        }
    }
}
