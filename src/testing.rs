//! Helpers for the unit tests that run their own test binary again in a child process: to see
//! it abort, or to measure process-wide state with no other test running.

use std::process::{Command, ExitStatus, Stdio};

/// The `--exact` name of test `$name` of the module where the macro is written (its
/// `module_path!()` without the crate's name). A child told a wrong name would run no test at
/// all and exit successfully, so the name is never written out by hand.
macro_rules! test_path {
    ($name:expr) => {
        $crate::testing::exact_name(module_path!(), $name)
    };
}
pub(crate) use test_path;

/// `module` (a `module_path!()`) without the crate's name, then `::name`.
pub(crate) fn exact_name(module: &str, name: &str) -> String {
    let module = module.split_once("::").map_or("", |(_, m)| m);
    format!("{module}::{name}")
}

/// Runs test `name` of this binary alone in a child process with the environment variables
/// `vars` set, its standard output discarded (and its standard error too when `quiet`: a
/// child expected to panic), and returns its exit status.
pub(crate) fn run_child(name: &str, vars: &[(&str, &str)], quiet: bool) -> ExitStatus {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", name, "--test-threads=1"])
        .stdout(Stdio::null());
    if quiet {
        child.stderr(Stdio::null());
    }
    for (var, value) in vars {
        child.env(var, value);
    }
    child.status().unwrap()
}

/// Runs test `name` in a child with `var=value` (see [`run_child`]) and asserts that the child
/// was killed by `SIGABRT` (an abort ends the process, so it cannot be observed in this one).
pub(crate) fn assert_child_aborts(name: &str, var: &str, value: &str) {
    let status = run_child(name, &[(var, value)], true);
    assert!(!status.success(), "the child exited normally: no abort");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(6), "SIGABRT, got {status:?}");
    }
}
