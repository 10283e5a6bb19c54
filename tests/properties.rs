//! Behaviour every implemented corruption must have, whatever its family: purity and
//! determinism, seed sensitivity, any size from 1×1, greyscale and alpha layouts, and the
//! error paths of the public API. New corruptions are covered automatically.

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use imgcorrupt::{
    corrupt_buffer, corrupt_in_place, corrupt_with, Corruption, Error, PixelLayout, RngMode,
    Settings,
};

fn implemented() -> Vec<Corruption> {
    // every row but `stylize` (which needs a style source: tests/stylize.rs)
    Corruption::every()
        .filter(|&c| c != Corruption::Stylize)
        .collect()
}

/// `Settings::new(seed)` with a small tile bank, which LAION-C's mosaic and stickers need
/// (tests/laion_c.rs tests them against the reference with real photo tiles).
fn settings(seed: u64) -> Settings {
    use std::sync::{Arc, OnceLock};
    static BANK: OnceLock<Arc<imgcorrupt::TileBank>> = OnceLock::new();
    let bank = BANK.get_or_init(|| {
        let images: Vec<(Vec<u8>, usize)> = (0..12u32)
            .map(|k| {
                let tile = RgbImage::from_fn(32, 32, |x, y| {
                    image::Rgb([(k * 20 + x) as u8, (y * 5) as u8, (255 - k * 17) as u8])
                });
                (tile.into_raw(), 32)
            })
            .collect();
        Arc::new(imgcorrupt::TileBank::from_images(
            &images,
            &[4, 6, 8, 16, 28],
        ))
    });
    Settings::new(seed).with_tile_bank(bank.clone())
}

/// A deterministic, textured RGB test image.
fn pattern(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = (x * 7 + y * 13 + (x * y) % 11) as u8;
        image::Rgb([v, v.wrapping_mul(3).wrapping_add(40), 255 - v / 2])
    })
}

/// Corruptions that draw random numbers (the rest must ignore the seed).
fn is_random(c: Corruption) -> bool {
    !matches!(
        c,
        Corruption::DefocusBlur
            | Corruption::ZoomBlur
            | Corruption::Brightness
            | Corruption::Contrast
            | Corruption::Pixelate
            | Corruption::JpegCompression
            | Corruption::GaussianBlur
            | Corruption::Saturate
            | Corruption::CircularMotionBlur
            // LAION-C: nearest-colour tiles, and the deterministic line drawing
            | Corruption::Mosaic
            | Corruption::VerticalLines
    )
}

#[test]
fn same_inputs_same_bytes_in_both_modes() {
    let img = DynamicImage::ImageRgb8(pattern(67, 45));
    for c in implemented() {
        for mode in [RngMode::Fast, RngMode::Numpy] {
            for s in [1u8, 5] {
                let set = settings(99).with_rng(mode);
                let a = corrupt_with(&img, c, s, &set).unwrap();
                let b = corrupt_with(&img, c, s, &set).unwrap();
                assert_eq!(a, b, "{c} s{s} {mode}");
            }
        }
    }
}

#[test]
fn seeds_change_random_corruptions_only() {
    let img = DynamicImage::ImageRgb8(pattern(64, 48));
    for c in implemented() {
        for mode in [RngMode::Fast, RngMode::Numpy] {
            let a = corrupt_with(&img, c, 3, &settings(1).with_rng(mode)).unwrap();
            let b = corrupt_with(&img, c, 3, &settings(2).with_rng(mode)).unwrap();
            assert_eq!(a != b, is_random(c), "{c} {mode}: seed sensitivity");
        }
    }
}

#[test]
fn fast_mode_keys_depend_on_corruption_and_severity() {
    // Same seed, different severity of the same noise: different realisations even where the
    // parameters would give equal outputs, because the key includes (name, severity).
    let img = DynamicImage::ImageRgb8(pattern(32, 32));
    let a = corrupt_with(&img, Corruption::GaussianNoise, 1, &settings(5)).unwrap();
    let b = corrupt_with(&img, Corruption::GaussianNoise, 2, &settings(5)).unwrap();
    assert_ne!(a, b);
}

