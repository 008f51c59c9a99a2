//! Write-side and bulk benchmarks of `FtArray` against `Vec`, lock-based, atomic and `ArcSwap`
//! baselines: `push`, `pop_push`, `set`, `bulk_1m`, `insert_front_1k` and `update_1k`.
//!
//! Every group runs FtArray and its baselines side by side, so ratios come from one run. Ids are
//! `<group>/<impl>/<type>` (see `common`); `scripts/bench_summary.py` reads them.

mod common;

use common::names::{ARCSWAP, ATOMIC, FT, PL_MUTEX, PL_RWLOCK, STD_RWLOCK, VEC};
use common::{Fixtures, LEN, Num, next_index, values};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_main};
use ftarray::FtArray;
use parking_lot::Mutex;
use std::hint::black_box;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// Elements pushed per iteration of the `push` group.
const PUSH_N: usize = 1024;

/// Elements in the `bulk_1m` group.
const BULK_N: usize = 1 << 20;

fn id<T: Num>(name: &str) -> BenchmarkId {
    BenchmarkId::new(name, T::NAME)
}

fn push_for<T: Num>(g: &mut Group<'_>) {
    let src = values::<T>(PUSH_N);
    let src = &src;
    let small = BatchSize::SmallInput;
    // Setup (making the empty container, and reserving for the `_reserved` variants) and
    // dropping the full one are outside the timed region.
    g.bench_function(id::<T>(FT), |b| {
        b.iter_batched(
            FtArray::<T>::new,
            |a| {
                for &x in src {
                    a.push(black_box(x));
                }
                a
            },
            small,
        )
    });
    g.bench_function(id::<T>("ftarray_reserved"), |b| {
        b.iter_batched(
            || FtArray::<T>::with_capacity(PUSH_N),
            |a| {
                for &x in src {
                    a.push(black_box(x));
                }
                a
            },
            small,
        )
    });
    g.bench_function(id::<T>(PL_MUTEX), |b| {
        b.iter_batched(
            || Mutex::new(Vec::<T>::new()),
            |m| {
                for &x in src {
                    m.lock().push(black_box(x));
                }
                m
            },
            small,
        )
    });
    g.bench_function(id::<T>("pl_mutex_reserved"), |b| {
        b.iter_batched(
            || Mutex::new(Vec::<T>::with_capacity(PUSH_N)),
            |m| {
                for &x in src {
                    m.lock().push(black_box(x));
                }
                m
            },
            small,
        )
    });
    g.bench_function(id::<T>(VEC), |b| {
        b.iter_batched(
            Vec::<T>::new,
            |mut v| {
                for &x in src {
                    v.push(black_box(x));
                }
                v
            },
            small,
        )
    });
    g.bench_function(id::<T>("vec_reserved"), |b| {
        b.iter_batched(
            || Vec::<T>::with_capacity(PUSH_N),
            |mut v| {
                for &x in src {
                    v.push(black_box(x));
                }
                v
            },
            small,
        )
    });
}

/// `push` of 1024 elements, one call each, into an empty container, with and without reserving
/// first; criterion's elements/s = pushes/s.
fn push(c: &mut Criterion) {
    let mut g = c.benchmark_group("push");
    g.throughput(Throughput::Elements(PUSH_N as u64));
    push_for::<u32>(&mut g);
    push_for::<f64>(&mut g);
    g.finish();
}

fn pop_push_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    g.bench_function(id::<T>(FT), |b| {
        b.iter(|| {
            let x = f.ft.pop().expect("not empty");
            f.ft.push(black_box(x));
        })
    });
    let mut vec = f.vec.clone();
    g.bench_function(id::<T>(VEC), |b| {
        b.iter(|| {
            let x = vec.pop().expect("not empty");
            vec.push(black_box(x));
        })
    });
    g.bench_function(id::<T>(PL_MUTEX), |b| {
        b.iter(|| {
            let x = f.pl_mutex.lock().pop().expect("not empty");
            f.pl_mutex.lock().push(black_box(x));
        })
    });
    g.bench_function(id::<T>(PL_RWLOCK), |b| {
        b.iter(|| {
            let x = f.pl_rwlock.write().pop().expect("not empty");
            f.pl_rwlock.write().push(black_box(x));
        })
    });
    g.bench_function(id::<T>(STD_RWLOCK), |b| {
        b.iter(|| {
            let x = f.std_rwlock.write().unwrap().pop().expect("not empty");
            f.std_rwlock.write().unwrap().push(black_box(x));
        })
    });
}

/// A `pop` then a `push` (two separate operations, two lock acquisitions for the locked
/// baselines) on a 1024-element array, per iteration.
fn pop_push(c: &mut Criterion) {
    let mut g = c.benchmark_group("pop_push");
    pop_push_for::<u32>(&mut g);
    pop_push_for::<f64>(&mut g);
    g.finish();
}

