//! Loading: a validated header first, then the data in bounded chunks.

use super::header::read_full;
use super::{Dtype, NpyElement, NpyError, NpyHeader};
use crate::FtArray;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Bytes read per step: a multiple of every element size, small enough that a stream whose
/// header claims more than it holds costs at most this much before the shortfall shows.
const CHUNK: usize = 64 * 1024;

/// A `.npy` file whose header has been read and validated, positioned at its data.
///
/// Opening validates everything the header can be checked for (see the [module
/// docs](super#what-a-load-checks)); the data is then read by
/// [`into_array`](Self::into_array) for an element type chosen by the caller, typically after
/// looking at [`header().dtype()`](NpyHeader::dtype). This two-step form is what a loader that
/// picks the element type from the file is built on:
///
/// ```
/// use ftarray::FtArray;
/// use ftarray::npy::{ElementKind, NpyError, NpyReader};
///
/// enum AnyArray {
///     I32(FtArray<i32>),
///     F64(FtArray<f64>),
///     // … one variant per element type
/// }
///
/// fn load_any(bytes: &[u8]) -> Result<AnyArray, NpyError> {
///     let reader = NpyReader::new(bytes)?;
///     let dtype = reader.header().dtype();
///     Ok(match (dtype.kind(), dtype.size()) {
///         (ElementKind::Int, 4) => AnyArray::I32(reader.into_array()?),
///         (ElementKind::Float, 8) => AnyArray::F64(reader.into_array()?),
///         _ => unimplemented!("the other eight types"),
///     })
/// }
///
/// let mut file = Vec::new();
/// FtArray::from_slice(&[1.5f64, 2.5]).write_npy(&mut file).unwrap();
/// assert!(matches!(load_any(&file), Ok(AnyArray::F64(a)) if a.to_vec() == [1.5, 2.5]));
/// ```
#[derive(Debug)]
pub struct NpyReader<R> {
    inner: R,
    header: NpyHeader,
    /// The input's total length was known and matched the header: the element count is real,
    /// so the array can be allocated at its final size up front.
    length_checked: bool,
    /// For messages.
    path: Option<PathBuf>,
}

impl NpyReader<File> {
    /// Opens the file at `path` and validates its header and its length.
    ///
    /// The file must hold exactly the header and the data it describes: a shorter file is
    /// [`TruncatedData`](NpyError::TruncatedData), a longer one
    /// [`TrailingData`](NpyError::TrailingData), both found before anything is allocated.
    ///
    /// # Errors
    ///
    /// [`NpyError::Io`] if the file cannot be opened or read; any other variant for a file that
    /// is not a 1-D C-order `.npy` array of a supported type.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("a.npy");
    /// ftarray::FtArray::from_slice(&[7i8]).save_npy(&path).unwrap();
    /// let r = ftarray::npy::NpyReader::open(&path).unwrap();
    /// assert_eq!(r.header().dtype().name(), "int8");
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, NpyError> {
        let path = path.as_ref();
        let with_path = |e: NpyError| match e {
            NpyError::Io {
                path: None,
                action,
                source,
            } => NpyError::io(action, Some(path.to_path_buf()), source),
            e => e,
        };
        let file = File::open(path).map_err(|e| NpyError::io("open", Some(path.into()), e))?;
        let len = file
            .metadata()
            .map_err(|e| NpyError::io("read the length of", Some(path.into()), e))?
            .len();
        let mut reader = NpyReader::with_len(file, len).map_err(with_path)?;
        reader.path = Some(path.to_path_buf());
        Ok(reader)
    }
}

impl<R: Read> NpyReader<R> {
    /// Reads and validates the header from a stream of unknown length.
    ///
    /// The data is then read in chunks of 64 KiB and the array grows as they arrive, so a
    /// header that claims more than the stream holds costs no more memory than the stream's
    /// actual contents before [`TruncatedData`](NpyError::TruncatedData) is reported. Bytes
    /// after the data are left unread (several arrays may be written one after another to one
    /// stream, as with numpy).
    ///
    /// # Errors
    ///
    /// As [`open`](NpyReader::open), except that trailing bytes are not an error.
    ///
    /// ```
    /// let mut bytes = Vec::new();
    /// ftarray::FtArray::from_slice(&[1u32, 2]).write_npy(&mut bytes).unwrap();
    /// let r = ftarray::npy::NpyReader::new(&bytes[..]).unwrap();
    /// assert_eq!(r.header().len(), 2);
    /// ```
    pub fn new(mut inner: R) -> Result<Self, NpyError> {
        let header = NpyHeader::read_from(&mut inner, None)?;
        Ok(NpyReader {
            inner,
            header,
            length_checked: false,
            path: None,
        })
    }

