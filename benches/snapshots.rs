//! Snapshot benchmarks (issue 23): taking a snapshot against copying (`to_vec`) and against
//! `ArcSwap::load_full`; summing a snapshot against summing a `Vec`; and what snapshots cost a
//! writer (rounds of in-place `set` with a snapshot taken every N rounds).
//!
//! Ids are `<group>/<impl>/<size or N>`; ratios come from one run.

use arc_swap::ArcSwap;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_main};
use ftarray::FtArray;
use std::hint::black_box;
use std::sync::Arc;

type Group<'a> = BenchmarkGroup<'a, WallTime>;

const SIZES: [(usize, &str); 2] = [(1 << 10, "1k"), (1 << 20, "1M")];

fn take_for(g: &mut Group<'_>, n: usize, label: &str) {
    let v: Vec<u32> = (0..n as u32).collect();
    let ft = FtArray::from_slice(&v);
    let swap = ArcSwap::from_pointee(v.clone());
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("ftarray_snapshot", label), |b| {
        b.iter(|| black_box(ft.snapshot()))
    });
    g.bench_function(BenchmarkId::new("ftarray_to_vec", label), |b| {
        b.iter(|| black_box(ft.to_vec()))
    });
    g.bench_function(BenchmarkId::new("arcswap_load_full", label), |b| {
        b.iter(|| black_box(swap.load_full()))
    });
    g.bench_function(BenchmarkId::new("vec_clone", label), |b| {
        b.iter(|| black_box(v.clone()))
    });
}

/// Taking a snapshot of 1k and 1M `u32`: shared storage, no copy, against a copy and against
/// `ArcSwap`'s reference-counted load.
fn snapshot_take(c: &mut Criterion) {
    let mut g = c.benchmark_group("snapshot_take");
    for (n, label) in SIZES {
        take_for(&mut g, n, label);
    }
    g.finish();
}

/// Summing 1M `f64` from a snapshot (a plain slice) against a `Vec` and a `Reader` loop.
fn snapshot_sum(c: &mut Criterion) {
    let mut g = c.benchmark_group("snapshot_sum");
    let n = 1 << 20;
    let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let ft = FtArray::from_slice(&v);
    let snap = ft.snapshot();
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("snapshot", "1M"), |b| {
        b.iter(|| black_box(snap.iter().sum::<f64>()))
    });
    g.bench_function(BenchmarkId::new("vec", "1M"), |b| {
        b.iter(|| black_box(v.iter().sum::<f64>()))
    });
    g.bench_function(BenchmarkId::new("reader", "1M"), |b| {
        b.iter(|| {
            let r = ft.reader();
            black_box((0..r.len()).filter_map(|i| r.get(i)).sum::<f64>())
        })
    });
    g.finish();
}

/// A writer's round (one in-place `set` on a 1k `u32` array) when a snapshot is taken every N
/// rounds and held until the next one: the first write after each snapshot copies the storage.
fn writer_with_snapshots(c: &mut Criterion) {
    let mut g = c.benchmark_group("writer_with_snapshots");
    g.throughput(Throughput::Elements(1));
    for every in [1usize, 16, 256, 0] {
        let label = if every == 0 {
            "never".to_string()
        } else {
            every.to_string()
        };
        let a = Arc::new(FtArray::from_slice(&(0..1024u32).collect::<Vec<_>>()));
        g.bench_function(BenchmarkId::new("set", label), |b| {
            let mut held = None;
            let mut round = 0usize;
            b.iter(|| {
                if every != 0 && round % every == 0 {
                    held = Some(a.snapshot());
                }
                a.set(round % 1024, round as u32).unwrap();
                round += 1;
            });
            black_box(held);
        });
    }
    g.finish();
}

/// Private, so that the `pub fn` criterion generates needs no doc comment.
mod group {
    criterion::criterion_group!(
        benches,
        super::snapshot_take,
        super::snapshot_sum,
        super::writer_with_snapshots
    );
}
criterion_main!(group::benches);
