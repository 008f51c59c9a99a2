//! Saving and loading arrays as NumPy `.npy` files, atomically.
//!
//! ```
//! use ftarray::FtArray;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("samples.npy");
//!
//! let a = FtArray::from_slice(&[0.5f64, 1.5, -2.0]);
//! a.save_npy(&path).unwrap(); // numpy.load(path) gives array([ 0.5,  1.5, -2. ])
//! let b = FtArray::<f64>::load_npy(&path).unwrap();
//! assert_eq!(b, a);
//! ```
//!
//! # Format
//!
//! Saves write format 1.0 exactly as `numpy.save` does for a 1-D array: the same header text and
//! spacing, padded so the data starts at byte 128 (a multiple of 64), then the elements in native
//! byte order. A file saved here is byte-for-byte the file `numpy.save` writes for the same
//! array (checked against numpy by `tests/npy_interop.py`). Loads read formats 1.0, 2.0 and 3.0,
//! in little- or big-endian byte order (converted on load), of the ten element types
//! (`'|i1' '|u1'` and `'<'`/`'>'` with `i2 u2 i4 u4 i8 u8 f4 f8`), 1-D (or 0-d, shape `()`, which
//! is one element, as in numpy) and C order.
//!
//! # What a load checks
//!
//! Before anything the size of the header's claims is allocated, in this order:
//!
//! 1. the magic string `\x93NUMPY` ([`NpyError::BadMagic`]) and the version 1.0, 2.0 or 3.0
//!    ([`NpyError::UnsupportedVersion`]);
//! 2. the header length: at most [`MAX_HEADER_LEN`] = 10,000 bytes, numpy's default
//!    `max_header_size` ([`NpyError::HeaderTooLarge`]), and present in full
//!    ([`NpyError::TruncatedHeader`]);
//! 3. the header text, parsed strictly as the dictionary literal numpy writes, never evaluated:
//!    exactly the keys `descr`, `fortran_order` and `shape`, each once, in any order; a quoted
//!    type string, `True`/`False`, a tuple of plain decimal integers; spaces between tokens,
//!    then spaces and a final newline ([`NpyError::BadHeader`], with the byte offset and what
//!    was expected; the grammar is in `header.rs`);
//! 4. the meaning: a supported type ([`NpyError::UnsupportedDtype`]), C order
//!    ([`NpyError::FortranOrder`]), at most one dimension ([`NpyError::NotOneDimensional`]),
//!    and a byte size that fits in memory's address space ([`NpyError::TooLarge`]: a header
//!    claiming 2^60 `f64` stops here);
//! 5. for a file (or any input of known length), its length: exactly the header plus the data
//!    the header claims ([`NpyError::TruncatedData`], [`NpyError::TrailingData`], each naming the
//!    expected and actual byte counts). A claim of 2^60 bytes in a small file stops here, with
//!    nothing allocated; the array is then allocated once, at its final size.
//!
//! A stream of unknown length ([`FtArray::read_npy`]) is read in chunks of 64 KiB and the array
//! grows as they arrive, so a lying header costs no more memory than the stream actually holds.
//! The loader is fuzzed over arbitrary bytes (`fuzz/fuzz_targets/npy.rs`).
//!
//! ## Why a parser of our own
//!
//! We looked for a maintained crate that parses `.npy` headers this strictly and found none:
//!
//! * `ndarray-npy` parses the header as a general Python literal (`py_literal`), accepts the
//!   keys in any number (a repeated key overwrites silently), has no header size cap (a 2.0
//!   header's 4-byte length makes it allocate up to 4 GiB before parsing), and brings `ndarray`,
//!   which ftarray does not otherwise need;
//! * `npyz` parses a general literal with `nom` into a `HashMap` (duplicates merged silently),
//!   recursively (nesting depth bounded only by the header length), allocates the header length
//!   uncapped, and accepts any trailing whitespace or NUL bytes;
//! * `npy` (npy-rs), the crate `npyz` was forked from, has the same general parser, reads only
//!   version 1.0, parses `(4)` as a one-element tuple (a FIXME in its source), and is no longer
//!   developed.
//!
//! The header we need is a dictionary with three fixed keys and three simple value forms; a direct
//! parser for it is about 250 lines (`header.rs`), has no recursion, reads at most 10,012 bytes
//! before deciding, and names the byte where a bad header goes wrong.
//!
//! # Atomic saves
//!
//! [`FtArray::save_npy`] replaces the target so that a reader, in this process or another, sees
//! the old file or the new one in full, never a mix, and a crash at any instant leaves one of the
//! two (the `.pyc` lesson: CPython once wrote `.pyc` files in place, and a process importing
//! while another wrote read a truncated file):
//!
//! 1. one snapshot of the array is taken ([`FtArray::to_bytes`], a single instant even while
//!    other threads write; the save costs one copy of the data in memory);
//! 2. a temporary file is created, exclusively and with a random name, in the target's directory
//!    (so the rename cannot cross file systems);
//! 3. header and data are written, flushed, the old file's permissions copied (a new file gets
//!    `0o666` less the umask, as `File::create` does) and the file fsynced;
//! 4. it is renamed over the target: `rename(2)`, which replaces atomically on POSIX; on Windows
//!    `MoveFileExW` with `MOVEFILE_REPLACE_EXISTING`, where a plain rename would refuse;
//! 5. the directory is fsynced (Unix), so the rename itself survives a power loss.
//!
//! On any error the temporary file is removed and the target is left as it was.
//! The `atomic-write-file` crate does steps 2–5 too, but when its final sync or rename fails it
//! leaves its temporary file behind under a random name it does not return (checked with 0.3.1:
//! saving onto a directory leaves `.NAME.XXXXXX`); `tempfile` hands the file back on a failed
//! rename, so it is used here, with both syncs done explicitly.
//!
//! If the target is a symbolic link, the link itself is replaced by the new file.
//!
//! ## Temporary files of killed saves
//!
//! A save whose process is killed (SIGKILL, power loss) between steps 2 and 4 leaves its
//! temporary file: `.{name}.XXXXXX.ftarray-tmp` in the target's directory (`XXXXXX`: six ASCII
//! letters and digits), e.g. `.data.npy.k3Xz9Q.ftarray-tmp` for `data.npy`. It is never loaded
//! by mistake (a different name) and never more than one per killed save.
//! [`stale_temp_files`] lists them; [`remove_stale_temp_files`] removes them, to be called when
//! no other process is saving to the same target (a live save's file looks the same; removing
//! it makes that save fail with an error, never damage the target). A crash test
//! (`tests/npy_crash.rs`) kills a saving child process at random moments and checks all of this.

