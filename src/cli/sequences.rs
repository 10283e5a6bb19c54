//! `imgcorrupt generate -c imagenet-p`: the ImageNet-P perturbation sequences
//! ([`crate::dataset::sequences`]), reached from `generate` when the selection names
//! `imagenet-p` or ImageNet-P perturbations as `p:<name>` (e.g. `-c p:rotate,p:gaussian_noise`).
//! `-s` gives the difficulties (1-3) of the noise sequences.

use crate::corruptions::imagenet_p::Perturbation;
use crate::dataset::sequences::{self, SequenceOptions};

use super::generate::Args;

/// Whether the selection is ImageNet-P's.
pub fn wanted(spec: &str) -> bool {
    spec.split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .any(|w| w == "imagenet-p" || w == "imagenet_p" || w.starts_with("p:"))
}

/// The perturbations of a selection (`imagenet-p`: all 14; `p:<name>` one).
pub fn perturbations(spec: &str) -> anyhow::Result<Vec<Perturbation>> {
    let mut out = Vec::new();
    for w in spec
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
    {
        if w == "imagenet-p" || w == "imagenet_p" {
            out.extend(Perturbation::ALL);
        } else if let Some(name) = w.strip_prefix("p:") {
            let p = Perturbation::from_name(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown ImageNet-P perturbation `{name}`: {}",
                    Perturbation::ALL.map(|p| p.name()).join(", ")
                )
            })?;
            out.push(p);
        } else {
            anyhow::bail!("`{w}`: an ImageNet-P run takes `imagenet-p` and `p:<perturbation>` only (run -C corruptions separately)");
        }
    }
    out.dedup();
    Ok(out)
}

/// Run the ImageNet-P path; Ok(false) when a source failed.
pub fn run(a: &Args) -> anyhow::Result<bool> {
    Ok(execute(a)?.failed.is_empty())
}

/// Run the ImageNet-P path and return its summary in `generate`'s shape (sequences counted
/// as outputs; the manifest is `sequences.jsonl`).
pub fn execute(a: &Args) -> anyhow::Result<crate::dataset::run::Summary> {
    let perturbations = perturbations(&a.corruptions)?;
    // Issue 16: no continuous severity here. ImageNet-P's `-s` is a difficulty: the frame
    // step at which the metric compares frames of the non-noise sequences (a step of 2.5
    // frames does not exist) and, for the noise sequences, one of three separately released
    // sequence sets; neither interpolates.
    if a.severities.split(',').any(|p| p.contains('.')) {
        anyhow::bail!(
            "ImageNet-P takes no continuous severity (-s {}): its -s are the difficulties 1-3, the frame step of the non-noise sequences and the three released noise sets, which do not interpolate; use -s 1, 2 or 3",
            a.severities
        );
    }
    let asked = super::parse_severities(&a.severities).map_err(anyhow::Error::msg)?;
    let (difficulties, beyond): (Vec<u8>, Vec<u8>) =
        asked.into_iter().partition(|d| (1..=3).contains(d));
    if !beyond.is_empty() {
        let beyond = beyond
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        // `1-5` is `generate`'s default (as for --severity-schedule, an explicit `-s 1-5`
        // cannot be told from it): say what it skips; refuse any other request beyond 3
        if a.severities != "1-5" {
            anyhow::bail!(
                "ImageNet-P difficulties are 1-3 (-s {}: no difficulty {beyond}; the released noise sequences come in three sets, and the other sequences' difficulty is the metric's frame step 1-3)",
                a.severities
            );
        }
        if perturbations.iter().any(|p| p.is_noise()) {
            eprintln!(
                "imgcorrupt: note: ImageNet-P difficulties are 1-3: difficulties {beyond} of the default -s 1-5 skipped (the noise sequences are written at difficulties 1, 2, 3; pass -s 1-3 or a subset to silence this)"
            );
        }
    }
    if difficulties.is_empty() {
        anyhow::bail!("ImageNet-P difficulties are 1-3 (-s 1-3)");
    }
    let opts = SequenceOptions {
        input: a.input.clone(),
        output: a.output.clone(),
        perturbations,
        difficulties,
        seed: a.seed,
        format: a.sequence_format,
        quality: a.quality.unwrap_or(85),
        max_pixels: a.max_pixels,
        shard: super::shard_arg(a.shard.as_deref())?,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()?;
    let start = std::time::Instant::now();
    let s = pool.install(|| sequences::generate(&opts))?;
    eprintln!(
        "imgcorrupt: imagenet-p: {} source image(s), {} sequence(s) written, {} skipped (already done), {} failed, {:.2} s; manifest {}",
        s.images,
        s.written,
        s.skipped,
        s.failed.len(),
        start.elapsed().as_secs_f64(),
        a.output.join(sequences::state_file(opts.shard)).display()
    );
    if opts.shard.is_some() {
        if s.merged {
            eprintln!(
                "imgcorrupt: all shards finished: merged into {}",
                sequences::MANIFEST
            );
        } else if let Some(e) = &s.merge_error {
            eprintln!("imgcorrupt: every shard finished, but {e}");
        } else {
            eprintln!(
                "imgcorrupt: other shards not finished yet; the last one merges automatically (or run `imgcorrupt merge {}`)",
                a.output.display()
            );
        }
    }
    for f in &s.failed {
        eprintln!("  {f}");
    }
    Ok(crate::dataset::run::Summary {
        kind: None,
        images: s.images,
        written: s.written,
        skipped: s.skipped,
        carried: 0,
        failed: s.failed,
        elapsed: start.elapsed(),
        manifest_records: (opts.shard.is_none() || s.merged).then_some(s.written + s.skipped),
        manifest_path: Some(a.output.join(sequences::state_file(opts.shard))),
        removed: Vec::new(),
        release: Some("imagenet-p"),
        ..Default::default()
    })
}
