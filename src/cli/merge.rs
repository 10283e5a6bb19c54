//! `imgcorrupt merge`: combine the manifest parts of a sharded `generate` into
//! `manifest.jsonl` (the last shard to finish does this automatically).

use std::path::PathBuf;

/// Arguments of `merge`.
#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  imgcorrupt merge /data/imagenet-c")]
pub struct Args {
    /// Output root of a sharded `generate`.
    pub output: PathBuf,
    /// Merge even if some shard has not finished (its outputs will be missing).
    #[arg(long)]
    pub allow_incomplete: bool,
}

/// Run `merge`.
pub fn run(a: Args) -> anyhow::Result<bool> {
    if crate::dataset::cifar::record::is_cifar_output(&a.output) {
        let n = crate::dataset::cifar::record::merge(&a.output, a.allow_incomplete)?;
        eprintln!(
            "imgcorrupt: merged {n} arrays into {}",
            a.output
                .join(crate::dataset::cifar::record::MANIFEST)
                .display()
        );
        return Ok(true);
    }
    if crate::dataset::sequences::is_sequences_output(&a.output) {
        let n = crate::dataset::sequences::merge(&a.output, a.allow_incomplete)?;
        eprintln!(
            "imgcorrupt: merged {n} sequence records into {}",
            a.output.join(crate::dataset::sequences::MANIFEST).display()
        );
        return Ok(true);
    }
    let n = crate::dataset::record::manifest::merge(&a.output, a.allow_incomplete)?;
    eprintln!(
        "imgcorrupt: merged {n} records into {}",
        a.output
            .join(crate::dataset::record::manifest::MANIFEST)
            .display()
    );
    Ok(true)
}