    /// Reads and validates the header from an input known to hold exactly `len` bytes (a file,
    /// a byte slice): the header's claims are checked against `len` before any data is read,
    /// as [`open`](NpyReader::open) does.
    ///
    /// # Errors
    ///
    /// As [`open`](NpyReader::open).
    ///
    /// ```
    /// let mut bytes = Vec::new();
    /// ftarray::FtArray::from_slice(&[1u32, 2]).write_npy(&mut bytes).unwrap();
    /// let short = &bytes[..bytes.len() - 1];
    /// let err = ftarray::npy::NpyReader::with_len(short, short.len() as u64).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "truncated data: the header claims 8 bytes of data but the file has 7"
    /// );
    /// ```
    pub fn with_len(mut inner: R, len: u64) -> Result<Self, NpyError> {
        let header = NpyHeader::read_from(&mut inner, Some(len))?;
        Ok(NpyReader {
            inner,
            header,
            length_checked: true,
            path: None,
        })
    }

    /// The validated header.
    pub fn header(&self) -> &NpyHeader {
        &self.header
    }

    /// Reads the data into a new array of `T`, converting from the file's byte order.
    ///
    /// # Errors
    ///
    /// [`DtypeMismatch`](NpyError::DtypeMismatch) if the file's type is not `T`'s (nothing is
    /// read); [`TruncatedData`](NpyError::TruncatedData) if the input ends early;
    /// [`Io`](NpyError::Io) if reading fails; [`Alloc`](NpyError::Alloc) if the array cannot be
    /// allocated.
    ///
    /// ```
    /// let mut bytes = Vec::new();
    /// ftarray::FtArray::from_slice(&[1u32, 2]).write_npy(&mut bytes).unwrap();
    /// let r = ftarray::npy::NpyReader::new(&bytes[..]).unwrap();
    /// assert_eq!(r.into_array::<u32>().unwrap().to_vec(), [1, 2]);
    /// let r = ftarray::npy::NpyReader::new(&bytes[..]).unwrap();
    /// assert!(r.into_array::<i32>().is_err());
    /// ```
    pub fn into_array<T: NpyElement>(self) -> Result<FtArray<T>, NpyError> {
        let expected = const { Dtype::of::<T>() };
        let found = self.header.dtype();
        if !found.same_type(&expected) {
            return Err(NpyError::DtypeMismatch { found, expected });
        }
        let array = if self.length_checked {
            // The file holds all `len` elements: allocate once, at the final size.
            FtArray::try_with_capacity(self.header.len()).map_err(NpyError::Alloc)?
        } else {
            FtArray::new()
        };
        self.read_chunks(|chunk| {
            // The chunk buffer is 8-aligned and a whole number of elements; an element's
            // alignment divides its size, which is at most 8.
            let values: &[T] = bytemuck::cast_slice(chunk);
            array.try_extend_from_slice(values).map_err(NpyError::Alloc)
        })?;
        Ok(array)
    }

    /// Reads the data as bytes in native byte order (what
    /// [`FtArray::extend_from_bytes`] takes), whatever the element type.
    ///
    /// # Errors
    ///
    /// As [`into_array`](Self::into_array), without the type check.
    ///
    /// ```
    /// let mut bytes = Vec::new();
    /// ftarray::FtArray::from_slice(&[0x0102u16]).write_npy(&mut bytes).unwrap();
    /// let r = ftarray::npy::NpyReader::new(&bytes[..]).unwrap();
    /// assert_eq!(r.into_native_bytes().unwrap(), 0x0102u16.to_ne_bytes());
    /// ```
    pub fn into_native_bytes(self) -> Result<Vec<u8>, NpyError> {
        let mut out = Vec::new();
        if self.length_checked {
            let n = self.header.data_len() as usize;
            out.try_reserve_exact(n)
                .map_err(|_| NpyError::Alloc(crate::Error::AllocFailed { bytes: n }))?;
        }
        self.read_chunks(|chunk| {
            out.try_reserve(chunk.len()).map_err(|_| {
                NpyError::Alloc(crate::Error::AllocFailed {
                    bytes: out.len().saturating_add(chunk.len()),
                })
            })?;
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads the data in chunks of whole elements, each converted to native byte order and
    /// 8-byte aligned, and hands each to `sink`.
    fn read_chunks(
        mut self,
        mut sink: impl FnMut(&[u8]) -> Result<(), NpyError>,
    ) -> Result<(), NpyError> {
        let dtype = self.header.dtype();
        let size = dtype.size();
        let total = self.header.data_len();
        // u64 words: the byte view is 8-aligned.
        let mut words = vec![0u64; (total.min(CHUNK as u64) as usize).div_ceil(8)];
        let buf: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        let mut done = 0u64;
        while done < total {
            let want = (total - done).min(CHUNK as u64) as usize;
            let chunk = &mut buf[..want];
            let got = read_full(&mut self.inner, chunk).map_err(|e| match e {
                NpyError::Io {
                    path: None,
                    action,
                    source,
                } => NpyError::io(action, self.path.clone(), source),
                e => e,
            })?;
            if got < want {
                return Err(NpyError::TruncatedData {
                    expected: total,
                    actual: done + got as u64,
                });
            }
            if dtype.needs_swap() {
                for element in chunk.chunks_exact_mut(size) {
                    element.reverse();
                }
            }
            sink(chunk)?;
            done += want as u64;
        }
        Ok(())
    }
}
