//! Sharing

use super::*;

#[test]
fn arrays_can_be_shared_across_threads_by_reference() {
    let a = FtArray::<u32>::new();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let a = &a;
            s.spawn(move || {
                for i in 0..50 {
                    a.push(t * 1000 + i);
                }
            });
        }
    });
    assert_eq!(a.len(), 200);
    let mut v = a.to_vec();
    v.sort();
    let mut expected: Vec<u32> = (0..4u32)
        .flat_map(|t| (0..50).map(move |i| t * 1000 + i))
        .collect();
    expected.sort();
    assert_eq!(v, expected);
}
