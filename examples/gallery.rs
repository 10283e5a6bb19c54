//! Gallery of the 19 corruptions × 5 severities on one fixture photo: one row per corruption
//! (catalogue order), columns clean and severities 1–5, with the corruption's name on the left.
//! Writes docs/gallery.png (the picture near the top of the README).
//!
//!     cargo run --release --example gallery [photo.png] [out.png]
//!     cargo run --release --example gallery -- --suite c-bar [photo.png] [out.png]
//!
//! `--suite c-bar` draws the 15 ImageNet-C-bar / CIFAR-10-C-bar operators instead (the 10 of
//! ImageNet-C-bar at its `c-bar` preset's magnitudes, then CIFAR-10-C-bar's 5 more at the
//! `cifar-10-c-bar` preset's) into docs/c_bar_gallery.png.
//!
//!     cargo run --release --example gallery -- --suite imagenet-p [photo.png] [out.png]
//!
//! `--suite imagenet-p` draws the 14 ImageNet-P sequences (rows, difficulty 1) into
//! docs/imagenet_p_gallery.png: frames 0, 5, …, 30 (translate, 41 frames: 0, 7, 13, 20, 27,
//! 33, 40), generated from the photo's Resize(256) as `generate -c imagenet-p` does, seed 0.
//!
//!     cargo run --release --example gallery -- --suite laion-c [photo.png] [out.png]
//!
//! `--suite laion-c` draws LAION-C's 6 distortions (preset `laion-c`, intensity levels 1–5)
//! into docs/laion_c_gallery.png. mosaic and stickers draw from a small tile bank cut from the
//! four committed fixture photos (16×16 crops on a 16-pixel grid, as tests/laion_c.rs does with
//! 24), standing in for the training images of a real `--tile-bank`.
//!
//! Every tile is corrupted at the photo's own size (224×224, ImageNet-C geometry) with the
//! public API in numpy mode and a fixed seed, so the picture is reproducible byte for byte,
//! and only then shrunk to a tile. The labels use a tiny built-in bitmap font, so the example
//! needs no font file.
use image::{imageops, DynamicImage, Rgb, RgbImage};
use std::sync::Arc;

use imgcorrupt::{corrupt_with, Corruption, Preset, RngMode, Settings};

/// The 19 corruptions in catalogue order (imagecorruptions' `corruption_number` order).
const NAMES: [&str; 19] = [
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
    "speckle_noise",
    "gaussian_blur",
    "spatter",
    "saturate",
];

/// Seed of every call (numpy mode: `np.random.seed(SEED)` before each corruption).
const SEED: u64 = 1;
/// Side of one tile in the sheet.
const TILE: u32 = 96;
/// Gap between tiles.
const GAP: u32 = 2;
/// Pixel size of one font dot.
const SCALE: u32 = 2;
/// Width of the label column for labels of up to `chars` characters.
fn label_w(chars: usize) -> u32 {
    chars as u32 * 6 * SCALE + 8
}
/// Height of the header row (column titles).
const HEAD_H: u32 = 8 * SCALE + 6;

/// 5×8 glyphs, one string per row, `#` = ink. Only the characters the labels use.
fn glyph(c: char) -> Option<[&'static str; 8]> {
    Some(match c {
        'a' => [
            ".....", ".....", ".###.", "....#", ".####", "#...#", ".####", ".....",
        ],
        'b' => [
            "#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####.", ".....",
        ],
        'c' => [
            ".....", ".....", ".###.", "#....", "#....", "#...#", ".###.", ".....",
        ],
        'd' => [
            "....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####", ".....",
        ],
        'e' => [
            ".....", ".....", ".###.", "#...#", "#####", "#....", ".###.", ".....",
        ],
        'f' => [
            "..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#...", ".....",
        ],
        'g' => [
            ".....", ".....", ".####", "#...#", "#...#", ".####", "....#", ".###.",
        ],
        'h' => [
            "#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#", ".....",
        ],
        'i' => [
            "..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###.", ".....",
        ],
        'j' => [
            "...#.", ".....", "..##.", "...#.", "...#.", "...#.", "#..#.", ".##..",
        ],
        'k' => [
            "#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#.", ".....",
        ],
        'l' => [
            ".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###.", ".....",
        ],
        'm' => [
            ".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#", ".....",
        ],
        'n' => [
            ".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#", ".....",
        ],
        'o' => [
            ".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###.", ".....",
        ],
        'p' => [
            ".....", ".....", "####.", "#...#", "#...#", "####.", "#....", "#....",
        ],
        'q' => [
            ".....", ".....", ".####", "#...#", "#...#", ".####", "....#", "....#",
        ],
        'r' => [
            ".....", ".....", "#.##.", "##..#", "#....", "#....", "#....", ".....",
        ],
        's' => [
            ".....", ".....", ".####", "#....", ".###.", "....#", "####.", ".....",
        ],
        't' => [
            ".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##.", ".....",
        ],
        'u' => [
            ".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#", ".....",
        ],
        'v' => [
            ".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#..", ".....",
        ],
        'w' => [
            ".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#.", ".....",
        ],
        'x' => [
            ".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", ".....",
        ],
        'y' => [
            ".....", ".....", "#...#", "#...#", "#...#", ".####", "....#", ".###.",
        ],
        'z' => [
            ".....", ".....", "#####", "...#.", "..#..", ".#...", "#####", ".....",
        ],
        '_' => [
            ".....", ".....", ".....", ".....", ".....", ".....", ".....", "#####",
        ],
        '1' => [
            "..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###.", ".....",
        ],
        '2' => [
            ".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####", ".....",
        ],
        '3' => [
            "#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###.", ".....",
        ],
        '4' => [
            "...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#.", ".....",
        ],
        '5' => [
            "#####", "#....", "####.", "....#", "....#", "#...#", ".###.", ".....",
        ],
        '0' => [
            ".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###.", ".....",
        ],
        '6' => [
            "..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###.", ".....",
        ],
        '7' => [
            "#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#...", ".....",
        ],
        '8' => [
            ".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###.", ".....",
        ],
        '9' => [
            ".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##..", ".....",
        ],
        _ => return None,
    })
}

