//! Criterion benchmarks: every implemented corruption at 224×224 and 640×480 (severity 3,
//! fast mode, single thread), on a real fixture photo. Run with `cargo bench --bench corruptions`.
//! The full severity table for BENCHMARKS.md comes from `imgcorrupt bench` (see BENCHMARKS.md).
//! Per ISA level: `IMGCORRUPT_SIMD=scalar|sse41|avx2 cargo bench --bench corruptions` (the level
//! is part of the group name, e.g. `224x224@avx2/motion_blur/fast`).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use imgcorrupt::{corrupt_buffer, Corruption, PixelLayout, RngMode, Settings};

use common::photo;

fn bench(c: &mut Criterion) {
    for (w, h) in [(224usize, 224usize), (640, 480)] {
        let src = photo(w as u32, h as u32);
        let mut dst = vec![0u8; src.len()];
        let mut group = c.benchmark_group(format!("{w}x{h}@{}", common::isa_label()));
        group.throughput(Throughput::Elements(1));
        for corruption in Corruption::all() {
            for mode in [RngMode::Fast, RngMode::Numpy] {
                let id = BenchmarkId::new(corruption.name(), mode);
                let mut seed = 0u64;
                group.bench_function(id, |b| {
                    b.iter(|| {
                        seed += 1;
                        let settings = Settings::new(seed).with_rng(mode);
                        corrupt_buffer(
                            imgcorrupt::ImageView::new(&src, w, h, PixelLayout::Rgb),
                            &mut dst,
                            corruption,
                            3,
                            &settings,
                        )
                        .unwrap();
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::quick_config();
    targets = bench
}
criterion_main!(benches);
