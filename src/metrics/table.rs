//! Reading a results table: `corruption,severity,<metric>` rows from CSV or JSON.
//!
//! The third column says what the numbers are: `error` (top-1 error), `accuracy` (top-1
//! accuracy) or `ap` (a detection score such as COCO AP or VOC AP50), each a fraction in
//! [0, 1]. A row `clean,0,<value>` gives the clean number. Everything is checked up front, the
//! error naming the file and line: a score computed from a half-read table is worse than none.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::catalogue::Corruption;
use crate::error::{Error, Result};

/// What the third column measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// Top-1 error, a fraction (lower is better).
    Error,
    /// Top-1 accuracy, a fraction (higher is better); error = 1 − accuracy.
    Accuracy,
    /// A detection score (AP, AP50), a fraction (higher is better): only mPC / rPC apply.
    Ap,
}

impl Measure {
    fn from_column(name: &str) -> Option<Measure> {
        match name.trim().to_ascii_lowercase().as_str() {
            "error" | "err" => Some(Measure::Error),
            "accuracy" | "acc" => Some(Measure::Accuracy),
            "ap" | "map" | "ap50" => Some(Measure::Ap),
            _ => None,
        }
    }

    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Error => "error",
            Measure::Accuracy => "accuracy",
            Measure::Ap => "ap",
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A results table: the clean number and one number per (corruption, severity), all in the
/// table's [`Measure`].
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    /// What the numbers are.
    pub measure: Measure,
    /// The `clean,0,x` row, if given.
    pub clean: Option<f64>,
    /// One value per corruption and severity 1..=5.
    pub values: BTreeMap<Corruption, BTreeMap<u8, f64>>,
}

impl Results {
    /// An empty table of the given measure.
    pub fn new(measure: Measure) -> Results {
        Results {
            measure,
            clean: None,
            values: BTreeMap::new(),
        }
    }

    /// Add one row; `corruption` is a catalogue name or `clean` (severity 0). `what` names
    /// the row in errors (`file:line`).
    pub fn push(&mut self, corruption: &str, severity: i64, value: f64, what: &str) -> Result<()> {
        let bad = |m: String| Error::InvalidArgument(format!("{what}: {m}"));
        if !value.is_finite() || !(0.0..=1.0).contains(&value) {
            return Err(bad(format!(
                "{} {value} is not a fraction in [0, 1]{}",
                self.measure,
                if value > 1.0 && value <= 100.0 {
                    " (percentages must be divided by 100)"
                } else {
                    ""
                }
            )));
        }
        if corruption.trim().eq_ignore_ascii_case("clean") {
            if severity != 0 {
                return Err(bad(format!(
                    "the clean row has severity {severity}: write `clean,0,<value>`"
                )));
            }
            if self.clean.replace(value).is_some() {
                return Err(bad("a second clean row".into()));
            }
            return Ok(());
        }
        let c = Corruption::from_name(corruption).map_err(|e| bad(e.to_string()))?;
        // LAION-C's distortions are scored like the -C and C-bar cells (unnormalised: no
        // AlexNet errors); other shifts (stylize) have no severity scale to score
        if c.family() == crate::Family::Stylization {
            return Err(bad(format!(
                "`{c}` cannot be scored here: a style transfer (Stylized-ImageNet/-COCO) has no \
                 severities or AlexNet baseline; report its accuracy as a test set of its own"
            )));
        }
        if !c.is_benchmark_corruption() && c.family() != crate::Family::LaionC {
            return Err(bad(format!(
                "`{c}` is not one of the 19 -C corruptions nor of the C-bar or LAION-C suites"
            )));
        }
        if !(1..=5).contains(&severity) {
            return Err(bad(format!(
                "severity {severity} of `{c}` is out of range: use 1..5 (0 only for `clean`)"
            )));
        }
        if self
            .values
            .entry(c)
            .or_default()
            .insert(severity as u8, value)
            .is_some()
        {
            return Err(bad(format!("a second row for `{c}` severity {severity}")));
        }
        Ok(())
    }

    /// The error of a value of this table (`None` for AP tables, which have no error).
    pub fn error_of(&self, value: f64) -> Option<f64> {
        match self.measure {
            Measure::Error => Some(value),
            Measure::Accuracy => Some(1.0 - value),
            Measure::Ap => None,
        }
    }

    /// The performance (higher is better) of a value of this table.
    pub fn performance_of(&self, value: f64) -> f64 {
        match self.measure {
            Measure::Error => 1.0 - value,
            Measure::Accuracy | Measure::Ap => value,
        }
    }

