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
