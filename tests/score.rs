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
