//! ImageNet-P stability metrics from per-frame predictions (`imgcorrupt score --flip`),
//! following `ImageNet-P/test.py` of hendrycks/robustness (docs/ALGORITHMS.md §13.3):
//!
//! * **flip probability** FP of a perturbation: per sequence, the fraction of compared frame
//!   pairs whose top-1 differs, averaged over sequences. Noise sequences (`*_noise*`) compare
//!   every frame with frame 0; the others compare consecutive frames of each of the `d`
//!   interleaved sub-sequences `frames[i::d]` (difficulty `d` ∈ {1, 2, 3}).
//! * **top-5 distance** T5D: the same pairs, each scored by
//!   `Σ_{j<5} |j − min(rank_B(top5_A[j]), 5)|` (0-based ranks; a class outside B's top 5
//!   counts as rank 5), i.e. test.py's `dist(σ, 'top5')`, which only needs each frame's top 5.
//! * **mFR / mT5D** = mean over the 10 test perturbations of FP / FP_AlexNet (T5D /
//!   T5D_AlexNet), in %. AlexNet's FP and T5D are published only in a spreadsheet linked from
//!   hendrycks/robustness issue #49, not in any repository file, so no normaliser is built
//!   in: without `--flip-baseline FILE` the unnormalised means (mFP, mT5D-unnormalised) are
//!   reported and named so.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};

/// The 10 test perturbations of ImageNet-P (mFR / mT5D run over these).
pub const TEST_PERTURBATIONS: [&str; 10] = [
    "gaussian_noise",
    "shot_noise",
    "motion_blur",
    "zoom_blur",
    "snow",
    "brightness",
    "translate",
    "rotate",
    "tilt",
    "scale",
];

/// Whether a perturbation folder is a noise sequence (compared with frame 0).
pub fn is_noise(perturbation: &str) -> bool {
    perturbation.contains("noise")
}

/// The perturbation a folder name belongs to (`gaussian_noise_2` → `gaussian_noise`).
pub fn base_name(folder: &str) -> &str {
    match folder.rsplit_once('_') {
        Some((b, "2" | "3")) => b,
        _ => folder,
    }
}

/// Top-5 distance of frame B's ranking from frame A's (`top5_*`: classes, best first; at
/// least 5 for A).
pub fn top5_distance(a: &[u32], b: &[u32]) -> u32 {
    (0..5.min(a.len()))
        .map(|j| {
            let rank_b = b.iter().take(5).position(|&c| c == a[j]).unwrap_or(5);
            (j as i64 - rank_b as i64).unsigned_abs() as u32
        })
        .sum()
}

/// The compared (earlier, later) frame-index pairs of a sequence of `n` frames.
pub fn pairs(n: usize, noise: bool, difficulty: usize) -> Vec<(usize, usize)> {
    let step = if noise { 1 } else { difficulty.max(1) };
    let mut out = Vec::new();
    for i in 0..step.min(n) {
        let idx: Vec<usize> = (i..n).step_by(step).collect();
        for w in 1..idx.len() {
            out.push((if noise { idx[0] } else { idx[w - 1] }, idx[w]));
        }
    }
    out
}

/// FP and T5D of one perturbation over its sequences (each: frames' rankings, top-1 first).
pub fn flip_and_t5d(
    sequences: &[Vec<Vec<u32>>],
    noise: bool,
    difficulty: usize,
) -> (f64, Option<f64>) {
    let (mut fp, mut t5d, mut have_top5) = (0.0, 0.0, true);
    let mut counted = 0usize;
    for seq in sequences {
        let p = pairs(seq.len(), noise, difficulty);
        if p.is_empty() {
            continue;
        }
        counted += 1;
        let flips = p.iter().filter(|&&(a, b)| seq[a][0] != seq[b][0]).count();
        fp += flips as f64 / p.len() as f64;
        if seq.iter().all(|r| r.len() >= 5) {
            t5d += p
                .iter()
                .map(|&(a, b)| f64::from(top5_distance(&seq[a], &seq[b])))
                .sum::<f64>()
                / p.len() as f64;
        } else {
            have_top5 = false;
        }
    }
    let n = counted.max(1) as f64;
    (fp / n, have_top5.then_some(t5d / n))
}

/// One perturbation's scores.
#[derive(Clone, Debug, Serialize)]
pub struct FlipRow {
    /// Folder name (perturbation, `_d` for noise difficulties).
    pub perturbation: String,
    /// Number of sequences.
    pub sequences: usize,
    /// Flip probability (fraction).
    pub flip_prob: f64,
    /// Top-5 distance (`None` without top-5 predictions).
    pub top5_distance: Option<f64>,
    /// FP / FP_AlexNet in % (with a baseline).
    pub flip_rate: Option<f64>,
    /// T5D / T5D_AlexNet in % (with a baseline).
    pub t5d_normalised: Option<f64>,
}

