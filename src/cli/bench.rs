//! `imgcorrupt bench`: time corruption × severity cells in-process on real photos.
//!
//! Each cell is warmed up once, then timed over calls that cycle through the images (each call
//! a different image) until a minimum time has passed; the median per-image time is reported.
//! This is how BENCHMARKS.md and users compare machines with the reference's numbers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{catalogue, io, Corruption, RngMode, Settings};
use anyhow::{bail, Context};
use image::DynamicImage;
use rayon::prelude::*;

/// Arguments of `bench`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  imgcorrupt bench --size 224 -c noise,contrast -s 1-5 --csv")]
pub struct Args {
    /// Photos to time on (default: the bundled fixtures/photos).
    pub images: Vec<PathBuf>,
    /// Corruptions: names, subsets (common, validation, all), families or suites (c-bar, cifar-c-bar); default all 19.
    #[arg(short, long)]
    pub corruptions: Option<String>,
    /// Severities, e.g. `1-5` or `1,3,5`.
    #[arg(short, long, default_value = "1-5")]
    pub severities: String,
    /// Image size: `224` (shorter side 256, centre crop 224), `WxH` (cover + centre crop) or `native`.
    #[arg(long, default_value = "224", value_parser = parse_size)]
    pub size: String,
    /// Worker threads; with N > 1 the time is wall time per image over N parallel workers.
    #[arg(long, default_value_t = 1, value_parser = crate::cli::parse_threads)]
    pub threads: usize,
    /// Random generator mode.
    #[arg(long, default_value = "fast")]
    pub rng: RngMode,
    /// Minimum timed duration per cell, in milliseconds.
    #[arg(long, default_value_t = 300)]
    pub min_ms: u64,
    /// Print CSV: corruption,severity,width,height,ms_per_image,images.
    #[arg(long)]
    pub csv: bool,
    /// Tile bank of LAION-C's mosaic and stickers (default: the folder of the first image).
    #[arg(long, value_name = "DIR")]
    pub tile_bank: Option<PathBuf>,
    /// Time the ImageNet-P sequence set of each image instead (every generated perturbation
    /// and noise difficulty, frames only, no encoding; from the Resize(256) source). `-c`
    /// narrows it as `generate` does: `-c p:spatter,p:rotate` (default `imagenet-p`, all 14).
    #[arg(long)]
    pub imagenet_p: bool,
}

