//! Fidelity against the committed outputs of imagecorruptions 1.1.2 (fixtures/reference,
//! made by scripts/make_fixtures.py from real photos).
//!
//! * numpy mode: within ±1 grey level of the reference on at least 99.9 % of values, for every
//!   photo × severity of each implemented corruption;
//! * fast mode: mean PSNR against the clean photo within 0.5 dB of the reference's.

mod common;

use common::*;
use imgcorrupt::{corrupt_buffer, Corruption, PixelLayout, RngMode, Settings};

fn run(src: &[u8], w: usize, h: usize, c: Corruption, s: u8, settings: &Settings) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    corrupt_buffer(src, &mut out, w, h, PixelLayout::Rgb, c, s, settings).unwrap();
    out
}

fn numpy_parity(c: Corruption) {
    let mut report = Vec::new();
    let mut failed = false;
    for (s, entries) in entries_of(c) {
        for e in entries {
            let (src, w, h) = photo(&e);
            let ours = run(
                &src,
                w,
                h,
                c,
                s,
                &Settings::new(e.seed).with_rng(RngMode::Numpy),
            );
            let (within1, maxdiff) = agreement(&ours, &reference(&e), 1);
            let (exact, _) = agreement(&ours, &reference(&e), 0);
            report.push(format!(
                "{} s{s}: ±1 {:.5} exact {:.5} max {maxdiff}",
                e.photo, within1, exact
            ));
            failed |= within1 < 0.999;
        }
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        eprintln!("{c} numpy mode:\n{}", report.join("\n"));
    }
    assert!(
        !failed,
        "{c} numpy-mode parity below 99.9 %:\n{}",
        report.join("\n")
    );
}

fn fast_psnr(c: Corruption) {
    let mut report = Vec::new();
    let mut failed = false;
    for (s, entries) in entries_of(c) {
        let (mut ours, mut theirs) = (0.0, 0.0);
        for e in &entries {
            let (src, w, h) = photo(e);
            // average a few seeds to keep the comparison about the distribution, not one draw
            let out = run(&src, w, h, c, s, &Settings::new(1000 + e.seed));
            ours += psnr(&src, &out).min(99.0);
            theirs += e.psnr_vs_clean.unwrap_or(99.0).min(99.0);
        }
        let n = entries.len() as f64;
        let (ours, theirs) = (ours / n, theirs / n);
        report.push(format!("s{s}: ours {ours:.3} dB reference {theirs:.3} dB"));
        failed |= (ours - theirs).abs() > 0.5;
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        eprintln!("{c} fast mode:\n{}", report.join("\n"));
    }
    assert!(
        !failed,
        "{c} fast-mode PSNR differs by more than 0.5 dB:\n{}",
        report.join("\n")
    );
}

macro_rules! parity_tests {
    ($($name:ident => $c:expr),* $(,)?) => {
        mod numpy_mode {
            use super::*;
            $( #[test] fn $name() { numpy_parity($c) } )*
        }
        mod fast_mode {
            use super::*;
            $( #[test] fn $name() { fast_psnr($c) } )*
        }
    };
}

parity_tests! {
    gaussian_noise => Corruption::GaussianNoise,
    shot_noise => Corruption::ShotNoise,
    impulse_noise => Corruption::ImpulseNoise,
    defocus_blur => Corruption::DefocusBlur,
    glass_blur => Corruption::GlassBlur,
    motion_blur => Corruption::MotionBlur,
    zoom_blur => Corruption::ZoomBlur,
    brightness => Corruption::Brightness,
    contrast => Corruption::Contrast,
    elastic_transform => Corruption::ElasticTransform,
    pixelate => Corruption::Pixelate,
    jpeg_compression => Corruption::JpegCompression,
    speckle_noise => Corruption::SpeckleNoise,
    gaussian_blur => Corruption::GaussianBlur,
    saturate => Corruption::Saturate,
}
