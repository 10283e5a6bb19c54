//! `imgcorrupt score`: CE, mCE, relative mCE, mean error, mPC and rPC from a results table
//! (see `crate::metrics` for the conventions), printed and written to a result file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::metrics::continuous::{
    ContinuousCell, ScheduleCell, CONTINUOUS_CONVENTION, SCHEDULE_CONVENTION,
};
use crate::metrics::{self, Baseline, Results, Score, CONVENTIONS};

mod predictions;

const EXAMPLES: &str = "\
Input: CSV with the header `corruption,severity,error` (or `accuracy`, or `ap` for detection),
fractions in [0, 1], one row per corruption and severity 1-5, plus `clean,0,<value>`;
or JSON: [{\"corruption\": \"fog\", \"severity\": 3, \"error\": 0.41}, ...].
Per-class APs (Pascal-C): `corruption,severity,class,ap` (and `clean,0,<class>,<ap>` per class),
or JSON records with a `class` key: P and mPC are class means, rPC the class mean of
mPC_k / P_k (Michaelis et al. 2019, mmdetection's robustness_eval.py for VOC).

Predictions mode (--dataset OUTPUT): FILE is a CSV `path,label,pred`, one row per image a model
classified; `path` is an output of the generate run in OUTPUT (relative to it, as in its
manifest), or for a CIFAR-format OUTPUT `<corruption>.npy:<row>` (`fog_s2.5.npy:<row>`: a
continuous severity's array; a --severity-schedule run's `fog.npy:<row>` is binned by the row's
scheduled severity); clean images are rows whose
path is a source of the run (relative to its INPUT) or starts with `clean/` or `clean:`. The
top-1 error of every (corruption, severity) is computed from these rows, then scored. Outputs
of continuous severities (`-s 2.5`) get their unnormalised error (AlexNet's errors exist at 1-5
only, so no CE); outputs of `--severity-schedule` cells their error overall and by scheduled
severity in unit bins [k, k+1) (from the manifest's `scheduled_severity`).

ImageNet-P (--flip): FILE is a CSV `perturbation,sequence,frame,ranking`, one row per frame a
model classified, `ranking` its top 5 classes best first separated by spaces (top 1 alone gives
flip probability only); perturbation is the folder name (gaussian_noise_2 for difficulty 2 of
the noise sequences). Prints flip probability and top-5 distance per perturbation and their
unnormalised means over the 10 test perturbations; mFR and mT5D need --flip-baseline FILE
(AlexNet's FP/T5D are not published in any repository file).

Examples:
  imgcorrupt score imagenet-p-preds.csv --flip [--difficulty 2] [--flip-baseline alexnet_p.toml]
  imgcorrupt score resnet50.csv                 # writes resnet50.score.json
  imgcorrupt score faster_rcnn_coco.csv -o coco-c.score.csv
  imgcorrupt score preds.csv --dataset /data/imagenet-c";

/// Arguments of `score`.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// Results table (.csv or .json).
    pub file: PathBuf,
    /// Result file (.json or .csv; default: FILE with the extension `.score.json`).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Predictions mode: FILE is `path,label,pred` over this generated dataset (its
    /// manifest.jsonl, or manifest.json of the CIFAR format, says each path's cell).
    #[arg(long, value_name = "OUTPUT")]
    pub dataset: Option<PathBuf>,
    /// ImageNet-P: FILE holds per-frame predictions; print flip probability, top-5 distance,
    /// mFR and mT5D (ImageNet-P/test.py).
    #[arg(long, conflicts_with = "dataset")]
    pub flip: bool,
    /// ImageNet-P difficulty: the frame step of the non-noise sequences (1-3).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3), requires = "flip")]
    pub difficulty: u8,
    /// ImageNet-P normaliser: TOML with `name`, `[flip_prob]` and `[top5_distance]` tables per
    /// perturbation (e.g. AlexNet's from the ImageNet-P spreadsheet).
    #[arg(long, value_name = "FILE", requires = "flip")]
    pub flip_baseline: Option<PathBuf>,
}

/// `score --flip`: ImageNet-P stability metrics.
fn evaluate_flip(a: &Args) -> anyhow::Result<Outcome> {
    use crate::metrics::flip;
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| anyhow::Error::new(e).context(format!("{}: cannot read", p.display())))
    };
    let preds = flip::read_predictions(&read(&a.file)?, &a.file.display().to_string())?;
    let baseline = match &a.flip_baseline {
        Some(p) => Some(
            toml::from_str::<flip::FlipBaseline>(&read(p)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let s = flip::score(&preds, usize::from(a.difficulty), baseline.as_ref());
    let f = |v: Option<f64>, d: usize| v.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "-".into());
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<18} {:>9} {:>10} {:>10} {:>8} {:>8}",
        "perturbation", "sequences", "flip_prob", "top5_dist", "FR %", "T5D %"
    );
    for r in &s.rows {
        let _ = writeln!(
            o,
            "{:<18} {:>9} {:>10.5} {:>10} {:>8} {:>8}",
            r.perturbation,
            r.sequences,
            r.flip_prob,
            f(r.top5_distance, 5),
            f(r.flip_rate, 2),
            f(r.t5d_normalised, 2)
        );
    }
    let _ = writeln!(
        o,
        "difficulty {} (frame step of the non-noise sequences)",
        s.difficulty
    );
    let _ = writeln!(
        o,
        "mean flip probability over the 10 test perturbations (unnormalised): {}",
        f(s.mean_flip_prob, 5)
    );
    let _ = writeln!(
        o,
        "mean top-5 distance over the 10 (unnormalised): {}",
        f(s.mean_top5_distance, 5)
    );
    match &s.baseline {
        Some(b) => {
            let _ = writeln!(o, "mFR (normalised by {b}): {}", f(s.mfr, 2));
            let _ = writeln!(o, "mT5D (normalised by {b}): {}", f(s.mt5d, 2));
        }
        None => {
            let _ = writeln!(o, "mFR, mT5D: not computed: AlexNet's FP/T5D are not published in a repository file; pass --flip-baseline FILE");
        }
    }
    Ok(Outcome {
        report: o,
        json: serde_json::to_value(&s)?,
        csv: None,
    })
}

/// What `score` computes, before anything is printed or written.
pub struct Outcome {
    /// The printed report.
    pub report: String,
    /// The JSON result (what FILE.score.json holds, conventions included).
    pub json: serde_json::Value,
    /// The CSV result of `-o FILE.csv` (`None`: the mode writes JSON only).
    pub csv: Option<String>,
}

/// Run `score`: print the report, write the result file.
pub fn run(a: Args) -> anyhow::Result<()> {
    let o = evaluate(&a)?;
    print!("{}", o.report);
    let out = a.output.clone().unwrap_or_else(|| default_output(&a.file));
    let bytes = match o.csv {
        Some(csv)
            if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv")) =>
        {
            csv
        }
        _ => serde_json::to_string_pretty(&o.json)? + "\n",
    };
    crate::io::write_atomic(&out, bytes.as_bytes())?;
    eprintln!("imgcorrupt: wrote {}", out.display());
    Ok(())
}

/// Every number of `score` for `a` (the command line's and the Python package's
/// `imgcorrupt.score`): the report, the JSON result and its CSV form.
pub fn evaluate(a: &Args) -> anyhow::Result<Outcome> {
    if a.flip {
        return evaluate_flip(a);
    }
    if a.dataset.is_none() && metrics::per_class::is_per_class(&a.file)? {
        return evaluate_per_class(a);
    }
    let (results, tally) = match &a.dataset {
        Some(root) => predictions::results(&a.file, root)?,
        None => (Results::read(&a.file)?, Default::default()),
    };
    let s = metrics::score(&results, &Baseline::alexnet());
    let (cont, sched) = tally.finish();
    let mut text = report(&s);
    continuous_report(&mut text, &cont, &sched);
    let mut value = serde_json::to_value(&s)?;
    let mut conventions = CONVENTIONS.to_vec();
    if !cont.is_empty() {
        value["continuous"] = serde_json::to_value(&cont)?;
        conventions.push(("continuous", CONTINUOUS_CONVENTION));
    }
    if !sched.is_empty() {
        value["schedule"] = serde_json::to_value(&sched)?;
        conventions.push(("schedule", SCHEDULE_CONVENTION));
    }
    Ok(Outcome {
        report: text,
        json: with_conventions(value, &conventions),
        csv: Some(csv(&s) + &continuous_csv(&cont, &sched)),
    })
}

/// The report's section on continuous-severity and scheduled cells (nothing without them).
fn continuous_report(o: &mut String, cont: &[ContinuousCell], sched: &[ScheduleCell]) {
    if !cont.is_empty() {
        let _ = writeln!(o, "\ncontinuous severities ({CONTINUOUS_CONVENTION})");
        let _ = writeln!(
            o,
            "{:<18} {:>10} {:>8} {:>8}",
            "corruption", "severity", "images", "error%"
        );
        for c in cont {
            let _ = writeln!(
                o,
                "{:<18} {:>10} {:>8} {:>8.2}",
                c.corruption, c.severity, c.images, c.error
            );
        }
    }
    if !sched.is_empty() {
        let _ = writeln!(
            o,
            "\nscheduled cells, --severity-schedule ({SCHEDULE_CONVENTION})"
        );
        let _ = writeln!(
            o,
            "{:<18} {:>10} {:>8} {:>8}",
            "corruption", "severity", "images", "error%"
        );
        for c in sched {
            let _ = writeln!(
                o,
                "{:<18} {:>10} {:>8} {:>8.2}",
                c.corruption, "all", c.images, c.error
            );
            for b in &c.bins {
                let range = format!(
                    "[{}, {}{}",
                    b.from,
                    b.to,
                    if b.to == 5.0 { "]" } else { ")" }
                );
                let _ = writeln!(
                    o,
                    "{:<18} {:>10} {:>8} {:>8.2}",
                    "", range, b.images, b.error
                );
            }
        }
    }
}

/// CSV rows of the continuous and scheduled cells: `error_at_<s>` and `schedule_error`,
/// `schedule_error_<k>-<k+1>` per bin.
fn continuous_csv(cont: &[ContinuousCell], sched: &[ScheduleCell]) -> String {
    let mut o = String::new();
    let conv = |c: &str| c.replace(',', ";");
    for c in cont {
        let _ = writeln!(
            o,
            "error_at_{},{},{},{}",
            c.severity,
            c.corruption,
            c.error,
            conv(CONTINUOUS_CONVENTION)
        );
    }
    for c in sched {
        let _ = writeln!(
            o,
            "schedule_error,{},{},{}",
            c.corruption,
            c.error,
            conv(SCHEDULE_CONVENTION)
        );
        for b in &c.bins {
            let _ = writeln!(
                o,
                "schedule_error_{}-{},{},{},{} images",
                b.from, b.to, c.corruption, b.error, b.images
            );
        }
    }
    o
}

/// `value` with the `conventions` of its numbers under the key `conventions`.
fn with_conventions(mut v: serde_json::Value, conventions: &[(&str, &str)]) -> serde_json::Value {
    v["conventions"] = conventions
        .iter()
        .map(|(k, d)| (k.to_string(), serde_json::Value::from(*d)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    v
}

/// `score` of a per-class AP table (Pascal-C): P, mPC and rPC as class means, rPC the mean
/// of the per-class ratios (`crate::metrics::per_class`).
fn evaluate_per_class(a: &Args) -> anyhow::Result<Outcome> {
    use metrics::per_class::{self, PER_CLASS_CONVENTIONS};
    let s = per_class::score_per_class(&per_class::read(&a.file)?);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<20} {:>8} {:>8} {:>8} {:>9} {:>9}",
        "class", "P%", "mPC%", "rPC%", "mPC%(19)", "rPC%(19)"
    );
    for c in &s.per_class {
        let _ = writeln!(
            o,
            "{:<20} {:>8} {:>8} {:>8} {:>9} {:>9}",
            c.class,
            pct(c.clean),
            pct(c.mpc),
            pct(c.rpc),
            pct(c.mpc_all),
            pct(c.rpc_all)
        );
    }
    let _ = writeln!(o);
    for (k, v) in [
        ("clean_performance", s.clean_performance),
        ("mpc", s.mpc),
        ("rpc", s.rpc),
        ("mpc_all", s.mpc_all),
        ("rpc_all", s.rpc_all),
    ] {
        let conv = PER_CLASS_CONVENTIONS
            .iter()
            .find(|c| c.0 == k)
            .map_or("", |c| c.1);
        let _ = writeln!(o, "{k:<18} {:>8}   {conv}", pct(v));
    }
    for n in &s.notes {
        let _ = writeln!(o, "note: {n}");
    }
    let csv = {
        let mut c = String::from("class,clean_performance,mpc,rpc,mpc_all,rpc_all\n");
        let f = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
        for r in &s.per_class {
            c += &format!(
                "{},{},{},{},{},{}\n",
                r.class,
                f(r.clean),
                f(r.mpc),
                f(r.rpc),
                f(r.mpc_all),
                f(r.rpc_all)
            );
        }
        c += &format!(
            "mean,{},{},{},{},{}\n",
            f(s.clean_performance),
            f(s.mpc),
            f(s.rpc),
            f(s.mpc_all),
            f(s.rpc_all)
        );
        c
    };
    Ok(Outcome {
        report: o,
        json: with_conventions(serde_json::to_value(&s)?, PER_CLASS_CONVENTIONS),
        csv: Some(csv),
    })
}

fn default_output(input: &Path) -> PathBuf {
    input.with_extension("score.json")
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "-".into())
}

/// The printed report: per corruption, then every aggregate with its convention.
fn report(s: &Score) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<18} {:<10} {:>10} {:>8} {:>8} {:>8}",
        "corruption", "subset", "severities", "error%", "CE%", "relCE%"
    );
    for p in &s.corruptions {
        let sev: Vec<String> = p.severities.iter().map(u8::to_string).collect();
        let _ = writeln!(
            o,
            "{:<18} {:<10} {:>10} {:>8} {:>8} {:>8}",
            p.corruption,
            p.subset,
            sev.join(""),
            pct(p.mean_error),
            pct(p.ce),
            pct(p.relative_ce)
        );
    }
    let _ = writeln!(o);
    let line = |o: &mut String, name: &str, v: String, conv: &str| {
        let _ = writeln!(o, "{name:<22} {v:>8}   {conv}");
    };
    let conv = |k: &str| {
        CONVENTIONS
            .iter()
            .find(|(n, _)| *n == k)
            .map(|c| c.1)
            .unwrap_or("")
    };
    line(&mut o, "clean error %", pct(s.clean_error), "");
    line(&mut o, "mCE %", pct(s.mce), conv("mce"));
    if let Some(ps) = s.mce_per_severity {
        let v: Vec<String> = ps.iter().map(|v| format!("{v:.2}")).collect();
        let _ = writeln!(
            o,
            "{:<22} {}   ({})",
            "mCE by severity 1-5 %",
            v.join(" "),
            conv("mce_per_severity")
        );
    }
    line(
        &mut o,
        "relative mCE %",
        pct(s.relative_mce),
        conv("relative_mce"),
    );
    line(
        &mut o,
        "mean error % (15)",
        pct(s.mean_error),
        conv("mean_error"),
    );
    line(
        &mut o,
        "mean error % (19)",
        pct(s.mean_error_all),
        "same, over all 19",
    );
    line(
        &mut o,
        "P (clean) %",
        pct(s.clean_performance),
        "clean performance",
    );
    line(&mut o, "mPC %", pct(s.mpc), conv("mpc"));
    line(&mut o, "rPC %", pct(s.rpc), conv("rpc"));
    line(&mut o, "mPC % (19)", pct(s.mpc_all), conv("mpc_all"));
    line(&mut o, "rPC % (19)", pct(s.rpc_all), "mPC(19) / P_clean");
    for n in &s.notes {
        let _ = writeln!(o, "note: {n}");
    }
    o
}

