//! Atomic saves across processes: a saving process killed with SIGKILL at random moments, and
//! reader processes loading while another process saves, against a control that writes in
//! place (the `.pyc` bug: readers of a file rewritten in place see it half-written).
//!
//! The child processes are this test binary run again with `FTARRAY_NPY_CHILD` set (see
//! [`npy_child`]). Every saved array is a *version*: version `k` has `len(k)` elements and
//! element `i` is `k << 32 | i`, so a file holding anything but one complete version (a torn
//! write, a mix of two saves, a shifted copy) is detected element by element.
//!
//! Environment: `FTARRAY_NPY_CRASH_TRIALS` (default 40 in debug builds, 200 in release) kills; `FTARRAY_NPY_READ_MS` (default
//! 1500) milliseconds per reader phase. `--nocapture` prints the figures.

// Child processes and a real file system: neither exists under Miri.
#![cfg(all(unix, not(miri)))]

use ftarray::FtArray;
use ftarray::npy::{NpyError, remove_stale_temp_files, stale_temp_files};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The crash test's arrays: 2 MiB and more (several write calls, one long fsync); 256 KiB in
/// debug builds, where building each version would otherwise take longer than saving it, and
/// few kills would land inside a save.
const CRASH_BASE: usize = if cfg!(debug_assertions) {
    1 << 15
} else {
    1 << 18
};

/// The reader test's arrays: 256 KiB and more, so that readers load many times a second.
const READ_BASE: usize = 1 << 15;

/// Version `k` has `base` elements plus up to 4095 more, so consecutive versions differ in
/// length as well as contents.
fn len_of(k: u64, base: usize) -> usize {
    base + (k.wrapping_mul(2_654_435_761) % 4096) as usize
}

fn version(k: u64, base: usize) -> Vec<u64> {
    (0..len_of(k, base) as u64).map(|i| k << 32 | i).collect()
}

/// The version `v` is, if it is exactly one complete version of arrays with `base`.
fn check_version(v: &[u64], base: usize) -> Result<u64, String> {
    let Some(&first) = v.first() else {
        return Err("empty array".into());
    };
    let k = first >> 32;
    if v.len() != len_of(k, base) {
        return Err(format!(
            "version {k} with {} elements, not {}",
            v.len(),
            len_of(k, base)
        ));
    }
    match v
        .iter()
        .enumerate()
        .find(|&(i, &x)| x != k << 32 | i as u64)
    {
        Some((i, &x)) => Err(format!(
            "version {k}: element {i} is {x:#x} (version {}, index {})",
            x >> 32,
            x & 0xffff_ffff
        )),
        None => Ok(k),
    }
}

