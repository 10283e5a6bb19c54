//! `imgcorrupt generate --dataset cifar`: the CIFAR-10-C / CIFAR-100-C release format (see
//! `crate::dataset::cifar`), reached from `generate` when the input is CIFAR.

use std::path::Path;
use std::sync::Arc;

use crate::dataset::cifar::{self, source, Options};
use crate::dataset::execute;
use crate::digest::sha256_hex;
use crate::Preset;

use super::generate::Args;

/// The preset a CIFAR run uses when `--preset` is not given: the CIFAR-10-C tables.
pub const DEFAULT_PRESET: &str = "cifar-10-c";

/// Whether `generate` should take the CIFAR path: `--dataset cifar`, or `auto` on an input
/// that [`source::detect`] recognises.
pub fn wanted(a: &Args) -> bool {
    match a.dataset.as_str() {
        "cifar" => true,
        "auto" => source::detect(&a.input).is_some(),
        _ => false,
    }
}

/// Run the CIFAR path of `generate`; Ok(false) when an array failed.
pub fn run(a: &Args) -> anyhow::Result<bool> {
    let corruptions = super::generate::resolve_corruptions(&a.corruptions)?;
    let severities = super::parse_severities(&a.severities).map_err(anyhow::Error::msg)?;
    let preset_name = a.preset.as_deref().unwrap_or(DEFAULT_PRESET);
    let preset_text = Preset::source_text(preset_name)?;
    let preset_source = match std::fs::canonicalize(preset_name) {
        Ok(p) if Path::new(preset_name).exists() => p.display().to_string(),
        _ => preset_name.to_string(),
    };
    let o = Options {
        input: a.input.clone(),
        output: a.output.clone(),
        corruptions,
        severities,
        seed: a.seed,
        rng: a.rng,
        preset: Arc::new(Preset::load(preset_name)?),
        preset_source,
        preset_sha256: sha256_hex(preset_text.as_bytes()),
        frost: match &a.frost_dir {
            Some(dir) => Some(execute::load_frost(dir)?),
            None => None,
        },
        threads: a.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
    };
    eprintln!(
        "imgcorrupt: cifar {} → {}: {} corruption(s) × {} severities, preset {preset_name}",
        a.input.display(),
        a.output.display(),
        o.corruptions.len(),
        o.severities.len()
    );
    let start = std::time::Instant::now();
    let s = cifar::generate(&o, &|m| eprintln!("imgcorrupt: {m}"))?;
    eprintln!(
        "imgcorrupt: done: {} image(s) per severity, {} array(s) + labels.npy, {} failed, {:.2} s; manifest: {}",
        s.manifest.n,
        s.manifest.arrays.len() - 1,
        s.failed.len(),
        start.elapsed().as_secs_f64(),
        a.output.join("manifest.json").display()
    );
    for f in &s.failed {
        eprintln!("  {f}");
    }
    Ok(s.failed.is_empty())
}
