//! `jpeg_compression` (ALGORITHMS.md §4.15): a lossy JPEG round trip. Draws no random numbers.

use serde::Deserialize;

use crate::codecs::jpeg;
use crate::corruptions::params::Row;
use crate::corruptions::Job;
use crate::error::Result;

/// The `[jpeg_compression]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// JPEG quality 1..=100.
    pub quality: Row<u8>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        for (i, q) in self.quality.iter().enumerate() {
            if !(1..=100).contains(q) {
                return Err(format!(
                    "key `jpeg_compression.quality` severity {}: value {q} must be in 1..=100",
                    i + 1
                ));
            }
        }
        Ok(())
    }

    /// ALGORITHMS.md §14: the quality interpolated, then rounded to the nearest integer (half
    /// away from zero: 21.5 → 22). No quality is the identity, so below 1 is refused.
    fn at_severity(&self, s: f64) -> Option<Self> {
        let row = self.quality.map(f64::from);
        let q = crate::corruptions::params::lerp_row(&row, s, None)?;
        Some(Params {
            quality: q.map(|v| v.round() as u8),
        })
    }
}

/// JPEG round trip at the severity's quality, exactly as Pillow + libjpeg-turbo with default
/// settings (4:2:0, islow DCT, fancy upsampling), without the entropy coding.
pub fn jpeg_compression(job: &mut Job<'_>, p: &Params) -> Result<()> {
    thread_local! {
        /// Per-thread JPEG work planes, reused so repeated calls do not allocate.
        static SCRATCH: std::cell::RefCell<jpeg::JpegScratch> = std::cell::RefCell::new(jpeg::JpegScratch::new());
    }
    let q = p.quality[job.level];
    SCRATCH.with(|s| {
        let s = &mut s.borrow_mut();
        jpeg::roundtrip_rgb_with(s, job.src, job.width, job.height, q, job.dst);
    });
    Ok(())
}
