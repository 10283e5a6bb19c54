//! `stylize`: the adapter from a corruption [`Job`] to the style-transfer engine
//! ([`crate::stylize`]). It lives here, not in the engine, so that the engine imports nothing
//! above it: this file reads the job's α row and style, the engine only sees pixels, a
//! prepared style and α.

use crate::corruptions::Job;
use crate::error::{Error, Result};
use crate::stylize::Backend;

/// The catalogue function of `stylize` ([`crate::corruptions::CorruptFn`]).
pub fn stylize_job(job: &mut Job<'_>) -> Result<()> {
    let Some(sr) = job.style else {
        return Err(Error::InvalidArgument(
            "stylize needs a style source: Settings::with_stylizer (CLI: --styles DIR or --style FILE)".into(),
        ));
    };
    let alpha = sr.stylizer.alpha_for(&job.preset.stylize.alpha, job.level);
    match sr.stylizer.backend() {
        Backend::Statistics => {
            crate::stylize::statistics::stylize(
                job.src,
                job.dst,
                job.width,
                job.height,
                &sr.style.stats,
                alpha,
            );
            Ok(())
        }
        #[cfg(feature = "adain")]
        Backend::Adain(net) => {
            let feats = sr.style.adain.as_ref().ok_or_else(|| {
                Error::InvalidArgument("internal: style prepared without AdaIN features".into())
            })?;
            let out = net.stylize(job.src, job.width as u32, job.height as u32, feats, alpha)?;
            if out.len() != job.dst.len() {
                return Err(Error::InvalidImage(format!(
                    "adain returned {} bytes for a {}x{} image",
                    out.len(),
                    job.width,
                    job.height
                )));
            }
            job.dst.copy_from_slice(&out);
            Ok(())
        }
    }
}
