//! A bounded fuzz run on the stable toolchain, so CI exercises the YAML → plan path every
//! run: seeds from tests/fixtures, mutated with a fixed RNG seed (the same inputs every run),
//! fed to the same entry points as the cargo-fuzz targets in fuzz/. A panic fails the test
//! and names the input; a hang is caught by the time bound.

use play::fuzz::{self, Reached};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Each target stops at this many inputs or this much time, whichever comes first.
const MAX_INPUTS: usize = 3_000;
const TIME_BOUND: Duration = Duration::from_secs(8);
/// One input taking this long is a hang, whatever the total.
const ONE_INPUT_BOUND: Duration = Duration::from_secs(3);

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Fragments that steer mutations toward YAML and playbook structure.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b": ",
    b"- ",
    b"\n",
    b"\n  ",
    b"\n    - ",
    b"'",
    b"\"",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"!unsafe ",
    b"!vault ",
    b"!!str ",
    b"{{ x }}",
    b"{% if %}",
    b"#",
    b"---\n",
    b"...\n",
    b"|\n  ",
    b">-\n  ",
    b"~",
    b"yes",
    b"0755",
    b"0x1f",
    b"1e999",
    b"-1",
    b"%",
    b"\t",
    b"\xff",
    b"\xc3",
    b"\0",
    b"hosts: ",
    b"tasks: ",
    b"block: ",
    b"rescue: ",
    b"roles: ",
    b"serial: ",
    b"loop: ",
    b"when: ",
    b"import_tasks: ",
    b"include_role: ",
    b"import_playbook: ",
    b"children:",
    b"vars:",
    b"[g:children]",
    b"[g:vars]",
    b"h[1:3]",
    b"h[a:",
    b"!",
    b"&",
    b"web[0]",
    b"~^w",
    b"all:!db",
    b"delegate_to: ",
    b"run_once: yes",
    b"max_fail_percentage: ",
    b"name: ",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, t.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 if !data.is_empty() => {
                // Repeat a slice: long lines, deep nesting, many aliases.
                let start = rng.below(data.len());
                let end = (start + 1 + rng.below(8)).min(data.len());
                let piece: Vec<u8> = data[start..end].to_vec();
                for _ in 0..rng.below(64) {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            4 if !other.is_empty() => {
                // Splice a part of another seed in.
                let start = rng.below(other.len());
                let end = (start + rng.below(200)).min(other.len());
                data.splice(at..at, other[start..end].iter().copied());
            }
            5 => data.truncate(at),
            _ => {
                let b = rng.next() as u8;
                data.insert(at, b);
            }
        }
    }
    data
}

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, keep, out);
        } else if keep(&p) {
            out.push(p);
        }
    }
}

fn is_inventory(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.starts_with("hosts") || p.components().any(|c| c.as_os_str() == "inventory")
}

fn seeds(inventories: bool) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths = Vec::new();
    files_under(
        &root,
        &|p| {
            let yaml = p.extension().is_some_and(|e| e == "yml" || e == "yaml");
            if inventories {
                is_inventory(p)
            } else {
                yaml && !is_inventory(p)
            }
        },
        &mut paths,
    );
    let mut out: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    out.retain(|s| s.len() < 64 * 1024);
    out
}

fn run(name: &str, inventories: bool, target: fn(&Path, &[u8]) -> Reached) {
    let seeds = seeds(inventories);
    assert!(seeds.len() >= 3, "{name}: seed corpus found under tests/fixtures");
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = Instant::now();
    let (mut inputs, mut planned) = (0usize, 0usize);
    let mut seeds_planned = 0usize;
    while inputs < MAX_INPUTS && start.elapsed() < TIME_BOUND {
        let input = if inputs < seeds.len() {
            seeds[inputs].clone()
        } else {
            let a = &seeds[rng.below(seeds.len())];
            let b = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, a, b)
        };
        let one = Instant::now();
        let reached = std::panic::catch_unwind(|| target(scratch.path(), &input)).unwrap_or_else(|_| {
            let keep = std::env::temp_dir().join(format!("play-fuzz-{name}-crash.bin"));
            let _ = std::fs::write(&keep, &input);
            panic!("{name}: input {inputs} panicked; saved to {}", keep.display())
        });
        assert!(
            one.elapsed() < ONE_INPUT_BOUND,
            "{name}: input {inputs} took {:?}: {:?}",
            one.elapsed(),
            String::from_utf8_lossy(&input)
        );
        assert_ne!(reached, Reached::ScratchError, "{name}: scratch dir not writable");
        if reached == Reached::Planned {
            planned += 1;
            if inputs < seeds.len() {
                seeds_planned += 1;
            }
        }
        inputs += 1;
    }
    eprintln!("{name}: {inputs} inputs, {planned} planned, in {:?}", start.elapsed());
    // The run is only worth something if inputs get through to the compiler.
    assert!(seeds_planned >= 2, "{name}: only {seeds_planned} seeds compiled");
    assert!(inputs >= 200, "{name}: only {inputs} inputs in the time bound");
}

#[test]
fn mutated_playbooks_never_panic() {
    run("playbook", false, fuzz::playbook);
}

#[test]
fn mutated_inventories_never_panic() {
    run("inventory", true, fuzz::inventory);
}
