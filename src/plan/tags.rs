//! `--tags` and `--skip-tags` decide which tasks run, by Ansible's rules: untagged tasks count
//! as `untagged`, `always` runs unless skipped by name (or by `all`), `never` runs only when
//! asked for by name, and the special selectors `all`, `tagged` and `untagged`.

use std::collections::BTreeSet;

/// The user's selection, from `-t` and `--skip-tags` (comma lists already split).
#[derive(Clone, Debug)]
pub struct TagFilter {
    only: BTreeSet<String>,
    skip: BTreeSet<String>,
}

impl Default for TagFilter {
    fn default() -> TagFilter {
        TagFilter::new(&[], &[])
    }
}

impl TagFilter {
    /// `only` empty means `all`.
    pub fn new(only: &[String], skip: &[String]) -> TagFilter {
        let split = |v: &[String]| -> BTreeSet<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let mut only = split(only);
        if only.is_empty() {
            only.insert("all".to_string());
        }
        TagFilter {
            only,
            skip: split(skip),
        }
    }

    /// Whether the filter narrows anything at all.
    pub fn is_default(&self) -> bool {
        self.skip.is_empty() && self.only.len() == 1 && self.only.contains("all")
    }

    /// Whether a task carrying `tags` (its own plus every inherited one) runs.
    pub fn runs(&self, tags: &BTreeSet<String>) -> bool {
        let untagged = tags.is_empty();
        let has = |t: &str| tags.contains(t);
        let any_of =
            |set: &BTreeSet<String>| tags.iter().any(|t| set.contains(t)) || (untagged && set.contains("untagged"));

        let selected = has("always")
            || (self.only.contains("all") && !has("never"))
            || any_of(&self.only)
            || (self.only.contains("tagged") && !untagged && !has("never"));
        if !selected {
            return false;
        }
        if self.skip.contains("all") {
            return has("always") && !self.skip.contains("always");
        }
        !(any_of(&self.skip) || (self.skip.contains("tagged") && !untagged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn filter(only: &str, skip: &str) -> TagFilter {
        let v = |s: &str| {
            if s.is_empty() { vec![] } else { vec![s.to_string()] }
        };
        TagFilter::new(&v(only), &v(skip))
    }

    #[test]
    fn selection_table() {
        // (only, skip, task tags, runs)
        let cases: &[(&str, &str, &[&str], bool)] = &[
            ("", "", &[], true),
            ("", "", &["web"], true),
            ("", "", &["never"], false),
            ("", "", &["never", "debug"], false),
            ("debug", "", &["never", "debug"], true),
            ("never", "", &["never"], true),
            ("web", "", &["web"], true),
            ("web", "", &["db"], false),
            ("web", "", &[], false),
            ("web", "", &["always"], true),
            ("web,db", "", &["db"], true),
            ("untagged", "", &[], true),
            ("untagged", "", &["web"], false),
            ("tagged", "", &["web"], true),
            ("tagged", "", &[], false),
            ("tagged", "", &["never"], false),
            ("", "web", &["web"], false),
            ("", "web", &["db"], true),
            ("", "web", &[], true),
            ("", "always", &["always"], false),
            ("", "all", &["always"], true),
            ("", "all", &["web"], false),
            ("", "all,always", &["always"], false),
            ("", "tagged", &["web"], false),
            ("", "tagged", &[], true),
            ("", "untagged", &[], false),
            ("web", "web", &["web"], false),
            ("web", "db", &["web", "db"], false),
            ("all", "", &["never"], false),
        ];
        for (only, skip, t, want) in cases {
            assert_eq!(
                filter(only, skip).runs(&tags(t)),
                *want,
                "-t {only:?} --skip-tags {skip:?} on {t:?}"
            );
        }
    }

    #[test]
    fn default_filter_is_recognised() {
        assert!(TagFilter::default().is_default());
        assert!(!filter("web", "").is_default());
        assert!(!filter("", "web").is_default());
    }
}
