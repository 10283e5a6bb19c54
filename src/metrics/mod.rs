//! Robustness scores from a results table (`imgcorrupt score`): CE, mCE, relative mCE, the
//! unnormalised mean error, mPC and rPC (docs/ALGORITHMS.md §7, §8.2).
//!
//! Users compute these by hand and mix the conventions up (an unnormalised mean error reported
//! as "mCE" is the classic), so every number here carries the name of its convention:
//!
//! * **CE** (Hendrycks & Dietterich 2019): `CE_c = Σ_s E_{s,c} / Σ_s E^AlexNet_{s,c}`, in %;
//!   **mCE** = mean CE over the 15 benchmark corruptions (the 4 validation ones excluded).
//!   Normalised by AlexNet's ImageNet-C errors (`corruptions/baselines/alexnet_imagenet_c.toml`):
//!   meaningful for ImageNet-C-style 1000-class results only.
//! * **relative CE / mCE**: `Σ_s (E_{s,c} − E_clean) / Σ_s (E^A_{s,c} − E^A_clean)`.
//! * **mean error** (unnormalised; what CIFAR-10-C papers and `ImageNet-C/test.py`'s
//!   "mCE (unnormalized by AlexNet errors)" report): mean over the 15 of the per-corruption
//!   mean error.
//! * **mPC / rPC** (Michaelis et al. 2019): mPC = mean performance over the 15 benchmark
//!   corruptions × severities, rPC = mPC / P_clean; "all" uses the 19.
//!
//! A corruption's sums run over the severities the table has (both the model's and AlexNet's),
//! and an aggregate over the 15 is only given when all 15 are there, each with 5 severities:
//! a partial mCE is not comparable with any published one.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalogue::{Corruption, Subset};
use crate::error::{Error, Result};

pub mod continuous;
pub mod flip;
pub mod per_class;
pub mod table;

pub use table::{Measure, Results};

/// A reference model's errors on ImageNet-C (fractions), the normaliser of CE.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Model name.
    pub name: String,
    /// Clean top-1 error.
    pub clean: f64,
    /// Per corruption: published mean over severities and the errors at severities 1..=5.
    pub errors: BTreeMap<Corruption, (f64, [f64; 5])>,
}

impl Baseline {
    /// AlexNet, from `corruptions/baselines/alexnet_imagenet_c.toml`.
    pub fn alexnet() -> Baseline {
        Baseline::from_toml_str(
            include_str!("../../corruptions/baselines/alexnet_imagenet_c.toml"),
            "alexnet_imagenet_c.toml",
        )
        .expect("the built-in AlexNet table is valid")
    }

    /// Parse a baseline file: `[baseline]` (name, clean) and one table per corruption with
    /// `average` and `severity` (5 errors); all 19 corruptions are required.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Baseline> {
        let bad = |m: String| Error::InvalidArgument(format!("{source}: {m}"));
        let t: toml::Table = text.parse().map_err(|e| bad(format!("{e}")))?;
        let head = t
            .get("baseline")
            .and_then(|v| v.as_table())
            .ok_or_else(|| bad("missing [baseline]".into()))?;
        let num = |v: Option<&toml::Value>| {
            v.and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
        };
        let clean = num(head.get("clean")).ok_or_else(|| bad("missing baseline.clean".into()))?;
        let mut errors = BTreeMap::new();
        for c in Corruption::all() {
            let row = t
                .get(c.name())
                .and_then(|v| v.as_table())
                .ok_or_else(|| bad(format!("missing [{c}]")))?;
            let average =
                num(row.get("average")).ok_or_else(|| bad(format!("missing {c}.average")))?;
            let sev: Vec<f64> = row
                .get("severity")
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|v| num(Some(v))).collect())
                .unwrap_or_default();
            let sev: [f64; 5] = sev
                .try_into()
                .map_err(|_| bad(format!("{c}.severity must hold 5 numbers")))?;
            errors.insert(c, (average, sev));
        }
        Ok(Baseline {
            name: head
                .get("name")
                .and_then(|v| v.as_str())
                .unwrap_or("baseline")
                .to_string(),
            clean,
            errors,
        })
    }
}

/// One corruption's numbers (percentages; `None` where the table cannot give it).
#[derive(Clone, Debug, Serialize)]
pub struct CorruptionScore {
    /// Catalogue name.
    pub corruption: &'static str,
    /// `common` (counts in mCE/mPC) or `validation`.
    pub subset: &'static str,
    /// Severities present.
    pub severities: Vec<u8>,
    /// Mean error over those severities, % (unnormalised).
    pub mean_error: Option<f64>,
    /// Mean performance (1 − error, accuracy or AP) over those severities, %.
    pub mean_performance: f64,
    /// CE, % (AlexNet-normalised).
    pub ce: Option<f64>,
    /// Relative CE, % (AlexNet-normalised, clean error subtracted); needs the clean row.
    pub relative_ce: Option<f64>,
}

