//! `.npy` persistence for [`DynArray`]: save any numeric type code, load picking the type code
//! from the file's header.

use super::array::DynArray;
use super::store::{Store, with_store};
use crate::npy::{ElementKind, NpyError, NpyReader};
use crate::typecode::{Kind, TypeCode};
use std::io::{Read, Write};
use std::path::Path;

impl DynArray {
    /// Saves the array to `path` as a `.npy` file, atomically and from one snapshot, as
    /// [`FtArray::save_npy`](crate::FtArray::save_npy) does. `l`/`L` are saved as the
    /// fixed-size integer of the platform's `long`.
    ///
    /// # Errors
    ///
    /// [`NpyError::UnsupportedTypeCode`] for character arrays (`u`, `w`); otherwise as
    /// `FtArray::save_npy` (the target is then unchanged).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use ftarray::{DynArray, TypeCode, Value};
    /// let path = dir.path().join("a.npy");
    /// let a = DynArray::from_values(TypeCode::F32, &[Value::Float(0.5)]).unwrap();
    /// a.save_npy(&path).unwrap();
    /// let b = DynArray::load_npy(&path).unwrap();
    /// assert_eq!(b.typecode(), TypeCode::F32);
    /// assert_eq!(a, b);
    /// ```
    pub fn save_npy(&self, path: impl AsRef<Path>) -> Result<(), NpyError> {
        self.check_npy()?;
        with_store!(&self.store, a => a.save_npy(path))
    }

    /// Writes the array in `.npy` format to `writer`, from one snapshot (not atomic on its
    /// own; use [`save_npy`](Self::save_npy) for files).
    ///
    /// # Errors
    ///
    /// As [`save_npy`](Self::save_npy).
    pub fn write_npy(&self, writer: impl Write) -> Result<(), NpyError> {
        self.check_npy()?;
        with_store!(&self.store, a => a.write_npy(writer))
    }

    /// Loads a `.npy` file, picking the type code from its header: `b B h H i I q Q f d` for
    /// int8 … uint64, float32 and float64 (64-bit integers load as `q`/`Q`, the same on every
    /// platform). Everything is validated before anything is allocated.
    ///
    /// # Errors
    ///
    /// As [`FtArray::load_npy`](crate::FtArray::load_npy).
    pub fn load_npy(path: impl AsRef<Path>) -> Result<DynArray, NpyError> {
        DynArray::from_npy(NpyReader::open(path)?)
    }

    /// Reads one `.npy` array from `reader`, picking the type code from its header, and leaves
    /// any bytes after it unread.
    ///
    /// # Errors
    ///
    /// As [`load_npy`](Self::load_npy), except that bytes after the data are not an error.
    pub fn read_npy(reader: impl Read) -> Result<DynArray, NpyError> {
        DynArray::from_npy(NpyReader::new(reader)?)
    }

    fn check_npy(&self) -> Result<(), NpyError> {
        match self.code.kind() {
            Kind::Char => Err(NpyError::UnsupportedTypeCode { code: self.code }),
            _ => Ok(()),
        }
    }

    fn from_npy<R: Read>(reader: NpyReader<R>) -> Result<DynArray, NpyError> {
        let d = reader.header().dtype();
        let (code, store) = match (d.kind(), d.size()) {
            (ElementKind::Int, 1) => (TypeCode::I8, Store::I8(reader.into_array()?)),
            (ElementKind::Uint, 1) => (TypeCode::U8, Store::U8(reader.into_array()?)),
            (ElementKind::Int, 2) => (TypeCode::I16, Store::I16(reader.into_array()?)),
            (ElementKind::Uint, 2) => (TypeCode::U16, Store::U16(reader.into_array()?)),
            (ElementKind::Int, 4) => (TypeCode::Int, Store::I32(reader.into_array()?)),
            (ElementKind::Uint, 4) => (TypeCode::UInt, Store::U32(reader.into_array()?)),
            (ElementKind::Int, _) => (TypeCode::I64, Store::I64(reader.into_array()?)),
            (ElementKind::Uint, _) => (TypeCode::U64, Store::U64(reader.into_array()?)),
            (ElementKind::Float, 4) => (TypeCode::F32, Store::F32(reader.into_array()?)),
            (ElementKind::Float, _) => (TypeCode::F64, Store::F64(reader.into_array()?)),
        };
        Ok(DynArray::from_store(code, store))
    }
}

#[cfg(all(test, not(loom), not(miri)))]
mod tests {
    use super::*;
    use crate::Value;

    #[test]
    fn every_numeric_code_round_trips_and_characters_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for code in TypeCode::NUMERIC {
            let vals: Vec<Value> = [0i64, 1, 7, 100].map(Value::from).to_vec();
            let a = DynArray::from_values(code, &vals).unwrap();
            let path = dir.path().join(format!("{code}.npy"));
            a.save_npy(&path).unwrap();
            let b = DynArray::load_npy(&path).unwrap();
            assert_eq!(b.to_values(), a.to_values(), "{code}");
            assert_eq!(b.itemsize(), a.itemsize(), "{code}");
            let expected = match code {
                TypeCode::Long => {
                    if code.itemsize() == 8 {
                        TypeCode::I64
                    } else {
                        TypeCode::Int
                    }
                }
                TypeCode::ULong => {
                    if code.itemsize() == 8 {
                        TypeCode::U64
                    } else {
                        TypeCode::UInt
                    }
                }
                c => c,
            };
            assert_eq!(b.typecode(), expected);
            let mut bytes = Vec::new();
            a.write_npy(&mut bytes).unwrap();
            assert_eq!(DynArray::read_npy(&bytes[..]).unwrap().to_values(), vals);
        }
        for code in [TypeCode::WChar, TypeCode::Ucs4] {
            let a = DynArray::from_values(code, &[Value::Char(65)]).unwrap();
            let path = dir.path().join("chars.npy");
            let err = a.save_npy(&path).unwrap_err();
            assert!(matches!(err, NpyError::UnsupportedTypeCode { .. }), "{err}");
            assert!(!path.exists());
        }
    }
}
