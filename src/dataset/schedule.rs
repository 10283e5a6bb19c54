//! Issue 16, `--severity-schedule`: a severity that changes continuously over the images of
//! one run, as CCC (Press et al. 2023) streams ImageNet-C with a drifting severity.
//!
//! Each image's severity is a function of its position in the sorted discovery order of the
//! dataset's images (the plan's order, before `--shard` splits it), never of threads, shards
//! or the order of execution, so a sharded or resumed run gives every image the same
//! severity. The value is rounded to a multiple of 0.001 ([`Severity`]), the unit the manifest
//! records. Outputs go to one cell per corruption, `OUTPUT/<corruption>/schedule/…`; each
//! record carries the image's severity (`scheduled_severity`), and the seed rule keys on that
//! severity, as for a `-s` cell of it.
//!
//! Forms:
//! * `linear:A-B[-C…]`: values at evenly spaced points of the run, linear in between
//!   (`linear:0-5` from 0 at the first image to 5 at the last; `linear:0-5-0` up and back);
//! * `knots:FILE`: lines `INDEX SEVERITY` (or `INDEX,SEVERITY`; `#` comments), INDEX the
//!   0-based position of an image in the sorted order, increasing; linear between knots,
//!   held before the first and after the last.

use std::collections::HashMap;
use std::path::Path;

use super::Severity;

/// Where the knots of a schedule sit.
#[derive(Clone, Debug, PartialEq)]
enum Axis {
    /// Fractions of the run, 0 (first image) to 1 (last).
    Fraction,
    /// Image indices.
    Index,
}

/// A parsed `--severity-schedule`.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    axis: Axis,
    /// (position, severity), positions increasing.
    knots: Vec<(f64, f64)>,
}

fn severity_value(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a severity"))?;
    if !(0.0..=5.0).contains(&v) {
        return Err(format!("severity {v} is outside [0, 5]"));
    }
    Ok(v)
}

