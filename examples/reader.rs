//! Read many elements with one epoch pin (`Reader`), and edit several at once (`update`).
//!
//! Pinning is the largest fixed cost of a read: a `Reader` pays it once for a whole loop and
//! lets go at the points you choose (`repin`), so buffers retired meanwhile can be freed.
//!
//! ```text
//! cargo run --example reader
//! ```

use ftarray::FtArray;

fn main() {
    let a = FtArray::from_slice(&[3u32, 1, 4, 1, 5, 9, 2, 6]);

    let mut reader = a.reader();
    let mut sum = 0u64;
    for i in 0..reader.len() {
        sum += u64::from(reader.get(i).unwrap_or(0));
        if i % 4 == 3 {
            reader.repin(); // a quiescent point: let retired buffers go
        }
    }
    drop(reader);

    // An edit of many elements is one step for every reader: before or after, never between.
    let largest = a
        .update(|v| {
            v.sort();
            v.last().copied()
        })
        .unwrap();

    println!("sum {sum}, largest {largest:?}, sorted {:?}", a.to_vec());
}
