//! `imgcorrupt score`: a results table in, every score printed with its convention and
//! written to a result file (JSON or CSV).

mod common;

use common::{err_text, ok, run, s, tmp};

/// AlexNet's own ImageNet-C accuracies (1 − the published errors), as a user would write them.
fn alexnet_accuracy_csv() -> String {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corruptions/baselines/alexnet_imagenet_c.toml"),
    )
    .unwrap();
    let t: toml::Table = text.parse().unwrap();
    let mut csv = String::from("corruption,severity,accuracy\nclean,0,0.565\n");
    for (name, v) in &t {
        if name == "baseline" {
            continue;
        }
        for (i, e) in v["severity"].as_array().unwrap().iter().enumerate() {
            csv += &format!("{name},{},{}\n", i + 1, 1.0 - e.as_float().unwrap());
        }
    }
    csv
}

#[test]
fn alexnet_scores_mce_100_in_both_output_formats() {
    let dir = tmp("score");
    let input = dir.join("alexnet.csv");
    std::fs::write(&input, alexnet_accuracy_csv()).unwrap();
    let o = run(&["score", s(&input)]);
    ok(&o);
    let out = String::from_utf8(o.stdout).unwrap();
    let line = |k: &str| {
        out.lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_else(|| panic!("no `{k}` line in\n{out}"))
            .to_string()
    };
    assert!(line("mCE %").contains("100.00") && line("mCE %").contains("AlexNet-normalised"));
    assert!(line("relative mCE %").contains("100.00"));
    assert!(line("mean error % (15)").contains("NOT the mCE"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("alexnet.score.json")).unwrap())
            .unwrap();
    assert!((json["mce"].as_f64().unwrap() - 100.0).abs() < 1e-6);
    assert!((json["clean_error"].as_f64().unwrap() - 43.5).abs() < 1e-9);
    assert_eq!(json["corruptions"].as_array().unwrap().len(), 19);
    assert!(json["conventions"]["rpc"]
        .as_str()
        .unwrap()
        .contains("Michaelis"));
    // rPC of AlexNet: mPC / P, from the same numbers
    let rpc = json["rpc"].as_f64().unwrap();
    let mpc = json["mpc"].as_f64().unwrap();
    assert!((rpc - 100.0 * mpc / 56.5).abs() < 1e-9);

    let csv_out = dir.join("a.csv");
    ok(&run(&["score", s(&input), "-o", s(&csv_out)]));
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let mce: f64 = text
        .lines()
        .find(|l| l.starts_with("mce,,"))
        .unwrap()
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!((mce - 100.0).abs() < 1e-6);
}

#[test]
fn score_errors_name_the_file_and_line() {
    let dir = tmp("score-bad");
    let input = dir.join("r.csv");
    std::fs::write(&input, "corruption,severity,error\nfog,1,41\n").unwrap();
    let e = err_text(&run(&["score", s(&input)]));
    assert!(e.contains("r.csv:2") && e.contains("divided by 100"), "{e}");
    assert!(!dir.join("r.score.json").exists());
}

