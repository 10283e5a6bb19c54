//! Noise-training augmentations (ALGORITHMS.md §9.1) over the fixture photos.
//!
//! ```text
//! cargo run --release --example noise_training [OUT_DIR]   # default out/augment-example/
//! ```
//!
//! For every photo in `fixtures/photos/` it applies Gaussian noise training (σ = 0.5 and
//! multi-σ), speckle training and a random held-out corruption to the 8-bit image, writes the
//! results as PNG and prints the replayable record of each sample. Then it runs one f32 NCHW
//! batch through `apply_batch_f32` to show the reference batch split.

use std::path::{Path, PathBuf};

use imgcorrupt::augment::{
    hwc_u8_to_chw_f32, Augment, BatchKeys, GaussianNoiseTraining, RandomCorruption, SampleKey,
    Shape, SpeckleNoiseTraining,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("out/augment-example"));
    std::fs::create_dir_all(&out_dir)?;
    let photos_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos");
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&photos_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    photos.sort();

    let seed = 2020; // base seed of the "training run"
    let epoch = 0;
    // p_clean = 0 so that every written example shows the noise; training would keep 0.5.
    // GNT uses the benchmark's own gaussian_noise: we acknowledge that explicitly (ALGORITHMS.md §2).
    let validation = imgcorrupt::catalogue::select("validation")?;
    let policies: Vec<(&str, Box<dyn Augment>)> = vec![
        (
            "gnt_sigma0.5",
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
        (
            "random_validation_corruption",
            Box::new(RandomCorruption::new(&validation)?.with_severities(&[2, 3, 4])?),
        ),
    ];

    for (index, path) in photos.iter().enumerate() {
        let img = image::open(path)?.to_rgb8();
        let (w, h) = img.dimensions();
        let shape = Shape::new(h as usize, w as usize, 3);
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        for (name, policy) in &policies {
            let mut buf = img.as_raw().clone();
            let key = SampleKey::new(seed, epoch, index as u64);
            let record = policy.apply_u8(&mut buf, shape, key)?;
            let file = out_dir.join(format!("{stem}_{name}.png"));
            image::RgbImage::from_raw(w, h, buf)
                .ok_or("buffer size")?
                .save(&file)?;
            println!("{} <- {}", file.display(), serde_json::to_string(&record)?);
        }
    }

    // One f32 NCHW batch of 6 copies of the first photo, reference split for σ = 0.5:
    // the first round(6 · 0.5) = 3 images stay clean.
    let first = image::open(&photos[0])?.to_rgb8();
    let shape = Shape::new(first.height() as usize, first.width() as usize, 3);
    let mut batch = vec![0f32; 6 * shape.len()];
    for chunk in batch.chunks_mut(shape.len()) {
        hwc_u8_to_chw_f32(first.as_raw(), chunk, shape)?;
    }
    let gnt = GaussianNoiseTraining::single(0.5).allow_benchmark_corruptions();
    let mut records = Vec::new();
    gnt.apply_batch_f32(
        &mut batch,
        shape,
        BatchKeys::range(seed, epoch, 100),
        &mut records,
    )?;
    for (pos, r) in records.iter().enumerate() {
        println!(
            "batch position {pos} (sample {}): {}",
            100 + pos,
            if r.is_clean() { "clean" } else { "noised" }
        );
    }
    Ok(())
}