#[test]
fn any_size_from_one_pixel() {
    for (w, h) in [(1, 1), (1, 9), (9, 1), (2, 3), (33, 17), (17, 33)] {
        let img = DynamicImage::ImageRgb8(pattern(w, h));
        for c in implemented() {
            for s in 1..=5 {
                for mode in [RngMode::Fast, RngMode::Numpy] {
                    let out = corrupt_with(&img, c, s, &settings(3).with_rng(mode))
                        .unwrap_or_else(|e| panic!("{c} s{s} {w}x{h} {mode}: {e}"));
                    assert_eq!((out.width(), out.height()), (w, h), "{c}");
                    assert!(matches!(out, DynamicImage::ImageRgb8(_)));
                }
            }
        }
    }
}

#[test]
fn greyscale_is_channel_zero_of_the_replicated_rgb_result() {
    let grey = GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 5 + y * 3) as u8]));
    let rgb = DynamicImage::ImageRgb8(DynamicImage::ImageLuma8(grey.clone()).to_rgb8());
    for c in implemented() {
        let set = settings(11);
        let g = corrupt_with(&DynamicImage::ImageLuma8(grey.clone()), c, 4, &set).unwrap();
        let r = corrupt_with(&rgb, c, 4, &set).unwrap().to_rgb8();
        let g = g.as_luma8().expect("greyscale stays greyscale");
        for (gp, rp) in g.pixels().zip(r.pixels()) {
            assert_eq!(gp.0[0], rp.0[0], "{c}");
        }
    }
}

#[test]
fn alpha_is_untouched_and_colour_matches_rgb() {
    let rgba = RgbaImage::from_fn(37, 23, |x, y| {
        image::Rgba([(x * 6) as u8, (y * 9) as u8, 77, (x * y) as u8])
    });
    let rgb = DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba.clone()).to_rgb8());
    let ga = GrayAlphaImage::from_fn(37, 23, |x, y| {
        image::LumaA([(x * 6) as u8, (200 - y) as u8])
    });
    for c in implemented() {
        let set = settings(4);
        let out = corrupt_with(&DynamicImage::ImageRgba8(rgba.clone()), c, 2, &set).unwrap();
        let out = out.as_rgba8().expect("RGBA stays RGBA");
        let colour = corrupt_with(&rgb, c, 2, &set).unwrap().to_rgb8();
        for ((o, i), col) in out.pixels().zip(rgba.pixels()).zip(colour.pixels()) {
            assert_eq!(o.0[3], i.0[3], "{c}: alpha changed");
            assert_eq!(&o.0[..3], &col.0, "{c}: colour differs from the RGB path");
        }
        let out = corrupt_with(&DynamicImage::ImageLumaA8(ga.clone()), c, 2, &set).unwrap();
        let out = out.as_luma_alpha8().expect("grey+alpha stays grey+alpha");
        for (o, i) in out.pixels().zip(ga.pixels()) {
            assert_eq!(o.0[1], i.0[1], "{c}: alpha changed");
        }
    }
}

#[test]
fn buffer_in_place_and_image_entry_points_agree() {
    let img = pattern(29, 31);
    for c in implemented() {
        let set = settings(8);
        let via_image = corrupt_with(&DynamicImage::ImageRgb8(img.clone()), c, 3, &set)
            .unwrap()
            .to_rgb8();
        let mut out = vec![0u8; img.as_raw().len()];
        corrupt_buffer(
            imgcorrupt::ImageView::new(img.as_raw(), 29, 31, PixelLayout::Rgb),
            &mut out,
            c,
            3,
            &set,
        )
        .unwrap();
        assert_eq!(out, via_image.as_raw().to_vec(), "{c}");
        let mut buf = img.as_raw().clone();
        corrupt_in_place(
            imgcorrupt::ImageViewMut::new(&mut buf, 29, 31, PixelLayout::Rgb),
            c,
            3,
            &set,
        )
        .unwrap();
        assert_eq!(buf, out, "{c}");
    }
}

#[test]
fn api_errors_are_specific() {
    let img = DynamicImage::ImageRgb8(pattern(8, 8));
    let set = settings(0);
    for s in [0u8, 6] {
        assert!(matches!(
            corrupt_with(&img, Corruption::Contrast, s, &set),
            Err(Error::InvalidSeverity(_))
        ));
    }
    let mut out = vec![0u8; 10];
    let e = corrupt_buffer(
        imgcorrupt::ImageView::new(&[0u8; 12], 2, 2, PixelLayout::Rgb),
        &mut out,
        Corruption::Contrast,
        1,
        &set,
    )
    .unwrap_err();
    assert!(e.to_string().contains("output buffer"), "{e}");
    let e = corrupt_buffer(
        imgcorrupt::ImageView::new(&[], 0, 5, PixelLayout::Rgb),
        &mut [],
        Corruption::Contrast,
        1,
        &set,
    )
    .unwrap_err();
    assert!(e.to_string().contains("zero-sized"), "{e}");
    let big = settings(1 << 40).with_rng(RngMode::Numpy);
    let e = corrupt_with(&img, Corruption::GaussianNoise, 1, &big).unwrap_err();
    assert!(matches!(e, Error::InvalidSeed(_)), "{e}");
    let e16 = DynamicImage::ImageRgb16(image::ImageBuffer::new(2, 2));
    assert!(corrupt_with(&e16, Corruption::Contrast, 1, &set).is_err());
}

