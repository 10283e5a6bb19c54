//! Fast mode of defocus_blur and gaussian_blur uses a different algorithm from numpy mode
//! (documented on each corruption); these tests bound how far its pixels may drift from the
//! exact (numpy-mode) pixels on the fixture photos, per severity. The PSNR statistics are
//! checked against the reference in tests/reference_parity.rs.

mod common;

use common::*;
use imgcorrupt::{corrupt_buffer, Corruption, PixelLayout, RngMode, Settings};

/// (max abs difference, mean abs difference) of fast vs numpy mode per severity, over the
/// fixture photos.
fn deviation(c: Corruption) -> Vec<(u8, u8, f64)> {
    let mut rows = Vec::new();
    for (s, entries) in entries_of(c) {
        let (mut max, mut sum, mut n) = (0u8, 0u64, 0u64);
        for e in &entries {
            let (src, w, h) = photo(e);
            let mut fast = vec![0u8; src.len()];
            let mut exact = vec![0u8; src.len()];
            corrupt_buffer(
                imgcorrupt::ImageView::new(&src, w, h, PixelLayout::Rgb),
                &mut fast,
                c,
                s,
                &Settings::new(1),
            )
            .unwrap();
            let numpy = Settings::new(1).with_rng(RngMode::Numpy);
            corrupt_buffer(
                imgcorrupt::ImageView::new(&src, w, h, PixelLayout::Rgb),
                &mut exact,
                c,
                s,
                &numpy,
            )
            .unwrap();
            for (&a, &b) in fast.iter().zip(&exact) {
                let d = a.abs_diff(b);
                max = max.max(d);
                sum += d as u64;
                n += 1;
            }
        }
        rows.push((s, max, sum as f64 / n as f64));
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        for (s, max, mean) in &rows {
            eprintln!("{c} s{s}: fast vs exact max {max} mean {mean:.4}");
        }
    }
    rows
}

#[test]
fn gaussian_blur_fast_is_within_one_level_of_exact() {
    // Same filter in 16-bit fixed point: only rounding across an integer boundary.
    for (s, max, _) in deviation(Corruption::GaussianBlur) {
        assert!(max <= 1, "severity {s}: max deviation {max}");
    }
}

#[test]
fn defocus_blur_fast_is_close_to_exact() {
    // K ≈ G ⊛ D: differences come from K's clipped, mirrored grid and double border reflection.
    for (s, max, mean) in deviation(Corruption::DefocusBlur) {
        assert!(
            max <= 8 && mean < 0.6,
            "severity {s}: max {max}, mean {mean}"
        );
    }
}
