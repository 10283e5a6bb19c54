//! Criterion benchmark of the AdaIN backend (issue 7): one stylization of the 224×224 photo
//! `fixtures/photos/chelsea_224x224.png` (content encoding to relu4_1, AdaIN with precomputed
//! style statistics, decoding, quantisation) with a FULL-WIDTH network (the published shapes,
//! random weights), which is not committed. Generate it and run:
//!
//! ```text
//! .venv-torch/bin/python scripts/make_adain_fixtures.py --full /tmp/adain_full
//! RAYON_NUM_THREADS=1 cargo bench --features adain --bench adain -- --warm-up-time 1 --measurement-time 20
//! RAYON_NUM_THREADS=2 cargo bench --features adain --bench adain -- --warm-up-time 1 --measurement-time 20
//! ```
//!
//! (`ADAIN_WEIGHTS=DIR` points to another folder with `vgg.*` and `decoder.*`; the published
//! `vgg_normalised.pth`/`decoder.pth` work too.) The PyTorch counterpart is
//! `scripts/bench_adain_torch.py`. Wall time (with RAYON_NUM_THREADS=1 a rayon worker does part of
//! the work, so the benchmark thread's CPU time would undercount).

use criterion::measurement::Measurement;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imgcorrupt::stylize::adain::AdainNet;
use std::path::PathBuf;

fn photo(name: &str) -> (Vec<u8>, u32, u32) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/photos")
        .join(name);
    let im = image::open(path).expect("fixture photo").to_rgb8();
    let (w, h) = im.dimensions();
    (im.into_raw(), w, h)
}

fn weights() -> Option<(PathBuf, PathBuf)> {
    let dir =
        PathBuf::from(std::env::var("ADAIN_WEIGHTS").unwrap_or_else(|_| "/tmp/adain_full".into()));
    let pick = |stems: &[&str]| {
        stems
            .iter()
            .flat_map(|s| ["pth", "safetensors"].map(|e| dir.join(format!("{s}.{e}"))))
            .find(|p| p.exists())
    };
    Some((pick(&["vgg", "vgg_normalised"])?, pick(&["decoder"])?))
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>, group_name: &str) {
    let Some((vgg, dec)) = weights() else {
        eprintln!(
            "adain bench skipped: no full-width weights (see the header of benches/adain.rs)"
        );
        return;
    };
    let net = AdainNet::load(&vgg, &dec).expect("weights");
    let (style, sw, sh) = photo("fruits_160x120.png");
    let style = net.style_features(&style, sw, sh).unwrap();
    let (content, w, h) = photo("chelsea_224x224.png");
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.bench_function("stylize_224x224", |b| {
        b.iter(|| net.stylize(&content, w, h, &style, 1.0).unwrap())
    });
    group.finish();
}

fn wall(c: &mut Criterion) {
    bench(c, "adain");
}

criterion_group!(benches, wall);
criterion_main!(benches);
