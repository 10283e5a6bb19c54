//! Issue 16, continuous severity (`corrupt_at`, CLI `corrupt -s 2.5`): CCC-style linear
//! interpolation of each table key between severities, 0 = identity, integer severities
//! unchanged, and a clear refusal for tables that do not interpolate.

use std::sync::Arc;

use image::{DynamicImage, RgbImage};
use imgcorrupt::{corrupt_at, corrupt_with, Corruption, Error, Preset, Settings};

fn grey(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128])))
}

fn photo() -> DynamicImage {
    image::open(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/coffee_97x61.png"),
    )
    .unwrap()
}

/// Standard deviation of the change, in grey levels.
fn noise_std(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb8().into_raw(), b.to_rgb8().into_raw());
    let d: Vec<f64> = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| f64::from(y) - f64::from(x))
        .collect();
    let m = d.iter().sum::<f64>() / d.len() as f64;
    (d.iter().map(|v| (v - m).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
}

fn mad(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb8().into_raw(), b.to_rgb8().into_raw());
    a.iter()
        .zip(&b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs())
        .sum::<f64>()
        / a.len() as f64
}

#[test]
fn interpolates_the_table_linearly() {
    // gaussian_noise σ = 0.12 (s2) and 0.18 (s3): s 2.5 is σ 0.15, s 0.5 is σ 0.04 (identity 0)
    let img = grey(200, 150);
    let set = Settings::new(9);
    for (s, sigma) in [(2.5, 0.15), (2.25, 0.135), (0.5, 0.04), (1.5, 0.10)] {
        let out = corrupt_at(&img, Corruption::GaussianNoise, s, &set).unwrap();
        let got = noise_std(&img, &out) / 255.0;
        assert!(
            (got - sigma).abs() < 0.04 * sigma + 0.002,
            "s {s}: σ {got} vs {sigma}"
        );
    }
}

#[test]
fn zero_is_identity_and_integers_are_the_integer_path() {
    let img = photo();
    let set = Settings::new(4);
    for c in [
        Corruption::GaussianNoise,
        Corruption::GlassBlur,
        Corruption::Sparkles,
    ] {
        assert_eq!(corrupt_at(&img, c, 0.0, &set).unwrap(), img, "{c}");
        assert_eq!(
            corrupt_at(&img, c, 3.0, &set).unwrap(),
            corrupt_with(&img, c, 3, &set).unwrap(),
            "{c}"
        );
    }
}

#[test]
fn c_bar_magnitudes_interpolate_from_zero() {
    // single_frequency_greyscale's amplitude is fp(m, 196): between severities the change
    // grows with s, and numpy mode draws the same wave for every severity.
    let img = photo();
    let preset = Arc::new(Preset::builtin("c-bar").unwrap());
    let set = Settings::new(2)
        .with_rng(imgcorrupt::RngMode::Numpy)
        .with_preset(preset);
    let c = Corruption::SingleFrequencyGreyscale;
    let curve: Vec<f64> = [0.25, 0.5, 1.0, 1.5, 2.0, 3.5, 4.75, 5.0]
        .iter()
        .map(|&s| mad(&img, &corrupt_at(&img, c, s, &set).unwrap()))
        .collect();
    for w in curve.windows(2) {
        assert!(w[1] > w[0], "{curve:?}");
    }
}