/// Width in pixels of `text` drawn by [`draw_text`] (6 dots per character, last gap dropped).
fn text_width(text: &str) -> u32 {
    (text.chars().count() as u32 * 6).saturating_sub(1) * SCALE
}

/// Draw `text` with its top-left corner at `(x, y)`; characters without a glyph are blanks.
fn draw_text(img: &mut RgbImage, text: &str, x: u32, y: u32, ink: Rgb<u8>) {
    for (i, c) in text.chars().enumerate() {
        let Some(rows) = glyph(c) else { continue };
        let gx = x + i as u32 * 6 * SCALE;
        for (r, row) in rows.iter().enumerate() {
            for (col, dot) in row.bytes().enumerate() {
                if dot != b'#' {
                    continue;
                }
                for dy in 0..SCALE {
                    for dx in 0..SCALE {
                        let (px, py) = (gx + col as u32 * SCALE + dx, y + r as u32 * SCALE + dy);
                        if px < img.width() && py < img.height() {
                            img.put_pixel(px, py, ink);
                        }
                    }
                }
            }
        }
    }
}

/// Write a PNG sheet (best compression, so the committed file stays small).
fn save(sheet: &RgbImage, out: &str) {
    if let Some(dir) = std::path::Path::new(out).parent() {
        std::fs::create_dir_all(dir).expect("output folder");
    }
    let file = std::io::BufWriter::new(std::fs::File::create(out).expect("output file"));
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        file,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    );
    sheet.write_with_encoder(encoder).expect("PNG");
    println!("wrote {out} ({}×{})", sheet.width(), sheet.height());
}

/// The ImageNet-P sheet: one row per sequence, seven frames spread over it.
fn imagenet_p_sheet(photo: &str, out: &str) {
    use imgcorrupt::corruptions::imagenet_p::{Perturbation, SIDE};
    use imgcorrupt::dataset::sequences::{frames_of, load_source};
    let img = load_source(std::path::Path::new(photo), 1 << 28).expect("photo");
    let cols = 7u32;
    let label_w = label_w(
        Perturbation::ALL
            .iter()
            .map(|p| p.name().len())
            .max()
            .unwrap_or(0),
    );
    let rows = Perturbation::ALL.len() as u32;
    let (width, height) = (label_w + cols * (TILE + GAP), HEAD_H + rows * (TILE + GAP));
    let (paper, ink) = (Rgb([255u8, 255, 255]), Rgb([20u8, 20, 20]));
    let mut sheet = RgbImage::from_pixel(width, height, paper);
    let col_x = |c: u32| label_w + c * (TILE + GAP);
    for c in 0..cols {
        let title = (c * 5).to_string();
        draw_text(
            &mut sheet,
            &title,
            col_x(c) + (TILE - text_width(&title)) / 2,
            2,
            ink,
        );
    }
    for (r, p) in Perturbation::ALL.into_iter().enumerate() {
        let y = HEAD_H + r as u32 * (TILE + GAP);
        draw_text(&mut sheet, p.name(), 4, y + (TILE - 8 * SCALE) / 2, ink);
        let frames = frames_of(&img, "gallery", p, 1, 0);
        let last = frames.len() - 1;
        for c in 0..cols as usize {
            let i = (c * last + 3) / 6; // round(c·last/6)
            let f = RgbImage::from_raw(SIDE as u32, SIDE as u32, frames[i].clone()).unwrap();
            let t = imageops::resize(&f, TILE, TILE, imageops::FilterType::Triangle);
            imageops::overlay(&mut sheet, &t, col_x(c as u32) as i64, y as i64);
        }
    }
    save(&sheet, out);
}

