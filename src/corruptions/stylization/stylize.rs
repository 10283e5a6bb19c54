//! `stylize`: the adapter from a corruption [`Job`] to the style-transfer engine
//! ([`crate::stylize`]). It lives here, not in the engine, so that the engine imports nothing
//! above it: this file reads the job's α row and style, the engine only sees pixels, a
//! prepared style and α.

use serde::Deserialize;

use crate::corruptions::params::{check_row, Row};
use crate::corruptions::Job;
use crate::error::{Error, Result};
use crate::stylize::Backend;

/// The `[stylize]` table: strength per severity. Optional in preset files (it defaults to the
/// built-in α row), so that preset files written before `stylize` existed still load.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Strength α in [0, 1]: `out = α·stylized + (1 − α)·content` (statistics backend, in
    /// pixel space) or `feat = α·AdaIN + (1 − α)·content` (adain backend, in feature space).
    /// Stylized-ImageNet uses α = 1 (severity 5).
    pub alpha: Row<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row(
            "stylize.alpha",
            &self.alpha,
            |v| (0.0..=1.0).contains(&v),
            "in [0, 1]",
        )
    }

    fn when_missing() -> Option<Self> {
        Some(Params {
            alpha: [0.2, 0.4, 0.6, 0.8, 1.0],
        })
    }
}

/// Stylize the job's image with its prepared style at the severity's α (or the stylizer's
/// fixed α).
pub fn stylize(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let Some(sr) = job.style else {
        return Err(Error::InvalidArgument(
            "stylize needs a style source: Settings::with_stylizer (CLI: --styles DIR or --style FILE)".into(),
        ));
    };
    let alpha = sr.stylizer.alpha_for(&p.alpha, job.level);
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