/// Loads `path` and checks it is one complete version.
fn load_version(path: &Path, base: usize) -> Result<u64, String> {
    let a = FtArray::<u64>::load_npy(path).map_err(|e: NpyError| e.to_string())?;
    check_version(&a.to_vec(), base)
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random numbers for the kill times.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// This test binary, running only [`npy_child`] in `mode` with `arg`.
fn spawn_child(mode: &str, arg: &str) -> Child {
    Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", "npy_child", "--nocapture", "--test-threads=1"])
        .env("FTARRAY_NPY_CHILD", format!("{mode}:{arg}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn a child test process")
}

// ---------------------------------------------------------------------------------------------
// Child modes
// ---------------------------------------------------------------------------------------------

/// Saves versions `k, k+1, …` of one array to `path` forever, `k` one past the file's version.
/// Prints `saving version K` once the array is built, so the parent kills during saves, not start-up.
fn saver(path: &Path) -> ! {
    let mut k = load_version(path, CRASH_BASE).expect("the parent leaves a valid file") + 1;
    let a = FtArray::from_slice(&version(k, CRASH_BASE));
    println!("saving version {k}");
    loop {
        a.update(|v| *v = version(k, CRASH_BASE))
            .expect("no export is held");
        a.save_npy(path).expect("save");
        k += 1;
    }
}

/// Loads `path` in a loop for `ms` milliseconds; prints
/// `loads N errors E mixed M versions V first-problem ...`.
fn reader(path: &Path, ms: u64) {
    let end = Instant::now() + Duration::from_millis(ms);
    let (mut loads, mut errors, mut mixed) = (0u64, 0u64, 0u64);
    let mut versions = std::collections::BTreeSet::new();
    let mut first_problem = String::from("none");
    // Errors by kind: empty file, truncated header, truncated data, anything else.
    let mut kinds = [0u64; 4];
    while Instant::now() < end {
        loads += 1;
        match FtArray::<u64>::load_npy(path) {
            Err(e) => {
                errors += 1;
                kinds[match e {
                    NpyError::BadMagic { ref found } if found.is_empty() => 0,
                    NpyError::TruncatedHeader { .. } => 1,
                    NpyError::TruncatedData { .. } => 2,
                    _ => 3,
                }] += 1;
                if first_problem == "none" {
                    first_problem = e.to_string();
                }
            }
            Ok(a) => match check_version(&a.to_vec(), READ_BASE) {
                Ok(k) => {
                    versions.insert(k);
                }
                Err(why) => {
                    mixed += 1;
                    if first_problem == "none" {
                        first_problem = why;
                    }
                }
            },
        }
    }
    println!(
        "loads {loads} errors {errors} mixed {mixed} versions {} kinds \
         empty:{},truncated-header:{},truncated-data:{},other:{} first-problem {first_problem}",
        versions.len(),
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3],
    );
}

/// Child entry point: with `FTARRAY_NPY_CHILD=saver:PATH` or `reader:MS:PATH`, runs that mode.
/// Without it (an ordinary test run), checks the same invariant in one process: a saver thread
/// and two reader threads for 300 ms.
#[test]
fn npy_child() {
    if let Ok(spec) = std::env::var("FTARRAY_NPY_CHILD") {
        match spec.split_once(':') {
            Some(("saver", path)) => saver(Path::new(path)),
            Some(("reader", rest)) => {
                let (ms, path) = rest.split_once(':').expect("reader:MS:PATH");
                reader(Path::new(path), ms.parse().expect("milliseconds"));
            }
            _ => panic!("bad FTARRAY_NPY_CHILD={spec:?}"),
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.npy");
    FtArray::from_slice(&version(0, READ_BASE))
        .save_npy(&path)
        .unwrap();
    let end = Instant::now() + Duration::from_millis(300);
    std::thread::scope(|s| {
        let path = &path;
        s.spawn(move || {
            let mut k = 1;
            while Instant::now() < end {
                FtArray::from_slice(&version(k, READ_BASE))
                    .save_npy(path)
                    .unwrap();
                k += 1;
            }
        });
        for _ in 0..2 {
            s.spawn(move || {
                let mut last = 0;
                while Instant::now() < end {
                    let k = load_version(path, READ_BASE).unwrap();
                    assert!(k >= last, "went back from version {last} to {k}");
                    last = k;
                }
            });
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The crash test
// ---------------------------------------------------------------------------------------------

#[test]
fn a_save_killed_at_any_moment_leaves_one_complete_version() {
    // Debug builds spend most of each cycle outside the save; fewer trials keep them quick.
    let default_trials = if cfg!(debug_assertions) { 40 } else { 200 };
    let trials = env_num("FTARRAY_NPY_CRASH_TRIALS", default_trials);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.npy");
    // How long one save takes here (build type, disk, load): kills are spread over two.
    let a = FtArray::from_slice(&version(0, CRASH_BASE));
    let t = Instant::now();
    for _ in 0..3 {
        a.save_npy(&path).unwrap();
    }
    let save_us = (t.elapsed().as_micros() / 3).max(1) as u64;
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut last, mut advanced, mut left_temp) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    for trial in 0..trials {
        let mut child = spawn_child("saver", path.to_str().unwrap());
        // The test harness prints its own text first, and `test npy_child ... ` on our line.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("saving version ") {
            line.clear();
            let n = out.read_line(&mut line).unwrap();
            assert!(n > 0, "trial {trial}: the saver exited before saving");
        }
        // A random moment within its first two saves.
        std::thread::sleep(Duration::from_micros(rng.below(2 * save_us)));
        child.kill().expect("SIGKILL the saver");
        child.wait().unwrap();

        let stale = stale_temp_files(&path).unwrap();
        assert!(
            stale.len() <= 1,
            "trial {trial}: {} temporary files: {stale:?}",
            stale.len()
        );
        left_temp += stale.len() as u64;
        let k = load_version(&path, CRASH_BASE)
            .unwrap_or_else(|e| panic!("trial {trial}: after the kill the file is bad: {e}"));
        assert!(
            k >= last,
            "trial {trial}: went back from version {last} to {k}"
        );
        advanced += u64::from(k > last);
        last = k;

        assert_eq!(remove_stale_temp_files(&path).unwrap(), stale);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            ["crash.npy"],
            "trial {trial}: the directory after cleanup"
        );
    }
    println!(
        "crash test: {trials} SIGKILLs in {:.1} s (one save of {} KiB takes ~{} ms here; kills \
         at random within 2 saves); after every kill the file held one complete version; \
         {advanced} kills came after the child had completed a save, {left_temp} interrupted a \
         save before its rename and left exactly one temporary file (removed by \
         remove_stale_temp_files); final version {last}",
        started.elapsed().as_secs_f64(),
        CRASH_BASE * 8 / 1024,
        save_us / 1000,
    );
    assert!(advanced > 0, "no save ever completed before a kill");
    assert!(
        left_temp > 0,
        "no kill landed inside a save: the test did not exercise a crash mid-save"
    );
}

// ---------------------------------------------------------------------------------------------
// Readers in other processes
// ---------------------------------------------------------------------------------------------

/// Per reader: (loads, errors, mixed, distinct versions, errors by kind, first problem).
type ReaderReport = (u64, u64, u64, u64, String, String);

fn parse_report(out: &str) -> ReaderReport {
    // The harness may print `test npy_child ... ` before the report on the same line.
    let line = out
        .lines()
        .find_map(|l| l.find("loads ").map(|at| &l[at..]))
        .unwrap_or_else(|| panic!("no report in {out:?}"));
    let w: Vec<&str> = line.splitn(12, ' ').collect();
    let n = |i: usize| w[i].parse::<u64>().unwrap();
    (n(1), n(3), n(5), n(7), w[9].to_owned(), w[11].to_owned())
}

/// Runs `readers` reader processes on `path` while this process calls `write(k)` for
/// k = 1, 2, … until they finish; returns their reports and the number of writes.
fn readers_during(
    path: &Path,
    readers: usize,
    ms: u64,
    mut write: impl FnMut(u64),
) -> (Vec<ReaderReport>, u64) {
    let arg = format!("{ms}:{}", path.display());
    let mut children: Vec<Child> = (0..readers).map(|_| spawn_child("reader", &arg)).collect();
    let mut k = 0;
    while children
        .iter_mut()
        .any(|c| c.try_wait().expect("poll a reader").is_none())
    {
        k += 1;
        write(k);
    }
    let reports = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "a reader process failed");
            parse_report(&String::from_utf8_lossy(&out.stdout))
        })
        .collect();
    (reports, k)
}

#[test]
fn readers_in_other_processes_never_see_a_partial_save() {
    let ms = env_num("FTARRAY_NPY_READ_MS", 1500);
    let dir = tempfile::tempdir().unwrap();
    // Eight versions, encoded once, so the writers spend their time writing.
    let files: Vec<Vec<u8>> = (1..=8)
        .map(|k| {
            let mut bytes = Vec::new();
            FtArray::from_slice(&version(k, READ_BASE))
                .write_npy(&mut bytes)
                .unwrap();
            bytes
        })
        .collect();
    let arrays: Vec<FtArray<u64>> = (1..=8)
        .map(|k| FtArray::from_slice(&version(k, READ_BASE)))
        .collect();

    // The defect, reproduced: a writer that rewrites the file in place, 64 KiB at a time.
    let in_place = dir.path().join("in_place.npy");
    arrays[0].save_npy(&in_place).unwrap();
    let (control, control_writes) = readers_during(&in_place, 3, ms, |k| {
        let mut f = std::fs::File::create(&in_place).unwrap();
        for chunk in files[k as usize % 8].chunks(64 * 1024) {
            f.write_all(chunk).unwrap();
        }
    });

    // And defeated: the same versions saved with save_npy.
    let atomic = dir.path().join("atomic.npy");
    arrays[0].save_npy(&atomic).unwrap();
    let (reports, writes) = readers_during(&atomic, 3, ms, |k| {
        arrays[k as usize % 8].save_npy(&atomic).unwrap();
    });

    let sum = |r: &[ReaderReport], f: fn(&ReaderReport) -> u64| r.iter().map(f).sum::<u64>();
    println!(
        "in-place writes ({control_writes} in {ms} ms), 3 reader processes: {} loads, {} errors, \
         {} mixed versions; errors by reader: {}",
        sum(&control, |r| r.0),
        sum(&control, |r| r.1),
        sum(&control, |r| r.2),
        control
            .iter()
            .map(|r| r.4.as_str())
            .collect::<Vec<_>>()
            .join(" / "),
    );
    println!(
        "save_npy ({writes} saves in {ms} ms), 3 reader processes: {} loads, {} errors, {} mixed \
         versions, {} distinct versions seen per reader",
        sum(&reports, |r| r.0),
        sum(&reports, |r| r.1),
        sum(&reports, |r| r.2),
        reports
            .iter()
            .map(|r| r.3.to_string())
            .collect::<Vec<_>>()
            .join("/"),
    );
    assert!(
        sum(&control, |r| r.1 + r.2) > 0,
        "the control never caught a half-written file: the readers cannot detect one"
    );
    for (i, r) in reports.iter().enumerate() {
        assert_eq!((r.1, r.2), (0, 0), "reader {i} saw a bad file: {}", r.5);
        assert!(r.0 > 0, "reader {i} loaded nothing");
        assert!(
            r.3 > 1,
            "reader {i} saw only one version: the saves did not overlap"
        );
    }
}