/// LAION-C's tile bank for the gallery: 16×16 crops on a 16-pixel grid of the four committed
/// fixture photos, at the tile sizes of the `laion-c` preset (mosaic 4–28, stickers 16).
fn fixture_tile_bank() -> Arc<imgcorrupt::TileBank> {
    let mut images = Vec::new();
    for name in [
        "chelsea_224x224.png",
        "china_120x160.png",
        "fruits_160x120.png",
        "coffee_97x61.png",
    ] {
        let img = image::open(format!("fixtures/photos/{name}"))
            .expect("fixture photo")
            .to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let px = img.into_raw();
        for y in (0..=h - 16).step_by(16) {
            for x in (0..=w - 16).step_by(16) {
                let mut t = Vec::with_capacity(16 * 16 * 3);
                for r in y..y + 16 {
                    t.extend_from_slice(&px[(r * w + x) * 3..(r * w + x + 16) * 3]);
                }
                images.push((t, 16));
            }
        }
    }
    Arc::new(imgcorrupt::TileBank::from_images(
        &images,
        &[4, 6, 8, 16, 28],
    ))
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let suite = match args.iter().position(|a| a == "--suite") {
        Some(i) => {
            let suite = args.get(i + 1).cloned().unwrap_or_default();
            assert!(
                suite == "c-bar" || suite == "imagenet-p" || suite == "laion-c",
                "--suite takes `c-bar`, `imagenet-p` or `laion-c`"
            );
            args.drain(i..i + 2);
            suite
        }
        None => String::new(),
    };
    let c_bar = suite == "c-bar";
    let mut args = args.into_iter();
    let photo = args
        .next()
        .unwrap_or_else(|| "fixtures/photos/chelsea_224x224.png".into());
    if suite == "imagenet-p" {
        let out = args
            .next()
            .unwrap_or_else(|| "docs/imagenet_p_gallery.png".into());
        imagenet_p_sheet(&photo, &out);
        return;
    }
    let laion_c = suite == "laion-c";
    let default_out = if c_bar {
        "docs/c_bar_gallery.png"
    } else if laion_c {
        "docs/laion_c_gallery.png"
    } else {
        "docs/gallery.png"
    };
    let out = args.next().unwrap_or_else(|| default_out.into());
    let clean = DynamicImage::ImageRgb8(image::open(&photo).expect("photo").to_rgb8());
    let numpy = Settings::new(SEED).with_rng(RngMode::Numpy);
    // (name, settings) per row: the suite's own preset for each C-bar operator.
    let rows_of: Vec<(&str, Settings)> = if c_bar {
        let preset = |name: &str| Arc::new(Preset::builtin(name).expect("built-in preset"));
        let (inet, cifar) = (preset("c-bar"), preset("cifar-10-c-bar"));
        let in_inet = imgcorrupt::corruptions::c_bar::IMAGENET_C_BAR;
        let mut rows: Vec<(&str, Settings)> = in_inet
            .iter()
            .map(|&n| (n, numpy.clone().with_preset(inet.clone())))
            .collect();
        rows.extend(
            imgcorrupt::corruptions::c_bar::CIFAR_10_C_BAR
                .iter()
                .filter(|n| !in_inet.contains(n))
                .map(|&n| (n, numpy.clone().with_preset(cifar.clone()))),
        );
        rows
    } else if laion_c {
        let settings = numpy
            .clone()
            .with_preset(Arc::new(
                Preset::builtin("laion-c").expect("built-in preset"),
            ))
            .with_tile_bank(fixture_tile_bank());
        [
            "mosaic",
            "stickers",
            "glitched",
            "vertical_lines",
            "geometric_shapes",
            "luminance_checkerboard",
        ]
        .iter()
        .map(|&n| (n, settings.clone()))
        .collect()
    } else {
        NAMES.iter().map(|&n| (n, numpy.clone())).collect()
    };
    let label_chars = rows_of.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    #[allow(non_snake_case)]
    let LABEL_W = label_w(label_chars);

    let (cols, rows) = (6u32, rows_of.len() as u32);
    let width = LABEL_W + cols * (TILE + GAP);
    let height = HEAD_H + rows * (TILE + GAP);
    let (paper, ink) = (Rgb([255u8, 255, 255]), Rgb([20u8, 20, 20]));
    let mut sheet = RgbImage::from_pixel(width, height, paper);
    let tile = |img: &DynamicImage| {
        imageops::resize(&img.to_rgb8(), TILE, TILE, imageops::FilterType::Triangle)
    };
    let col_x = |c: u32| LABEL_W + c * (TILE + GAP);
    for (c, title) in ["clean", "1", "2", "3", "4", "5"].iter().enumerate() {
        let x = col_x(c as u32) + (TILE - text_width(title)) / 2;
        draw_text(&mut sheet, title, x, 2, ink);
    }
    let clean_tile = tile(&clean);
    for (r, (name, settings)) in rows_of.iter().enumerate() {
        let corruption = Corruption::from_name(name).expect("catalogue name");
        let y = HEAD_H + r as u32 * (TILE + GAP);
        draw_text(&mut sheet, name, 4, y + (TILE - 8 * SCALE) / 2, ink);
        imageops::overlay(&mut sheet, &clean_tile, col_x(0) as i64, y as i64);
        for s in 1..=5u8 {
            let img = corrupt_with(&clean, corruption, s, settings)
                .unwrap_or_else(|e| panic!("{name} severity {s}: {e}"));
            imageops::overlay(&mut sheet, &tile(&img), col_x(s as u32) as i64, y as i64);
        }
    }

    save(&sheet, &out);
}
