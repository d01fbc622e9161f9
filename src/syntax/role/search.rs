//! Where role names are looked up, in Ansible's order.

use std::path::{Path, PathBuf};

/// Configured role directories (`roles_path`), searched after `roles/` beside the playbook.
#[derive(Clone, Debug, Default)]
pub struct RoleSearch {
    pub search_paths: Vec<PathBuf>,
}

impl RoleSearch {
    pub fn new(search_paths: Vec<PathBuf>) -> RoleSearch {
        RoleSearch { search_paths }
    }

    /// Directories to look in for a role: `roles/` beside the playbook, the configured
    /// paths, the directory holding the role that depends on it, then the playbook's own
    /// directory.
    pub fn candidates(&self, playbook_dir: &Path, parent_role_dir: Option<&Path>) -> Vec<PathBuf> {
        let mut out = vec![playbook_dir.join("roles")];
        out.extend(self.search_paths.iter().cloned());
        if let Some(d) = parent_role_dir {
            out.push(d.to_path_buf());
        }
        out.push(playbook_dir.to_path_buf());
        out
    }

    /// The directory of role `name`, or the directories searched.
    pub fn find(
        &self,
        name: &str,
        playbook_dir: &Path,
        parent_role_dir: Option<&Path>,
    ) -> Result<PathBuf, Vec<PathBuf>> {
        let dirs = self.candidates(playbook_dir, parent_role_dir);
        for d in &dirs {
            let p = d.join(name);
            if p.is_dir() {
                return Ok(p);
            }
        }
        // A role may also be given by path (relative to where the command runs, as Ansible does).
        let as_path = Path::new(name);
        if name.contains('/') && as_path.is_dir() {
            return Ok(as_path.to_path_buf());
        }
        Err(dirs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_is_beside_then_configured_then_parent_then_playbook_dir() {
        let s = RoleSearch::new(vec![PathBuf::from("/etc/roles")]);
        let got = s.candidates(Path::new("/pb"), Some(Path::new("/pb/roles")));
        let want: Vec<PathBuf> = ["/pb/roles", "/etc/roles", "/pb/roles", "/pb"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn first_match_wins() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("roles/web")).unwrap();
        std::fs::create_dir_all(t.path().join("extra/web")).unwrap();
        std::fs::create_dir_all(t.path().join("extra/db")).unwrap();
        let s = RoleSearch::new(vec![t.path().join("extra")]);
        assert_eq!(s.find("web", t.path(), None), Ok(t.path().join("roles/web")));
        assert_eq!(s.find("db", t.path(), None), Ok(t.path().join("extra/db")));
        assert!(s.find("nope", t.path(), None).is_err());
    }
}