fn set_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    g.bench_function(id::<T>(FT), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            f.ft.set(black_box(i), T::from_usize(i))
        })
    });
    let mut vec = f.vec.clone();
    g.bench_function(id::<T>(VEC), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            vec[black_box(i)] = T::from_usize(i);
        })
    });
    g.bench_function(id::<T>(ATOMIC), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            T::store(&f.atomic[black_box(i)], T::from_usize(i));
        })
    });
    g.bench_function(id::<T>(PL_RWLOCK), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            f.pl_rwlock.write()[black_box(i)] = T::from_usize(i);
        })
    });
    g.bench_function(id::<T>(STD_RWLOCK), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            f.std_rwlock.write().unwrap()[black_box(i)] = T::from_usize(i);
        })
    });
    g.bench_function(id::<T>(PL_MUTEX), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            f.pl_mutex.lock()[black_box(i)] = T::from_usize(i);
        })
    });
    // Copy-on-write: clone the 1024-element Vec, change one element, swap it in.
    g.bench_function(id::<T>(&format!("{ARCSWAP}_rcu")), |b| {
        let mut i = 0;
        b.iter(|| {
            i = next_index(i);
            let i = black_box(i);
            f.arcswap.rcu(|old| {
                let mut v = Vec::clone(old);
                v[i] = T::from_usize(i);
                v
            })
        })
    });
}

/// `set(i, v)` at changing indices in a 1024-element array, against write lock + index
/// assignment, a relaxed atomic store, plain index assignment, and (for completeness) ArcSwap's
/// copy-on-write `rcu`.
fn set(c: &mut Criterion) {
    let mut g = c.benchmark_group("set");
    g.throughput(Throughput::Elements(1));
    set_for::<u32>(&mut g);
    set_for::<f64>(&mut g);
    g.finish();
}

fn bulk_for<T: Num>(g: &mut Group<'_>) {
    let src = values::<T>(BULK_N);
    let src = &src[..];
    g.throughput(Throughput::Bytes((BULK_N * size_of::<T>()) as u64));
    // Extend into an empty container: the allocation (and its page faults) is part of the
    // operation for both; the drop of the full container is not timed.
    let per = BatchSize::PerIteration;
    g.bench_function(id::<T>("extend/ftarray"), |b| {
        b.iter_batched(
            FtArray::<T>::new,
            |a| {
                a.extend_from_slice(src);
                a
            },
            per,
        )
    });
    g.bench_function(id::<T>("extend/vec"), |b| {
        b.iter_batched(
            Vec::<T>::new,
            |mut v| {
                v.extend_from_slice(src);
                v
            },
            per,
        )
    });
    // `to_vec` the same way: each copy is dropped (untimed) right after its iteration, so the
    // next one reuses the freed memory, as the extend benchmarks do. (Keeping a whole sample's
    // copies alive, as `iter_with_large_drop` does, would mostly time page faults.)
    let full = FtArray::from_slice(src);
    g.bench_function(id::<T>("to_vec/ftarray"), |b| {
        b.iter_batched(|| (), |()| full.to_vec(), per)
    });
    g.bench_function(id::<T>("to_vec/vec"), |b| {
        b.iter_batched(|| (), |()| src.to_vec(), per)
    });
}

/// `extend_from_slice` of 1M elements into an empty array, and `to_vec` of a 1M-element array,
/// against the same on `Vec`; criterion reports bandwidth (bytes of elements per second).
fn bulk_1m(c: &mut Criterion) {
    let mut g = c.benchmark_group("bulk_1m");
    g.sample_size(20);
    bulk_for::<u32>(&mut g);
    bulk_for::<f64>(&mut g);
    g.finish();
}

fn insert_front_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    g.bench_function(id::<T>(FT), |b| {
        b.iter(|| {
            f.ft.insert(0, black_box(T::default())).expect("in range");
            f.ft.remove(0).expect("in range")
        })
    });
    g.bench_function(id::<T>(PL_MUTEX), |b| {
        b.iter(|| {
            f.pl_mutex.lock().insert(0, black_box(T::default()));
            f.pl_mutex.lock().remove(0)
        })
    });
    let mut vec = f.vec.clone();
    g.bench_function(id::<T>(VEC), |b| {
        b.iter(|| {
            vec.insert(0, black_box(T::default()));
            vec.remove(0)
        })
    });
}

/// `insert(0, _)` then `remove(0)` (two operations) on a 1024-element array.
fn insert_front_1k(c: &mut Criterion) {
    let mut g = c.benchmark_group("insert_front_1k");
    insert_front_for::<u32>(&mut g);
    insert_front_for::<f64>(&mut g);
    g.finish();
}

