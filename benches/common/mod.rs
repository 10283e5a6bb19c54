//! Helpers shared by the benchmarks.
#![allow(dead_code)]

use image::imageops::{resize, FilterType};

/// The fixture photo `chelsea_224x224.png` resized (triangle filter) to `w`×`h`, as RGB8 bytes:
/// a real photograph at any benchmark size.
pub fn photo(w: u32, h: u32) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/photos/chelsea_224x224.png"
    );
    let img = image::open(path).expect("fixture photo").to_rgb8();
    resize(&img, w, h, FilterType::Triangle).into_raw()
}

/// Criterion settings of the per-image benchmarks: 20 samples, 0.5 s warm-up, 2 s measurement
/// (command-line `--warm-up-time` / `--measurement-time` still override them).
pub fn quick_config() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

/// The instruction-set label of this run, for benchmark group names: the `IMGCORRUPT_SIMD` cap
/// (`scalar`, `sse41`, `avx2`; the library reads the same variable once per process), or `best`
/// when unset (AVX2 + FMA where the CPU has them; the crate has no AVX-512 kernels). Putting it
/// in the group name keeps criterion's saved results of each level apart, so
/// `IMGCORRUPT_SIMD=scalar cargo bench` and `IMGCORRUPT_SIMD=avx2 cargo bench` can be compared.
pub fn isa_label() -> String {
    match std::env::var("IMGCORRUPT_SIMD") {
        Ok(v) if !v.trim().is_empty() && v.trim() != "auto" => v.trim().to_ascii_lowercase(),
        _ => "best".to_string(),
    }
}