/// Every aggregate, with the convention it follows.
#[derive(Clone, Debug, Serialize)]
pub struct Score {
    /// What the input numbers were.
    pub measure: Measure,
    /// Normaliser of CE.
    pub baseline: String,
    /// Clean error, %.
    pub clean_error: Option<f64>,
    /// Clean performance P, %.
    pub clean_performance: Option<f64>,
    /// Per corruption, catalogue order.
    pub corruptions: Vec<CorruptionScore>,
    /// mCE, % (AlexNet-normalised, 15 benchmark corruptions).
    pub mce: Option<f64>,
    /// mCE at each severity 1..=5 alone: mean over the 15 of `E_{s,c} / E^A_{s,c}`, %.
    pub mce_per_severity: Option<[f64; 5]>,
    /// Relative mCE, % (AlexNet-normalised, 15 benchmark corruptions).
    pub relative_mce: Option<f64>,
    /// Mean error over the 15, % (unnormalised, CIFAR-10-C convention).
    pub mean_error: Option<f64>,
    /// Mean error over all 19, % (unnormalised).
    pub mean_error_all: Option<f64>,
    /// mPC over the 15 (Michaelis et al. "benchmark"), %.
    pub mpc: Option<f64>,
    /// rPC = mPC / P over the 15, %.
    pub rpc: Option<f64>,
    /// mPC over all 19 ("all"), %.
    pub mpc_all: Option<f64>,
    /// rPC over all 19, %.
    pub rpc_all: Option<f64>,
    /// Why an aggregate is missing, one line each.
    pub notes: Vec<String>,
}

/// What each number of a [`Score`] is, for the printed report and the result file.
pub const CONVENTIONS: &[(&str, &str)] = &[
    ("ce", "CE_c = 100 * sum_s E_{s,c} / sum_s E^AlexNet_{s,c} (Hendrycks & Dietterich 2019; AlexNet ImageNet-C errors)"),
    ("mce", "mCE = mean CE over the 15 benchmark corruptions (AlexNet-normalised; validation 4 excluded)"),
    ("mce_per_severity", "mean over the 15 of 100 * E_{s,c} / E^AlexNet_{s,c}, one per severity"),
    ("relative_mce", "mean over the 15 of 100 * sum_s (E_{s,c} - E_clean) / sum_s (E^A_{s,c} - E^A_clean), E^A_clean = 43.5 %"),
    ("mean_error", "unnormalised mean error over the 15 (CIFAR-10-C convention; ImageNet-C/test.py 'mCE (unnormalized)'); NOT the mCE"),
    ("mpc", "mPC = mean performance over the 15 corruptions x 5 severities (Michaelis et al. 2019, 'benchmark')"),
    ("rpc", "rPC = mPC / P_clean (Michaelis et al. 2019)"),
    ("mpc_all", "mPC over all 19 corruptions ('all' aggregate)"),
];

