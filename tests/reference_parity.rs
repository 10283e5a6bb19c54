//! Fidelity against the committed outputs of imagecorruptions 1.1.2 (fixtures/reference,
//! made by scripts/make_fixtures.py from real photos).
//!
//! * numpy mode: within ±1 grey level of the reference on at least 99.9 % of values, for every
//!   photo × severity of each implemented corruption;
//! * fast mode: mean PSNR and mean SSIM against the clean photo within 0.5 dB and 0.015 of the
//!   reference's, per severity (SSIM as scikit-image defines it; `common::ssim` agrees with
//!   `skimage.metrics.structural_similarity(channel_axis=-1, data_range=255)` to 6 digits).
//!
//! Corruptions whose tolerances differ (the issue that introduced them says so) pass a
//! [`Tol`] explicitly in the `parity_tests!` list.

mod common;

use common::*;
use std::sync::Arc;

use imgcorrupt::{corrupt_buffer, Corruption, FrostTextures, PixelLayout, RngMode, Settings};

fn run(src: &[u8], w: usize, h: usize, c: Corruption, s: u8, settings: &Settings) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    corrupt_buffer(
        imgcorrupt::ImageView::new(src, w, h, PixelLayout::Rgb),
        &mut out,
        c,
        s,
        settings,
    )
    .unwrap();
    out
}

/// Per-corruption tolerances of the two checks.
#[derive(Clone, Copy)]
struct Tol {
    /// numpy mode: largest accepted difference per value ...
    within: u8,
    /// ... on at least this fraction of the values.
    fraction: f64,
    /// fast mode: what the mean PSNR is compared with.
    fast: FastRef,
    /// fast mode: accepted difference of the mean PSNRs in dB.
    fast_db: f64,
    /// fast mode: accepted difference of the mean SSIMs (structural similarity to the clean
    /// photo, scikit-image's definition).
    fast_ssim: f64,
}

/// What the fast-mode mean PSNR is compared with.
#[derive(Clone, Copy)]
enum FastRef {
    /// The committed reference outputs (one draw per photo × severity).
    Fixtures,
    /// Our numpy mode (which the numpy-mode test holds to the reference) averaged over this
    /// many seeds per photo, fast mode over as many: for corruptions whose PSNR varies so
    /// much between draws (fog: σ ≈ 1.9 dB per image, from the coarse plasma levels) that the
    /// four fixture draws cannot pin the mean to 0.5 dB.
    NumpyMode { seeds: u64 },
}

const DEFAULT: Tol = Tol {
    within: 1,
    fraction: 0.999,
    fast: FastRef::Fixtures,
    fast_db: 0.5,
    fast_ssim: 0.015,
};

fn numpy_parity(c: Corruption, tol: Tol) {
    numpy_parity_with(c, tol, &|s| s)
}

/// [`numpy_parity`] with extra settings (e.g. frost's original textures).
fn numpy_parity_with(c: Corruption, tol: Tol, extra: &dyn Fn(Settings) -> Settings) {
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
                &extra(Settings::new(e.seed).with_rng(RngMode::Numpy)),
            );
            let (within, maxdiff) = agreement(&ours, &reference(&e), tol.within);
            let (exact, _) = agreement(&ours, &reference(&e), 0);
            report.push(format!(
                "{} s{s}: ±{} {:.5} exact {:.5} max {maxdiff}",
                e.photo, tol.within, within, exact
            ));
            failed |= within < tol.fraction;
        }
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        eprintln!("{c} numpy mode:\n{}", report.join("\n"));
    }
    assert!(
        !failed,
        "{c} numpy-mode parity below {} % within ±{}:\n{}",
        tol.fraction * 100.0,
        tol.within,
        report.join("\n")
    );
}