/// Predictions mode: errors per cell computed from `path,label,pred` rows, the cell of each
/// path read from the run's manifest (CIFAR `manifest.json` and image `manifest.jsonl`).
#[test]
fn predictions_over_generated_datasets() {
    let dir = tmp("score-pred");
    let cifar = dir.join("cifar-c");
    ok(&run(&[
        "generate",
        s(&common::root().join("cifar")),
        "-o",
        s(&cifar),
        "-c",
        "contrast,fog",
        "-s",
        "2,4",
    ]));
    // 8 rows per severity block: block 0 = severity 2, block 1 = severity 4.
    // contrast s2: 2 wrong of 8; contrast s4: 8 of 8; fog s2: 0 of 8; fog s4: 4 of 8; clean 1 of 4.
    let mut csv = String::from("path,label,pred\n");
    for row in 0..16 {
        let wrong_c = if row < 8 { row < 2 } else { true };
        let wrong_f = (8..12).contains(&row);
        csv += &format!("contrast.npy:{row},3,{}\n", if wrong_c { 5 } else { 3 });
        csv += &format!(
            "fog.npy:{row},cat,{}\n",
            if wrong_f { "dog" } else { "cat" }
        );
    }
    for i in 0..4 {
        csv += &format!("clean:{i},1,{}\n", if i == 0 { 2 } else { 1 });
    }
    let preds = dir.join("preds.csv");
    std::fs::write(&preds, csv).unwrap();
    ok(&run(&["score", s(&preds), "--dataset", s(&cifar)]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("preds.score.json")).unwrap())
            .unwrap();
    assert!((json["clean_error"].as_f64().unwrap() - 25.0).abs() < 1e-9);
    let per = json["corruptions"].as_array().unwrap();
    let row = |name: &str| {
        per.iter()
            .find(|p| p["corruption"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(row("contrast")["severities"], serde_json::json!([2, 4]));
    assert!((row("contrast")["mean_error"].as_f64().unwrap() - 62.5).abs() < 1e-9);
    assert!((row("fog")["mean_error"].as_f64().unwrap() - 25.0).abs() < 1e-9);
    // fog CE over severities 2 and 4: (0 + 0.5) / (E^A_2 + E^A_4)
    assert!((row("fog")["ce"].as_f64().unwrap() - 50.0 / (0.76050 + 0.87260)).abs() < 1e-9);

    // image dataset: paths from manifest.jsonl, the sources as clean rows
    let inet = dir.join("imagenet-c");
    ok(&run(&[
        "generate",
        s(&common::root().join("datasets/imagenet")),
        "-o",
        s(&inet),
        "-c",
        "brightness",
        "-s",
        "1",
    ]));
    let text = std::fs::read_to_string(inet.join("manifest.jsonl")).unwrap();
    let mut csv = String::from("path,label,pred\n");
    for (k, line) in text.lines().skip(1).enumerate() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        csv += &format!(
            "{},a,{}\n",
            r["output"].as_str().unwrap(),
            if k == 0 { "b" } else { "a" }
        );
        csv += &format!("{},a,a\n", r["source"].as_str().unwrap());
    }
    std::fs::write(&preds, &csv).unwrap();
    let out = dir.join("p2.json");
    ok(&run(&[
        "score",
        s(&preds),
        "--dataset",
        s(&inet),
        "-o",
        s(&out),
    ]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["clean_error"].as_f64().unwrap(), 0.0);
    let n = text.lines().count() - 1;
    let b = &json["corruptions"][0];
    assert_eq!(b["corruption"], "brightness");
    assert!((b["mean_error"].as_f64().unwrap() - 100.0 / n as f64).abs() < 1e-9);
    // a path the manifest does not know is an error naming the line
    std::fs::write(&preds, "path,label,pred\nnope/1.JPEG,a,a\n").unwrap();
    let e = err_text(&run(&["score", s(&preds), "--dataset", s(&inet)]));
    assert!(
        e.contains("preds.csv:2") && e.contains("nope/1.JPEG"),
        "{e}"
    );
}

/// A per-class VOC table through the command: the class means and the mean of per-class
/// ratios (hand-computed: classes with clean AP 0.9 and 0.3, AP 0.45 and 0.1 on every cell of
/// the 15 → P 60 %, mPC 27.5 %, rPC = (50 + 33.33…) / 2 = 41.67 %, not mPC / P = 45.8 %).
#[test]
fn per_class_voc_rpc() {
    let dir = common::tmp("score-voc");
    let mut csv = String::from("corruption,severity,class,ap\nclean,0,car,0.9\nclean,0,dog,0.3\n");
    for c in imgcorrupt::Corruption::all().filter(|c| c.is_benchmark_corruption()) {
        for s in 1..=5 {
            csv += &format!("{c},{s},car,0.45\n{c},{s},dog,0.1\n");
        }
    }
    let f = dir.join("voc.csv");
    std::fs::write(&f, csv).unwrap();
    let o = common::run(&["score", common::s(&f)]);
    common::ok(&o);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("41.67") && out.contains("27.50") && out.contains("60.00"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("voc.score.json")).unwrap())
            .unwrap();
    assert!((v["rpc"].as_f64().unwrap() - 125.0 / 3.0).abs() < 1e-9);
    assert!((v["per_class"][1]["rpc"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    assert!(v["conventions"]["rpc"]
        .as_str()
        .unwrap()
        .contains("mPC_k / P_k"));
}

/// Predictions over continuous-severity and scheduled cells (issue 16), hand-computed on the
/// 4-image ImageNet fixture: `fog/2` stays a level cell (1 of 4 wrong → 25 %, with its CE),
/// `fog/2.5` is reported apart, unnormalised (3 of 4 wrong → 75 %, no CE); a
/// `--severity-schedule linear:0-4.5` run puts its images at 0, 1.5, 3 and 4.5, and a model
/// wrong exactly on the images at severity ≥ 2 has 50 % overall, 0 % in the bins [0, 1) and
/// [1, 2), 100 % in [3, 4) and [4, 5].
#[test]
fn predictions_over_continuous_and_scheduled_cells() {
    let dir = tmp("score-cont");
    let inp = common::root().join("datasets/imagenet");
    let out = dir.join("c");
    ok(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&out),
        "-c",
        "fog",
        "-s",
        "2,2.5",
    ]));
    let mut csv = String::from("path,label,pred\n");
    let (mut n2, mut n25) = (0, 0);
    for r in common::file_records(&out) {
        let o = r["output"].as_str().unwrap();
        let wrong = if o.starts_with("fog/2/") {
            n2 += 1;
            n2 == 1
        } else {
            assert!(o.starts_with("fog/2.5/"), "{o}");
            n25 += 1;
            n25 <= 3
        };
        csv += &format!("{o},n1,{}\n", if wrong { "n2" } else { "n1" });
    }
    assert_eq!((n2, n25), (4, 4));
    let preds = dir.join("preds.csv");
    std::fs::write(&preds, &csv).unwrap();
    let o = run(&["score", s(&preds), "--dataset", s(&out)]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        text.contains("continuous severities") && text.contains("no CE"),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("preds.score.json")).unwrap())
            .unwrap();
    let fog = &json["corruptions"][0];
    assert_eq!(fog["corruption"], "fog");
    assert_eq!(fog["severities"], serde_json::json!([2]));
    assert!((fog["mean_error"].as_f64().unwrap() - 25.0).abs() < 1e-9);
    assert!((fog["ce"].as_f64().unwrap() - 25.0 / 0.76050).abs() < 1e-9);
    assert_eq!(
        json["continuous"],
        serde_json::json!([{"corruption": "fog", "severity": 2.5, "images": 4, "error": 75.0}])
    );
    assert!(json["conventions"]["continuous"]
        .as_str()
        .unwrap()
        .contains("not interpolated"));
    assert!(json.get("schedule").is_none());

    // a scheduled run: the bins come from the manifest's scheduled_severity
    let sched = dir.join("s");
    ok(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&sched),
        "-c",
        "fog",
        "--severity-schedule",
        "linear:0-4.5",
    ]));
    let mut csv = String::from("path,label,pred\n");
    let mut severities = Vec::new();
    for r in common::file_records(&sched) {
        let sev = r["scheduled_severity"].as_f64().unwrap();
        severities.push(sev);
        let wrong = sev >= 2.0;
        csv += &format!(
            "{},n1,{}\n",
            r["output"].as_str().unwrap(),
            if wrong { "n2" } else { "n1" }
        );
    }
    severities.sort_by(f64::total_cmp);
    assert_eq!(severities, [0.0, 1.5, 3.0, 4.5]);
    std::fs::write(&preds, &csv).unwrap();
    let out_csv = dir.join("sched.csv");
    let o = run(&[
        "score",
        s(&preds),
        "--dataset",
        s(&sched),
        "-o",
        s(&out_csv),
    ]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        text.contains("scheduled cells") && text.contains("[4, 5]"),
        "{text}"
    );
    let rows = std::fs::read_to_string(&out_csv).unwrap();
    for want in [
        "schedule_error,fog,50,",
        "schedule_error_0-1,fog,0,1 images",
        "schedule_error_1-2,fog,0,1 images",
        "schedule_error_3-4,fog,100,1 images",
        "schedule_error_4-5,fog,100,1 images",
    ] {
        assert!(rows.contains(want), "{want} not in\n{rows}");
    }
    assert!(!rows.contains("schedule_error_2-3"), "{rows}");
}

