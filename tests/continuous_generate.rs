//! Issue 16, continuous severity in datasets: `generate -s 2.5` (folders `2.5/`, the severity
//! in the manifest, seeds keyed on its canonical text), verify and its regeneration, resume,
//! `--threads` and `--shard` giving the same bytes, and the refusal of corruptions whose
//! tables do not interpolate.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{err_text, file_records, manifest_text, outputs, run, run_ok, s, stderr, tmp, Tmp};

/// A small folder dataset: the fixture COCO images under two sub-folders.
fn input(name: &str) -> Tmp {
    let t = tmp(name);
    let src = common::root().join("datasets/coco/val2017");
    let mut files: Vec<_> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for (i, p) in files.iter().take(4).enumerate() {
        let d = t.join(if i % 2 == 0 { "a" } else { "b" });
        fs::create_dir_all(&d).unwrap();
        fs::copy(p, d.join(p.file_name().unwrap())).unwrap();
    }
    t
}

const CELLS: [&str; 4] = ["-c", "fog,motion_blur,gaussian_noise", "-s", "0.5,2.5,3"];

#[test]
fn fractional_cells_are_deterministic_across_threads_and_shards() {
    let inp = input("in");
    let (o1, o2, o3) = (tmp("t1"), tmp("t2"), tmp("sh"));
    let gen = |o: &Path, extra: &[&str]| {
        let mut a = vec!["generate", s(&inp), "-o", s(o)];
        a.extend_from_slice(&CELLS);
        a.extend_from_slice(extra);
        run_ok(&a)
    };
    gen(&o1, &["--threads", "1"]);
    gen(&o2, &["--threads", "2"]);
    gen(&o3, &["--shard", "1/2"]);
    let e = gen(&o3, &["--shard", "0/2"]);
    assert!(e.contains("merged"), "{e}");
    assert_eq!(manifest_text(&o1), manifest_text(&o2));
    assert_eq!(manifest_text(&o1), manifest_text(&o3));
    let out = outputs(&o1);
    assert_eq!(out, outputs(&o2));
    assert_eq!(out, outputs(&o3));
    // folders named by the canonical text; 3 severities × 3 corruptions × 4 images
    assert_eq!(out.len(), 36);
    for c in ["fog", "motion_blur", "gaussian_noise"] {
        for sev in ["0.5", "2.5", "3"] {
            let n = out
                .keys()
                .filter(|k| k.starts_with(&format!("{c}/{sev}/")))
                .count();
            assert_eq!(n, 4, "{c}/{sev}");
        }
    }
    // the manifest records the severity as a number, exactly
    let recs = file_records(&o1);
    let r = recs
        .iter()
        .find(|r| r["output"].as_str().unwrap().starts_with("fog/2.5/"))
        .unwrap();
    assert_eq!(r["severity"], serde_json::json!(2.5));
    let r = recs
        .iter()
        .find(|r| r["output"].as_str().unwrap().starts_with("fog/3/"))
        .unwrap();
    assert_eq!(r["severity"], serde_json::json!(3));
    // the seed rule: an output depends on (input, corruption, severity, seed) only — a run
    // of one cell gives the same bytes, and integer cells are the integer run's bytes
    let o4 = tmp("one");
    run_ok(&["generate", s(&inp), "-o", s(&o4), "-c", "fog", "-s", "2.5"]);
    let o5 = tmp("int");
    run_ok(&["generate", s(&inp), "-o", s(&o5), "-c", "fog", "-s", "3"]);
    for (k, v) in outputs(&o4).into_iter().chain(outputs(&o5)) {
        assert!(out[&k] == v, "{k} differs from the combined run");
    }
    // distinct severities give distinct outputs
    let a = out
        .iter()
        .find(|(k, _)| k.starts_with("fog/2.5/a/"))
        .unwrap();
    let b = &out[&a.0.replace("fog/2.5/", "fog/3/")];
    assert!(a.1 != b);
}

