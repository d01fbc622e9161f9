//! Inventory scale check: load a 10,000-host, 100-group inventory (YAML and INI, with
//! group_vars/ and host_vars/), resolve `all` and a few patterns, and compute every host's
//! inventory variables. Prints milliseconds per step and the peak resident memory.
//!
//! `cargo bench --bench inventory` generates the inventory with `bench/gen-inventory.py`
//! into `target/bench-inventory` unless `PLAY_BENCH_INVENTORY` names an existing one.

use play::plan::inventory_index::InventoryIndex;
use play::plan::inventory_vars::{PlaybookVars, host_vars};
use play::plan::patterns::{Limit, resolve};
use play::syntax::inventory;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn main() {
    let root = std::env::var_os("PLAY_BENCH_INVENTORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-inventory");
            if !dir.join("yaml/hosts.yml").exists() {
                let status = std::process::Command::new("python3")
                    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen-inventory.py"))
                    .arg(&dir)
                    .status()
                    .expect("python3 runs bench/gen-inventory.py");
                assert!(status.success(), "gen-inventory.py failed");
            }
            dir
        });
    for (label, source) in [("yaml", root.join("yaml/hosts.yml")), ("ini", root.join("ini/hosts"))] {
        run(label, &source);
    }
    println!("peak RSS: {} MB", peak_rss_kb() / 1024);
}

fn run(label: &str, source: &Path) {
    let t = Instant::now();
    let inv = inventory::load(&[source.to_path_buf()]).expect("inventory loads");
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;

    let t = Instant::now();
    let index = InventoryIndex::new(&inv);
    let all = resolve(&index, "all", None).expect("all resolves");
    let index_ms = t.elapsed().as_secs_f64() * 1000.0;

    let t = Instant::now();
    let limit = Limit::parse("region0*:!svc00*").expect("limit parses");
    let mixed = resolve(&index, "svc0*:&region03:!node0000*", Some(&limit)).expect("pattern resolves");
    let ranged = resolve(&index, "node0[0-4]*.dc1.*[10:200]", None).expect("regex resolves");
    let patterns_ms = t.elapsed().as_secs_f64() * 1000.0;

    let t = Instant::now();
    let play = PlaybookVars::default();
    let mut total_keys = 0usize;
    for host in &all.hosts {
        total_keys += host_vars(&index, &play, host).map(|v| v.len()).unwrap_or(0);
    }
    let groups = index.groups_var();
    let vars_ms = t.elapsed().as_secs_f64() * 1000.0;

    println!(
        "{label}: {} hosts, {} groups | load {load_ms:.0} ms | index + all {index_ms:.0} ms | patterns {patterns_ms:.1} ms ({} / {} hosts) | all host vars {vars_ms:.0} ms ({total_keys} keys, groups var {} entries) | total {:.0} ms",
        inv.hosts.len(),
        inv.groups.len(),
        mixed.hosts.len(),
        ranged.hosts.len(),
        groups.as_map().map(|m| m.len()).unwrap_or(0),
        load_ms + index_ms + patterns_ms + vars_ms,
    );
}

/// Peak resident set size of this process, from /proc (0 where unavailable).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