/// A preset whose zoom_blur step is tiny for its stop is refused when it is loaded, naming the
/// keys (it used to load, and zoom_blur then panicked with `capacity overflow` or ran for ever).
#[test]
fn preset_with_too_many_zoom_factors_is_an_error() {
    let text = |stop: &str, step: &str| {
        format!(
            "[preset]\nname = \"z\"\nextends = \"imagecorruptions\"\n[zoom_blur]\n\
             stop = [{stop}, 1.16, 1.21, 1.26, 1.31]\nstep = [{step}, 0.01, 0.02, 0.02, 0.03]\n"
        )
    };
    for (stop, step) in [("1.11", "1e-300"), ("100000.0", "0.01")] {
        let e = imgcorrupt::Preset::from_toml_str(&text(stop, step), "z.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("z.toml") && e.contains("zoom_blur.step") && e.contains("severity 1"),
            "{e}"
        );
    }
    // a strong but sane zoom still loads and runs
    let p = imgcorrupt::Preset::from_toml_str(&text("2.0", "0.01"), "z.toml").unwrap();
    let set = settings(0).with_preset(std::sync::Arc::new(p));
    let img = DynamicImage::ImageRgb8(pattern(9, 7));
    corrupt_with(&img, Corruption::ZoomBlur, 1, &set).unwrap();
}

/// Preset values that used to load and then panic (`capacity overflow`, index out of bounds,
/// "taps must have odd length") or abort on a failed allocation inside a corruption are refused
/// when the preset is loaded, naming the key: every number must be finite, blur σs and radii at
/// most `MAX_BLUR_PIXELS`, snow's zoom at most `MAX_SNOW_ZOOM`, elastic fractions in [0, 1].
#[test]
fn preset_values_that_broke_corruptions_are_refused_on_load() {
    let cases = [
        ("snow", "blur_radius", "inf"),
        ("snow", "zoom", "1e18"),
        ("snow", "mean", "nan"),
        ("glass_blur", "sigma", "1e18"),
        ("spatter", "blur_sigma", "inf"),
        ("gaussian_blur", "sigma", "1e300"),
        ("motion_blur", "radius", "1e9"),
        ("frost", "frost_weight", "nan"),
        ("saturate", "offset", "-inf"),
    ];
    for (table, key, v) in cases {
        let text = format!(
            "[preset]\nname = \"x\"\nextends = \"imagecorruptions\"\n[{table}]\n\
             {key} = [{v}, {v}, {v}, {v}, {v}]\n"
        );
        let e = imgcorrupt::Preset::from_toml_str(&text, "x.toml")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("{table}.{key}")),
            "{table}.{key} = {v}: {e}"
        );
    }
    let text = "[preset]\nname = \"x\"\nextends = \"imagecorruptions\"\n\
                [elastic_transform]\nsigma_scale = inf\n";
    let e = imgcorrupt::Preset::from_toml_str(text, "x.toml")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("elastic_transform.sigma_scale"), "{e}");
    // the largest accepted values run
    let text = format!(
        "[preset]\nname = \"x\"\nextends = \"imagecorruptions\"\n\
         [snow]\nzoom = [{z}, {z}, {z}, {z}, {z}]\nblur_radius = [{b}, {b}, {b}, {b}, {b}]\n",
        z = imgcorrupt::preset::MAX_SNOW_ZOOM,
        b = imgcorrupt::preset::MAX_BLUR_PIXELS
    );
    let p = std::sync::Arc::new(imgcorrupt::Preset::from_toml_str(&text, "x.toml").unwrap());
    let img = DynamicImage::ImageRgb8(pattern(5, 3));
    corrupt_with(&img, Corruption::Snow, 2, &settings(0).with_preset(p)).unwrap();
}