fn fast_psnr(c: Corruption, tol: Tol) {
    let mut report = Vec::new();
    let mut failed = false;
    for (s, entries) in entries_of(c) {
        let (mut ours, mut theirs, mut n) = (0.0, 0.0, 0.0);
        let (mut ours_ssim, mut theirs_ssim) = (0.0, 0.0);
        for e in &entries {
            let (src, w, h) = photo(e);
            match tol.fast {
                FastRef::Fixtures => {
                    let out = run(&src, w, h, c, s, &Settings::new(1000 + e.seed));
                    ours += psnr(&src, &out).min(99.0);
                    theirs += e.psnr_vs_clean.unwrap_or(99.0).min(99.0);
                    ours_ssim += ssim(&src, &out, w, h, 3);
                    theirs_ssim += ssim(&src, &reference(e), w, h, 3);
                    n += 1.0;
                }
                FastRef::NumpyMode { seeds } => {
                    for k in 0..seeds {
                        let seed = 1000 + e.seed * 100 + k;
                        let out = run(&src, w, h, c, s, &Settings::new(seed));
                        ours += psnr(&src, &out).min(99.0);
                        ours_ssim += ssim(&src, &out, w, h, 3);
                        let numpy = Settings::new(seed).with_rng(RngMode::Numpy);
                        let out = run(&src, w, h, c, s, &numpy);
                        theirs += psnr(&src, &out).min(99.0);
                        theirs_ssim += ssim(&src, &out, w, h, 3);
                        n += 1.0;
                    }
                }
            }
        }
        let (ours, theirs) = (ours / n, theirs / n);
        let (ours_ssim, theirs_ssim) = (ours_ssim / n, theirs_ssim / n);
        let what = match tol.fast {
            FastRef::Fixtures => "reference",
            FastRef::NumpyMode { .. } => "numpy mode",
        };
        report.push(format!(
            "s{s}: ours {ours:.3} dB SSIM {ours_ssim:.4}; {what} {theirs:.3} dB SSIM {theirs_ssim:.4}"
        ));
        failed |= (ours - theirs).abs() > tol.fast_db;
        failed |= (ours_ssim - theirs_ssim).abs() > tol.fast_ssim;
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        eprintln!("{c} fast mode:\n{}", report.join("\n"));
    }
    assert!(
        !failed,
        "{c} fast-mode mean PSNR differs by more than {} dB or mean SSIM by more than {}:\n{}",
        tol.fast_db,
        tol.fast_ssim,
        report.join("\n")
    );
}

macro_rules! tol_or_default {
    () => {
        DEFAULT
    };
    ($tol:expr) => {
        $tol
    };
}

