//! Gallery of `stylize`: content photos × style images, statistics backend at α = 1 (and the
//! adain backend when built with `--features adain` and given the weights), plus one row of
//! the five severities. Writes small PNGs and contact sheets into OUT (default docs/stylize):
//!
//! * `content_<name>.png`, `style_<name>.png` (the prepared style square),
//! * `sheet_statistics.png` (first row: the styles; then per content: the content and its
//!   stylizations at α = 1, tiles of 128 px), `severities_statistics.png` (one content, then
//!   severities 1–5, i.e. α = 0.2 … 1.0);
//! * with `--pairs`: every output at full size, `statistics_<content>__<style>.png`;
//! * with adain: the same files with `adain` in place of `statistics`.
//!
//!     cargo run --release --example stylize_gallery [OUT] [--pairs] [--vgg vgg_normalised.pth --decoder decoder.pth]
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::{imageops, DynamicImage, RgbImage};
use imgcorrupt::stylize::{prepared_image, Stylizer};
use imgcorrupt::{corrupt_with, Corruption, Settings, StyleBackend, StyleBackendKind};

const TILE: u32 = 128;

fn stem(p: &str) -> String {
    Path::new(p)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .split('_')
        .next()
        .unwrap()
        .to_string()
}

/// `img` fitted into a TILE×TILE box, centred on white.
fn tile(img: &RgbImage) -> RgbImage {
    let s = (TILE - 8) as f64 / img.width().max(img.height()) as f64;
    let (w, h) = (
        ((img.width() as f64 * s).round() as u32).max(1),
        ((img.height() as f64 * s).round() as u32).max(1),
    );
    let r = imageops::resize(img, w, h, imageops::FilterType::Lanczos3);
    let mut t = RgbImage::from_pixel(TILE, TILE, image::Rgb([255, 255, 255]));
    imageops::overlay(&mut t, &r, ((TILE - w) / 2) as i64, ((TILE - h) / 2) as i64);
    t
}

fn sheet(rows: &[Vec<Option<RgbImage>>]) -> RgbImage {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0) as u32;
    let mut s = RgbImage::from_pixel(
        TILE * cols,
        TILE * rows.len() as u32,
        image::Rgb([255, 255, 255]),
    );
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let Some(img) = cell {
                imageops::overlay(
                    &mut s,
                    &tile(img),
                    (c as u32 * TILE) as i64,
                    (r as u32 * TILE) as i64,
                );
            }
        }
    }
    s
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = PathBuf::from("docs/stylize");
    let (mut vgg, mut decoder) = (None, None);
    let mut pairs = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--vgg" => vgg = it.next().map(PathBuf::from),
            "--decoder" => decoder = it.next().map(PathBuf::from),
            "--pairs" => pairs = true,
            other => out = PathBuf::from(other),
        }
    }
    std::fs::create_dir_all(&out)?;
    let contents = [
        "fixtures/photos/chelsea_224x224.png",
        "fixtures/photos/china_120x160.png",
        "fixtures/photos/fruits_160x120.png",
    ];
    let styles = Path::new("fixtures/styles");
    let mut backends = vec![("statistics", StyleBackend::Statistics)];
    if vgg.is_some() && decoder.is_some() {
        backends.push((
            "adain",
            StyleBackend::load(StyleBackendKind::Adain, vgg.as_deref(), decoder.as_deref())?,
        ));
    }
    for (bname, backend) in backends {
        let st = Arc::new(Stylizer::from_dir(styles)?.with_backend(backend));
        let mut rows: Vec<Vec<Option<RgbImage>>> = Vec::new();
        let mut head = vec![None];
        for i in 0..st.len() {
            let p = prepared_image(&*st.prepared(i)?);
            p.save(out.join(format!("style_{}.png", stem(st.name(i)))))?;
            head.push(Some(p));
        }
        rows.push(head);
        for c in contents {
            let img = image::open(c)?.to_rgb8();
            img.save(out.join(format!("content_{}.png", stem(c))))?;
            let mut row = vec![Some(img.clone())];
            for i in 0..st.len() {
                let set = Settings::new(0)
                    .with_stylizer(st.clone())
                    .with_style_index(i);
                let o = corrupt_with(
                    &DynamicImage::ImageRgb8(img.clone()),
                    Corruption::Stylize,
                    5,
                    &set,
                )?
                .to_rgb8();
                if pairs {
                    o.save(out.join(format!("{bname}_{}__{}.png", stem(c), stem(st.name(i)))))?;
                }
                row.push(Some(o));
            }
            rows.push(row);
        }
        sheet(&rows).save(out.join(format!("sheet_{bname}.png")))?;
        // severities 1–5 of one content and style
        let img = DynamicImage::ImageRgb8(image::open(contents[0])?.to_rgb8());
        let mut row = vec![Some(img.to_rgb8())];
        for s in 1..=5u8 {
            let set = Settings::new(0)
                .with_stylizer(st.clone())
                .with_style_index(2);
            row.push(Some(
                corrupt_with(&img, Corruption::Stylize, s, &set)?.to_rgb8(),
            ));
        }
        sheet(&[row]).save(out.join(format!("severities_{bname}.png")))?;
        eprintln!("{bname}: wrote {}", out.display());
    }
    Ok(())
}