#[test]
fn fractional_cells_verify_regenerate_and_resume() {
    let inp = input("in");
    let o = tmp("out");
    let mut a = vec!["generate", s(&inp), "-o", s(&o)];
    a.extend_from_slice(&CELLS);
    run_ok(&a);
    let e = run_ok(&["verify", s(&o), "--input", s(&inp)]);
    assert!(e.contains("36 regenerated, 0 differ"), "{e}");
    // a rerun finds everything done
    let e = run_ok(&a);
    assert!(e.contains("0 output(s) written"), "{e}");
    // a tampered fractional output is caught by the hash and by regeneration
    let victim = outputs(&o)
        .keys()
        .find(|k| k.starts_with("motion_blur/0.5/"))
        .unwrap()
        .clone();
    let (src, _) = (inp.join(victim.replacen("motion_blur/0.5/", "", 1)), ());
    fs::copy(src, o.join(&victim)).unwrap();
    let v = run(&["verify", s(&o)]);
    assert!(!v.status.success());
    let text = format!("{}{}", String::from_utf8_lossy(&v.stdout), stderr(&v));
    assert!(text.contains(&victim), "{text}");
}

/// verify's walk for files the manifest does not list looks inside continuous-severity
/// folders (`fog/2.5/`, also `0.5/`) and `schedule/` cells, as inside `fog/3/`; files outside
/// the cells (notes in OUTPUT or `fog/`) are left alone.
#[test]
fn verify_reports_extra_files_in_continuous_and_scheduled_cells() {
    let inp = input("in");
    let o = tmp("out");
    run_ok(&[
        "generate",
        s(&inp),
        "-o",
        s(&o),
        "-c",
        "fog",
        "-s",
        "0.5,2.5",
    ]);
    let o2 = tmp("sched");
    run_ok(&[
        "generate",
        s(&inp),
        "-o",
        s(&o2),
        "-c",
        "fog",
        "--severity-schedule",
        "linear:0-3",
    ]);
    for dir in [&o, &o2] {
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        fs::write(dir.join("fog/notes.txt"), "mine").unwrap();
        run_ok(&["verify", s(dir)]);
    }
    let strays = [
        (&o, "fog/2.5/a/stray.jpg"),
        (&o, "fog/0.5/stray.png"),
        (&o2, "fog/schedule/b/stray.jpg"),
    ];
    for (dir, rel) in strays {
        fs::write(dir.join(rel), "x").unwrap();
    }
    for dir in [&o, &o2] {
        let v = run(&["verify", s(dir)]);
        assert!(!v.status.success());
        let text = format!("{}{}", String::from_utf8_lossy(&v.stdout), stderr(&v));
        for (d, rel) in strays {
            if std::ptr::eq(d, dir) {
                assert!(text.contains(rel), "{rel} not reported:\n{text}");
            }
        }
        assert!(!text.contains("notes.txt"), "{text}");
    }
}

#[test]
fn corruptions_that_do_not_interpolate_are_refused_by_name() {
    let inp = input("in");
    let o = tmp("out");
    let e = err_text(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&o),
        "-c",
        "fog,glass_blur",
        "-s",
        "2.5",
    ]));
    assert!(e.contains("glass_blur does not interpolate"), "{e}");
    assert!(
        !o.join("fog").exists(),
        "nothing is written before the refusal"
    );
    let e = err_text(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&o),
        "-c",
        "shot_noise",
        "-s",
        "0.5",
    ]));
    assert!(e.contains("shot_noise has no identity"), "{e}");
    for bad in ["5.5", "2.0001", "1.5-3"] {
        let e = err_text(&run(&[
            "generate",
            s(&inp),
            "-o",
            s(&o),
            "-c",
            "fog",
            "-s",
            bad,
        ]));
        assert!(e.contains("severity"), "{bad}: {e}");
    }
}

