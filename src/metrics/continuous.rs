//! Scores of continuous-severity and scheduled cells (issue 16: `generate -s 2.5`,
//! `--severity-schedule`), beside the per-level table of [`super::score`].
//!
//! CE divides by AlexNet's ImageNet-C error at the same severity, and AlexNet's errors are
//! published at the levels 1..=5 only. A cell at 2.5 therefore gets its **unnormalised** top-1
//! error and no CE: interpolating AlexNet's table between levels would invent a normaliser
//! that no paper reports (the interpolated corruption parameters are ours, not the
//! benchmark's), so we do not, and the report says so. A continuous cell whose severity is an
//! integer is a level cell (the same bytes) and is scored with the levels, CE included.
//!
//! A scheduled cell (`<corruption>/schedule/`, each image at its own severity) gets its error
//! over all its images and its error binned by each image's scheduled severity (the
//! manifest's `scheduled_severity`) into unit bins `[0, 1)`, `[1, 2)`, …, `[4, 5]` (5 falls
//! in the last bin), so a drifting run can be read as a curve of error against severity.

use std::collections::BTreeMap;

use serde::Serialize;

/// The unnormalised error of one continuous-severity cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContinuousCell {
    /// Catalogue name.
    pub corruption: &'static str,
    /// The cell's severity (not an integer 1..=5).
    pub severity: f64,
    /// Images predicted.
    pub images: u64,
    /// Top-1 error, % (unnormalised: no AlexNet error exists at this severity).
    pub error: f64,
}

/// One unit bin of scheduled severities.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduleBin {
    /// Lower bound (inclusive).
    pub from: f64,
    /// Upper bound (exclusive, except 5 in the last bin).
    pub to: f64,
    /// Images whose scheduled severity falls in the bin.
    pub images: u64,
    /// Their top-1 error, %.
    pub error: f64,
}

/// The error of one scheduled cell, overall and by scheduled severity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduleCell {
    /// Catalogue name.
    pub corruption: &'static str,
    /// Images predicted.
    pub images: u64,
    /// Top-1 error over all of them, % (unnormalised).
    pub error: f64,
    /// The non-empty unit bins, increasing.
    pub bins: Vec<ScheduleBin>,
}

/// What the continuous numbers are, for the report and the result file.
pub const CONTINUOUS_CONVENTION: &str = "unnormalised top-1 error %: AlexNet's ImageNet-C errors are published at severities 1-5 only, so cells at other severities have no CE (not interpolated)";

/// What the bins of a scheduled cell are.
pub const SCHEDULE_CONVENTION: &str = "unnormalised top-1 error % over the cell, and by scheduled severity in unit bins [k, k+1) (5 in [4, 5])";

/// (wrong, total) predictions.
type Count = (u64, u64);

/// Counts of (wrong, total) predictions, gathered per cell and turned into errors.
#[derive(Debug, Default)]
pub struct Tally {
    /// Per (corruption, severity in thousandths).
    continuous: BTreeMap<(&'static str, u32), Count>,
    /// Per corruption: overall, and per unit bin 0..=4.
    schedule: BTreeMap<&'static str, (Count, [Count; 5])>,
}

fn add(t: &mut (u64, u64), wrong: bool) {
    t.0 += u64::from(wrong);
    t.1 += 1;
}

fn pct(t: (u64, u64)) -> f64 {
    100.0 * t.0 as f64 / t.1 as f64
}

/// The unit bin of a scheduled severity in [0, 5].
fn bin_of(severity: f64) -> usize {
    (severity.max(0.0).floor() as usize).min(4)
}

impl Tally {
    /// One prediction of an image of a continuous cell at `severity`.
    pub fn continuous(&mut self, corruption: &'static str, severity: f64, wrong: bool) {
        let key = (corruption, (severity * 1000.0).round() as u32);
        add(self.continuous.entry(key).or_default(), wrong);
    }

    /// One prediction of an image of a scheduled cell, made at `severity`.
    pub fn scheduled(&mut self, corruption: &'static str, severity: f64, wrong: bool) {
        let e = self.schedule.entry(corruption).or_default();
        add(&mut e.0, wrong);
        add(&mut e.1[bin_of(severity)], wrong);
    }

    /// True when no prediction was tallied.
    pub fn is_empty(&self) -> bool {
        self.continuous.is_empty() && self.schedule.is_empty()
    }

    /// The cells, in catalogue-name then severity order.
    pub fn finish(&self) -> (Vec<ContinuousCell>, Vec<ScheduleCell>) {
        let cont = self
            .continuous
            .iter()
            .map(|(&(c, s), &t)| ContinuousCell {
                corruption: c,
                severity: f64::from(s) / 1000.0,
                images: t.1,
                error: pct(t),
            })
            .collect();
        let sched = self
            .schedule
            .iter()
            .map(|(&c, &(all, bins))| ScheduleCell {
                corruption: c,
                images: all.1,
                error: pct(all),
                bins: bins
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.1 > 0)
                    .map(|(k, &t)| ScheduleBin {
                        from: k as f64,
                        to: k as f64 + 1.0,
                        images: t.1,
                        error: pct(t),
                    })
                    .collect(),
            })
            .collect();
        (cont, sched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: fog at 2.5, 1 wrong of 4 → 25 %; at 0.5, 0 of 2 → 0 %; a scheduled
    /// fog run with severities 0, 0.9, 1.5, 4.2, 5 and wrong on 0.9 and 5 → 40 % overall,
    /// [0,1) 1 of 2 = 50 %, [1,2) 0 of 1, [4,5] 1 of 2 = 50 %, no [2,3) or [3,4) bins.
    #[test]
    fn errors_and_bins_by_hand() {
        let mut t = Tally::default();
        for w in [true, false, false, false] {
            t.continuous("fog", 2.5, w);
        }
        t.continuous("fog", 0.5, false);
        t.continuous("fog", 0.5, false);
        for (s, w) in [
            (0.0, false),
            (0.9, true),
            (1.5, false),
            (4.2, false),
            (5.0, true),
        ] {
            t.scheduled("fog", s, w);
        }
        let (c, s) = t.finish();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].severity, c[0].images, c[0].error), (0.5, 2, 0.0));
        assert_eq!((c[1].severity, c[1].images, c[1].error), (2.5, 4, 25.0));
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].images, s[0].error), (5, 40.0));
        let bins: Vec<(f64, f64, u64, f64)> = s[0]
            .bins
            .iter()
            .map(|b| (b.from, b.to, b.images, b.error))
            .collect();
        assert_eq!(
            bins,
            [(0.0, 1.0, 2, 50.0), (1.0, 2.0, 1, 0.0), (4.0, 5.0, 2, 50.0)]
        );
        assert!(!t.is_empty());
        assert!(Tally::default().is_empty());
    }
}
