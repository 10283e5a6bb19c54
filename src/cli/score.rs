//! `imgcorrupt score`: its arguments, and the report printed and written to a result file.
//! The numbers, report and results are the library's (`crate::dataset::score`).

use std::path::{Path, PathBuf};

use crate::dataset::score::{evaluate, Request};

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

/// Run `score`: print the report, write the result file.
pub fn run(a: Args) -> anyhow::Result<()> {
    let o = evaluate(&Request {
        file: a.file.clone(),
        dataset: a.dataset.clone(),
        flip: a.flip,
        difficulty: a.difficulty,
        flip_baseline: a.flip_baseline.clone(),
    })?;
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

fn default_output(input: &Path) -> PathBuf {
    input.with_extension("score.json")
}