/// `--severity-schedule`: each image's severity comes from its place in the sorted order of
/// all images, so `--threads` and `--shard` give the same bytes and manifest; the manifest
/// records the schedule and each image's severity; verify regenerates them; a knots file
/// gives its own severities; another schedule on the same OUTPUT is refused.
#[test]
fn severity_schedule_is_positional_and_deterministic() {
    let inp = input("in");
    let (o1, o2, o3) = (tmp("t1"), tmp("t2"), tmp("sh"));
    let gen = |o: &Path, extra: &[&str]| {
        let mut a = vec![
            "generate",
            s(&inp),
            "-o",
            s(o),
            "-c",
            "fog,gaussian_noise",
            "--severity-schedule",
            "linear:0-4.5",
        ];
        a.extend_from_slice(extra);
        run_ok(&a)
    };
    gen(&o1, &["--threads", "1"]);
    gen(&o2, &["--threads", "2"]);
    gen(&o3, &["--shard", "0/3"]);
    gen(&o3, &["--shard", "2/3"]);
    gen(&o3, &["--shard", "1/3"]);
    assert_eq!(manifest_text(&o1), manifest_text(&o2));
    assert_eq!(manifest_text(&o1), manifest_text(&o3));
    assert_eq!(outputs(&o1), outputs(&o2));
    assert_eq!(outputs(&o1), outputs(&o3));
    let header: serde_json::Value =
        serde_json::from_str(manifest_text(&o1).lines().next().unwrap()).unwrap();
    assert_eq!(header["severity_schedule"], "linear:0-4.5");
    // 4 images in sorted order: 0, 1.5, 3, 4.5
    let recs = file_records(&o1);
    let mut by_source: BTreeMap<String, f64> = BTreeMap::new();
    for r in recs.iter().filter(|r| r["corruption"] == "fog") {
        assert_eq!(r["severity"], "schedule");
        assert!(r["output"].as_str().unwrap().starts_with("fog/schedule/"));
        by_source.insert(
            r["source"].as_str().unwrap().into(),
            r["scheduled_severity"].as_f64().unwrap(),
        );
    }
    assert_eq!(
        by_source.values().copied().collect::<Vec<_>>(),
        [0.0, 1.5, 3.0, 4.5]
    );
    // an image's scheduled output is the `-s` output at its severity (same seed rule)
    let (src, _) = by_source.iter().nth(2).unwrap();
    let o4 = tmp("fixed");
    run_ok(&["generate", s(&inp), "-o", s(&o4), "-c", "fog", "-s", "3"]);
    assert!(outputs(&o1)[&format!("fog/schedule/{src}")] == outputs(&o4)[&format!("fog/3/{src}")]);
    // the first image is at severity 0: the clean image
    let e = run_ok(&["verify", s(&o1), "--input", s(&inp)]);
    assert!(e.contains("8 regenerated, 0 differ"), "{e}");
    let e = err_text(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&o1),
        "-c",
        "fog,gaussian_noise",
        "--severity-schedule",
        "linear:0-5",
    ]));
    assert!(e.contains("severity_schedule"), "{e}");
    // knots: held before the first knot, linear between, held after
    let knots = inp
        .parent()
        .unwrap()
        .join(format!("knots-{}.txt", std::process::id()));
    fs::write(&knots, "# index severity\n1 2\n3,4\n").unwrap();
    let spec = format!("knots:{}", knots.display());
    let o5 = tmp("knots");
    run_ok(&[
        "generate",
        s(&inp),
        "-o",
        s(&o5),
        "-c",
        "fog",
        "--severity-schedule",
        &spec,
    ]);
    let sev: Vec<f64> = file_records(&o5)
        .iter()
        .map(|r| r["scheduled_severity"].as_f64().unwrap())
        .collect();
    assert_eq!(sev, [2.0, 2.0, 3.0, 4.0]);
    fs::remove_file(&knots).unwrap();
    // a schedule may reach any severity: corruptions that cannot are refused by name
    let e = err_text(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&tmp("x")),
        "-c",
        "glass_blur",
        "--severity-schedule",
        "linear:1-2",
    ]));
    assert!(e.contains("glass_blur does not interpolate"), "{e}");
    let e = err_text(&run(&[
        "generate",
        s(&inp),
        "-o",
        s(&tmp("y")),
        "-c",
        "fog",
        "-s",
        "2",
        "--severity-schedule",
        "linear:1-2",
    ]));
    assert!(e.contains("either -s or --severity-schedule"), "{e}");
}
