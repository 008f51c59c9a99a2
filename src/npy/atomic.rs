//! Replacing a file so that no reader and no crash ever sees it half-written.
//!
//! [`write_atomically`]: a temporary file created beside the target, written, flushed and
//! fsynced, given the old file's permissions, renamed over the target with a replacing rename,
//! then the directory fsynced. On any error before the rename the temporary file is removed and
//! the target is untouched.
//!
//! The temporary file is made with `tempfile` (exclusive creation with a random name, removed
//! when dropped, `persist` = `rename` on Unix and `MoveFileExW(MOVEFILE_REPLACE_EXISTING)` on
//! Windows); `persist` syncs neither the contents nor the directory, so both syncs are done here.

use super::NpyError;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The end of every temporary file name.
const TEMP_SUFFIX: &str = ".ftarray-tmp";

/// Random alphanumeric characters in a temporary file name.
const RAND_LEN: usize = 6;

/// The target's directory and file name.
fn split(path: &Path) -> Result<(&Path, &OsStr), NpyError> {
    let name = path.file_name().ok_or_else(|| {
        NpyError::io(
            "save to",
            Some(path.to_path_buf()),
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        )
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// `.{name}.`: the temporary files of `name` are hidden on Unix and sort beside each other.
fn temp_prefix(name: &OsStr) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    prefix
}

/// Whether `candidate` is the name of a temporary file made for a target named `name`:
/// `.{name}.XXXXXX.ftarray-tmp`, with `XXXXXX` six ASCII letters or digits.
fn is_temp_name(candidate: &OsStr, name: &OsStr) -> bool {
    let prefix = temp_prefix(name);
    let (c, p) = (candidate.as_encoded_bytes(), prefix.as_encoded_bytes());
    let Some(rest) = c.strip_prefix(p) else {
        return false;
    };
    let Some(random) = rest.strip_suffix(TEMP_SUFFIX.as_bytes()) else {
        return false;
    };
    random.len() == RAND_LEN && random.iter().all(u8::is_ascii_alphanumeric)
}

/// Replaces the file at `path` with one holding `parts`, one after another, atomically.
pub(crate) fn write_atomically(path: &Path, parts: &[&[u8]]) -> Result<(), NpyError> {
    write_atomically_with(path, |file| {
        for part in parts {
            file.write_all(part)?;
        }
        Ok(())
    })
}

/// [`write_atomically`] with the contents written by `write`.
pub(crate) fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), NpyError> {
    let (dir, name) = split(path)?;
    let prefix = temp_prefix(name);
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
        .rand_bytes(RAND_LEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // As `File::create` does: 0o666 less the umask (tempfile's default is 0o600).
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let target = || Some(path.to_path_buf());
    // From here on, every early return drops `tmp`, which removes the temporary file.
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| NpyError::io("create a temporary file in", Some(dir.into()), e))?;
    write(tmp.as_file_mut()).map_err(|e| NpyError::io("write", target(), e))?;
    tmp.as_file_mut()
        .flush()
        .map_err(|e| NpyError::io("write", target(), e))?;
    // A replaced file keeps its permissions, as when it is rewritten in place.
    match fs::metadata(path) {
        Ok(old) if old.is_file() => tmp
            .as_file()
            .set_permissions(old.permissions())
            .map_err(|e| NpyError::io("copy the permissions of", target(), e))?,
        _ => {}
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| NpyError::io("sync the new contents of", target(), e))?;
    if let Err(e) = tmp.persist(path) {
        // `e.file` is the temporary file, still there: dropping it removes it.
        drop(e.file);
        return Err(NpyError::io(
            "rename the temporary file onto",
            target(),
            e.error,
        ));
    }
    // The new name is in place; make the rename itself durable.
    sync_dir(dir).map_err(|e| NpyError::io("sync the directory", Some(dir.into()), e))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Windows cannot open a directory for syncing through std; NTFS journals the rename.
    Ok(())
}

/// The temporary files that saves to `path` left behind when their process was killed
/// mid-save, sorted: the names `.{name}.XXXXXX.ftarray-tmp` in the target's directory.
///
/// A save that returns, successfully or with an error, removes its temporary file; only a save
/// whose process died (SIGKILL, power loss, abort) leaves one, at most one per killed save.
///
/// # Errors
///
/// If the directory cannot be listed.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("a.npy");
/// ftarray::FtArray::from_slice(&[1u8]).save_npy(&path).unwrap();
/// assert!(ftarray::npy::stale_temp_files(&path).unwrap().is_empty());
/// ```
pub fn stale_temp_files(path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let path = path.as_ref();
    let (dir, name) = split(path).map_err(|e| match e {
        NpyError::Io { source, .. } => source,
        other => io::Error::other(other.to_string()),
    })?;
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if is_temp_name(&entry.file_name(), name) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

/// Removes the temporary files of killed saves to `path` (see [`stale_temp_files`]) and returns
/// their paths.
///
/// Call it when no other process may be saving to `path` at that moment (at start-up, or under
/// the application's own lock): a temporary file being written by a live save looks the same,
/// and removing it makes that save fail with an error (never a damaged target).
///
/// # Errors
///
/// If the directory cannot be listed or a file cannot be removed (one already gone is fine).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("a.npy");
/// // What a save killed before its rename leaves behind:
/// std::fs::write(dir.path().join(".a.npy.Xy12Zq.ftarray-tmp"), b"partial").unwrap();
/// let removed = ftarray::npy::remove_stale_temp_files(&path).unwrap();
/// assert_eq!(removed.len(), 1);
/// assert!(ftarray::npy::stale_temp_files(&path).unwrap().is_empty());
/// ```
pub fn remove_stale_temp_files(path: impl AsRef<Path>) -> io::Result<Vec<PathBuf>> {
    let found = stale_temp_files(&path)?;
    let mut removed = Vec::with_capacity(found.len());
    for p in found {
        match fs::remove_file(&p) {
            Ok(()) => removed.push(p),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if !removed.is_empty() {
        let (dir, _) = split(path.as_ref()).map_err(|e| io::Error::other(e.to_string()))?;
        sync_dir(dir)?;
    }
    Ok(removed)
}

// Miri isolates the file system; these tests need a real one.
#[cfg(all(test, not(loom), not(miri)))]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn temp_names_match_only_their_own_pattern() {
        let n = OsStr::new("a.npy");
        assert!(is_temp_name(OsStr::new(".a.npy.Ab3dE9.ftarray-tmp"), n));
        for other in [
            "a.npy",
            ".a.npy.Ab3dE9",
            ".a.npy.Ab3dE.ftarray-tmp",
            ".a.npy.Ab3dE99.ftarray-tmp",
            ".a.npy.Ab-dE9.ftarray-tmp",
            ".b.npy.Ab3dE9.ftarray-tmp",
            ".a.npyx.Ab3dE9.ftarray-tmp",
            ".a.npy.Ab3dE9.ftarray-tmp.bak",
        ] {
            assert!(!is_temp_name(OsStr::new(other), n), "{other}");
        }
    }

    #[test]
    fn the_temporary_file_is_named_as_documented_and_gone_after_success() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let mut seen = Vec::new();
        write_atomically_with(&path, |f| {
            seen = names(dir.path());
            f.write_all(b"new")
        })
        .unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert!(
            is_temp_name(OsStr::new(&seen[0]), OsStr::new("x.npy")),
            "{seen:?}"
        );
        assert_eq!(names(dir.path()), ["x.npy"]);
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_failed_write_removes_the_temporary_file_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        fs::write(&path, b"old contents").unwrap();
        let err = write_atomically_with(&path, |f| {
            f.write_all(b"half of the new")?;
            Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "disk full (simulated)",
            ))
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("could not write "), "{err}");
        assert!(err.to_string().ends_with("disk full (simulated)"), "{err}");
        assert_eq!(names(dir.path()), ["x.npy"]);
        assert_eq!(fs::read(&path).unwrap(), b"old contents");
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file_and_keeps_the_target() {
        // The target is a non-empty directory: the rename fails after the file is written and
        // synced (where atomic-write-file 0.3 leaves its temporary file behind).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"keep").unwrap();
        let err = write_atomically(&path, &[b"data"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("could not rename the temporary file onto "),
            "{err}"
        );
        assert_eq!(names(dir.path()), ["x.npy"]);
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"keep");
    }

    #[test]
    fn a_missing_directory_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("x.npy");
        let err = write_atomically(&path, &[b"data"]).unwrap_err();
        assert!(err.is_io());
        assert!(
            err.to_string()
                .starts_with("could not create a temporary file in "),
            "{err}"
        );
        assert!(err.to_string().contains("missing"), "{err}");
    }

    #[test]
    fn a_path_without_a_file_name_is_refused() {
        let err = write_atomically(Path::new("/"), &[b"x"]).unwrap_err();
        assert!(err.to_string().contains("the path names no file"), "{err}");
        let err = write_atomically(Path::new("dir/.."), &[b"x"]).unwrap_err();
        assert!(err.is_io());
    }

    #[cfg(unix)]
    #[test]
    fn permissions_follow_the_old_file_or_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        write_atomically(&path, &[b"1"]).unwrap();
        let fresh = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // Not tempfile's private 0o600: the umask decides, as for File::create.
        let reference = dir.path().join("reference");
        File::create(&reference).unwrap();
        let want = fs::metadata(&reference).unwrap().permissions().mode() & 0o777;
        assert_eq!(fresh, want);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&path, &[b"2"]).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    #[test]
    fn cleanup_removes_only_temporary_files_of_that_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        for f in [
            "x.npy",
            ".x.npy.aaaaaa.ftarray-tmp",
            ".x.npy.B2c3D4.ftarray-tmp",
            ".y.npy.aaaaaa.ftarray-tmp",
            ".x.npy.backup",
        ] {
            fs::write(dir.path().join(f), b"").unwrap();
        }
        let stale = stale_temp_files(&path).unwrap();
        assert_eq!(stale.len(), 2);
        assert_eq!(remove_stale_temp_files(&path).unwrap(), stale);
        assert_eq!(
            names(dir.path()),
            [".x.npy.backup", ".y.npy.aaaaaa.ftarray-tmp", "x.npy"]
        );
        assert!(remove_stale_temp_files(&path).unwrap().is_empty());
    }
}
