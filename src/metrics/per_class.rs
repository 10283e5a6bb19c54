//! Per-class detection results (Pascal VOC's 20 AP50s per cell): P, mPC and rPC as
//! Michaelis et al. 2019 compute them for Pascal-C (`robustness_eval.py`, VOC style;
//! docs/ALGORITHMS.md §8.2): per class k, `P_k` (clean AP) and `mPC_k` (mean AP over the 15
//! benchmark corruptions × 5 severities, or all 19); then `P` and `mPC` are class means, and
//! `rPC` is the class mean of the per-class ratios `mPC_k / P_k` — not `mPC / P`, which
//! differs when classes have different clean APs.
//!
//! Input: CSV `corruption,severity,class,ap` (one row per cell and class, plus
//! `clean,0,<class>,<ap>` per class), or JSON records with those four keys. Each class is a
//! table of its own ([`Results`], measure `ap`), checked as those are.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{score, Baseline, Measure, Results};
use crate::error::{Error, Result};

/// One class's numbers, %.
#[derive(Clone, Debug, Serialize)]
pub struct ClassScore {
    /// Class name as given.
    pub class: String,
    /// Clean AP `P_k`.
    pub clean: Option<f64>,
    /// `mPC_k` over the 15.
    pub mpc: Option<f64>,
    /// `mPC_k / P_k` over the 15.
    pub rpc: Option<f64>,
    /// `mPC_k` over all 19.
    pub mpc_all: Option<f64>,
    /// `mPC_k / P_k` over all 19.
    pub rpc_all: Option<f64>,
}

/// Class means, % (`None` when some class lacks what the number needs).
#[derive(Clone, Debug, Serialize)]
pub struct PerClassScore {
    /// Number of classes.
    pub classes: usize,
    /// `P` = mean of `P_k`.
    pub clean_performance: Option<f64>,
    /// `mPC` = mean of `mPC_k` (15 benchmark corruptions).
    pub mpc: Option<f64>,
    /// `rPC` = mean of `mPC_k / P_k` (15).
    pub rpc: Option<f64>,
    /// mPC over all 19.
    pub mpc_all: Option<f64>,
    /// rPC over all 19.
    pub rpc_all: Option<f64>,
    /// Per class, sorted by name.
    pub per_class: Vec<ClassScore>,
    /// Why a number is missing.
    pub notes: Vec<String>,
}

/// What each number is.
pub const PER_CLASS_CONVENTIONS: &[(&str, &str)] = &[
    ("clean_performance", "P = mean over classes of the clean AP P_k (Pascal-C: AP50)"),
    ("mpc", "mPC = mean over classes of mPC_k, the mean AP over the 15 corruptions x 5 severities (Michaelis et al. 2019)"),
    ("rpc", "rPC = mean over classes of mPC_k / P_k (robustness_eval.py, VOC style); not mPC / P"),
    ("mpc_all", "as mpc over all 19 corruptions ('all' aggregate)"),
    ("rpc_all", "as rpc over all 19 corruptions"),
];

/// Whether the table at `path` is per class: a CSV whose header has a `class` column, or JSON
/// records with a `class` key.
pub fn is_per_class(path: &Path) -> Result<bool> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(t).unwrap_or_default();
        return Ok(v
            .as_array()
            .and_then(|a| a.first())
            .is_some_and(|r| r.get("class").is_some()));
    }
    let header = t
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or("");
    Ok(header
        .split(',')
        .any(|c| c.trim().eq_ignore_ascii_case("class")))
}

/// Read a per-class table: one [`Results`] (measure `ap`) per class.
pub fn read(path: &Path) -> Result<BTreeMap<String, Results>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let source = path.display().to_string();
    let t = text.trim_start_matches('\u{feff}');
    let mut classes: BTreeMap<String, Results> = BTreeMap::new();
    let mut add = |c: &str, s: i64, class: &str, v: f64, what: &str| -> Result<()> {
        if class.is_empty() {
            return Err(Error::InvalidArgument(format!("{what}: empty class")));
        }
        classes
            .entry(class.to_string())
            .or_insert_with(|| Results::new(Measure::Ap))
            .push(c, s, v, what)
    };
    if t.trim_start().starts_with('[') {
        let v: serde_json::Value = serde_json::from_str(t)
            .map_err(|e| Error::InvalidArgument(format!("{source}: not valid JSON: {e}")))?;
        for (i, r) in v.as_array().into_iter().flatten().enumerate() {
            let what = format!("{source}: record {i}");
            let (Some(c), Some(s), Some(k), Some(ap)) = (
                r.get("corruption").and_then(|v| v.as_str()),
                r.get("severity").and_then(|v| v.as_i64()),
                r.get("class").and_then(|v| v.as_str()),
                r.get("ap").and_then(|v| v.as_f64()),
            ) else {
                return Err(Error::InvalidArgument(format!(
                    "{what}: expected keys corruption, severity, class (string) and ap (number)"
                )));
            };
            add(c, s, k, ap, &what)?;
        }
    } else {
        let mut lines = t
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let (_, header) = lines.next().unwrap_or((0, ""));
        let cols: Vec<String> = header
            .split(',')
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        if cols != ["corruption", "severity", "class", "ap"] {
            return Err(Error::InvalidArgument(format!(
                "{source}:1: header `{}`: expected `corruption,severity,class,ap` for per-class APs",
                header.trim()
            )));
        }
        for (i, line) in lines {
            let what = format!("{source}:{}", i + 1);
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let [c, s, k, v] = f.as_slice() else {
                return Err(Error::InvalidArgument(format!(
                    "{what}: expected 4 fields `corruption,severity,class,ap`, found {}",
                    f.len()
                )));
            };
            let s: i64 = s.parse().map_err(|_| {
                Error::InvalidArgument(format!("{what}: severity `{s}` is not an integer"))
            })?;
            let v: f64 = v
                .parse()
                .map_err(|_| Error::InvalidArgument(format!("{what}: ap `{v}` is not a number")))?;
            add(c, s, k, v, &what)?;
        }
    }
    if classes.is_empty() {
        return Err(Error::InvalidArgument(format!("{source}: no rows")));
    }
    Ok(classes)
}