/// CSV result file: `name,severities,value,convention` rows, per corruption then aggregates.
fn csv(s: &Score) -> String {
    let mut o = String::from("metric,corruption,value,convention\n");
    let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    let conv = |k: &str| {
        CONVENTIONS
            .iter()
            .find(|(n, _)| *n == k)
            .map(|c| c.1.replace(',', ";"))
            .unwrap_or_default()
    };
    for p in &s.corruptions {
        let _ = writeln!(
            o,
            "mean_error,{},{},unnormalised %",
            p.corruption,
            num(p.mean_error)
        );
        let _ = writeln!(
            o,
            "mean_performance,{},{},%",
            p.corruption, p.mean_performance
        );
        let _ = writeln!(o, "ce,{},{},{}", p.corruption, num(p.ce), conv("ce"));
        let _ = writeln!(
            o,
            "relative_ce,{},{},AlexNet-normalised %",
            p.corruption,
            num(p.relative_ce)
        );
    }
    for (k, v) in [
        ("clean_error", s.clean_error),
        ("clean_performance", s.clean_performance),
        ("mce", s.mce),
        ("relative_mce", s.relative_mce),
        ("mean_error", s.mean_error),
        ("mean_error_all", s.mean_error_all),
        ("mpc", s.mpc),
        ("rpc", s.rpc),
        ("mpc_all", s.mpc_all),
        ("rpc_all", s.rpc_all),
    ] {
        let _ = writeln!(o, "{k},,{},{}", num(v), conv(k));
    }
    if let Some(ps) = s.mce_per_severity {
        for (i, v) in ps.iter().enumerate() {
            let _ = writeln!(
                o,
                "mce_severity_{},,{v},{}",
                i + 1,
                conv("mce_per_severity")
            );
        }
    }
    o
}
