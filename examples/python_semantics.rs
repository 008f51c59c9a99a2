//! `DynArray`: an array whose element type is a Python `array` type code, with Python's
//! index and slice semantics resolved at the instant each operation takes effect.
//!
//! ```text
//! cargo run --example python_semantics
//! ```

use ftarray::{DynArray, Slice, TypeCode, Value};

fn main() -> Result<(), ftarray::Error> {
    let a = DynArray::from_values(TypeCode::Int, &[10, 20, 30, 40].map(Value::from))?;
    println!("a[-1] = {:?}", a.get(-1)?); // the last element, as Python reads it

    a.insert(-100, Value::Int(0))?; // clamped to the front, as Python does
    let evens = a.get_slice(Slice::new(None, None, Some(2)))?;
    println!("a[::2] = {:?}", evens.to_values());

    // Values are converted, with range checks, before the array is touched.
    match a.set(0, Value::Int(1 << 40)) {
        Err(e) => println!("a[0] = 2**40: {e}"),
        Ok(_) => unreachable!("an int array holds C ints"),
    }
    println!("a = {:?}", a.to_values());
    Ok(())
}
