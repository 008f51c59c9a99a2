//! Replays every checked-in seed (`corpus/<target>/seed-*`) and every saved crash
//! (`regressions/<target>-<short-name>`) through its target's function, on stable Rust and
//! without libFuzzer: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::fs;
use std::path::{Path, PathBuf};
// The library's lock is its loom shim (`clippy.toml`); this is a test harness's lock.
#[allow(clippy::disallowed_types)]
use std::sync::{Mutex, MutexGuard};

/// One test at a time: the C ABI target checks the process-wide counts of live handles and
/// exports against those at its start, which another target running beside it on a test
/// thread changes (`handles leaked: 3 against 2`, once in a CI run).
#[allow(clippy::disallowed_types)]
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("readable directory entry").path())
            .filter(|p| p.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn name(p: &Path) -> &str {
    p.file_name()
        .and_then(|n| n.to_str())
        .expect("UTF-8 file name")
}

/// Runs `path` through `target`, naming the file if it fails.
fn replay(target: &str, path: &Path) {
    let run = ftarray_fuzz::target(target).unwrap_or_else(|| panic!("no fuzz target {target:?}"));
    let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!(
        "replaying {} ({} bytes) through {target}",
        path.display(),
        data.len()
    );
    run(&data);
}

#[test]
fn seed_corpus_replays() {
    let _serial = serial();
    let mut count = 0;
    for (target, _) in ftarray_fuzz::TARGETS {
        let dir = root().join("corpus").join(target);
        let seeds: Vec<_> = files(&dir)
            .into_iter()
            .filter(|p| name(p).starts_with("seed-"))
            .collect();
        assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
        for p in seeds {
            replay(target, &p);
            count += 1;
        }
    }
    eprintln!("{count} seeds replayed");
}

#[test]
fn saved_crashes_replay() {
    let _serial = serial();
    let mut count = 0;
    for p in files(&root().join("regressions")) {
        let n = name(&p);
        if n == "README.md" || n.starts_with('.') {
            continue;
        }
        let (target, _) = n
            .split_once('-')
            .unwrap_or_else(|| panic!("regressions/{n}: name it <target>-<short-name>"));
        replay(target, &p);
        count += 1;
    }
    eprintln!("{count} saved crashes replayed");
}

#[test]
fn empty_and_tiny_inputs_are_fine() {
    let _serial = serial();
    for (_, run) in ftarray_fuzz::TARGETS {
        for data in [&[][..], &[0], &[1, 2], &[0xff; 3]] {
            run(data);
        }
    }
}