/// Adds one to every element of `v`.
#[inline(always)]
fn add_one<T: Num>(v: &mut [T]) {
    for x in v {
        *x = x.inc();
    }
}

fn update_for<T: Num>(g: &mut Group<'_>) {
    let f = Fixtures::<T>::new();
    g.bench_function(id::<T>(FT), |b| {
        b.iter(|| f.ft.update(|v| add_one(v)).expect("not exported"))
    });
    g.bench_function(id::<T>(PL_MUTEX), |b| {
        b.iter(|| add_one(&mut f.pl_mutex.lock()))
    });
    g.bench_function(id::<T>(PL_RWLOCK), |b| {
        b.iter(|| add_one(&mut f.pl_rwlock.write()))
    });
    let mut vec = f.vec.clone();
    g.bench_function(id::<T>(VEC), |b| b.iter(|| add_one(black_box(&mut vec))));
}

/// `update(|v| add 1 to each)` on 1024 elements against lock + the same loop.
fn update_1k(c: &mut Criterion) {
    let mut g = c.benchmark_group("update_1k");
    g.throughput(Throughput::Elements(LEN as u64));
    update_for::<u32>(&mut g);
    update_for::<f64>(&mut g);
    g.finish();
}

fn extend_from_array_for<T: Num>(g: &mut Group<'_>) {
    let src = values::<T>(LEN);
    let b = FtArray::from_slice(&src);
    // Room for the elements: the append goes into the spare capacity every time.
    let a = FtArray::<T>::with_capacity(LEN);
    g.bench_function(id::<T>("ftarray"), |bench| {
        bench.iter(|| {
            a.clear();
            a.extend_from_array(black_box(&b));
        })
    });
    // What the append did before it copied cell to cell: a copy of `b`, then an append of it.
    g.bench_function(id::<T>("ftarray_via_vec"), |bench| {
        bench.iter(|| {
            a.clear();
            a.extend_from_slice(&black_box(&b).to_vec());
        })
    });
    let mut v = Vec::<T>::with_capacity(LEN);
    g.bench_function(id::<T>(VEC), |bench| {
        bench.iter(|| {
            v.clear();
            v.extend_from_slice(black_box(&src));
        })
    });
}

/// `clear` then `extend_from_array` of another 1024-element array into an array with room,
/// against the same through a `to_vec` copy, and `Vec::extend_from_slice`.
fn extend_from_array_1k(c: &mut Criterion) {
    let mut g = c.benchmark_group("extend_from_array_1k");
    g.throughput(Throughput::Elements(LEN as u64));
    extend_from_array_for::<u32>(&mut g);
    extend_from_array_for::<f64>(&mut g);
    g.finish();
}

/// How many `extend`s `grow_by_1k_extends` makes (of 1000 elements each).
const GROW_STEPS: usize = 200;

fn grow_for<T: Num>(g: &mut Group<'_>) {
    let src = values::<T>(1000);
    let b = FtArray::from_slice(&src);
    // A new array per round, grown to 200,000 elements: its doublings, and past 128 KiB (on
    // 64-bit Linux) the room it reserves, as Python's `extend(array 1k)` row does.
    g.bench_function(id::<T>("ftarray_from_array"), |bench| {
        bench.iter(|| {
            let a = FtArray::<T>::new();
            for _ in 0..GROW_STEPS {
                a.extend_from_array(black_box(&b));
            }
            a
        })
    });
    g.bench_function(id::<T>("ftarray_from_slice"), |bench| {
        bench.iter(|| {
            let a = FtArray::<T>::new();
            for _ in 0..GROW_STEPS {
                a.extend_from_slice(black_box(&src));
            }
            a
        })
    });
    g.bench_function(id::<T>(VEC), |bench| {
        bench.iter(|| {
            let mut v = Vec::<T>::new();
            for _ in 0..GROW_STEPS {
                v.extend_from_slice(black_box(&src));
            }
            v
        })
    });
}

/// A new array grown by 200 `extend`s of 1000 elements, from another array and from a slice,
/// against `Vec` (whose `realloc` may grow in place); elements/s = elements appended per second.
fn grow_by_1k_extends(c: &mut Criterion) {
    let mut g = c.benchmark_group("grow_by_1k_extends");
    g.throughput(Throughput::Elements((GROW_STEPS * 1000) as u64));
    grow_for::<u32>(&mut g);
    grow_for::<f64>(&mut g);
    g.finish();
}

/// Private, so that the `pub fn` criterion generates needs no doc comment.
mod group {
    criterion::criterion_group!(
        benches,
        super::push,
        super::pop_push,
        super::set,
        super::bulk_1m,
        super::insert_front_1k,
        super::update_1k,
        super::extend_from_array_1k,
        super::grow_by_1k_extends
    );
}
criterion_main!(group::benches);
