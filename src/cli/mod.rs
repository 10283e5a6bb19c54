//! Command-line interface: argument definitions and dispatch to one module per subcommand.

use clap::{Parser, Subcommand};

use crate::dataset::run::Summary;

mod bench;
mod cifar;
mod corrupt;
mod generate;
mod list;
mod merge;
mod score;
mod sequences;
mod status;
mod verify;

const EXAMPLES: &str = "\
Examples:
  imgcorrupt list
  imgcorrupt corrupt photo.jpg -o photo_fog3.png -c fog -s 3 --seed 7
  imgcorrupt corrupt photo.png -o ref.png -c shot_noise -s 2 --seed 1 --rng numpy
  imgcorrupt corrupt photo.jpg -o styled.png -c stylize -s 5 --style painting.jpg
  imgcorrupt bench --size 224 -c gaussian_noise,contrast -s 1,5
  imgcorrupt generate fixtures/datasets/imagenet -o /tmp/imagenet-c -c gaussian_noise,contrast
  imgcorrupt verify /tmp/imagenet-c --input fixtures/datasets/imagenet --sample 10";

/// Common-corruption (ImageNet-C style) benchmarks and augmentations, fast and reproducible.
#[derive(Parser, Debug)]
#[command(name = "imgcorrupt", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the corruptions: name, subset, family, in catalogue order.
    List(list::Args),
    /// Corrupt one image file into another.
    Corrupt(corrupt::Args),
    /// Time corruptions in-process on photos (default: the bundled fixtures).
    Bench(bench::Args),
    /// Turn a dataset (imagenet, voc, coco, cityscapes, any folder) into its corrupted variant.
    Generate(generate::Args),
    /// Check a generated dataset against its manifest (or regenerate and compare).
    Verify(verify::Args),
    /// Merge the manifest parts of a sharded generate run.
    Merge(merge::Args),
    /// Progress of a (sharded) generate run: per shard done/total, failures, merge possible.
    Status(status::Args),
    /// mCE, relative mCE, mean error, mPC/rPC from a results table (corruption,severity,error).
    Score(score::Args),
}

/// Run the CLI on the process's arguments; returns the process exit code.
pub fn main() -> i32 {
    run(std::env::args_os())
}

/// Run the CLI on `args` (the program name first); returns the exit code. Usage errors,
/// `--help` and `--version` print as usual and return their code instead of exiting.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Command::List(a) => list::run(a),
        Command::Corrupt(a) => corrupt::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Generate(a) => generate::run(a).and_then(check),
        Command::Verify(a) => verify::run(a).and_then(check),
        Command::Merge(a) => merge::run(a).map(|_| ()),
        Command::Status(a) => status::run(a),
        Command::Score(a) => score::run(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.downcast_ref::<Failed>().is_some() => 1,
        Err(e) => {
            eprintln!("imgcorrupt: error: {}", message(&e));
            1
        }
    }
}

/// `imgcorrupt generate ARGS…` as a library call (the Python package's `imgcorrupt.generate`):
/// the command's option resolution, pipeline and messages, and the run's summary (images that
/// failed are listed in it, not an error). `args` are the arguments after `generate`.
pub fn generate<I, T>(args: I) -> anyhow::Result<Summary>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let argv = ["imgcorrupt".into(), "generate".into()]
        .into_iter()
        .chain(args.into_iter().map(Into::into));
    match Cli::try_parse_from(argv)?.command {
        Command::Generate(a) => generate::execute(a),
        _ => unreachable!("the subcommand is generate"),
    }
}

/// An error as the CLI prints it (see [`message`]).
pub fn error_message(e: &anyhow::Error) -> String {
    message(e)
}

/// The error and its causes joined by `: `, leaving out a cause whose text the message
/// already contains (library errors such as `Error::Io` print `path: reason` and also expose
/// the reason as their source, which `{:#}` would print a second time).
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if text.is_empty() {
            text = c;
        } else if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// Marker error: the subcommand already reported what went wrong; exit 1 quietly.
#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl std::error::Error for Failed {}

fn check(ok: bool) -> Result<(), anyhow::Error> {
    if ok {
        Ok(())
    } else {
        Err(anyhow::Error::new(Failed))
    }
}