    /// Read a CSV (`.csv`, or anything not `.json`) or JSON (`.json`) results file.
    pub fn read(path: &Path) -> Result<Results> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.display().to_string();
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || text.trim_start().starts_with('[');
        if json {
            Results::from_json(&text, &name)
        } else {
            Results::from_csv(&text, &name)
        }
    }

    /// Parse CSV text with the header `corruption,severity,<error|accuracy|ap>`; blank lines
    /// and lines starting with `#` are skipped.
    pub fn from_csv(text: &str, source: &str) -> Result<Results> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let (_, header) = lines.next().ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{source}: empty: expected the header `corruption,severity,error` (or accuracy, ap)"
            ))
        })?;
        let cols: Vec<&str> = header
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(str::trim)
            .collect();
        let measure = match cols.as_slice() {
            [c, s, m] if c.eq_ignore_ascii_case("corruption") && s.eq_ignore_ascii_case("severity") => {
                Measure::from_column(m)
            }
            _ => None,
        }
        .ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{source}:1: header `{}`: expected `corruption,severity,error` (or accuracy, ap as the third column)",
                header.trim()
            ))
        })?;
        let mut r = Results::new(measure);
        for (i, line) in lines {
            let what = format!("{source}:{}", i + 1);
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            let [c, s, v] = f.as_slice() else {
                return Err(Error::InvalidArgument(format!(
                    "{what}: expected 3 fields `corruption,severity,{measure}`, found {}",
                    f.len()
                )));
            };
            let s: i64 = s.parse().map_err(|_| {
                let hint = if s.parse::<f64>().is_ok() {
                    ": a table holds the levels 1-5; continuous-severity cells are scored from predictions (`score FILE --dataset OUTPUT`)"
                } else {
                    ""
                };
                Error::InvalidArgument(format!("{what}: severity `{s}` is not an integer{hint}"))
            })?;
            let v: f64 = v.parse().map_err(|_| {
                Error::InvalidArgument(format!("{what}: {measure} `{v}` is not a number"))
            })?;
            r.push(c, s, v, &what)?;
        }
        Ok(r)
    }

    /// Parse JSON: an array of `{"corruption": .., "severity": .., "error"|"accuracy"|"ap": ..}`
    /// records, all with the same measure.
    pub fn from_json(text: &str, source: &str) -> Result<Results> {
        let bad = |m: String| Error::InvalidArgument(format!("{source}: {m}"));
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let rows = value.as_array().ok_or_else(|| {
            bad("expected an array of {corruption, severity, error} records".into())
        })?;
        let mut r: Option<Results> = None;
        for (i, row) in rows.iter().enumerate() {
            let what = format!("{source}: record {i}");
            let obj = row
                .as_object()
                .ok_or_else(|| Error::InvalidArgument(format!("{what}: not an object")))?;
            let corruption = obj.get("corruption").and_then(|v| v.as_str());
            let severity = obj.get("severity").and_then(|v| v.as_i64());
            let measured: Vec<(Measure, f64)> = obj
                .iter()
                .filter_map(|(k, v)| Some((Measure::from_column(k)?, v.as_f64()?)))
                .collect();
            let (Some(c), Some(s), [(m, v)]) = (corruption, severity, measured.as_slice()) else {
                return Err(Error::InvalidArgument(format!(
                    "{what}: expected keys corruption (string), severity (integer) and exactly one of error, accuracy, ap (number)"
                )));
            };
            let table = r.get_or_insert_with(|| Results::new(*m));
            if table.measure != *m {
                return Err(Error::InvalidArgument(format!(
                    "{what}: `{m}` after `{}` records: one measure per file",
                    table.measure
                )));
            }
            table.push(c, s, *v, &what)?;
        }
        r.ok_or_else(|| bad("no records".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_read_the_same_table() {
        let csv = "corruption,severity,accuracy\nclean,0,0.9\n# comment\ngaussian_noise,1,0.5\nfog,3,0.25\n";
        let json = r#"[{"corruption":"clean","severity":0,"accuracy":0.9},
            {"corruption":"gaussian_noise","severity":1,"accuracy":0.5},
            {"corruption":"fog","severity":3,"accuracy":0.25}]"#;
        let a = Results::from_csv(csv, "a.csv").unwrap();
        let b = Results::from_json(json, "b.json").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.measure, Measure::Accuracy);
        assert_eq!(a.clean, Some(0.9));
        assert_eq!(a.values[&Corruption::Fog][&3], 0.25);
        assert_eq!(a.error_of(0.25), Some(0.75));
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let e = |t: &str| Results::from_csv(t, "r.csv").unwrap_err().to_string();
        assert!(e("corruption,severity,loss\n").contains("r.csv:1: header"));
        assert!(e("corruption,severity,error\nfog,6,0.5\n").contains("r.csv:2: severity 6"));
        assert!(e("corruption,severity,error\nfog,1,55\n").contains("divided by 100"));
        assert!(e("corruption,severity,error\nfogg,1,0.5\n").contains("did you mean `fog`"));
        assert!(e("corruption,severity,error\nfog,1,0.5\nfog,1,0.6\n")
            .contains("r.csv:3: a second row"));
        assert!(e("corruption,severity,error\nclean,1,0.5\n").contains("clean,0"));
        let st = e("corruption,severity,error\nstylize,1,0.5\n");
        assert!(
            st.contains("r.csv:2: `stylize` cannot be scored here: a style transfer"),
            "{st}"
        );
        assert!(!st.contains("not one of the 19"), "{st}");
        assert!(e("corruption,severity,error\nfog,1\n").contains("expected 3 fields"));
        assert!(e("corruption,severity,error\nfog,2.5,0.4\n").contains("--dataset OUTPUT"));
        let j = Results::from_json(
            r#"[{"corruption":"fog","severity":1,"error":0.5,"accuracy":0.5}]"#,
            "r.json",
        );
        assert!(j.unwrap_err().to_string().contains("exactly one of"));
    }
}