mod atomic;
mod dtype;
mod error;
mod header;
mod read;

pub use atomic::{remove_stale_temp_files, stale_temp_files};
pub use dtype::{ByteOrder, Dtype, ElementKind, NpyElement};
pub use error::NpyError;
pub use header::{MAGIC, MAX_HEADER_LEN, NpyHeader};
pub use read::NpyReader;

use crate::FtArray;
use std::io::{Read, Write};
use std::path::Path;

impl<T: NpyElement> FtArray<T> {
    /// Saves the array to `path` as a `.npy` file, atomically (see the [module
    /// docs](crate::npy#atomic-saves)): the file holds one snapshot of the array, and readers
    /// and crashes see either the old file or the new one in full.
    ///
    /// # Errors
    ///
    /// [`NpyError::Io`] if the temporary file cannot be created, written, synced or renamed
    /// (the target is then unchanged and the temporary file removed), or if the directory
    /// cannot be synced after the rename (the new file is then in place).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("counts.npy");
    /// let a = ftarray::FtArray::from_slice(&[1u32, 2, 3]);
    /// a.save_npy(&path).unwrap();
    /// assert_eq!(std::fs::metadata(&path).unwrap().len(), 128 + 3 * 4);
    /// ```
    pub fn save_npy(&self, path: impl AsRef<Path>) -> Result<(), NpyError> {
        let data = self.to_bytes();
        let header = NpyHeader::encode(const { Dtype::of::<T>() }, data.len() / size_of::<T>());
        atomic::write_atomically(path.as_ref(), &[&header, &data])
    }