/// `--shard K/N` of `generate`, its CIFAR path and ImageNet-P: `None` without it.
pub(crate) fn shard_arg(shard: Option<&str>) -> anyhow::Result<Option<(usize, usize)>> {
    shard
        .map(crate::dataset::plan::parse_shard)
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// `--severity-schedule` parsed, refused together with an explicit `-s` (`severities` as given;
/// its default is `1-5`, which a schedule replaces).
pub(crate) fn schedule_arg(
    schedule: Option<&str>,
    severities: &str,
) -> anyhow::Result<Option<crate::dataset::schedule::Schedule>> {
    let schedule = schedule
        .map(crate::dataset::schedule::Schedule::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if schedule.is_some() && severities != "1-5" {
        anyhow::bail!("use either -s or --severity-schedule, not both");
    }
    Ok(schedule)
}

/// `, shard K/N` for a run's first line (empty without `--shard`).
pub(crate) fn shard_suffix(shard: Option<(usize, usize)>) -> String {
    shard
        .map(|(k, n)| format!(", shard {k}/{n}"))
        .unwrap_or_default()
}

/// What a shard that finished before the others says.
pub(crate) fn shards_pending(output: &std::path::Path) {
    eprintln!(
        "imgcorrupt: other shards not finished yet; the last one merges automatically (or run `imgcorrupt merge {}`)",
        output.display()
    );
}

/// The tile sizes a preset's `mosaic` and `stickers` tables use (what a tile bank must hold).
pub fn tile_sizes(preset: &crate::Preset) -> Vec<usize> {
    use crate::corruptions::laion_c::{mosaic, stickers};
    let mut sizes: Vec<usize> = preset
        .params::<mosaic::Params>()
        .map(|p| p.tile.to_vec())
        .unwrap_or_default();
    sizes.extend(preset.params::<stickers::Params>().map(|p| p.tile));
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// Options of the `stylize` operator, shared by `corrupt` and `generate`.
#[derive(clap::Args, Debug, Clone)]
pub struct StyleArgs {
    /// stylize: folder of style images (e.g. paintings), scanned recursively in sorted order;
    /// one style per image, chosen from the seed (uniform with replacement).
    #[arg(long, value_name = "DIR", conflicts_with = "style")]
    pub styles: Option<std::path::PathBuf>,
    /// stylize: a single style image.
    #[arg(long, value_name = "FILE")]
    pub style: Option<std::path::PathBuf>,
    /// stylize backend: statistics (default, no weights) or adain (needs --features adain,
    /// --vgg and --decoder).
    #[arg(long, default_value = "statistics")]
    pub style_backend: crate::StyleBackendKind,
    /// stylize: side of the prepared (centre-cropped, LANCZOS-resized) style squares.
    #[arg(long, default_value_t = crate::stylize::DEFAULT_STYLE_SIZE, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub style_size: u32,
    /// stylize: strength α in [0, 1] for every severity (default: the preset's row,
    /// 0.2/0.4/0.6/0.8/1.0 for severities 1-5).
    #[arg(long)]
    pub alpha: Option<f32>,
    /// adain backend: VGG-19 encoder weights (vgg_normalised.pth or .safetensors).
    #[arg(long, value_name = "PATH")]
    pub vgg: Option<std::path::PathBuf>,
    /// adain backend: decoder weights (decoder.pth or .safetensors).
    #[arg(long, value_name = "PATH")]
    pub decoder: Option<std::path::PathBuf>,
}

impl StyleArgs {
    /// Whether any style option was given.
    pub fn given(&self) -> bool {
        self.styles.is_some() || self.style.is_some() || self.alpha.is_some()
    }

    /// Build the stylizer (errors name a missing/empty/unreadable style source).
    pub fn stylizer(&self) -> anyhow::Result<crate::Stylizer> {
        let st = match (&self.styles, &self.style) {
            (Some(dir), _) => crate::Stylizer::from_dir(dir)?,
            (None, Some(file)) => crate::Stylizer::from_file(file)?,
            (None, None) => anyhow::bail!(
                "stylize needs a style source: --styles DIR (a folder of style images) or --style FILE"
            ),
        };
        let backend = crate::StyleBackend::load(
            self.style_backend,
            self.vgg.as_deref(),
            self.decoder.as_deref(),
        )?;
        Ok(st
            .with_backend(backend)
            .with_style_size(self.style_size)
            .with_alpha(self.alpha)?)
    }
}

/// Most worker threads accepted by `--threads`: beyond any machine's cores, and far below
/// the count at which spawning the pool exhausts memory and crashes.
pub const MAX_THREADS: usize = 1024;

/// Parse `--threads N` (1 ≤ N ≤ [`MAX_THREADS`]).
pub fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of threads"))?;
    if (1..=MAX_THREADS).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is not in 1..={MAX_THREADS}"))
    }
}

/// Parse `generate`'s severity list: as [`parse_severities`], plus (issue 16) continuous
/// severities written with a decimal point, e.g. `2.5` or `0.5,1.5,2.5` (ranges stay
/// integer: `1-5`). Sorted, duplicates removed (`3` and `3.0` are the same cell).
pub fn parse_cell_severities(spec: &str) -> Result<Vec<crate::dataset::Severity>, String> {
    use crate::dataset::Severity;
    let mut out: Vec<Severity> = Vec::new();
    let mut whole = Vec::new();
    for part in spec.split(',').map(str::trim) {
        if part.contains('.') && !part.contains('-') {
            out.push(part.parse()?);
        } else {
            whole.push(part);
        }
    }
    if !whole.is_empty() {
        out.extend(
            parse_severities(&whole.join(","))?
                .into_iter()
                .map(Severity::from),
        );
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parse a severity list: `3`, `1,3,5`, `1-5`, `2-4,5`.
pub fn parse_severities(spec: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(format!(
                "severity list `{spec}` has an empty item: use e.g. 1,3,5 or 1-5"
            ));
        }
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let parse = |s: &str| -> Result<u8, String> {
            let v: i64 = s
                .parse()
                .map_err(|_| format!("`{s}` is not a severity (use 1-5)"))?;
            if (1..=5).contains(&v) {
                Ok(v as u8)
            } else {
                Err(format!("severity {v} is out of range: use 1, 2, 3, 4 or 5"))
            }
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a > b {
            return Err(format!("severity range `{part}` is reversed"));
        }
        for s in a..=b {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    if out.is_empty() {
        return Err("no severity given".into());
    }
    out.sort_unstable();
    Ok(out)
}