#[test]
fn refuses_what_does_not_interpolate() {
    let img = photo();
    let set = Settings::new(1);
    match corrupt_at(&img, Corruption::GlassBlur, 2.5, &set) {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("glass_blur does not interpolate"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    match corrupt_at(&img, Corruption::ShotNoise, 0.5, &set) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("no identity"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(corrupt_at(&img, Corruption::ShotNoise, 1.5, &set).is_ok());
    for bad in [-0.5, 5.5, f64::NAN] {
        assert!(matches!(
            corrupt_at(&img, Corruption::GaussianNoise, bad, &set),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn continuous_outputs_are_seeded() {
    let img = photo();
    let a = corrupt_at(&img, Corruption::Ripple, 2.5, &Settings::new(1)).unwrap();
    let b = corrupt_at(&img, Corruption::Ripple, 2.5, &Settings::new(1)).unwrap();
    let c = corrupt_at(&img, Corruption::Ripple, 2.5, &Settings::new(2)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// The eight -C corruptions whose rules ALGORITHMS.md §14 adds (fog, defocus, motion, zoom,
/// snow, elastic, pixelate, jpeg): the change from the clean image grows with the severity
/// from 0 up, and a half-way severity lies between its two neighbours (numpy mode: the same
/// draws at every severity, so only the table moves).
#[test]
fn new_rules_grow_with_severity_and_sit_between_levels() {
    let img = photo();
    let set = Settings::new(3).with_rng(imgcorrupt::RngMode::Numpy);
    let m = |c, s: f64| mad(&img, &corrupt_at(&img, c, s, &set).unwrap());
    for c in [
        Corruption::Fog,
        Corruption::DefocusBlur,
        Corruption::MotionBlur,
        Corruption::ZoomBlur,
        Corruption::Snow,
        Corruption::ElasticTransform,
        Corruption::Pixelate,
        Corruption::JpegCompression,
    ] {
        // from 0 (jpeg has no identity: from 1)
        let low: &[f64] = if c == Corruption::JpegCompression {
            &[1.0]
        } else {
            &[0.0, 0.5, 1.0]
        };
        let curve: Vec<f64> = low.iter().map(|&s| m(c, s)).collect();
        for w in curve.windows(2) {
            assert!(w[1] > w[0], "{c}: {low:?} → {curve:?}");
        }
        // (defocus: a disk of radius 0.75 is still the centre pixel alone)
        if c != Corruption::JpegCompression {
            assert!(m(c, 0.25) <= curve[1], "{c}");
        }
        for k in 1..5 {
            let (a, mid, b) = (m(c, k as f64), m(c, k as f64 + 0.5), m(c, k as f64 + 1.0));
            let (lo, hi) = (a.min(b), a.max(b));
            // 5 % slack: elastic and zoom are not strictly monotone between the reference's
            // own levels (their fields/factor counts change shape), but half-way stays near
            assert!(
                mid >= lo * 0.95 - 0.05 && mid <= hi * 1.05 + 0.05,
                "{c}: s {k}: {a}, s {k}.5: {mid}, s {}: {b}",
                k + 1
            );
        }
    }
}

#[test]
fn new_rules_are_deterministic_and_keep_the_refusals() {
    let img = photo();
    // (zoom_blur, defocus_blur and pixelate draw nothing: same bytes for any seed)
    for c in [Corruption::Snow, Corruption::MotionBlur, Corruption::Fog] {
        let a = corrupt_at(&img, c, 2.7, &Settings::new(5)).unwrap();
        assert!(
            a == corrupt_at(&img, c, 2.7, &Settings::new(5)).unwrap(),
            "{c}"
        );
        assert!(
            a != corrupt_at(&img, c, 2.7, &Settings::new(6)).unwrap(),
            "{c}"
        );
    }
    // jpeg: quality 25 → 18 between 1 and 2. 1.5 is 21.5, rounded half away from zero to
    // 22 like 1.45 (21.85); 1.6 is 20.8 → 21
    let set = Settings::new(1);
    let j = |s| corrupt_at(&img, Corruption::JpegCompression, s, &set).unwrap();
    assert!(j(1.5) == j(1.45));
    assert!(j(1.5) != j(1.6));
    match corrupt_at(&img, Corruption::JpegCompression, 0.5, &set) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("no identity"), "{m}"),
        other => panic!("{other:?}"),
    }
    for c in [Corruption::GlassBlur, Corruption::Spatter] {
        match corrupt_at(&img, c, 2.5, &set) {
            Err(Error::InvalidArgument(m)) => {
                assert!(m.contains(&format!("{c} does not interpolate")), "{m}")
            }
            other => panic!("{c}: {other:?}"),
        }
    }
}