/// All scores of a predictions table.
#[derive(Clone, Debug, Serialize)]
pub struct FlipScore {
    /// Difficulty (frame step of the non-noise sequences).
    pub difficulty: usize,
    /// Per perturbation folder.
    pub rows: Vec<FlipRow>,
    /// Mean FP over the 10 test perturbations (unnormalised), when all 10 are there.
    pub mean_flip_prob: Option<f64>,
    /// Mean T5D over the 10 (unnormalised).
    pub mean_top5_distance: Option<f64>,
    /// mFR in % (needs the baseline).
    pub mfr: Option<f64>,
    /// mT5D in % (needs the baseline).
    pub mt5d: Option<f64>,
    /// Baseline name, if any.
    pub baseline: Option<String>,
}

/// A baseline's FP and T5D per perturbation (`--flip-baseline`, TOML:
/// `name = "…"`, `[flip_prob] gaussian_noise = 0.1 …`, `[top5_distance] …`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct FlipBaseline {
    /// Model name.
    pub name: String,
    /// FP per perturbation.
    #[serde(default)]
    pub flip_prob: BTreeMap<String, f64>,
    /// T5D per perturbation.
    #[serde(default)]
    pub top5_distance: BTreeMap<String, f64>,
}

/// Read a predictions table: CSV with the header `perturbation,sequence,frame,ranking`,
/// `ranking` = class ids best first separated by spaces (top 5 for T5D, top 1 for FP only).
pub fn read_predictions(text: &str, source: &str) -> Result<BTreeMap<String, Vec<Vec<Vec<u32>>>>> {
    let bad =
        |line: usize, what: String| Error::InvalidArgument(format!("{source}:{line}: {what}"));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, head) = lines.next().ok_or_else(|| bad(1, "empty file".into()))?;
    let cols: Vec<String> = head
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    if cols != ["perturbation", "sequence", "frame", "ranking"] {
        return Err(bad(
            1,
            format!("expected the header `perturbation,sequence,frame,ranking`, got `{head}`"),
        ));
    }
    // perturbation → sequence → frame → ranking
    let mut map: BTreeMap<String, BTreeMap<String, BTreeMap<usize, Vec<u32>>>> = BTreeMap::new();
    for (i, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 4 {
            return Err(bad(i + 1, format!("expected 4 fields, got {}", f.len())));
        }
        let frame: usize = f[2]
            .parse()
            .map_err(|_| bad(i + 1, format!("frame `{}` is not a number", f[2])))?;
        let ranking = f[3]
            .split_whitespace()
            .map(|c| {
                c.parse::<u32>()
                    .map_err(|_| bad(i + 1, format!("class `{c}` is not a number")))
            })
            .collect::<Result<Vec<u32>>>()?;
        if ranking.is_empty() {
            return Err(bad(i + 1, "empty ranking".into()));
        }
        let seq = map
            .entry(f[0].to_string())
            .or_default()
            .entry(f[1].to_string())
            .or_default();
        if seq.insert(frame, ranking).is_some() {
            return Err(bad(
                i + 1,
                format!("frame {frame} of {} {} twice", f[0], f[1]),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for (p, seqs) in map {
        let mut v = Vec::with_capacity(seqs.len());
        for (name, frames) in seqs {
            let n = frames.len();
            if frames.keys().copied().ne(0..n) {
                return Err(Error::InvalidArgument(format!(
                    "{source}: {p} {name}: frames must be 0..{n} without gaps"
                )));
            }
            v.push(frames.into_values().collect());
        }
        out.insert(p, v);
    }
    Ok(out)
}

/// Score a predictions table.
pub fn score(
    preds: &BTreeMap<String, Vec<Vec<Vec<u32>>>>,
    difficulty: usize,
    baseline: Option<&FlipBaseline>,
) -> FlipScore {
    let mut rows = Vec::new();
    for (p, seqs) in preds {
        let (fp, t5d) = flip_and_t5d(seqs, is_noise(p), difficulty);
        let norm = |v: Option<f64>, table: Option<&BTreeMap<String, f64>>| {
            let b = table?
                .get(p.as_str())
                .or_else(|| table?.get(base_name(p)))?;
            Some(100.0 * v? / b)
        };
        rows.push(FlipRow {
            perturbation: p.clone(),
            sequences: seqs.len(),
            flip_prob: fp,
            top5_distance: t5d,
            flip_rate: norm(Some(fp), baseline.map(|b| &b.flip_prob)),
            t5d_normalised: norm(t5d, baseline.map(|b| &b.top5_distance)),
        });
    }
    let test: Vec<&FlipRow> = TEST_PERTURBATIONS
        .iter()
        .filter_map(|t| rows.iter().find(|r| r.perturbation == *t))
        .collect();
    let mean = |f: &dyn Fn(&FlipRow) -> Option<f64>| -> Option<f64> {
        if test.len() != TEST_PERTURBATIONS.len() {
            return None;
        }
        let v: Option<Vec<f64>> = test.iter().map(|r| f(r)).collect();
        v.map(|v| v.iter().sum::<f64>() / v.len() as f64)
    };
    FlipScore {
        difficulty,
        mean_flip_prob: mean(&|r| Some(r.flip_prob)),
        mean_top5_distance: mean(&|r| r.top5_distance),
        mfr: mean(&|r| r.flip_rate),
        mt5d: mean(&|r| r.t5d_normalised),
        baseline: baseline.map(|b| b.name.clone()),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_test_py() {
        // noise: frame 0 against every later frame
        assert_eq!(pairs(4, true, 3), vec![(0, 1), (0, 2), (0, 3)]);
        // difficulty 1: consecutive frames
        assert_eq!(pairs(4, false, 1), vec![(0, 1), (1, 2), (2, 3)]);
        // difficulty 2: frames[0::2] and frames[1::2], each consecutive
        assert_eq!(pairs(5, false, 2), vec![(0, 2), (2, 4), (1, 3)]);
    }

    #[test]
    fn top5_distance_by_hand() {
        let a = [1, 2, 3, 4, 5];
        assert_eq!(top5_distance(&a, &[1, 2, 3, 4, 5]), 0);
        // swap of the first two: |0−1| + |1−0| = 2
        assert_eq!(top5_distance(&a, &[2, 1, 3, 4, 5]), 2);
        // class 5 (rank 4) leaves B's top 5: |4 − 5| = 1
        assert_eq!(top5_distance(&a, &[1, 2, 3, 4, 9]), 1);
        // all of A's top 5 gone: 5 + 4 + 3 + 2 + 1 = 15
        assert_eq!(top5_distance(&a, &[6, 7, 8, 9, 10]), 15);
    }

    #[test]
    fn flip_probability_by_hand() {
        // top-1 per frame: 1 1 2 2 1 → consecutive flips: 0,1,0,1 → 2/4; against frame 0
        // (noise): 0,1,1,0 → 2/4; difficulty 2: [1,2,1] → 2/2 and [1,2] → 1/1: mean of (1,1,1) = 1
        let seq: Vec<Vec<u32>> = [1, 1, 2, 2, 1].iter().map(|&c| vec![c]).collect();
        let (fp, t5d) = flip_and_t5d(std::slice::from_ref(&seq), false, 1);
        assert_eq!(fp, 0.5);
        assert_eq!(t5d, None);
        assert_eq!(flip_and_t5d(std::slice::from_ref(&seq), true, 1).0, 0.5);
        assert_eq!(flip_and_t5d(std::slice::from_ref(&seq), false, 2).0, 1.0);
        // two sequences: the mean of their per-sequence means
        let stable: Vec<Vec<u32>> = vec![vec![3]; 5];
        assert_eq!(flip_and_t5d(&[seq, stable], false, 1).0, 0.25);
    }

    #[test]
    fn mfr_needs_all_ten_and_a_baseline() {
        let mut preds = BTreeMap::new();
        for (k, p) in TEST_PERTURBATIONS.iter().enumerate() {
            // flips k of 10 consecutive pairs
            let seq: Vec<Vec<u32>> = (0..11)
                .map(|i| vec![if i <= k { 0 } else { i as u32 }, 1, 2, 3, 4])
                .collect();
            preds.insert(p.to_string(), vec![seq]);
        }
        let s = score(&preds, 1, None);
        assert!(s.mfr.is_none());
        let fps: Vec<f64> = s.rows.iter().map(|r| r.flip_prob).collect();
        assert!((s.mean_flip_prob.unwrap() - fps.iter().sum::<f64>() / 10.0).abs() < 1e-12);
        let mut b = FlipBaseline {
            name: "half".into(),
            ..Default::default()
        };
        for r in &s.rows {
            b.flip_prob
                .insert(r.perturbation.clone(), r.flip_prob.max(0.01) * 2.0);
            b.top5_distance.insert(
                r.perturbation.clone(),
                r.top5_distance.unwrap().max(0.01) * 4.0,
            );
        }
        let s = score(&preds, 1, Some(&b));
        // every FR where FP > 0 is 50 %; the perturbation with no flips scores 0
        let zero = s.rows.iter().filter(|r| r.flip_prob == 0.0).count() as f64;
        assert!(
            (s.mfr.unwrap() - 50.0 * (10.0 - zero) / 10.0).abs() < 1e-9,
            "{:?}",
            s.mfr
        );
        preds.remove("tilt");
        assert!(score(&preds, 1, Some(&b)).mfr.is_none());
    }

    #[test]
    fn reads_the_csv_and_refuses_gaps() {
        let t = "perturbation,sequence,frame,ranking\nrotate,a,0,1 2 3 4 5\nrotate,a,1,2 1 3 4 5\n";
        let p = read_predictions(t, "x.csv").unwrap();
        assert_eq!(p["rotate"][0].len(), 2);
        let s = score(&p, 1, None);
        assert_eq!(s.rows[0].flip_prob, 1.0);
        assert_eq!(s.rows[0].top5_distance, Some(2.0));
        let gap = "perturbation,sequence,frame,ranking\nrotate,a,0,1\nrotate,a,2,1\n";
        assert!(read_predictions(gap, "x.csv")
            .unwrap_err()
            .to_string()
            .contains("gaps"));
        assert!(read_predictions("a,b\n", "x.csv").is_err());
    }
}