    /// Writes the array in `.npy` format to `writer`, from one snapshot.
    ///
    /// Not atomic on its own (the writer receives the bytes as they come); use
    /// [`save_npy`](Self::save_npy) for files.
    ///
    /// # Errors
    ///
    /// [`NpyError::Io`] if the writer fails.
    ///
    /// ```
    /// let mut bytes = Vec::new();
    /// ftarray::FtArray::from_slice(&[1u8, 2]).write_npy(&mut bytes).unwrap();
    /// assert_eq!(&bytes[..6], b"\x93NUMPY");
    /// assert_eq!(&bytes[128..], [1, 2]);
    /// ```
    pub fn write_npy(&self, mut writer: impl Write) -> Result<(), NpyError> {
        let data = self.to_bytes();
        let header = NpyHeader::encode(const { Dtype::of::<T>() }, data.len() / size_of::<T>());
        writer
            .write_all(&header)
            .and_then(|()| writer.write_all(&data))
            .and_then(|()| writer.flush())
            .map_err(|e| NpyError::io("write", None, e))
    }

    /// Loads a `.npy` file holding a 1-D (or 0-d) C-order array of `T`, in either byte order.
    ///
    /// Everything is validated before the array is allocated (see the [module
    /// docs](crate::npy#what-a-load-checks)); the file must be exactly the header and the data
    /// it describes. To pick the element type from the file, use [`NpyReader`].
    ///
    /// # Errors
    ///
    /// [`NpyError::Io`] if the file cannot be opened or read; another variant, with a message
    /// saying what is wrong, for any file that is not such an array (wrong type:
    /// [`NpyError::DtypeMismatch`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("x.npy");
    /// ftarray::FtArray::from_slice(&[-1i64, 7]).save_npy(&path).unwrap();
    /// let a = ftarray::FtArray::<i64>::load_npy(&path).unwrap();
    /// assert_eq!(a.to_vec(), [-1, 7]);
    /// let err = ftarray::FtArray::<f64>::load_npy(&path).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "dtype mismatch: the file holds '<i8' (int64) but the array's element type is float64"
    /// );
    /// ```
    pub fn load_npy(path: impl AsRef<Path>) -> Result<Self, NpyError> {
        NpyReader::open(path)?.into_array()
    }

    /// Reads one `.npy` array from `reader`, leaving any bytes after it unread.
    ///
    /// The data is read in 64 KiB chunks and the array grows as they arrive, so a header that
    /// claims more than the stream holds allocates no more than the stream's contents.
    ///
    /// # Errors
    ///
    /// As [`load_npy`](Self::load_npy), except that bytes after the data are not an error.
    ///
    /// ```
    /// let mut stream = Vec::new();
    /// ftarray::FtArray::from_slice(&[1u16]).write_npy(&mut stream).unwrap();
    /// ftarray::FtArray::from_slice(&[2u16, 3]).write_npy(&mut stream).unwrap();
    /// let mut r = &stream[..];
    /// assert_eq!(ftarray::FtArray::<u16>::read_npy(&mut r).unwrap().to_vec(), [1]);
    /// assert_eq!(ftarray::FtArray::<u16>::read_npy(&mut r).unwrap().to_vec(), [2, 3]);
    /// ```
    pub fn read_npy(reader: impl Read) -> Result<Self, NpyError> {
        NpyReader::new(reader)?.into_array()
    }
}
