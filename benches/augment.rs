//! Criterion benchmarks of the training augmentations (single thread): Gaussian noise training
//! (σ = 0.5, every sample noised) on one 224×224×3 image, 8-bit HWC and f32 CHW, plus the
//! multi-σ and speckle presets. Run with
//! `cargo bench --bench augment -- --warm-up-time 1 --measurement-time 2`.
//! Throughput is reported in images per second ("elem/s").

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imgcorrupt::augment::{
    hwc_u8_to_chw_f32, Augment, GaussianNoiseTraining, Record, SampleKey, Shape,
    SpeckleNoiseTraining,
};

fn photo() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/photos/chelsea_224x224.png"
    );
    image::open(path)
        .expect("fixture photo")
        .to_rgb8()
        .into_raw()
}

fn bench(c: &mut Criterion) {
    let shape = Shape::new(224, 224, 3);
    let src = photo();
    let mut src_f32 = vec![0f32; shape.len()];
    hwc_u8_to_chw_f32(&src, &mut src_f32, shape).unwrap();
    let policies: Vec<(&str, Box<dyn Augment>)> = vec![
        (
            "gnt_single_0.5",
            Box::new(
                GaussianNoiseTraining::single(0.5)
                    .with_p_clean(0.0)
                    .allow_benchmark_corruptions(),
            ),
        ),
        (
            "gnt_multi",
            Box::new(
                GaussianNoiseTraining::multi()
                    .with_p_clean(0.0)
                    .allow_benchmark_corruptions(),
            ),
        ),
        (
            "speckle",
            Box::new(SpeckleNoiseTraining::new().with_p_clean(0.0)),
        ),
    ];
    let mut group = c.benchmark_group("augment_224x224x3");
    group.throughput(Throughput::Elements(1));
    let mut record = Record::default();
    for (name, policy) in &policies {
        let mut img = src.clone();
        let mut index = 0u64;
        group.bench_function(format!("{name}/u8_hwc"), |b| {
            b.iter(|| {
                // The noise is applied in place on top of the previous iteration's output:
                // the cost does not depend on the pixel values.
                index += 1;
                policy
                    .apply_u8_into(&mut img, shape, SampleKey::new(0, 0, index), &mut record)
                    .unwrap();
            })
        });
        let mut img = src_f32.clone();
        let mut index = 0u64;
        group.bench_function(format!("{name}/f32_chw"), |b| {
            b.iter(|| {
                index += 1;
                policy
                    .apply_f32_into(&mut img, shape, SampleKey::new(0, 0, index), &mut record)
                    .unwrap();
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
