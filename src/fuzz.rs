//! Entry points for fuzzing the YAML → plan path: arbitrary bytes go through the same
//! loaders, compiler and listings as a run (`play site.yml -i hosts --list-tasks`) and must
//! come back as a plan or an error, never a panic, hang or runaway allocation. Used by the
//! cargo-fuzz targets in `fuzz/` and by the bounded stable-toolchain run in
//! tests/fuzz_smoke.rs. Files are written under a scratch directory the caller owns, since
//! the loaders read paths (a playbook's directory decides where roles and vars files are).

use crate::output::{listing, plan_view};
use crate::plan::compile::{PlanInput, compile_playbook};
use crate::plan::inventory_index::InventoryIndex;
use crate::plan::inventory_vars::PlaybookVars;
use crate::plan::tags::TagFilter;
use crate::syntax::inventory::{self, LoadOptions};
use crate::syntax::playbook::load_playbook;
use crate::syntax::role::RoleSearch;
use crate::syntax::vault::VaultSecrets;
use crate::template::{Templar, TemplarContext};
use crate::value::Map;
use std::path::{Path, PathBuf};

/// How far an input got: whether it loaded and compiled, or which stage refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// A stage refused the input with an error (the expected outcome for most bytes).
    Refused,
    /// It compiled to a plan, which was also rendered as the listings are.
    Planned,
    /// The scratch directory could not be written: nothing was tested.
    ScratchError,
}

/// The inventory a fuzzed playbook is compiled against.
const FIXED_INVENTORY: &str =
    "[web]\nw1 ansible_host=127.0.0.1\nw2\n[db]\nd1 port=5432\n[k8s:children]\nweb\ndb\n[k8s:vars]\nv=1\n";

/// The playbook a fuzzed inventory is compiled against: patterns, serial and vars touch
/// every host and group it defines.
const FIXED_PLAYBOOK: &str = "- hosts: all:!nothing\n  serial: [1, '50%']\n  gather_facts: false\n  tasks:\n    - debug: msg={{ inventory_hostname }}\n- hosts: 'web[0]:~d.*:&all'\n  tasks:\n    - ping:\n";

/// `bytes` as a playbook (`site.yml`) against a fixed INI inventory.
pub fn playbook(scratch: &Path, bytes: &[u8]) -> Reached {
    let book = scratch.join("site.yml");
    let inv = scratch.join("hosts.ini");
    if std::fs::write(&book, bytes).is_err() || std::fs::write(&inv, FIXED_INVENTORY).is_err() {
        return Reached::ScratchError;
    }
    compile(&book, &inv)
}

/// `bytes` as an inventory, once as YAML (`hosts.yml`) and once as INI (`hosts`), against a
/// fixed playbook. Planned if either form compiled.
pub fn inventory(scratch: &Path, bytes: &[u8]) -> Reached {
    let book = scratch.join("site.yml");
    if std::fs::write(&book, FIXED_PLAYBOOK).is_err() {
        return Reached::ScratchError;
    }
    let mut reached = Reached::Refused;
    for name in ["hosts.yml", "hosts"] {
        let inv = scratch.join(name);
        if std::fs::write(&inv, bytes).is_err() {
            return Reached::ScratchError;
        }
        if compile(&book, &inv) == Reached::Planned {
            reached = Reached::Planned;
        }
        let _ = std::fs::remove_file(&inv);
    }
    reached
}

/// Load, compile and list, as a listing run does; errors are the expected outcome.
fn compile(book: &Path, inv: &Path) -> Reached {
    let Ok(inventory) = inventory::load_with(&[inv.to_path_buf()], &LoadOptions { decrypt: None }) else {
        return Reached::Refused;
    };
    let index = InventoryIndex::new(&inventory);
    let dir = book.parent().map(PathBuf::from).unwrap_or_default();
    if PlaybookVars::load(&[dir.as_path()], &inventory, None).is_err() {
        return Reached::Refused;
    }
    let extra = Map::new();
    let tags = TagFilter::new(&[], &[]);
    let templar = Templar::new(TemplarContext::default());
    let secrets = VaultSecrets::new();
    let input = PlanInput {
        inventory: &index,
        extra_vars: &extra,
        limit: None,
        tags: &tags,
        templar: &templar,
        secrets: &secrets,
    };
    let search = RoleSearch::new(vec![dir.join("roles")]);
    let Ok(playbook) = load_playbook(book, &search) else {
        return Reached::Refused;
    };
    let Ok(plan) = compile_playbook(playbook, book, &input) else {
        return Reached::Refused;
    };
    let lists = listing::Lists {
        hosts: true,
        tasks: true,
        tags: true,
    };
    // The renderings walk every part of the plan; their text is not needed.
    let _ = listing::listing(&plan, lists).len() + plan_view::plan_view(&plan).len();
    Reached::Planned
}
