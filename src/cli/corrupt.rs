//! `imgcorrupt corrupt`: one image file to one image file.

use std::path::PathBuf;
use std::sync::Arc;

use crate::{io, Corruption, FrostTextures, Preset, RngMode, Settings};
use anyhow::Context;

use crate::cli::StyleArgs;

/// Arguments of `corrupt`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  imgcorrupt corrupt photo.jpg -o out.png -c gaussian_noise -s 3 --seed 7 --rng numpy\n  imgcorrupt corrupt photo.jpg -o out.png -c stylize -s 5 --style painting.jpg\n  imgcorrupt corrupt photo.jpg -o out.png -c stylize -s 3 --styles paintings/ --seed 7"
)]
pub struct Args {
    /// Input image (png, jpeg, webp, bmp, tiff).
    pub input: PathBuf,
    /// Output image; the format follows the extension (png, jpg/jpeg, webp, bmp, tif/tiff).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Corruption name (see `imgcorrupt list`).
    #[arg(short, long = "corruption")]
    pub corruption: String,
    /// Severity 1-5 (one; `generate` takes lists), or a continuous severity written with a
    /// decimal point in [0.0, 5.0] (e.g. 2.5: each table key interpolated linearly between
    /// severities 2 and 3; 0.0 is the clean image; corruptions whose tables do not interpolate
    /// are refused).
    #[arg(short, long, allow_negative_numbers = true, value_parser = parse_one_severity)]
    pub severity: SeverityArg,
    /// Seed of this call's generator (numpy mode: exactly `np.random.seed(SEED)`, < 2^32).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Random generator: `fast` (default) or `numpy` (reproduces imagecorruptions 1.1.2).
    #[arg(long, default_value = "fast")]
    pub rng: RngMode,
    /// Parameter table: a built-in preset name or a TOML file.
    #[arg(long, default_value = "imagecorruptions")]
    pub preset: String,
    /// Folder with imagecorruptions' frost photographs (frost1.png … frost6.jpg); frost then
    /// follows the reference (with --rng numpy: within one grey level of a seeded Python
    /// run) instead of using procedural ice-crystal textures.
    #[arg(long, value_name = "DIR")]
    pub frost_dir: Option<PathBuf>,
    #[command(flatten)]
    pub style: StyleArgs,
    /// JPEG quality when the output is .jpg/.jpeg (85, as `generate` and ImageNet-C).
    #[arg(long, default_value_t = 85, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Write the .webp output as lossy WebP at quality Q (0-100; libwebp with the settings of
    /// `generate --webp-quality`, which match Pillow's `quality=Q`; alpha is kept losslessly).
    /// Without it WebP is written losslessly: a single-image tool defaults to exact pixels.
    /// An error with any other output format.
    #[arg(long, value_name = "Q", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub webp_quality: Option<u8>,
    /// LAION-C's mosaic and stickers: folder of training images, one tile each.
    #[arg(long, value_name = "DIR")]
    pub tile_bank: Option<PathBuf>,
}

/// `--severity` of `corrupt`: a whole number, or (issue 16) a continuous severity written
/// with a decimal point.
#[derive(Clone, Copy, Debug)]
pub enum SeverityArg {
    /// 1..=5 (checked by `run`).
    Whole(i64),
    /// In [0, 5] (checked by the library).
    Continuous(f64),
}

/// `--severity` of `corrupt`: one whole number (its range is checked by `run`, with the
/// library's message); a list such as `1,2` says that `corrupt` makes one image.
fn parse_one_severity(s: &str) -> Result<SeverityArg, String> {
    if s.contains('.') {
        if let Ok(v) = s.trim().parse::<f64>() {
            return Ok(SeverityArg::Continuous(v));
        }
    }
    s.trim().parse::<i64>().map(SeverityArg::Whole).map_err(|_| {
        if s.contains(',') || s.contains('-') && !s.trim().starts_with('-') {
            format!("`{s}`: corrupt makes one image at one severity (1-5); run it once per severity, or use `generate`, which takes lists such as 1,3,5 or 1-5")
        } else {
            format!("`{s}` is not a severity: use 1, 2, 3, 4 or 5")
        }
    })
}

/// Whether `a` and `b` name the same directory entry (however spelled: `./`, `..`, linked
/// folders). The last component is not resolved: the output is renamed over the entry itself,
/// so a link or a hard link to the input is replaced, never the input's own file.
fn same_entry(a: &std::path::Path, b: &std::path::Path) -> bool {
    let entry = |p: &std::path::Path| -> Option<PathBuf> {
        let name = p.file_name()?;
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(name))
    };
    matches!((entry(a), entry(b)), (Some(x), Some(y)) if x == y)
}

/// Read, corrupt, write atomically. Nothing is written on any error.
pub fn run(a: Args) -> anyhow::Result<()> {
    let corruption = Corruption::from_name(&a.corruption)?;
    if let SeverityArg::Whole(s) = a.severity {
        if !(1..=5).contains(&s) {
            return Err(crate::Error::InvalidSeverity(s).into());
        }
    }
    let format = io::OutputFormat::from_path(&a.output)?;
    if a.webp_quality.is_some() && format != io::OutputFormat::WebP {
        // checked before any work: a silently ignored quality would surprise more
        anyhow::bail!(
            "--webp-quality applies to .webp outputs only, and {} is not one",
            a.output.display()
        );
    }
    if same_entry(&a.input, &a.output) {
        anyhow::bail!(
            "{}: refusing to overwrite the input with its corrupted version: choose another output",
            a.input.display()
        );
    }
    let preset = Arc::new(Preset::load(&a.preset)?);
    let img = io::read_image(&a.input, io::DEFAULT_MAX_PIXELS)?;
    let mut settings = Settings::new(a.seed).with_rng(a.rng).with_preset(preset);
    if let Some(dir) = &a.frost_dir {
        settings = settings.with_frost_textures(Arc::new(FrostTextures::load(dir)?));
    }
    if let Some(dir) = &a.tile_bank {
        let sizes = crate::cli::tile_sizes(&settings.preset);
        settings = settings.with_tile_bank(Arc::new(crate::TileBank::load(dir, &sizes)?));
    }
    if corruption == Corruption::Stylize {
        settings = settings.with_stylizer(Arc::new(a.style.stylizer()?));
    } else if a.style.given() {
        eprintln!("imgcorrupt: note: style options are ignored by {corruption}");
    }
    let out = match a.severity {
        SeverityArg::Whole(s) => crate::corrupt_with(&img, corruption, s as u8, &settings),
        SeverityArg::Continuous(s) => crate::corrupt_at(&img, corruption, s, &settings),
    }
    .with_context(|| format!("{}: cannot corrupt", a.input.display()))?;
    if format == io::OutputFormat::Jpeg && out.color().has_alpha() {
        eprintln!(
            "imgcorrupt: warning: JPEG has no alpha channel; alpha dropped in {}",
            a.output.display()
        );
    }
    match a.webp_quality {
        Some(q) => {
            let bytes =
                io::encode_webp_lossy_image(&out, q).map_err(|message| crate::Error::Codec {
                    path: a.output.clone(),
                    message,
                })?;
            io::write_atomic(&a.output, &bytes)?;
        }
        None => io::write_image(&a.output, &out, a.quality)?,
    }
    Ok(())
}
