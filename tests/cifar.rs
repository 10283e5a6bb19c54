//! `generate --dataset cifar`: the CIFAR-10-C / CIFAR-100-C release layout from the CIFAR
//! pickles in fixtures/cifar/ (made by scripts/make_cifar_fixture.py with Python 2's cPickle,
//! as the real releases are).

mod common;

use std::path::Path;
use std::process::Command;

use common::{err_text, ok, run, s, tmp};
use imgcorrupt::dataset::cifar::{npy, source};
use imgcorrupt::{Corruption, ImageView, PixelLayout, Preset, Settings};

fn cifar_root() -> std::path::PathBuf {
    common::root().join("cifar")
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// `verify OUT --input <the CIFAR fixture>`, required to succeed: its stdout and stderr.
fn verified(out: &Path) -> String {
    let v = run(&["verify", s(out), "--input", s(&cifar_root())]);
    ok(&v);
    format!(
        "{}{}",
        String::from_utf8_lossy(&v.stdout),
        common::stderr(&v)
    )
}

/// The `file` of each entry of a CIFAR manifest's `arrays`, in order.
fn array_files(m: &serde_json::Value) -> Vec<&str> {
    m["arrays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file"].as_str().unwrap())
        .collect()
}

/// The `(header, data)` of a `.npy` file.
fn load(path: &Path) -> (npy::Header, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let h = npy::parse_header(&bytes, path).unwrap();
    let data = bytes[h.data_offset..].to_vec();
    (h, data)
}

#[test]
fn rows_are_severity_major_library_calls_whatever_the_threads() {
    let dir = tmp("cifar-rows");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let args = |out: &Path, threads: &'static str| {
        vec![
            "generate".to_string(),
            s(&cifar_root()).into(),
            "-o".into(),
            s(out).into(),
            "-c".into(),
            "gaussian_noise,motion_blur,frost".into(),
            "--seed".into(),
            "7".into(),
            "--threads".into(),
            threads.into(),
        ]
    };
    for (out, t) in [(&a, "1"), (&b, "2")] {
        let o = Command::new(common::BIN)
            .args(args(out, t))
            .output()
            .unwrap();
        ok(&o);
    }
    let (ma, mb) = (manifest(&a), manifest(&b));
    assert_eq!(ma["arrays"], mb["arrays"], "thread count changed an array");
    assert_eq!(ma["preset"], "cifar-10-c");
    let src = source::read(&cifar_root()).unwrap();
    assert_eq!((src.kind, src.n), ("cifar-10", 8));
    let preset = std::sync::Arc::new(Preset::builtin("cifar-10-c").unwrap());
    let (lh, labels) = load(&a.join("labels.npy"));
    assert_eq!((lh.descr.as_str(), lh.shape.clone()), ("|u1", vec![40]));
    for arr in ma["arrays"].as_array().unwrap().iter().skip(1) {
        let c = Corruption::from_name(arr["name"].as_str().unwrap()).unwrap();
        let file = a.join(arr["file"].as_str().unwrap());
        assert_eq!(
            common::sha256_file_hex(&file),
            arr["sha256"].as_str().unwrap()
        );
        let (h, data) = load(&file);
        assert_eq!(h.shape, vec![40, 32, 32, 3]);
        for sev in 1..=5u8 {
            let seeds = &arr["seeds"][sev as usize - 1];
            for r in 0..8 {
                let row = (sev as usize - 1) * 8 + r;
                assert_eq!(labels[row] as i64, src.labels[r]);
                let settings =
                    Settings::new(seeds[r].as_u64().unwrap()).with_preset(preset.clone());
                let mut want = vec![0u8; 3072];
                imgcorrupt::corrupt_buffer(
                    ImageView::new(src.image(r), 32, 32, PixelLayout::Rgb),
                    &mut want,
                    c,
                    sev,
                    &settings,
                )
                .unwrap();
                assert!(
                    data[row * 3072..(row + 1) * 3072] == want[..],
                    "{c} s{sev} row {r}"
                );
            }
        }
    }
}

