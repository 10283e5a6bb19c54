//! LAION-C operators (src/corruptions/laion_c/) against the reference's own code run as an
//! oracle (fixtures/laion_c/make_fixtures.py: glitch-this 1.0.3, the functions of LAION-C's
//! apply_distortions.py, NumPy 1.26 seeds, Pillow drawing), plus the properties every operator
//! must have: determinism, seed sensitivity, sizes down to 1×1, greyscale/alpha, monotone
//! severity.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use imgcorrupt::{
    corrupt_buffer, Corruption, ImageView, PixelLayout, Preset, RngMode, Settings, TileBank,
};
use serde::Deserialize;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn png(path: &Path) -> (Vec<u8>, usize, usize) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    (img.into_raw(), w, h)
}

fn photo(name: &str) -> (Vec<u8>, usize, usize) {
    png(&fixtures().join("photos").join(name))
}

#[derive(Deserialize)]
struct Case {
    photo: String,
    level: u8,
    #[serde(default)]
    seed: u64,
    file: String,
}

#[derive(Deserialize)]
struct Index {
    glitched: Vec<Case>,
    vertical_lines: Vec<Case>,
    luminance: Vec<Case>,
    shapes: Vec<Case>,
    stickers: Vec<Case>,
}

fn index() -> Index {
    let text = std::fs::read_to_string(fixtures().join("laion_c/index.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn preset(name: &str) -> Arc<Preset> {
    Arc::new(Preset::builtin(name).unwrap())
}

fn run(c: Corruption, s: u8, px: &[u8], w: usize, h: usize, settings: &Settings) -> Vec<u8> {
    let mut out = vec![0u8; px.len()];
    corrupt_buffer(
        ImageView::new(px, w, h, PixelLayout::Rgb),
        &mut out,
        c,
        s,
        settings,
    )
    .unwrap_or_else(|e| panic!("{c} s{s} {w}x{h}: {e}"));
    out
}

/// A bank of `n` constant tiles, tile k of value 30·k (as the stickers oracle uses).
fn constant_bank(n: usize, sizes: &[usize]) -> Arc<TileBank> {
    let images: Vec<(Vec<u8>, usize)> = (0..n)
        .map(|k| (vec![(30 * k) as u8; 32 * 32 * 3], 32))
        .collect();
    Arc::new(TileBank::from_images(&images, sizes))
}

/// A bank of varied tiles cut from the test photos.
fn photo_bank() -> Arc<TileBank> {
    let mut images = Vec::new();
    for name in [
        "chelsea_224x224.png",
        "china_120x160.png",
        "fruits_160x120.png",
        "coffee_97x61.png",
    ] {
        let (px, w, h) = photo(name);
        for y in (0..h.saturating_sub(24)).step_by(24) {
            for x in (0..w.saturating_sub(24)).step_by(24) {
                let mut t = Vec::with_capacity(24 * 24 * 3);
                for r in y..y + 24 {
                    t.extend_from_slice(&px[(r * w + x) * 3..(r * w + x + 24) * 3]);
                }
                images.push((t, 24));
            }
        }
    }
    Arc::new(TileBank::from_images(&images, &[4, 6, 8, 16, 28]))
}

fn settings_for(c: Corruption, seed: u64) -> Settings {
    Settings::new(seed)
        .with_preset(preset("laion-c"))
        .with_tile_bank(if c == Corruption::Stickers {
            constant_bank(7, &[16])
        } else {
            photo_bank()
        })
}

const LAION_C: [Corruption; 6] = [
    Corruption::Mosaic,
    Corruption::Stickers,
    Corruption::Glitched,
    Corruption::VerticalLines,
    Corruption::GeometricShapes,
    Corruption::LuminanceCheckerboard,
];

#[test]
fn glitched_compat_is_glitch_this_byte_for_byte() {
    let settings = Settings::new(0).with_preset(preset("laion-c-compat"));
    let cases = index().glitched;
    assert_eq!(cases.len(), 10);
    for c in cases {
        let (px, w, h) = photo(&c.photo);
        let (want, ..) = png(&fixtures().join("laion_c").join(&c.file));
        let got = run(Corruption::Glitched, c.level, &px, w, h, &settings);
        let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(
            diff, 0,
            "{} level {}: {diff} bytes differ",
            c.photo, c.level
        );
    }
}

#[test]
fn vertical_lines_matches_pil_byte_for_byte() {
    let settings = Settings::new(0).with_preset(preset("laion-c"));
    for c in index().vertical_lines {
        let (px, w, h) = photo(&c.photo);
        let (want, ..) = png(&fixtures().join("laion_c").join(&c.file));
        let got = run(Corruption::VerticalLines, c.level, &px, w, h, &settings);
        let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(
            diff, 0,
            "{} level {}: {diff} bytes differ",
            c.photo, c.level
        );
    }
}

#[test]
fn luminance_numpy_mode_is_the_reference_byte_for_byte() {
    for c in index().luminance {
        let settings = Settings::new(c.seed)
            .with_rng(RngMode::Numpy)
            .with_preset(preset("laion-c"));
        let (px, w, h) = photo(&c.photo);
        let (want, ..) = png(&fixtures().join("laion_c").join(&c.file));
        let got = run(
            Corruption::LuminanceCheckerboard,
            c.level,
            &px,
            w,
            h,
            &settings,
        );
        assert_eq!(got, want, "{} level {}", c.photo, c.level);
    }
}

#[test]
fn stickers_numpy_mode_places_the_reference_stickers() {
    for c in index().stickers {
        let settings = Settings::new(c.seed)
            .with_rng(RngMode::Numpy)
            .with_preset(preset("laion-c"))
            .with_tile_bank(constant_bank(7, &[16]));
        let (px, w, h) = photo(&c.photo);
        let (want, ..) = png(&fixtures().join("laion_c").join(&c.file));
        let got = run(Corruption::Stickers, c.level, &px, w, h, &settings);
        assert_eq!(got, want, "{} level {}", c.photo, c.level);
    }
}

#[test]
fn geometric_shapes_numpy_mode_close_to_pil() {
    // Same draws (numpy mode); our rasteriser, not PIL's: edge pixels may differ.
    for c in index().shapes {
        let settings = Settings::new(c.seed)
            .with_rng(RngMode::Numpy)
            .with_preset(preset("laion-c"));
        let (px, w, h) = photo(&c.photo);
        let (want, ..) = png(&fixtures().join("laion_c").join(&c.file));
        let got = run(Corruption::GeometricShapes, c.level, &px, w, h, &settings);
        let pixels = w * h;
        let same = got
            .chunks(3)
            .zip(want.chunks(3))
            .filter(|(a, b)| a == b)
            .count();
        let changed_ref = px
            .chunks(3)
            .zip(want.chunks(3))
            .filter(|(a, b)| a != b)
            .count();
        let changed_ours = px
            .chunks(3)
            .zip(got.chunks(3))
            .filter(|(a, b)| a != b)
            .count();
        let agree = same as f64 / pixels as f64;
        assert!(
            agree >= 0.9,
            "{} level {}: {:.3} of pixels agree",
            c.photo,
            c.level,
            agree
        );
        let ratio = changed_ours as f64 / changed_ref as f64;
        assert!(
            (0.9..1.1).contains(&ratio),
            "{} level {}: covered {changed_ours} vs {changed_ref}",
            c.photo,
            c.level
        );
    }
}

/// The reference looks cells up by `Image.resize((W // t, H // t))` (Pillow's BICUBIC):
/// ours is that downscale byte for byte (fixtures/laion_c/make_mosaic_keys.py), and differs
/// from the plain cell mean it replaced.
#[test]
fn mosaic_cell_colours_are_pillows_bicubic_downscale() {
    use imgcorrupt::corruptions::laion_c::mosaic::cell_colours;
    for (name, sizes) in [
        ("chelsea_224x224", &[4usize, 8, 16, 28][..]),
        ("fruits_160x120", &[4, 8][..]),
    ] {
        let (px, w, h) = photo(&format!("{name}.png"));
        for &t in sizes {
            let (want, ww, wh) =
                png(&fixtures().join(format!("laion_c/mosaic_keys_{name}_t{t}.png")));
            assert_eq!((ww, wh), (w / t, h / t));
            let got = cell_colours(&px, w, h, t);
            assert_eq!(got, want, "{name} t{t}");
            let px = &px;
            // not the box mean: a plain average of each cell differs somewhere
            let mean: Vec<u8> = (0..h / t)
                .flat_map(|cy| (0..w / t).map(move |cx| (cy, cx)))
                .flat_map(|(cy, cx)| {
                    (0..3).map(move |c| {
                        let mut s = 0u32;
                        for y in cy * t..(cy + 1) * t {
                            for x in cx * t..(cx + 1) * t {
                                s += u32::from(px[(y * w + x) * 3 + c]);
                            }
                        }
                        (s as f64 / (t * t) as f64).round() as u8
                    })
                })
                .collect();
            assert_ne!(got, mean, "{name} t{t}");
        }
    }
    // an overhanging grid (t = 6 at 224: 38 cells, offset 2) gives one colour per cell
    let (px, w, h) = photo("chelsea_224x224.png");
    assert_eq!(cell_colours(&px, w, h, 6).len(), 38 * 38 * 3);
    assert_eq!(cell_colours(&px[..3], 1, 1, 28), px[..3].to_vec());
}

#[test]
fn mosaic_cells_are_nearest_bank_tiles() {
    let bank = photo_bank();
    let settings = Settings::new(0)
        .with_preset(preset("laion-c"))
        .with_tile_bank(bank.clone());
    let (px, w, h) = photo("chelsea_224x224.png");
    for (level, t) in [(1u8, 4usize), (3, 8), (4, 16), (5, 28)] {
        let got = run(Corruption::Mosaic, level, &px, w, h, &settings);
        let tiles = bank.tiles(t).unwrap();
        for (cy, cx) in [(0, 0), (224 / t - 1, 224 / t - 1), (3, 5)] {
            // the cell's key (Pillow's bicubic downscale, as the reference) and the
            // brute-force nearest tile mean
            let (keys, kw, _) =
                png(&fixtures().join(format!("laion_c/mosaic_keys_chelsea_224x224_t{t}.png")));
            let mean: [f32; 3] = std::array::from_fn(|c| f32::from(keys[(cy * kw + cx) * 3 + c]));
            let d = |m: &[f32; 3]| (0..3).map(|c| (m[c] - mean[c]).powi(2)).sum::<f32>();
            let best = tiles.means.iter().map(d).fold(f32::INFINITY, f32::min);
            // the cell holds a tile whose mean is that near
            let cell: Vec<u8> = (cy * t..(cy + 1) * t)
                .flat_map(|y| got[(y * w + cx * t) * 3..(y * w + (cx + 1) * t) * 3].to_vec())
                .collect();
            let k = (0..bank.len).find(|&k| tiles.tile(k) == cell.as_slice());
            let k = k.unwrap_or_else(|| panic!("t{t} cell ({cy},{cx}) is no bank tile"));
            assert!(
                d(&tiles.means[k]) <= best * 1.0001 + 1e-3,
                "t{t} cell ({cy},{cx})"
            );
        }
    }
    // level 2 (t = 6 at 224): a centred grid, first cell cut to 4 columns (224 = 2 + 36·6 + 2... ok)
    let got = run(Corruption::Mosaic, 2, &px, w, h, &settings);
    let tiles = bank.tiles(6).unwrap();
    // the second full cell starts at x = 4 and is a whole tile
    let cell: Vec<u8> = (4..10)
        .flat_map(|y| got[(y * w + 4) * 3..(y * w + 10) * 3].to_vec())
        .collect();
    assert!((0..bank.len).any(|k| tiles.tile(k) == cell.as_slice()));
}

#[test]
fn mosaic_and_stickers_without_a_bank_say_so() {
    let (px, w, h) = photo("coffee_97x61.png");
    for c in [Corruption::Mosaic, Corruption::Stickers] {
        let mut out = vec![0u8; px.len()];
        let e = corrupt_buffer(
            ImageView::new(&px, w, h, PixelLayout::Rgb),
            &mut out,
            c,
            3,
            &Settings::new(0).with_preset(preset("laion-c")),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--tile-bank"), "{e}");
    }
}

#[test]
fn deterministic_and_seed_sensitive() {
    let (px, w, h) = photo("fruits_160x120.png");
    for c in LAION_C {
        for s in [1u8, 5] {
            let a = run(c, s, &px, w, h, &settings_for(c, 7));
            let b = run(c, s, &px, w, h, &settings_for(c, 7));
            assert_eq!(a, b, "{c} s{s}: same seed, different output");
            assert_ne!(a, px, "{c} s{s}: identity");
            let other = run(c, s, &px, w, h, &settings_for(c, 8));
            // mosaic and vertical_lines draw no random numbers
            if matches!(c, Corruption::Mosaic | Corruption::VerticalLines) {
                assert_eq!(a, other, "{c}: deterministic operator depends on the seed");
            } else {
                assert_ne!(a, other, "{c} s{s}: seed ignored");
            }
        }
    }
    // compat glitch: the same glitch for every seed (the release's behaviour)
    let compat = Settings::new(1).with_preset(preset("laion-c-compat"));
    let a = run(Corruption::Glitched, 4, &px, w, h, &compat);
    let b = run(
        Corruption::Glitched,
        4,
        &px,
        w,
        h,
        &Settings::new(2).with_preset(preset("laion-c-compat")),
    );
    assert_eq!(a, b);
}

#[test]
fn all_sizes_down_to_one_pixel() {
    for (w, h) in [(1usize, 1usize), (1, 7), (7, 1), (3, 3), (17, 5), (33, 40)] {
        let px: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        for c in LAION_C {
            for s in 1..=5u8 {
                let out = run(c, s, &px, w, h, &settings_for(c, 3));
                assert_eq!(out.len(), px.len());
            }
        }
    }
}

#[test]
fn greyscale_and_alpha_as_the_c_corruptions() {
    let (rgb, w, h) = photo("coffee_97x61.png");
    let grey: Vec<u8> = rgb.chunks(3).map(|p| p[1]).collect();
    let rgba: Vec<u8> = rgb
        .chunks(3)
        .flat_map(|p| [p[0], p[1], p[2], 200])
        .collect();
    for c in LAION_C {
        let st = settings_for(c, 5);
        let mut g = vec![0u8; grey.len()];
        corrupt_buffer(
            ImageView::new(&grey, w, h, PixelLayout::Gray),
            &mut g,
            c,
            3,
            &st,
        )
        .unwrap();
        let mut a = vec![0u8; rgba.len()];
        corrupt_buffer(
            ImageView::new(&rgba, w, h, PixelLayout::Rgba),
            &mut a,
            c,
            3,
            &st,
        )
        .unwrap();
        assert!(a.chunks(4).all(|p| p[3] == 200), "{c}: alpha changed");
        let colour = run(c, 3, &rgb, w, h, &st);
        let from_rgba: Vec<u8> = a.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        assert_eq!(
            from_rgba, colour,
            "{c}: RGBA colour differs from the RGB call"
        );
    }
}

/// Means over 4×4 blocks (what `mosaic` keeps of an image besides tile texture).
fn blocks4(px: &[u8], w: usize, h: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for by in 0..h / 4 {
        for bx in 0..w / 4 {
            for c in 0..3 {
                let mut s = 0.0;
                for y in by * 4..by * 4 + 4 {
                    for x in bx * 4..bx * 4 + 4 {
                        s += f64::from(px[(y * w + x) * 3 + c]);
                    }
                }
                out.push(s / 16.0);
            }
        }
    }
    out
}

/// Mean absolute change from the clean image per severity (for `mosaic`, of the 4×4 block
/// means: its pixel change is dominated by tile texture, not by how coarse the grid is).
fn curve(c: Corruption, px: &[u8], w: usize, h: usize) -> Vec<f64> {
    if c == Corruption::Mosaic {
        let clean = blocks4(px, w, h);
        return (1..=5u8)
            .map(|s| {
                let out = blocks4(&run(c, s, px, w, h, &settings_for(c, 0)), w, h);
                out.iter()
                    .zip(&clean)
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>()
                    / clean.len() as f64
            })
            .collect();
    }
    // glitched: even rows are black at every level (scan lines); the glitch is in the odd rows
    let row_counts = |i: usize| c != Corruption::Glitched || (i / 3 / w) % 2 == 1;
    (1..=5u8)
        .map(|s| {
            let mut tot = 0.0;
            let seeds = if c == Corruption::Glitched { 64 } else { 8 };
            for seed in 0..seeds {
                let out = run(c, s, px, w, h, &settings_for(c, seed));
                let (mut sum, mut n) = (0.0, 0usize);
                for (i, (a, b)) in out.iter().zip(px).enumerate() {
                    if row_counts(i) {
                        sum += (f64::from(*a) - f64::from(*b)).abs();
                        n += 1;
                    }
                }
                tot += sum / n as f64;
            }
            tot / seeds as f64
        })
        .collect()
}

#[test]
fn severity_curves_are_monotone() {
    let (px, w, h) = photo("chelsea_224x224.png");
    for c in LAION_C {
        let m = curve(c, &px, w, h);
        for s in 1..5 {
            // vertical_lines replaces the image at every level: its change grows only weakly
            let slack = if c == Corruption::VerticalLines {
                0.5
            } else {
                0.0
            };
            assert!(m[s] + slack >= m[s - 1], "{c}: {m:?}");
        }
        if c != Corruption::VerticalLines {
            assert!(m[4] > m[0] * 1.3, "{c}: {m:?}");
        }
    }
}

/// `--laion-c-compat` (preset `laion-c-compat`, `reference_geometry`) prepares mosaic's levels 2
/// and 5 as the release's generator: `Resize(252)` (256 − 256 % t for t = 6, 28); for t = 6 the
/// whole 252 crop is tiled from its corner and cut to its centre 224 (so the edge cells' keys
/// read pixels outside the 224 crop), for t = 28 a 224 crop is tiled. The source's short side
/// is 252, so `Resize(252)` keeps its pixels and the expected output is built here from the
/// source by cropping alone: a run at Resize(256), a centred grid over the 224 crop, or a
/// wrong crop offset gives other keys or other cell boundaries.
#[test]
fn mosaic_compat_reproduces_the_release_geometry() {
    use imgcorrupt::corruptions::laion_c::mosaic::cell_colours;
    use imgcorrupt::dataset::execute::Pipeline;
    use imgcorrupt::dataset::{Cell, ChannelOrder, Geometry, Severity};
    use imgcorrupt::io::{OutputFormat, WebpMode, DEFAULT_MAX_PIXELS};

    let (w, h) = (300usize, 252usize);
    // varied content, and a bright ring just outside the central 224² that only the t = 6
    // edge cells of the release see
    let mut src = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let p = &mut src[(y * w + x) * 3..][..3];
            p[0] = ((x * 7 + y * 3) % 251) as u8;
            p[1] = ((x * y / 37) % 253) as u8;
            p[2] = (((x ^ y) * 5) % 256) as u8;
            if (!(38..262).contains(&x) || !(14..238).contains(&y)) && (24..276).contains(&x) {
                p[0] = 250;
            }
        }
    }
    let mut bytes = Vec::new();
    image::RgbImage::from_raw(w as u32, h as u32, src.clone())
        .unwrap()
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    let bank = photo_bank();
    let pipeline = |name: &str| Pipeline {
        rng: RngMode::Fast,
        preset: preset(name),
        seed: 0,
        geometry: Geometry::Imagenet,
        channel_order: ChannelOrder::Rgb,
        quality: 100,
        webp: WebpMode::Lossless,
        max_pixels: DEFAULT_MAX_PIXELS,
        frost: None,
        stylizer: None,
        tile_bank: Some(bank.clone()),
        jpeg_444: true,
        schedule: None,
    };
    let make = |p: &Pipeline, level: u8| -> Vec<u8> {
        let img = p.prepare(&bytes, Path::new("src.png")).unwrap();
        let cell = Cell {
            corruption: Corruption::Mosaic,
            severity: Severity::level(level),
        };
        let (png_bytes, _) = p
            .render(&img, "src.png", cell, OutputFormat::Png, &mut Vec::new())
            .unwrap();
        let out = image::load_from_memory(&png_bytes).unwrap().to_rgb8();
        assert_eq!((out.width(), out.height()), (224, 224), "level {level}");
        out.into_raw()
    };
    let (compat, default) = (pipeline("laion-c-compat"), pipeline("laion-c"));
    // (level, t, side s of the tiled crop): Resize(252) keeps the source; CenterCrop(s) at
    // (round((300 − s)/2), round((252 − s)/2)); the tiled crop is cut to its centre 224
    for (level, t, s) in [(2u8, 6usize, 252usize), (5, 28, 224)] {
        let (left, top) = ((w - s) / 2, (h - s) / 2);
        let crop: Vec<u8> = (top..top + s)
            .flat_map(|y| src[(y * w + left) * 3..(y * w + left + s) * 3].to_vec())
            .collect();
        let keys = cell_colours(&crop, s, s, t);
        let tiles = bank.tiles(t).unwrap();
        let cols = s / t;
        let o = (s - 224) / 2;
        let mut want = vec![0u8; 224 * 224 * 3];
        for y in 0..224 {
            for x in 0..224 {
                let (gx, gy) = (x + o, y + o);
                let c = &keys[((gy / t) * cols + gx / t) * 3..][..3];
                let k = tiles.nearest([f32::from(c[0]), f32::from(c[1]), f32::from(c[2])]);
                let px = &tiles.tile(k)[((gy % t) * t + gx % t) * 3..][..3];
                want[(y * 224 + x) * 3..][..3].copy_from_slice(px);
            }
        }
        let got = make(&compat, level);
        let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(
            diff, 0,
            "t = {t}: {diff} values differ from the release's geometry"
        );
        // the default geometry (Resize 256, centred grid) is another image: the test sees it
        assert_ne!(make(&default, level), want, "t = {t}");
    }
    // t = 4, 8, 16: the release uses the shared geometry, so compat changes nothing
    for level in [1u8, 3, 4] {
        assert_eq!(make(&compat, level), make(&default, level), "level {level}");
    }
}
