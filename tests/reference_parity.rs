//! Fidelity against the committed outputs of imagecorruptions 1.1.2 (fixtures/reference,
//! made by scripts/make_fixtures.py from real photos).
//!
//! * numpy mode: within ±1 grey level of the reference on at least 99.9 % of values, for every
//!   photo × severity of each implemented corruption;
//! * fast mode: mean PSNR against the clean photo within 0.5 dB of the reference's.
//!
//! Corruptions whose tolerances differ (the issue that introduced them says so) pass a
//! [`Tol`] explicitly in the `parity_tests!` list.

mod common;

use common::*;
use imgcorrupt::{corrupt_buffer, Corruption, PixelLayout, RngMode, Settings};

fn run(src: &[u8], w: usize, h: usize, c: Corruption, s: u8, settings: &Settings) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    corrupt_buffer(src, &mut out, w, h, PixelLayout::Rgb, c, s, settings).unwrap();
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
};

fn numpy_parity(c: Corruption, tol: Tol) {
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
        for e in &entries {
            let (src, w, h) = photo(e);
            match tol.fast {
                FastRef::Fixtures => {
                    let out = run(&src, w, h, c, s, &Settings::new(1000 + e.seed));
                    ours += psnr(&src, &out).min(99.0);
                    theirs += e.psnr_vs_clean.unwrap_or(99.0).min(99.0);
                    n += 1.0;
                }
                FastRef::NumpyMode { seeds } => {
                    for k in 0..seeds {
                        let seed = 1000 + e.seed * 100 + k;
                        let out = run(&src, w, h, c, s, &Settings::new(seed));
                        ours += psnr(&src, &out).min(99.0);
                        let numpy = Settings::new(seed).with_rng(RngMode::Numpy);
                        let out = run(&src, w, h, c, s, &numpy);
                        theirs += psnr(&src, &out).min(99.0);
                        n += 1.0;
                    }
                }
            }
        }
        let (ours, theirs) = (ours / n, theirs / n);
        let what = match tol.fast {
            FastRef::Fixtures => "reference",
            FastRef::NumpyMode { .. } => "numpy mode",
        };
        report.push(format!("s{s}: ours {ours:.3} dB {what} {theirs:.3} dB"));
        failed |= (ours - theirs).abs() > tol.fast_db;
    }
    if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
        eprintln!("{c} fast mode:\n{}", report.join("\n"));
    }
    assert!(
        !failed,
        "{c} fast-mode PSNR differs by more than {} dB:\n{}",
        tol.fast_db,
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
    brightness => Corruption::Brightness,
    contrast => Corruption::Contrast,
    pixelate => Corruption::Pixelate,
    // jpeg_compression => Corruption::JpegCompression,
    speckle_noise => Corruption::SpeckleNoise,
    saturate => Corruption::Saturate,
    // Fog's PSNR varies by σ ≈ 1.9 dB between draws: fast mode is compared with numpy mode
    // over 24 seeds per photo.
    snow => Corruption::Snow,
    fog => Corruption::Fog; Tol { fast: FastRef::NumpyMode { seeds: 24 }, ..DEFAULT },
    // spatter: ±2 on 99 % (issue 4); its PSNR varies by up to σ ≈ 2.5 dB between draws (mud
    // splashes are few and large), so fast mode is compared with numpy mode over 12 seeds.
    spatter => Corruption::Spatter; Tol {
        within: 2,
        fraction: 0.99,
        fast: FastRef::NumpyMode { seeds: 12 },
        ..DEFAULT
    },
}