fn mean(v: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (s, n) = v
        .into_iter()
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// Compute every score the table allows.
pub fn score(r: &Results, baseline: &Baseline) -> Score {
    let mut notes = Vec::new();
    let clean_error = r.clean.and_then(|v| r.error_of(v));
    let clean_perf = r.clean.map(|v| r.performance_of(v));
    let mut per = Vec::new();
    let mut unnormalised = Vec::new();
    for (&c, sev) in &r.values {
        // the suites beyond the 19 (ImageNet-C-bar, LAION-C) have no AlexNet errors: their
        // rows get the unnormalised numbers only
        let base = baseline.errors.get(&c).map(|b| b.1);
        if base.is_none() {
            unnormalised.push(c.name());
        }
        let errs: Option<Vec<(u8, f64)>> = sev
            .iter()
            .map(|(&s, &v)| r.error_of(v).map(|e| (s, e)))
            .collect();
        let ce = match (&errs, base) {
            (Some(e), Some(base)) => {
                let sum_base: f64 = sev.keys().map(|&s| base[s as usize - 1]).sum();
                Some(100.0 * e.iter().map(|p| p.1).sum::<f64>() / sum_base)
            }
            _ => None,
        };
        let relative_ce = match (&errs, clean_error, base) {
            (Some(e), Some(ec), Some(base)) => {
                let num: f64 = e.iter().map(|&(_, x)| x - ec).sum();
                let den: f64 = sev
                    .keys()
                    .map(|&s| base[s as usize - 1] - baseline.clean)
                    .sum();
                Some(100.0 * num / den)
            }
            _ => None,
        };
        per.push(CorruptionScore {
            corruption: c.name(),
            subset: c.subset().name(),
            severities: sev.keys().copied().collect(),
            mean_error: errs
                .as_ref()
                .and_then(|e| mean(e.iter().map(|p| 100.0 * p.1))),
            mean_performance: mean(sev.values().map(|&v| 100.0 * r.performance_of(v)))
                .unwrap_or(f64::NAN),
            ce,
            relative_ce,
        });
    }
    let complete = |c: &Corruption| r.values.get(c).is_some_and(|s| s.len() == 5);
    let common: Vec<Corruption> = Corruption::all()
        .filter(|c| c.subset() == Subset::Common)
        .collect();
    let missing: Vec<&str> = common
        .iter()
        .filter(|c| !complete(c))
        .map(|c| c.name())
        .collect();
    let all_complete = Corruption::all().all(|c| complete(&c));
    let row = |c: Corruption| per.iter().find(|p| p.corruption == c.name());
    let over = |set: &[Corruption], f: &dyn Fn(&CorruptionScore) -> Option<f64>| -> Option<f64> {
        let v: Option<Vec<f64>> = set.iter().map(|&c| row(c).and_then(f)).collect();
        v.and_then(mean)
    };
    let all: Vec<Corruption> = Corruption::all().collect();
    let (mut mce, mut mce_sev, mut rmce, mut merr, mut mpc) = (None, None, None, None, None);
    if missing.is_empty() {
        mce = over(&common, &|p| p.ce);
        rmce = over(&common, &|p| p.relative_ce);
        merr = over(&common, &|p| p.mean_error);
        mpc = over(&common, &|p| Some(p.mean_performance));
        if r.measure != Measure::Ap {
            let mut s5 = [0.0; 5];
            for (s, slot) in s5.iter_mut().enumerate() {
                *slot = mean(common.iter().map(|c| {
                    let e = r
                        .error_of(r.values[c][&(s as u8 + 1)])
                        .expect("error measure");
                    100.0 * e / baseline.errors[c].1[s]
                }))
                .expect("15 corruptions");
            }
            mce_sev = Some(s5);
        }
    } else {
        notes.push(format!(
            "mCE, relative mCE, mean error and mPC need all 15 benchmark corruptions at severities 1-5; missing or incomplete: {}",
            missing.join(", ")
        ));
    }
    if !unnormalised.is_empty() && r.measure != Measure::Ap {
        notes.push(format!(
            "no {} errors for {}: their mean error and performance are unnormalised (no CE); they do not enter mCE, mPC or the 19-corruption aggregates",
            baseline.name,
            unnormalised.join(", ")
        ));
    }
    if r.measure == Measure::Ap {
        notes.push("AP table: CE, mCE and errors do not apply (only mPC / rPC)".into());
    }
    if r.clean.is_none() {
        notes.push("no `clean,0,x` row: relative mCE and rPC need the clean number".into());
    }
    let (mpc_all, merr_all) = if all_complete {
        (
            over(&all, &|p| Some(p.mean_performance)),
            over(&all, &|p| p.mean_error),
        )
    } else {
        (None, None)
    };
    let ratio = |m: Option<f64>| match (m, clean_perf) {
        (Some(m), Some(p)) if p > 0.0 => Some(100.0 * m / (100.0 * p)),
        _ => None,
    };
    Score {
        measure: r.measure,
        baseline: baseline.name.clone(),
        clean_error: clean_error.map(|e| 100.0 * e),
        clean_performance: clean_perf.map(|p| 100.0 * p),
        corruptions: per.clone(),
        mce,
        mce_per_severity: mce_sev,
        relative_mce: rmce,
        mean_error: merr,
        mean_error_all: merr_all,
        mpc,
        rpc: ratio(mpc),
        mpc_all,
        rpc_all: ratio(mpc_all),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alexnet_results(clean: Option<f64>) -> Results {
        let b = Baseline::alexnet();
        let mut r = Results::new(Measure::Error);
        r.clean = clean;
        for (c, (_, sev)) in &b.errors {
            for (s, &e) in sev.iter().enumerate() {
                r.push(c.name(), s as i64 + 1, e, "test").unwrap();
            }
        }
        r
    }

    #[test]
    fn alexnet_table_averages_are_the_severity_means() {
        let b = Baseline::alexnet();
        assert_eq!(b.errors.len(), 19);
        assert_eq!(b.clean, 0.435);
        for (c, (avg, sev)) in &b.errors {
            let m = sev.iter().sum::<f64>() / 5.0;
            assert!((m - avg).abs() < 1e-6, "{c}: {m} vs {avg}");
        }
    }

    #[test]
    fn alexnet_scores_100() {
        let s = score(&alexnet_results(Some(0.435)), &Baseline::alexnet());
        assert!((s.mce.unwrap() - 100.0).abs() < 1e-9);
        assert!((s.relative_mce.unwrap() - 100.0).abs() < 1e-9);
        for v in s.mce_per_severity.unwrap() {
            assert!((v - 100.0).abs() < 1e-9);
        }
        for p in &s.corruptions {
            assert!((p.ce.unwrap() - 100.0).abs() < 1e-9, "{}", p.corruption);
        }
        // AlexNet's unnormalised mean error over the 15 is the mean of the 15 averages
        let b = Baseline::alexnet();
        let m: f64 = Corruption::all()
            .filter(|c| c.subset() == Subset::Common)
            .map(|c| b.errors[&c].0)
            .sum::<f64>()
            / 15.0;
        assert!((s.mean_error.unwrap() - 100.0 * m).abs() < 1e-9);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
    }

    /// Relative mCE identity: errors `E_clean + k·(E^A − E^A_clean)` give relative mCE 100·k
    /// whatever the clean error, and a model that loses nothing under corruption scores 0.
    #[test]
    fn relative_mce_identity() {
        let b = Baseline::alexnet();
        for (clean, k) in [(0.2, 0.5), (0.1, 0.25), (0.3, 1.0)] {
            let mut r = Results::new(Measure::Error);
            r.clean = Some(clean);
            for (c, (_, sev)) in &b.errors {
                for (s, &e) in sev.iter().enumerate() {
                    r.push(c.name(), s as i64 + 1, clean + k * (e - b.clean), "t")
                        .unwrap();
                }
            }
            let s = score(&r, &b);
            assert!((s.relative_mce.unwrap() - 100.0 * k).abs() < 1e-9);
        }
        let mut flat = alexnet_results(Some(0.2));
        for sev in flat.values.values_mut() {
            sev.values_mut().for_each(|v| *v = 0.2);
        }
        assert!(score(&flat, &b).relative_mce.unwrap().abs() < 1e-9);
    }

    /// A hand-computed CE: errors 0.5 at every severity of gaussian_noise:
    /// CE = 100 · 2.5 / (0.69528 + 0.82542 + 0.93554 + 0.98138 + 0.99452) = 100 · 2.5 / 4.43214.
    #[test]
    fn hand_computed_ce_and_partial_tables() {
        let mut r = Results::new(Measure::Accuracy);
        r.clean = Some(0.8);
        for s in 1..=5 {
            r.push("gaussian_noise", s, 0.5, "t").unwrap();
        }
        r.push("fog", 2, 0.6, "t").unwrap();
        let s = score(&r, &Baseline::alexnet());
        let g = &s.corruptions[0];
        assert_eq!(g.corruption, "gaussian_noise");
        assert!((g.ce.unwrap() - 250.0 / 4.43214).abs() < 1e-9);
        // relative: Σ(0.5 − 0.2) / Σ(E^A − 0.435) = 1.5 / (4.43214 − 2.175)
        assert!((g.relative_ce.unwrap() - 150.0 / (4.43214 - 2.175)).abs() < 1e-9);
        assert!((g.mean_error.unwrap() - 50.0).abs() < 1e-12);
        // fog, severity 2 only: both sums over severity 2 alone
        let f = &s.corruptions[1];
        assert_eq!(f.severities, vec![2]);
        assert!((f.ce.unwrap() - 100.0 * 0.4 / 0.76050).abs() < 1e-9);
        assert!(s.mce.is_none() && s.mpc.is_none());
        assert!(s.notes[0].contains("shot_noise"));
    }

    /// mPC / rPC on a small table (AP): 15 corruptions, each with AP 0.3 at s1..s4 and 0.1 at
    /// s5 → mPC = 26 %; P = 0.4 → rPC = 65 %. With the 4 validation ones at 0.2: mPC(all) =
    /// (15·26 + 4·20)/19.
    #[test]
    fn mpc_rpc_small_table() {
        let mut r = Results::new(Measure::Ap);
        r.clean = Some(0.4);
        for c in Corruption::all() {
            for s in 1..=5 {
                let v = if c.subset() == Subset::Common {
                    if s == 5 {
                        0.1
                    } else {
                        0.3
                    }
                } else {
                    0.2
                };
                r.push(c.name(), s, v, "t").unwrap();
            }
        }
        let s = score(&r, &Baseline::alexnet());
        assert!((s.mpc.unwrap() - 26.0).abs() < 1e-9);
        assert!((s.rpc.unwrap() - 65.0).abs() < 1e-9);
        assert!((s.mpc_all.unwrap() - (15.0 * 26.0 + 80.0) / 19.0).abs() < 1e-9);
        assert!(s.mce.is_none() && s.corruptions.iter().all(|p| p.ce.is_none()));
    }
}