/// `name => corruption` uses [`DEFAULT`]; `name => corruption; tolerances` overrides it.
macro_rules! parity_tests {
    ($($name:ident => $c:expr $(; $tol:expr)?),* $(,)?) => {
        mod numpy_mode {
            use super::*;
            $( #[test] fn $name() { numpy_parity($c, tol_or_default!($($tol)?)) } )*
        }
        mod fast_mode {
            use super::*;
            $( #[test] fn $name() { fast_psnr($c, tol_or_default!($($tol)?)) } )*
        }
    };
}

parity_tests! {
    gaussian_noise => Corruption::GaussianNoise,
    shot_noise => Corruption::ShotNoise,
    impulse_noise => Corruption::ImpulseNoise,
    defocus_blur => Corruption::DefocusBlur,
    glass_blur => Corruption::GlassBlur,
    zoom_blur => Corruption::ZoomBlur,
    brightness => Corruption::Brightness,
    contrast => Corruption::Contrast,
    pixelate => Corruption::Pixelate,
    jpeg_compression => Corruption::JpegCompression,
    speckle_noise => Corruption::SpeckleNoise,
    gaussian_blur => Corruption::GaussianBlur,
    saturate => Corruption::Saturate,
    // The SSIM of motion_blur, snow and elastic_transform depends on a few random draws per
    // image (blur angle, snow streak layout, displacement field), so four fixture draws
    // cannot pin its mean to 0.015: fast mode is compared with numpy mode over 16 seeds.
    snow => Corruption::Snow; Tol { fast: FastRef::NumpyMode { seeds: 16 }, ..DEFAULT },
    motion_blur => Corruption::MotionBlur; Tol { fast: FastRef::NumpyMode { seeds: 16 }, ..DEFAULT },
    elastic_transform => Corruption::ElasticTransform;
        Tol { fast: FastRef::NumpyMode { seeds: 16 }, ..DEFAULT },
    // Fog's PSNR varies by σ ≈ 1.9 dB between draws: fast mode is compared with numpy mode
    // over 48 seeds per photo.
    fog => Corruption::Fog; Tol { fast: FastRef::NumpyMode { seeds: 48 }, ..DEFAULT },
    // spatter's PSNR varies by up to σ ≈ 2.5 dB between draws (mud splashes are few and
    // large), so fast mode is compared with numpy mode over 12 seeds. Issue 4 accepted ±2 on
    // 99 % in numpy mode; it is byte-identical, so the default ±1 on 99.9 % holds it.
    spatter => Corruption::Spatter; Tol { fast: FastRef::NumpyMode { seeds: 12 }, ..DEFAULT },
}

/// frost with the original textures reproduces imagecorruptions 1.1.2 in numpy mode:
/// the default ±1 on ≥ 99.9 % of values. Issue 4 accepted ±2 on 99 % (OpenCV's bicubic
/// rescale is reproduced to ±1 and JPEG decoders may differ); every committed value is within
/// ±1, so the tighter bound is the one held.
#[test]
fn frost_original_textures_numpy_mode() {
    let Some(dir) = frost_dir() else {
        eprintln!(
            "frost_original_textures_numpy_mode: SKIPPED: the reference frost textures were not \
             found (set IMGCORRUPT_FROST_DIR to the folder holding frost1.png ... frost6.jpg)"
        );
        return;
    };
    let textures = Arc::new(FrostTextures::load(&dir).unwrap());
    numpy_parity_with(Corruption::Frost, DEFAULT, &|s| {
        s.with_frost_textures(textures.clone())
    });
}

/// Procedural frost keeps the reference's severity curve: mean PSNR against the clean photo
/// per severity within 1.5 dB of the reference outputs (issue 4). In numpy mode the draws are
/// the reference's, so each photo gets the procedural stand-in of the very texture slot the
/// reference used; fast mode is compared over 16 seeds per photo with numpy mode.
#[test]
fn frost_procedural_severity_curve() {
    let mut report = Vec::new();
    let mut failed = false;
    for (s, entries) in entries_of(Corruption::Frost) {
        let (mut numpy, mut reference) = (0.0, 0.0);
        let (mut fast_many, mut numpy_many) = (0.0, 0.0);
        for e in &entries {
            let (src, w, h) = photo(e);
            let out = run(
                &src,
                w,
                h,
                Corruption::Frost,
                s,
                &Settings::new(e.seed).with_rng(RngMode::Numpy),
            );
            numpy += psnr(&src, &out);
            reference += e.psnr_vs_clean.unwrap_or(99.0);
            for k in 0..16 {
                let seed = 5000 + e.seed * 100 + k;
                let out = run(&src, w, h, Corruption::Frost, s, &Settings::new(seed));
                fast_many += psnr(&src, &out);
                let numpy_set = Settings::new(seed).with_rng(RngMode::Numpy);
                let out = run(&src, w, h, Corruption::Frost, s, &numpy_set);
                numpy_many += psnr(&src, &out);
            }
        }
        let n = entries.len() as f64;
        let (numpy, reference) = (numpy / n, reference / n);
        let (fast_many, numpy_many) = (fast_many / (16.0 * n), numpy_many / (16.0 * n));
        report.push(format!(
            "s{s}: numpy mode {numpy:.3} dB reference {reference:.3} dB | over seeds: fast {fast_many:.3} dB numpy {numpy_many:.3} dB"
        ));
        failed |= (numpy - reference).abs() > 1.5 || (fast_many - numpy_many).abs() > 1.5;
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        eprintln!("frost (procedural):\n{}", report.join("\n"));
    }
    assert!(
        !failed,
        "procedural frost off the reference curve by more than 1.5 dB:\n{}",
        report.join("\n")
    );
}

/// frost reuses its crop buffer per thread: a call after a larger one on the same thread
/// (the buffer holding that texture's values) gives the bytes of a call on a fresh thread,
/// for the procedural textures and, where present, the reference's (both window resizers).
#[test]
fn frost_output_does_not_depend_on_earlier_calls() {
    let mut settings = vec![Settings::new(5)];
    if let Some(dir) = frost_dir() {
        let t = Arc::new(FrostTextures::load(&dir).unwrap());
        settings.push(Settings::new(5).with_frost_textures(t.clone()));
        settings.push(
            Settings::new(5)
                .with_frost_textures(t)
                .with_preset(Arc::new(imgcorrupt::Preset::builtin("cifar-10-c").unwrap())),
        );
    }
    let big: Vec<u8> = (0..240 * 200 * 3).map(|i| (i * 7 % 251) as u8).collect();
    let small: Vec<u8> = (0..97 * 61 * 3).map(|i| (i * 13 % 241) as u8).collect();
    for st in &settings {
        for s in 1..=5 {
            let fresh = std::thread::scope(|sc| {
                sc.spawn(|| run(&small, 97, 61, Corruption::Frost, s, st))
                    .join()
                    .unwrap()
            });
            let after = std::thread::scope(|sc| {
                sc.spawn(|| {
                    run(&big, 240, 200, Corruption::Frost, s, st);
                    run(&small, 97, 61, Corruption::Frost, s, st)
                })
                .join()
                .unwrap()
            });
            assert_eq!(fresh, after, "severity {s}");
        }
    }
}