fn mean(v: &[Option<f64>]) -> Option<f64> {
    let v: Option<Vec<f64>> = v.iter().copied().collect();
    v.filter(|v| !v.is_empty())
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
}

/// P, mPC and rPC of a per-class table (module docs).
pub fn score_per_class(classes: &BTreeMap<String, Results>) -> PerClassScore {
    let base = Baseline::alexnet(); // unused by AP tables (no CE), required by `score`
    let mut per = Vec::new();
    let mut notes = Vec::new();
    for (name, r) in classes {
        let s = score(r, &base);
        if s.mpc.is_none() {
            notes.push(format!(
                "class `{name}`: not all 15 benchmark corruptions at severities 1-5"
            ));
        }
        if r.clean.is_none() {
            notes.push(format!("class `{name}`: no `clean,0,{name},<ap>` row"));
        } else if r.clean == Some(0.0) {
            notes.push(format!(
                "class `{name}`: clean AP 0: its ratio mPC_k / P_k is undefined"
            ));
        }
        per.push(ClassScore {
            class: name.clone(),
            clean: s.clean_performance,
            mpc: s.mpc,
            rpc: s.rpc,
            mpc_all: s.mpc_all,
            rpc_all: s.rpc_all,
        });
    }
    let col = |f: fn(&ClassScore) -> Option<f64>| mean(&per.iter().map(f).collect::<Vec<_>>());
    PerClassScore {
        classes: per.len(),
        clean_performance: col(|c| c.clean),
        mpc: col(|c| c.mpc),
        rpc: col(|c| c.rpc),
        mpc_all: col(|c| c.mpc_all),
        rpc_all: col(|c| c.rpc_all),
        per_class: per,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{Corruption, Subset};

    /// Two classes, by hand. Class `a`: clean 0.8, AP 0.4 everywhere among the 15 → mPC_a
    /// 40 %, rPC_a 50 %. Class `b`: clean 0.2, AP 0.1 at s1–s4 and 0.2 at s5 → mPC_b 12 %,
    /// rPC_b 60 %. So P = 50 %, mPC = 26 %, rPC = (50 + 60) / 2 = 55 % — while mPC / P would
    /// be 52 %. The 4 validation corruptions at 0.8 (a) and 0.2 (b): mPC_all_a =
    /// (15·40 + 4·80)/19, mPC_all_b = (15·12 + 4·20)/19.
    #[test]
    fn rpc_is_the_class_mean_of_ratios() {
        let mut csv = String::from("corruption,severity,class,ap\nclean,0,a,0.8\nclean,0,b,0.2\n");
        for c in Corruption::all().filter(|c| c.is_benchmark_corruption()) {
            let common = c.subset() == Subset::Common;
            for s in 1..=5 {
                let (a, b) = if common {
                    (0.4, if s == 5 { 0.2 } else { 0.1 })
                } else {
                    (0.8, 0.2)
                };
                csv += &format!("{c},{s},a,{a}\n{c},{s},b,{b}\n");
            }
        }
        let dir = std::env::temp_dir().join(format!("imgcorrupt-perclass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("voc.csv");
        std::fs::write(&path, &csv).unwrap();
        assert!(is_per_class(&path).unwrap());
        let s = score_per_class(&read(&path).unwrap());
        let close = |x: Option<f64>, y: f64| assert!((x.unwrap() - y).abs() < 1e-9, "{x:?} vs {y}");
        assert_eq!(s.classes, 2);
        close(s.clean_performance, 50.0);
        close(s.mpc, 26.0);
        close(s.rpc, 55.0);
        close(s.per_class[0].rpc, 50.0);
        close(s.per_class[1].rpc, 60.0);
        let (ma, mb) = (
            (15.0 * 40.0 + 4.0 * 80.0) / 19.0,
            (15.0 * 12.0 + 4.0 * 20.0) / 19.0,
        );
        close(s.mpc_all, (ma + mb) / 2.0);
        close(s.rpc_all, (ma / 80.0 + mb / 20.0) / 2.0 * 100.0);
        assert!(s.notes.is_empty(), "{:?}", s.notes);
        // a class without its clean row: no rPC, and a note naming it
        std::fs::write(&path, csv.replace("clean,0,b,0.2\n", "")).unwrap();
        let s = score_per_class(&read(&path).unwrap());
        assert!(s.rpc.is_none() && s.mpc.is_some());
        assert!(
            s.notes.iter().any(|n| n.contains("class `b`")),
            "{:?}",
            s.notes
        );
        // errors name file and line
        std::fs::write(&path, "corruption,severity,class,ap\nfog,1,a,1.5\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("voc.csv:2"), "{e}");
        std::fs::write(&path, "corruption,severity,class\n").unwrap();
        assert!(read(&path)
            .unwrap_err()
            .to_string()
            .contains("corruption,severity,class,ap"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
