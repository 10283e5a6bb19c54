//! The blur family on a non-square image wider than 2000 px (2100×40): the vectorised kernels
//! (AVX2 where available) must give the same bytes as the scalar twins, checked end to end by
//! running the CLI with `IMGCORRUPT_SIMD=scalar` next to the default in-process path; plus
//! mirror equivariance of the deterministic, symmetric filters.

use std::process::Command;

use image::{DynamicImage, RgbImage};
use imgcorrupt::{corrupt_with, Corruption, RngMode, Settings};

const BLURS: [Corruption; 6] = [
    Corruption::DefocusBlur,
    Corruption::GlassBlur,
    Corruption::MotionBlur,
    Corruption::ZoomBlur,
    Corruption::GaussianBlur,
    Corruption::ElasticTransform,
];

fn wide() -> RgbImage {
    RgbImage::from_fn(2100, 40, |x, y| {
        let v = ((x * 7 + y * 13 + (x * y) % 11) % 256) as u8;
        image::Rgb([v, v.wrapping_mul(3).wrapping_add(40), 255 - v / 2])
    })
}

#[test]
fn scalar_path_equals_default_path_on_2100x40() {
    let dir = std::env::temp_dir().join(format!("imgcorrupt-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.png");
    wide().save(&input).unwrap();
    let img = DynamicImage::ImageRgb8(wide());
    for c in BLURS {
        for s in [1u8, 5] {
            let out = dir.join(format!("{c}-{s}.png"));
            let status = Command::new(env!("CARGO_BIN_EXE_imgcorrupt"))
                .env("IMGCORRUPT_SIMD", "scalar")
                .args([
                    "corrupt",
                    input.to_str().unwrap(),
                    "-o",
                    out.to_str().unwrap(),
                ])
                .args([
                    "-c",
                    c.name(),
                    "-s",
                    &s.to_string(),
                    "--seed",
                    "5",
                    "--rng",
                    "numpy",
                ])
                .status()
                .unwrap();
            assert!(status.success(), "{c} s{s}");
            let scalar = image::open(&out).unwrap().to_rgb8();
            let default = corrupt_with(&img, c, s, &Settings::new(5).with_rng(RngMode::Numpy))
                .unwrap()
                .to_rgb8();
            assert_eq!(
                scalar.as_raw(),
                default.as_raw(),
                "{c} s{s}: SIMD != scalar"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn symmetric_filters_commute_with_mirroring() {
    let img = wide();
    let mirrored = image::imageops::flip_horizontal(&img);
    for c in [Corruption::GaussianBlur, Corruption::DefocusBlur] {
        for s in 1..=5 {
            let set = Settings::new(0);
            let a = corrupt_with(&DynamicImage::ImageRgb8(img.clone()), c, s, &set).unwrap();
            let b = corrupt_with(&DynamicImage::ImageRgb8(mirrored.clone()), c, s, &set).unwrap();
            let a = image::imageops::flip_horizontal(&a.to_rgb8());
            assert_eq!(a.as_raw(), b.to_rgb8().as_raw(), "{c} s{s}");
        }
    }
}
