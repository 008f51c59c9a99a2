//! Loads and saves `.npy` files, picking the element type from each file's header: the helper
//! that `tests/npy_interop.py` drives to check ftarray against numpy.
//!
//! ```text
//! cargo run --example npy_tool -- describe IN          # "<descr> <len>", or the error
//! cargo run --example npy_tool -- roundtrip IN OUT     # load IN, save it to OUT (native order)
//! ```
//!
//! Exit status: 0 on success, 1 when the file is refused (the message on stdout, prefixed with
//! `error: `), 2 on bad usage.

use ftarray::FtArray;
use ftarray::npy::{ElementKind, NpyElement, NpyError, NpyReader};
use std::path::Path;
use std::process::ExitCode;

/// An array of any of the ten element types: what a loader that reads the type from the file
/// returns.
enum AnyArray {
    I8(FtArray<i8>),
    U8(FtArray<u8>),
    I16(FtArray<i16>),
    U16(FtArray<u16>),
    I32(FtArray<i32>),
    U32(FtArray<u32>),
    I64(FtArray<i64>),
    U64(FtArray<u64>),
    F32(FtArray<f32>),
    F64(FtArray<f64>),
}

fn load_any(path: &Path) -> Result<AnyArray, NpyError> {
    let r = NpyReader::open(path)?;
    let d = r.header().dtype();
    Ok(match (d.kind(), d.size()) {
        (ElementKind::Int, 1) => AnyArray::I8(r.into_array()?),
        (ElementKind::Uint, 1) => AnyArray::U8(r.into_array()?),
        (ElementKind::Int, 2) => AnyArray::I16(r.into_array()?),
        (ElementKind::Uint, 2) => AnyArray::U16(r.into_array()?),
        (ElementKind::Int, 4) => AnyArray::I32(r.into_array()?),
        (ElementKind::Uint, 4) => AnyArray::U32(r.into_array()?),
        (ElementKind::Int, _) => AnyArray::I64(r.into_array()?),
        (ElementKind::Uint, _) => AnyArray::U64(r.into_array()?),
        (ElementKind::Float, 4) => AnyArray::F32(r.into_array()?),
        (ElementKind::Float, _) => AnyArray::F64(r.into_array()?),
    })
}

fn save<T: NpyElement>(a: &FtArray<T>, path: &Path) -> Result<(String, usize), NpyError> {
    a.save_npy(path)?;
    Ok((ftarray::npy::Dtype::of::<T>().descr(), a.len()))
}

fn save_any(a: &AnyArray, path: &Path) -> Result<(String, usize), NpyError> {
    match a {
        AnyArray::I8(a) => save(a, path),
        AnyArray::U8(a) => save(a, path),
        AnyArray::I16(a) => save(a, path),
        AnyArray::U16(a) => save(a, path),
        AnyArray::I32(a) => save(a, path),
        AnyArray::U32(a) => save(a, path),
        AnyArray::I64(a) => save(a, path),
        AnyArray::U64(a) => save(a, path),
        AnyArray::F32(a) => save(a, path),
        AnyArray::F64(a) => save(a, path),
    }
}

fn run(args: &[String]) -> Result<ExitCode, NpyError> {
    match args {
        [cmd, input] if cmd == "describe" => {
            let r = NpyReader::open(input)?;
            println!("{} {}", r.header().dtype().descr(), r.header().len());
        }
        [cmd, input, output] if cmd == "roundtrip" => {
            let a = load_any(Path::new(input))?;
            let (descr, len) = save_any(&a, Path::new(output))?;
            println!("{descr} {len}");
        }
        _ => {
            eprintln!("usage: npy_tool describe IN | npy_tool roundtrip IN OUT");
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            println!("error: {e}");
            ExitCode::from(1)
        }
    }
}