/// Predictions over ImageNet-C-bar and LAION-C cells (issue 16): scored from the manifest like
/// the -C cells, with hand-computed unnormalised errors; no CE (AlexNet has no errors for
/// them), and a note says so.
#[test]
fn predictions_over_c_bar_and_laion_c_cells() {
    let dir = common::tmp("score-suites");
    let inp = common::root().join("datasets/imagenet");
    let out = dir.join("out");
    ok(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&out),
        "-c",
        "sparkles,vertical_lines",
        "-s",
        "1,2",
    ]));
    // sparkles/1: the image ...01.JPEG wrong (1 of 4); vertical_lines/2: all wrong; clean:
    // every source right
    let mut csv = String::from("path,label,pred\n");
    let mut n = 0;
    for r in common::file_records(&out) {
        let o = r["output"].as_str().unwrap().to_string();
        let wrong = (o.starts_with("sparkles/1/") && o.ends_with("01.JPEG"))
            || o.starts_with("vertical_lines/2/");
        csv += &format!("{o},n1,{}\n", if wrong { "n2" } else { "n1" });
        n += 1;
    }
    assert_eq!(n, 16);
    for e in std::fs::read_dir(inp.join("n02123045")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        csv += &format!("n02123045/{name},n1,n1\n");
    }
    let preds = dir.join("preds.csv");
    std::fs::write(&preds, csv).unwrap();
    let res = dir.join("r.score.json");
    let o = run(&["score", s(&preds), "--dataset", s(&out), "-o", s(&res)]);
    ok(&o);
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&res).unwrap()).unwrap();
    let row = |c: &str| {
        j["corruptions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["corruption"] == c)
            .unwrap_or_else(|| panic!("{c} in {j}"))
            .clone()
    };
    let sp = row("sparkles");
    assert_eq!(sp["mean_error"].as_f64().unwrap(), 12.5);
    assert_eq!(sp["mean_performance"].as_f64().unwrap(), 87.5);
    assert!(sp["ce"].is_null() && sp["relative_ce"].is_null());
    let vl = row("vertical_lines");
    assert_eq!(vl["mean_error"].as_f64().unwrap(), 50.0);
    assert!(vl["ce"].is_null());
    assert_eq!(j["clean_error"].as_f64().unwrap(), 0.0);
    assert!(j["mce"].is_null());
    let notes = j["notes"].to_string();
    assert!(
        notes.contains("errors for")
            && notes.contains("sparkles")
            && notes.contains("vertical_lines")
            && notes.contains("no CE"),
        "{notes}"
    );
}