/// `bench --imagenet-p`: median ms per sequence, and per image for the whole set.
fn run_imagenet_p(paths: &[PathBuf], spec: Option<&str>, min_time: Duration) -> anyhow::Result<()> {
    use crate::dataset::sequences::{frames_each, load_source};
    let perturbations = super::sequences::perturbations(spec.unwrap_or("imagenet-p"))?;
    if perturbations.is_empty() {
        bail!("no ImageNet-P perturbation selected");
    }
    let whole = perturbations.len() == crate::corruptions::imagenet_p::Perturbation::ALL.len();
    let imgs = paths
        .iter()
        .map(|p| load_source(p, io::DEFAULT_MAX_PIXELS))
        .collect::<crate::Result<Vec<_>>>()?;
    let jobs: Vec<_> = perturbations
        .into_iter()
        .flat_map(|p| {
            let ds: &[u8] = if p.is_noise() { &[1, 2, 3] } else { &[1] };
            ds.iter().map(move |&d| (p, d))
        })
        .collect();
    println!(
        "{} image(s), 1 thread; median ms per sequence (frames only, no encoding)",
        imgs.len()
    );
    let mut total = 0.0;
    for &(p, d) in &jobs {
        let mut samples = Vec::new();
        let start = Instant::now();
        let mut i = 0usize;
        while (start.elapsed() < min_time || samples.len() < 3) && samples.len() < 500 {
            let img = &imgs[i % imgs.len()];
            let t = Instant::now();
            // the frames as a writer receives them, one at a time in a reused buffer
            frames_each(img, "bench", p, d, i as u64, &mut |_, f| {
                std::hint::black_box(f);
                Ok(())
            })?;
            samples.push(t.elapsed().as_secs_f64() * 1e3);
            i += 1;
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let ms = samples[samples.len() / 2];
        total += ms;
        println!("{:<18} {:>10.3}", p.folder(d), ms);
    }
    // "whole set" only when it is the whole set: a partial sum under that name would mislead
    let label = if whole { "whole set" } else { "selected" };
    println!(
        "{:<18} {:>10.3}  ({} sequences per image)",
        label,
        total,
        jobs.len()
    );
    Ok(())
}

/// Run the benchmark and print a table or CSV.
pub fn run(a: Args) -> anyhow::Result<()> {
    let paths = if a.images.is_empty() {
        default_images()?
    } else {
        a.images.clone()
    };
    if a.imagenet_p {
        return run_imagenet_p(
            &paths,
            a.corruptions.as_deref(),
            Duration::from_millis(a.min_ms),
        );
    }
    let severities = crate::cli::parse_severities(&a.severities).map_err(anyhow::Error::msg)?;
    let corruptions: Vec<Corruption> = match &a.corruptions {
        Some(spec) => {
            let list = catalogue::select(spec)?;
            if list.contains(&Corruption::Stylize) {
                bail!("stylize needs style images: time it with `cargo bench --bench stylize`");
            }
            list
        }
        None => Corruption::all().collect(),
    };
    if corruptions.is_empty() {
        bail!("no corruption selected");
    }
    let bank = if corruptions
        .iter()
        .any(|c| matches!(c, Corruption::Mosaic | Corruption::Stickers))
    {
        let dir = match &a.tile_bank {
            Some(d) => d.clone(),
            None => paths[0].parent().map(PathBuf::from).unwrap_or_default(),
        };
        let sizes = crate::cli::tile_sizes(&crate::Preset::builtin("laion-c")?);
        Some(std::sync::Arc::new(crate::TileBank::load(&dir, &sizes)?))
    } else {
        None
    };
    let mut images = Vec::new();
    for p in &paths {
        let img = io::read_image(p, io::DEFAULT_MAX_PIXELS)?;
        images.push(
            prepare(img.to_rgb8(), &a.size)
                .with_context(|| format!("{}: cannot resize", p.display()))?,
        );
    }
    let threads = a.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    if a.csv {
        println!("corruption,severity,width,height,ms_per_image,images");
    } else {
        println!(
            "{} image(s), size {}, {} thread(s), rng {}; median ms per image",
            images.len(),
            a.size,
            threads,
            a.rng
        );
        println!(
            "{:<18} {:>3} {:>11} {:>12} {:>7}",
            "corruption", "sev", "size", "ms/image", "images"
        );
    }
    let min_time = Duration::from_millis(a.min_ms);
    for &c in &corruptions {
        for &s in &severities {
            let (ms, n) =
                pool.install(|| time_cell(&images, c, s, a.rng, threads, min_time, bank.clone()))?;
            let (w, h) = (images[0].width(), images[0].height());
            if a.csv {
                println!("{c},{s},{w},{h},{ms:.4},{n}");
            } else {
                println!(
                    "{:<18} {:>3} {:>11} {:>12.3} {:>7}",
                    c.name(),
                    s,
                    format!("{w}x{h}"),
                    ms,
                    n
                );
            }
        }
    }
    Ok(())
}

/// Median milliseconds per image for one cell and the number of images timed.
fn time_cell(
    images: &[DynamicImage],
    c: Corruption,
    s: u8,
    rng: RngMode,
    threads: usize,
    min_time: Duration,
    bank: Option<std::sync::Arc<crate::TileBank>>,
) -> anyhow::Result<(f64, usize)> {
    let run_one = |i: usize| -> anyhow::Result<()> {
        let mut settings = Settings::new(i as u64).with_rng(rng);
        if let Some(b) = &bank {
            settings = settings.with_tile_bank(b.clone());
        }
        let img = &images[i % images.len()];
        std::hint::black_box(crate::corrupt_with(img, c, s, &settings)?);
        Ok(())
    };
    run_one(0)?; // warm-up (also builds cached tables)
    let mut samples = Vec::new();
    let mut count = 0usize;
    let start = Instant::now();
    while (start.elapsed() < min_time || samples.len() < 3) && samples.len() < 2000 {
        let t = Instant::now();
        if threads == 1 {
            run_one(count)?;
            count += 1;
        } else {
            (count..count + threads)
                .into_par_iter()
                .try_for_each(run_one)?;
            count += threads;
        }
        samples.push(t.elapsed().as_secs_f64() * 1e3 / threads as f64);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    Ok((samples[samples.len() / 2], count))
}

/// The bundled fixture photos.
fn default_images() -> anyhow::Result<Vec<PathBuf>> {
    let candidates = [
        PathBuf::from("fixtures/photos"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos"),
    ];
    for dir in candidates {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut v: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg"))
                .collect();
            v.sort();
            if !v.is_empty() {
                return Ok(v);
            }
        }
    }
    bail!("no images given and no fixtures/photos folder found; pass image paths")
}

/// Check `--size` before any work: `native`, `224`, or `WxH` with sides ≥ 1 and at most
/// [`io::DEFAULT_MAX_PIXELS`] pixels (the sources `generate` accepts; a larger size would only
/// exhaust memory).
fn parse_size(s: &str) -> Result<String, String> {
    if s == "native" || s == "224" {
        return Ok(s.to_string());
    }
    let (w, h) = s
        .split_once('x')
        .and_then(|(w, h)| Some((w.parse::<u64>().ok()?, h.parse::<u64>().ok()?)))
        .ok_or_else(|| format!("`{s}`: use 224, WxH (e.g. 640x480) or native"))?;
    if w == 0 || h == 0 {
        return Err(format!("`{s}`: width and height must be at least 1"));
    }
    if w.saturating_mul(h) > io::DEFAULT_MAX_PIXELS {
        return Err(format!(
            "`{s}`: more than {} pixels",
            io::DEFAULT_MAX_PIXELS
        ));
    }
    Ok(s.to_string())
}

/// Bring an image to the benchmark size.
fn prepare(img: image::RgbImage, size: &str) -> anyhow::Result<DynamicImage> {
    use image::imageops::{crop_imm, resize, FilterType};
    let (w, h) = img.dimensions();
    let (tw, th, cover) = match size {
        "native" => return Ok(DynamicImage::ImageRgb8(img)),
        "224" => (224u32, 224u32, false),
        other => {
            let (a, b) = other
                .split_once('x')
                .context("size must be 224, WxH or native")?;
            (a.parse()?, b.parse()?, true)
        }
    };
    // 224: shorter side to 256 then centre crop (ImageNet); WxH: scale to cover, centre crop.
    let scale = if cover {
        (tw as f64 / w as f64).max(th as f64 / h as f64)
    } else {
        256.0 / w.min(h) as f64
    };
    let (nw, nh) = (
        ((w as f64 * scale).round() as u32).max(tw),
        ((h as f64 * scale).round() as u32).max(th),
    );
    let resized = resize(&img, nw, nh, FilterType::Triangle);
    let (x0, y0) = ((nw - tw) / 2, (nh - th) / 2);
    Ok(DynamicImage::ImageRgb8(
        crop_imm(&resized, x0, y0, tw, th).to_image(),
    ))
}