impl Schedule {
    /// Parse `linear:A-B…` or `knots:FILE` (the file is read here).
    pub fn parse(spec: &str) -> Result<Schedule, String> {
        if let Some(rest) = spec.strip_prefix("linear:") {
            let values = rest
                .split('-')
                .map(severity_value)
                .collect::<Result<Vec<f64>, String>>()?;
            if values.len() < 2 {
                return Err(format!(
                    "severity schedule `{spec}`: give at least two values, e.g. linear:0-5"
                ));
            }
            let n = (values.len() - 1) as f64;
            let knots = values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as f64 / n, v))
                .collect();
            return Ok(Schedule {
                axis: Axis::Fraction,
                knots,
            });
        }
        if let Some(path) = spec.strip_prefix("knots:") {
            let text = std::fs::read_to_string(Path::new(path))
                .map_err(|e| format!("severity schedule {path}: {e}"))?;
            return Schedule::from_knots(&text).map_err(|e| format!("{path}: {e}"));
        }
        Err(format!(
            "severity schedule `{spec}`: use linear:A-B (e.g. linear:0-5) or knots:FILE"
        ))
    }

    /// A schedule from its [`Schedule::describe`] text (`linear:0-5`, `knots:0=0,100=2.5`), as
    /// a manifest records it: `verify` and `score` rebuild the severities from it.
    pub fn from_description(text: &str) -> Result<Schedule, String> {
        if let Some(rest) = text.strip_prefix("knots:") {
            let lines: Vec<String> = rest.split(',').map(|k| k.replacen('=', " ", 1)).collect();
            return Schedule::from_knots(&lines.join("\n"))
                .map_err(|e| format!("severity schedule `{text}`: {e}"));
        }
        Schedule::parse(text)
    }

    /// Knots from the text of a knots file.
    pub fn from_knots(text: &str) -> Result<Schedule, String> {
        let mut knots: Vec<(f64, f64)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|f| !f.is_empty())
                .collect();
            let [i, s] = fields[..] else {
                return Err(format!("line {}: expected `INDEX SEVERITY`", n + 1));
            };
            let i: u64 = i
                .parse()
                .map_err(|_| format!("line {}: `{i}` is not an image index", n + 1))?;
            let s = severity_value(s).map_err(|e| format!("line {}: {e}", n + 1))?;
            if knots.last().is_some_and(|&(p, _)| p >= i as f64) {
                return Err(format!("line {}: indices must increase", n + 1));
            }
            knots.push((i as f64, s));
        }
        if knots.is_empty() {
            return Err("no knots (lines `INDEX SEVERITY`)".into());
        }
        Ok(Schedule {
            axis: Axis::Index,
            knots,
        })
    }

    /// The canonical text recorded in the manifest header (a rerun with another schedule is
    /// refused; `verify` shows it): `linear:0-5`, or `knots:0=0,100=2.5` for a file.
    pub fn describe(&self) -> String {
        match self.axis {
            Axis::Fraction => format!(
                "linear:{}",
                self.knots
                    .iter()
                    .map(|k| k.1.to_string())
                    .collect::<Vec<_>>()
                    .join("-")
            ),
            Axis::Index => format!(
                "knots:{}",
                self.knots
                    .iter()
                    .map(|k| format!("{}={}", k.0, k.1))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    /// The lowest severity the schedule reaches (below 1 a corruption needs an identity).
    pub fn min(&self) -> f64 {
        self.knots.iter().map(|k| k.1).fold(f64::INFINITY, f64::min)
    }

    /// The severity of image `i` of `n`, rounded to a multiple of 0.001.
    pub fn severity_at(&self, i: usize, n: usize) -> Severity {
        let x = match self.axis {
            Axis::Fraction if n <= 1 => 0.0,
            Axis::Fraction => i as f64 / (n - 1) as f64,
            Axis::Index => i as f64,
        };
        let k = &self.knots;
        let v = if x <= k[0].0 {
            k[0].1
        } else if x >= k[k.len() - 1].0 {
            k[k.len() - 1].1
        } else {
            let j = k.partition_point(|&(p, _)| p <= x);
            let ((x0, y0), (x1, y1)) = (k[j - 1], k[j]);
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        };
        let v = ((v * 1000.0).round() / 1000.0).clamp(0.0, 5.0);
        Severity::continuous(v).expect("a multiple of 0.001 in [0, 5]")
    }

    /// The severities of `n` images in order (image `i` at [`Schedule::severity_at`]`(i, n)`).
    pub fn severities(&self, n: usize) -> Vec<Severity> {
        (0..n).map(|i| self.severity_at(i, n)).collect()
    }

    /// The severity of every image of a stream (`images`: their names in stream order; image
    /// i gets [`Schedule::severity_at`]`(i, n)`): webdataset input, whose order is that of its
    /// shards and samples, not of sorted names.
    pub fn assign_in_order(&self, images: &[String]) -> HashMap<String, Severity> {
        let n = images.len();
        images
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), self.severity_at(i, n)))
            .collect()
    }

    /// The severity of every image of a dataset (`images`: the relative paths of its images,
    /// in any order; they are sorted here, as the plan sorts them).
    pub fn assign(&self, images: &[String]) -> HashMap<String, Severity> {
        let mut sorted: Vec<&String> = images.iter().collect();
        sorted.sort();
        let n = sorted.len();
        sorted
            .into_iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), self.severity_at(i, n)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_knots() {
        let s = Schedule::parse("linear:0-5").unwrap();
        assert_eq!(s.describe(), "linear:0-5");
        let got: Vec<String> = (0..6).map(|i| s.severity_at(i, 6).to_string()).collect();
        assert_eq!(got, ["0", "1", "2", "3", "4", "5"]);
        assert_eq!(s.severity_at(1, 4).to_string(), "1.667");
        let tri = Schedule::parse("linear:0-5-0").unwrap();
        assert_eq!(tri.severity_at(2, 5).to_string(), "5");
        assert_eq!(tri.severity_at(4, 5).to_string(), "0");
        let k = Schedule::from_knots("# idx sev\n2 1\n6,3  # ramp\n").unwrap();
        assert_eq!(k.describe(), "knots:2=1,6=3");
        let got: Vec<String> = [0, 2, 4, 5, 6, 100]
            .iter()
            .map(|&i| k.severity_at(i, 1000).to_string())
            .collect();
        assert_eq!(got, ["1", "1", "2", "2.5", "3", "3"]);
        for bad in ["linear:0", "linear:0-6", "ramp:0-5", "linear:a-b"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
        assert!(Schedule::from_knots("5 1\n3 2\n").is_err());
        assert!(Schedule::from_knots("5 1 2\n").is_err());
        assert!(Schedule::from_knots("").is_err());
        // a manifest's description gives the same schedule back
        for s in [&s, &tri, &k] {
            assert_eq!(Schedule::from_description(&s.describe()).as_ref(), Ok(s));
        }
        assert_eq!(
            Schedule::from_description("knots:0=1.5")
                .unwrap()
                .severities(3),
            Schedule::from_knots("0 1.5").unwrap().severities(3)
        );
        assert!(Schedule::from_description("knots:0=1,0=2").is_err());
        assert!(Schedule::from_description("knots:").is_err());
    }

    #[test]
    fn assignment_follows_the_sorted_order_only() {
        let s = Schedule::parse("linear:1-3").unwrap();
        let a: Vec<String> = ["b/2.png", "a/1.png", "c/3.png"].map(String::from).to_vec();
        let mut rev = a.clone();
        rev.reverse();
        let m = s.assign(&a);
        assert_eq!(m, s.assign(&rev));
        assert_eq!(m["a/1.png"].to_string(), "1");
        assert_eq!(m["b/2.png"].to_string(), "2");
        assert_eq!(m["c/3.png"].to_string(), "3");
    }
}
