//! Criterion benchmarks of `stylize` (statistics backend, single thread): the per-image cost at
//! 224×224 (the Stylized-ImageNet size; target ≤ 10 ms) and 640×480 with a warm style cache,
//! and the once-per-style cost of the style statistics. Run with
//! `cargo bench --bench stylize -- --warm-up-time 1 --measurement-time 2`.

mod common;

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use imgcorrupt::stylize::statistics::StyleStats;
use imgcorrupt::{corrupt_buffer, Corruption, PixelLayout, Settings, Stylizer};

use common::photo;

fn bench(c: &mut Criterion) {
    let styles = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/styles");
    let st = Arc::new(Stylizer::from_dir(std::path::Path::new(styles)).expect("style fixtures"));
    // graffiti_200x160.jpg: prepared to a 160×160 square
    let settings = Settings::new(0)
        .with_stylizer(st.clone())
        .with_style_index(2);
    let mut group = c.benchmark_group("stylize_statistics");
    for (w, h) in [(224usize, 224usize), (640, 480)] {
        let src = photo(w as u32, h as u32);
        let mut dst = vec![0u8; src.len()];
        group.bench_function(format!("{w}x{h}"), |b| {
            b.iter(|| {
                corrupt_buffer(
                    imgcorrupt::ImageView::new(&src, w, h, PixelLayout::Rgb),
                    &mut dst,
                    Corruption::Stylize,
                    5,
                    &settings,
                )
                .unwrap()
            })
        });
    }
    let style = photo(224, 224);
    group.bench_function("style_statistics_224x224", |b| {
        b.iter(|| StyleStats::of(&style, 224, 224))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::quick_config();
    targets = bench
}
criterion_main!(benches);