/// robustbench's loader: `np.load(<corruption>.npy)[(s-1)*n : s*n]` and the same slice of
/// `labels.npy`. The pickle is read by Python's own pickle (+ numpy), so the layout (HWC,
/// image order, severity-major blocks) is checked against an independent reader; contrast is
/// recomputed in numpy from the make_cifar_c.py formula.
#[test]
fn release_layout_loads_as_robustbench_slices_it() {
    if Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .map_or(true, |o| !o.status.success())
    {
        eprintln!("SKIPPED: python3 with numpy is not available (pip install numpy)");
        return;
    }
    let dir = tmp("cifar-np");
    for (input, label_key) in [
        (cifar_root(), "labels"),
        (cifar_root().join("cifar-100-python"), "fine_labels"),
    ] {
        let out = dir.join(label_key);
        ok(&run(&[
            "generate",
            s(&input),
            "-o",
            s(&out),
            "-c",
            "contrast,gaussian_noise",
        ]));
        let pickle = manifest(&out)["source_files"][0][0]
            .as_str()
            .unwrap()
            .to_string();
        let script = r#"
import sys, pickle, numpy as np
out, src, key = sys.argv[1:4]
d = pickle.load(open(src, 'rb'), encoding='bytes')
x = d[b'data'].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
y = np.array(d[key.encode()])
n = len(y)
for name in ['contrast', 'gaussian_noise']:
    arr = np.load(out + '/' + name + '.npy')
    assert arr.shape == (5 * n, 32, 32, 3) and arr.dtype == np.uint8, arr.shape
labels = np.load(out + '/labels.npy')
assert labels.shape == (5 * n,) and labels.dtype == np.uint8
for s, c in enumerate([.75, .5, .4, .3, .15], 1):
    xs = np.load(out + '/contrast.npy')[(s - 1) * n:s * n]
    ys = labels[(s - 1) * n:s * n]
    assert (ys == y).all(), (s, ys, y)
    xf = x / 255.
    m = xf.mean(axis=(1, 2), keepdims=True)
    ref = (np.clip((xf - m) * c + m, 0, 1) * 255).astype(np.uint8)
    diff = np.abs(xs.astype(int) - ref).max()
    assert diff <= 1, (s, diff)
    g = np.load(out + '/gaussian_noise.npy')[(s - 1) * n:s * n]
    assert np.abs(g.astype(float) - x).mean() > 1, s
print('ok', n)
"#;
        let o = Command::new("python3")
            .args(["-c", script, s(&out), &pickle, label_key])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn npy_pair_input_and_bad_pickles() {
    let dir = tmp("cifar-npy");
    let src = source::read(&cifar_root()).unwrap();
    let pair = dir.join("pair");
    std::fs::create_dir_all(&pair).unwrap();
    let mut images = npy::header("|u1", &[8, 32, 32, 3]);
    images.extend(&src.pixels);
    std::fs::write(pair.join("images.npy"), images).unwrap();
    let mut labels = npy::header("<i8", &[8]);
    labels.extend(src.labels.iter().flat_map(|l| l.to_le_bytes()));
    std::fs::write(pair.join("labels.npy"), labels).unwrap();
    let (a, b) = (dir.join("from_pair"), dir.join("from_pickle"));
    ok(&run(&[
        "generate",
        s(&pair),
        "-o",
        s(&a),
        "-c",
        "contrast",
        "--dataset",
        "cifar",
    ]));
    ok(&run(&[
        "generate",
        s(&cifar_root()),
        "-o",
        s(&b),
        "-c",
        "contrast",
    ]));
    for f in ["contrast.npy", "labels.npy"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    // a truncated pickle: an error naming the file, nothing written
    let bad = dir.join("bad/cifar-10-batches-py");
    std::fs::create_dir_all(&bad).unwrap();
    let bytes = std::fs::read(cifar_root().join("cifar-10-batches-py/test_batch")).unwrap();
    std::fs::write(bad.join("test_batch"), &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.join("out_bad");
    let e = err_text(&run(&[
        "generate",
        s(&bad),
        "-o",
        s(&out),
        "-c",
        "contrast",
    ]));
    assert!(
        e.contains("test_batch") && e.contains("not a CIFAR python pickle"),
        "{e}"
    );
    assert!(!out.join("contrast.npy").exists());
    // --dataset cifar on something else
    let e = err_text(&run(&[
        "generate",
        s(&dir),
        "-o",
        s(&out),
        "--dataset",
        "cifar",
    ]));
    assert!(e.contains("not a CIFAR dataset"), "{e}");
}

/// `generate --dataset cifar` over `corruptions` into `out` with extra `rest` arguments.
fn cifar_gen(out: &Path, corruptions: &str, rest: &[&str]) -> std::process::Output {
    let root = cifar_root();
    let mut args = vec!["generate", s(&root), "-o", s(out), "-c", corruptions];
    if !rest.contains(&"--seed") {
        args.extend(["--seed", "5"]);
    }
    args.extend_from_slice(rest);
    run(&args)
}

/// A run cut short after some arrays resumes at the first missing one: the kept arrays are
/// not rewritten, and the result equals an uninterrupted run; other options are refused.
#[test]
fn cifar_runs_resume_and_refuse_other_options() {
    let dir = tmp("cifar-resume");
    let (a, b) = (dir.join("a"), dir.join("b"));
    ok(&cifar_gen(&a, "gaussian_noise", &[]));
    let before = std::fs::metadata(a.join("gaussian_noise.npy"))
        .unwrap()
        .modified()
        .unwrap();
    let o = cifar_gen(&a, "gaussian_noise,contrast,frost", &[]);
    ok(&o);
    assert!(
        common::stderr(&o).contains("2 array(s) written, 1 skipped"),
        "{}",
        common::stderr(&o)
    );
    let after = std::fs::metadata(a.join("gaussian_noise.npy"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "a finished array was rewritten");
    ok(&cifar_gen(&b, "gaussian_noise,contrast,frost", &[]));
    assert_eq!(manifest(&a)["arrays"], manifest(&b)["arrays"]);
    // an array lost from disk is made again; a torn manifest record is not trusted
    std::fs::remove_file(a.join("contrast.npy")).unwrap();
    let o = cifar_gen(&a, "gaussian_noise,contrast,frost", &[]);
    ok(&o);
    assert!(common::stderr(&o).contains("1 array(s) written, 2 skipped"));
    assert_eq!(manifest(&a)["arrays"], manifest(&b)["arrays"]);
    let e = err_text(&cifar_gen(&a, "gaussian_noise", &["--seed", "6"]));
    assert!(e.contains("another seed"), "{e}");
    let e = err_text(&cifar_gen(&a, "gaussian_noise", &["--rng", "numpy"]));
    assert!(e.contains("another rng"), "{e}");
}

/// Shards split the corruptions; the last one merges, and the merged manifest and arrays are
/// those of the unsharded run; `merge` rebuilds it; verify checks hashes and, with the
/// source, regenerates rows; a damaged array is found either way.
#[test]
fn cifar_shards_merge_and_verify() {
    let dir = tmp("cifar-shards");
    let (one, sh) = (dir.join("one"), dir.join("sharded"));
    let list = "gaussian_noise,contrast,motion_blur";
    ok(&cifar_gen(&one, list, &[]));
    let o = cifar_gen(&sh, list, &["--shard", "1/2"]);
    ok(&o);
    assert!(!sh.join("manifest.json").exists());
    assert!(sh.join("manifest.shard-1-of-2.json").is_file());
    // catalogue order gaussian_noise, motion_blur, contrast: shard 1 of 2 makes motion_blur
    assert!(sh.join("motion_blur.npy").is_file() && !sh.join("contrast.npy").exists());
    // verify before the merge says what to do
    let e = err_text(&run(&["verify", s(&sh)]));
    assert!(e.contains("imgcorrupt merge"), "{e}");
    let o = cifar_gen(&sh, list, &["--shard", "0/2"]);
    ok(&o);
    assert!(
        common::stderr(&o).contains("merged"),
        "{}",
        common::stderr(&o)
    );
    assert_eq!(manifest(&sh)["arrays"], manifest(&one)["arrays"]);
    std::fs::remove_file(sh.join("manifest.json")).unwrap();
    ok(&run(&["merge", s(&sh)]));
    assert_eq!(manifest(&sh)["arrays"], manifest(&one)["arrays"]);
    ok(&run(&["verify", s(&sh)]));
    ok(&run(&["verify", s(&sh), "--input", s(&cifar_root())]));
    // one byte of a row flipped: the hash and the regenerated row both see it
    let f = sh.join("contrast.npy");
    let mut bytes = std::fs::read(&f).unwrap();
    let at = bytes.len() - 3072 * 3 + 100; // in row 37 of 40
    bytes[at] ^= 0x55;
    std::fs::write(&f, bytes).unwrap();
    let e = common::fail_text(&run(&["verify", s(&sh)]));
    assert!(e.contains("MISMATCH") && e.contains("contrast.npy"), "{e}");
    let e = common::fail_text(&run(&["verify", s(&sh), "--input", s(&cifar_root())]));
    assert!(e.contains("contrast.npy row 37"), "{e}");
    // an array the manifest does not list
    std::fs::write(sh.join("fog.npy"), b"x").unwrap();
    let e = common::fail_text(&run(&["verify", s(&sh)]));
    assert!(e.contains("EXTRA") && e.contains("fog.npy"), "{e}");
}

/// Continuous severities (issue 16) in the CIFAR format: each gets an array of its own,
/// `<corruption>_s<severity>.npy` (N rows), beside the level array, whose bytes do not change;
/// rows are the library's `corrupt_buffer_at` with the recorded seeds; threads 1 = 2, shards
/// merged = one run, a single-severity run gives the same array; verify regenerates and
/// catches a damaged row; a corruption that cannot interpolate is refused by name; predictions
/// on `fog_s2.5.npy:<row>` score as a continuous cell.
#[test]
fn cifar_continuous_severities_have_arrays_of_their_own() {
    let dir = tmp("cifar-cont");
    let list = "gaussian_noise,fog,contrast";
    let (t1, t2, sh, lv, one) = (
        dir.join("t1"),
        dir.join("t2"),
        dir.join("sh"),
        dir.join("levels"),
        dir.join("one"),
    );
    ok(&cifar_gen(
        &t1,
        list,
        &["-s", "2,2.5,0.5", "--threads", "1"],
    ));
    ok(&cifar_gen(
        &t2,
        list,
        &["-s", "2,2.5,0.5", "--threads", "2"],
    ));
    ok(&cifar_gen(
        &sh,
        list,
        &["-s", "2,2.5,0.5", "--shard", "1/2"],
    ));
    ok(&cifar_gen(
        &sh,
        list,
        &["-s", "2,2.5,0.5", "--shard", "0/2"],
    ));
    ok(&cifar_gen(&lv, list, &["-s", "2"]));
    ok(&cifar_gen(&one, "fog", &["-s", "2.5"]));
    let m = manifest(&t1);
    assert_eq!(m["arrays"], manifest(&t2)["arrays"]);
    assert_eq!(m["arrays"], manifest(&sh)["arrays"]);
    assert_eq!(m["severities"], serde_json::json!([2]));
    assert_eq!(m["continuous"], serde_json::json!([0.5, 2.5]));
    let files = array_files(&m);
    assert_eq!(
        files,
        [
            "labels.npy",
            "gaussian_noise.npy",
            "gaussian_noise_s0.5.npy",
            "gaussian_noise_s2.5.npy",
            "fog.npy",
            "fog_s0.5.npy",
            "fog_s2.5.npy",
            "contrast.npy",
            "contrast_s0.5.npy",
            "contrast_s2.5.npy",
        ]
    );
    for f in &files {
        assert!(
            std::fs::read(t1.join(f)).unwrap() == std::fs::read(sh.join(f)).unwrap(),
            "{f}: shards differ"
        );
    }
    // the level arrays and labels are those of a run without continuous severities
    for f in ["labels.npy", "fog.npy", "contrast.npy"] {
        assert!(std::fs::read(t1.join(f)).unwrap() == std::fs::read(lv.join(f)).unwrap());
    }
    assert!(
        std::fs::read(t1.join("fog_s2.5.npy")).unwrap()
            == std::fs::read(one.join("fog_s2.5.npy")).unwrap()
    );
    // only continuous severities: labels.npy holds one block
    let (lh, _) = load(&one.join("labels.npy"));
    assert_eq!(lh.shape, vec![8]);
    assert!(!one.join("fog.npy").exists());
    // rows are the library's continuous call with the recorded seeds
    let src = source::read(&cifar_root()).unwrap();
    let preset = std::sync::Arc::new(Preset::builtin("cifar-10-c").unwrap());
    let arr = m["arrays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["file"] == "fog_s2.5.npy")
        .unwrap();
    assert_eq!(arr["severity"], serde_json::json!(2.5));
    let (h, data) = load(&t1.join("fog_s2.5.npy"));
    assert_eq!(h.shape, vec![8, 32, 32, 3]);
    for r in 0..8 {
        let seed = arr["seeds"][0][r].as_u64().unwrap();
        let want = library_row(src.image(r), 2.5, seed, &preset);
        assert!(data[r * 3072..(r + 1) * 3072] == want[..], "row {r}");
    }
    let text = verified(&t1);
    assert!(text.contains("72 regenerated, 0 differ"), "{text}");
    // a damaged row of a continuous array
    let f = t1.join("fog_s0.5.npy");
    let mut bytes = std::fs::read(&f).unwrap();
    let at = bytes.len() - 3072 + 10; // row 7 of 8
    bytes[at] ^= 0x55;
    std::fs::write(&f, bytes).unwrap();
    let e = common::fail_text(&run(&["verify", s(&t1), "--input", s(&cifar_root())]));
    assert!(e.contains("fog_s0.5.npy row 7"), "{e}");
    // a severity spatter cannot take is refused before anything is written
    let bad = dir.join("bad");
    let e = err_text(&cifar_gen(&bad, "fog,spatter", &["-s", "2.5"]));
    assert!(e.contains("spatter"), "{e}");
    assert!(!bad.join("fog_s2.5.npy").exists());
    // predictions on the continuous array score as a continuous cell: 2 of 8 wrong
    let mut csv = String::from("path,label,pred\n");
    for r in 0..8 {
        csv += &format!("fog_s2.5.npy:{r},1,{}\n", if r < 2 { 0 } else { 1 });
    }
    let preds = dir.join("preds.csv");
    std::fs::write(&preds, csv).unwrap();
    ok(&run(&["score", s(&preds), "--dataset", s(&one)]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("preds.score.json")).unwrap())
            .unwrap();
    assert_eq!(
        json["continuous"],
        serde_json::json!([{"corruption": "fog", "severity": 2.5, "images": 8, "error": 25.0}])
    );
}

/// `--severity-schedule` (issue 16, CCC-style) in the CIFAR format: `<corruption>.npy` holds
/// the N images in source order, row i at the schedule's severity for i of N, beside
/// `labels.npy` (N) and `severities.npy` (float32 N, the schedule's values). Checked: the
/// severities against the linear formula computed here; rows against the library's
/// `corrupt_buffer_at` at those severities with the recorded seeds (row 0 at severity 0 is the
/// source); a constant schedule equals the `-s 2` array; threads 1 = 2 = shards merged, byte
/// for byte; resume skips, another schedule is refused; verify regenerates every row and
/// catches a tampered row and a tampered severities.npy; predictions on `fog.npy:<row>` are
/// binned by scheduled severity.
#[test]
fn cifar_severity_schedule_arrays() {
    let dir = tmp("cifar-sched");
    let list = "fog,contrast,gaussian_noise";
    let (t1, t2, sh) = (dir.join("t1"), dir.join("t2"), dir.join("sh"));
    let sched = ["--severity-schedule", "linear:0-5"];
    ok(&cifar_gen(
        &t1,
        list,
        &[&sched[..], &["--threads", "1"]].concat(),
    ));
    ok(&cifar_gen(
        &t2,
        list,
        &[&sched[..], &["--threads", "2"]].concat(),
    ));
    ok(&cifar_gen(
        &sh,
        list,
        &[&sched[..], &["--shard", "1/2"]].concat(),
    ));
    assert!(!sh.join("manifest.json").exists());
    ok(&cifar_gen(
        &sh,
        list,
        &[&sched[..], &["--shard", "0/2"]].concat(),
    ));
    let m = manifest(&t1);
    assert_eq!(m["schedule"], "linear:0-5");
    assert_eq!(m["severities"], serde_json::json!([]));
    let files = array_files(&m);
    assert_eq!(
        files,
        [
            "labels.npy",
            "severities.npy",
            "gaussian_noise.npy",
            "fog.npy",
            "contrast.npy"
        ]
    );
    for out in [&t2, &sh] {
        assert_eq!(manifest(out)["arrays"], m["arrays"]);
        for f in &files {
            assert!(
                std::fs::read(t1.join(f)).unwrap() == std::fs::read(out.join(f)).unwrap(),
                "{f}: {} differs",
                out.display()
            );
        }
    }
    // severities.npy: float32, image i at 5·i/7 rounded to 0.001
    let (h, data) = load(&t1.join("severities.npy"));
    assert_eq!((h.descr.as_str(), h.shape.clone()), ("<f4", vec![8]));
    let sev: Vec<f32> = data
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let want: Vec<f32> = (0..8)
        .map(|i| ((i as f64 * 5.0 / 7.0 * 1000.0).round() / 1000.0) as f32)
        .collect();
    assert_eq!(sev, want);
    let (lh, labels) = load(&t1.join("labels.npy"));
    assert_eq!(lh.shape, vec![8]);
    let src = source::read(&cifar_root()).unwrap();
    assert!(labels.iter().zip(&src.labels).all(|(&a, &b)| a as i64 == b));
    // rows: the library's continuous call at each row's severity with its recorded seed
    let preset = std::sync::Arc::new(Preset::builtin("cifar-10-c").unwrap());
    let arr = m["arrays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["file"] == "fog.npy")
        .unwrap();
    assert_eq!(arr["severity"], "schedule");
    let (h, fog) = load(&t1.join("fog.npy"));
    assert_eq!(h.shape, vec![8, 32, 32, 3]);
    assert!(fog[..3072] == *src.image(0), "severity 0 is the identity");
    for r in 0..8 {
        let seed = arr["seeds"][0][r].as_u64().unwrap();
        let want = library_row(src.image(r), want_sev(&sev, r), seed, &preset);
        assert!(fog[r * 3072..(r + 1) * 3072] == want[..], "row {r}");
    }
    // a constant schedule at 2 is the `-s 2` array (same seeds: the rule keys on the severity)
    let (k2, l2) = (dir.join("k2"), dir.join("l2"));
    let knots = dir.join("knots.txt");
    std::fs::write(&knots, "0 2\n").unwrap();
    ok(&cifar_gen(
        &k2,
        "contrast",
        &["--severity-schedule", &format!("knots:{}", s(&knots))],
    ));
    ok(&cifar_gen(&l2, "contrast", &["-s", "2"]));
    assert_eq!(manifest(&k2)["schedule"], "knots:0=2");
    assert!(
        std::fs::read(k2.join("contrast.npy")).unwrap()
            == std::fs::read(l2.join("contrast.npy")).unwrap()
    );
    // resume skips the finished arrays; another schedule or -s with it is refused
    let o = cifar_gen(&t1, list, &sched);
    ok(&o);
    assert!(
        common::stderr(&o).contains("0 array(s) written, 3 skipped"),
        "{}",
        common::stderr(&o)
    );
    let e = err_text(&cifar_gen(
        &t1,
        list,
        &["--severity-schedule", "linear:0-4"],
    ));
    assert!(e.contains("another severity schedule"), "{e}");
    let e = err_text(&cifar_gen(&t1, list, &[&sched[..], &["-s", "2"]].concat()));
    assert!(e.contains("either -s or --severity-schedule"), "{e}");
    // verify: every row regenerated; a tampered row and a tampered severities.npy are caught
    let text = verified(&sh);
    assert!(text.contains("24 regenerated, 0 differ"), "{text}");
    let f = sh.join("fog.npy");
    let mut bytes = std::fs::read(&f).unwrap();
    let at = bytes.len() - 3072 * 3 + 7; // row 5 of 8
    bytes[at] ^= 0x55;
    std::fs::write(&f, bytes).unwrap();
    let e = common::fail_text(&run(&["verify", s(&sh), "--input", s(&cifar_root())]));
    assert!(e.contains("fog.npy row 5") && !e.contains("row 4"), "{e}");
    let f = t2.join("severities.npy");
    let mut bytes = std::fs::read(&f).unwrap();
    let end = bytes.len();
    bytes[end - 4..].copy_from_slice(&4.5f32.to_le_bytes());
    std::fs::write(&f, bytes).unwrap();
    let e = common::fail_text(&run(&["verify", s(&t2)]));
    assert!(e.contains("severities.npy"), "{e}");
    // score: fog.npy rows binned by their scheduled severity (0, .714, 1.429, 2.143, 2.857,
    // 3.571, 4.286, 5); a model wrong on rows 4..8
    let mut csv = String::from("path,label,pred\n");
    for r in 0..8 {
        csv += &format!("fog.npy:{r},1,{}\n", if r >= 4 { 2 } else { 1 });
    }
    let preds = dir.join("preds.csv");
    std::fs::write(&preds, &csv).unwrap();
    let out_csv = dir.join("sched.csv");
    ok(&run(&[
        "score",
        s(&preds),
        "--dataset",
        s(&t1),
        "-o",
        s(&out_csv),
    ]));
    let rows = std::fs::read_to_string(&out_csv).unwrap();
    for want in [
        "schedule_error,fog,50,",
        "schedule_error_0-1,fog,0,2 images",
        "schedule_error_1-2,fog,0,1 images",
        "schedule_error_2-3,fog,50,2 images",
        "schedule_error_3-4,fog,100,1 images",
        "schedule_error_4-5,fog,100,2 images",
    ] {
        assert!(rows.contains(want), "{want} not in\n{rows}");
    }
}

/// What a fog row at a continuous `severity` must hold: the library's `corrupt_buffer_at` of
/// the 32×32 source `image` with the row's recorded `seed` and the run's preset.
fn library_row(image: &[u8], severity: f64, seed: u64, preset: &std::sync::Arc<Preset>) -> Vec<u8> {
    let settings = Settings::new(seed).with_preset(preset.clone());
    let mut want = vec![0u8; 3072];
    imgcorrupt::corrupt_buffer_at(
        ImageView::new(image, 32, 32, PixelLayout::Rgb),
        &mut want,
        Corruption::Fog,
        severity,
        &settings,
    )
    .unwrap();
    want
}

fn want_sev(sev: &[f32], r: usize) -> f64 {
    (sev[r] as f64 * 1000.0).round() / 1000.0
}
