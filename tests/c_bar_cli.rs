//! C-bar from the command line (issue 16): `-c c-bar` / `-c cifar-c-bar` generate folders
//! 1..5 with the magnitude of each cell in the manifest header, and verify.

mod common;

use common::{run, tmp, Tmp};

/// A temporary folder with `in/a.png` (a fixture photo) and the path of `out/`.
fn one_photo(name: &str) -> (Tmp, std::path::PathBuf, std::path::PathBuf) {
    let dir = tmp(name);
    let input = dir.join("in");
    let out = dir.join("out");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        common::root().join("photos/coffee_97x61.png"),
        input.join("a.png"),
    )
    .unwrap();
    (dir, input, out)
}

#[test]
fn generate_records_magnitudes_and_verifies() {
    let (_dir, input, out) = one_photo("c-bar-generate");
    let o = run(&[
        "generate",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-c",
        "cifar-c-bar",
        "-s",
        "2,5",
        "--preset",
        "cifar-10-c-bar",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for op in ["ripple", "lines", "sparkles"] {
        assert!(out.join(op).join("2").join("a.png").is_file(), "{op}");
        assert!(out.join(op).join("5").join("a.png").is_file(), "{op}");
    }
    assert!(
        !out.join("perlin_noise").exists(),
        "not a CIFAR-10-C-bar operator"
    );
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(manifest.lines().next().unwrap()).unwrap();
    let mags = &header["magnitudes"];
    // cifar10_c_bar.csv: sparkles 0.7,3.5,5.6,6.3,7.0; lines 0.5,1,1.5,2,2.5
    assert_eq!(mags["sparkles/2"], "3.5");
    assert_eq!(mags["sparkles/5"], "7");
    assert_eq!(mags["lines/5"], "2.5");
    assert_eq!(mags.as_object().unwrap().len(), 20);
    let v = run(&["verify", out.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn common_and_all_leave_c_bar_out_and_manifests_unchanged() {
    let (_dir, input, out) = one_photo("c-bar-common");
    let o = run(&[
        "generate",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "-c",
        "all",
        "-s",
        "1",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let n = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(n, 19);
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    assert!(!manifest.lines().next().unwrap().contains("magnitudes"));
}
