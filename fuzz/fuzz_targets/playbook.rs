//! Arbitrary bytes as a playbook, compiled against a fixed inventory:
//! any outcome but a panic, hang or runaway allocation is fine.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// One scratch directory per fuzzing process; each input overwrites its files.
static SCRATCH: OnceLock<Option<tempfile::TempDir>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some(dir) = SCRATCH.get_or_init(|| tempfile::tempdir().ok()).as_ref() else {
        return;
    };
    let _ = play::fuzz::playbook(dir.path(), data);
});
