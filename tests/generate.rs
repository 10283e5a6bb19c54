//! Integration tests of `imgcorrupt generate`, `verify` and `merge`, running the binary on the
//! fixture datasets in `fixtures/datasets/` (made by scripts/make_dataset_fixtures.py) and on
//! trees built in temporary folders. Only corruptions implemented in every build are used.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use std::process::Command;

use common::{
    err_text, file_records, files_under, manifest_records, manifest_text, outputs, run, run_ok, s,
    stderr, tmp, Tmp, BIN,
};

fn dataset(name: &str) -> PathBuf {
    common::root().join("datasets").join(name)
}

/// `generate INPUT -o OUT` followed by `rest`.
fn gen_args<'a>(input: &'a str, out: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    [&["generate", input, "-o", out][..], rest].concat()
}

fn dims(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("decodes");
    (img.width(), img.height())
}

fn no_temp_files(root: &Path) {
    for k in files_under(root).keys() {
        let name = k.rsplit('/').next().unwrap();
        assert!(!name.starts_with('.'), "leftover temporary file {k}");
    }
}

// ---------------------------------------------------------------- ImageNet-C geometry

/// torchvision Resize(256) + CenterCrop(224) computed by PIL (fixtures/preprocess, made by
/// scripts/make_dataset_fixtures.py) equals ours byte for byte.
#[test]
fn imagenet_preprocessing_matches_pil() {
    let dir = common::root().join("preprocess");
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let src = image::open(dir.join(case["source"].as_str().unwrap()))
            .unwrap()
            .to_rgb8();
        let want = image::open(dir.join(case["expected"].as_str().unwrap()))
            .unwrap()
            .to_rgb8();
        let (w, h) = (src.width() as usize, src.height() as usize);
        let (got, gw, gh) = imgcorrupt::dataset::execute::imagenet_geometry(src.as_raw(), w, h);
        assert_eq!((gw, gh), (224, 224));
        let diff = got
            .iter()
            .zip(want.as_raw())
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(diff, 0, "{}: {diff} bytes differ from PIL", case["source"]);
    }
}

// ---------------------------------------------------------------- adapters

#[test]
fn imagenet_adapter_layout_sizes_and_jpeg() {
    let out = tmp("imagenet");
    let err = run_ok(&gen_args(
        s(&dataset("imagenet")),
        s(&out),
        &[
            "-c",
            "gaussian_noise,contrast",
            "-s",
            "1,5",
            "--threads",
            "2",
        ],
    ));
    assert!(err.contains("imagenet dataset"), "{err}");
    let files = outputs(&out);
    assert_eq!(files.len(), 4 * 2 * 2);
    for c in ["gaussian_noise", "contrast"] {
        for sev in ["1", "5"] {
            for f in [
                "n07747607/ILSVRC2012_val_00000001.JPEG",
                "n07747607/ILSVRC2012_val_00000002.JPEG",
                "n02123045/ILSVRC2012_val_00000003.JPEG",
                "n02123045/ILSVRC2012_val_00000004.JPEG",
            ] {
                let bytes = &files[&format!("{c}/{sev}/{f}")];
                assert_eq!(&bytes[..2], &[0xFF, 0xD8], "JPEG");
                assert_eq!(dims(bytes), (224, 224));
            }
        }
    }
    let recs = file_records(&out);
    assert_eq!(recs.len(), 16);
    // every class folder of every cell is listed, though none is empty
    let mut folders: Vec<String> = manifest_records(&out)
        .iter()
        .filter(|r| r["kind"] == "folder")
        .map(|r| r["output"].as_str().unwrap().to_string())
        .collect();
    folders.sort();
    let mut want = Vec::new();
    for cell in [
        "contrast/1",
        "contrast/5",
        "gaussian_noise/1",
        "gaussian_noise/5",
    ] {
        for class in ["n02123045", "n07747607"] {
            want.push(format!("{cell}/{class}"));
        }
    }
    assert_eq!(folders, want);
    let header: serde_json::Value =
        serde_json::from_str(manifest_text(&out).lines().next().unwrap()).unwrap();
    assert_eq!(header["geometry"], "imagenet");
    assert_eq!(header["dataset"], "imagenet");
    assert!(header["encoders"]["jpeg"]
        .as_str()
        .unwrap()
        .contains("quality 85, 4:2:0"));
    // the seed rule, recomputed independently from the recorded fields
    for r in &recs {
        let c = imgcorrupt::Corruption::from_name(r["corruption"].as_str().unwrap()).unwrap();
        let sev = r["severity"].as_u64().unwrap() as u8;
        let want = imgcorrupt::rng::derive_seed(
            0,
            &[
                r["source"].as_str().unwrap().as_bytes(),
                c.name().as_bytes(),
                &[b'0' + sev],
            ],
        );
        assert_eq!(r["seed"].as_u64().unwrap(), want);
    }
    no_temp_files(&out);
}

/// Detection adapters: full resolution, one complete dataset root per cell with the
/// annotation files carried unchanged.
#[test]
fn detection_adapters_mirror_tree_and_carry_annotations() {
    for (name, annotations) in [
        ("coco", vec!["annotations/instances_val2017.json"]),
        (
            "voc",
            vec![
                "VOCdevkit/VOC2007/Annotations/000001.xml",
                "VOCdevkit/VOC2007/Annotations/000002.xml",
                "VOCdevkit/VOC2007/ImageSets/Main/test.txt",
            ],
        ),
        (
            "cityscapes",
            vec![
                "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png",
                "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_polygons.json",
                "gtFine/val/frankfurt/frankfurt_000000_000576_gtFine_labelIds.png",
                "gtFine/val/frankfurt/frankfurt_000000_000576_gtFine_polygons.json",
            ],
        ),
    ] {
        let input = dataset(name);
        let out = tmp(name);
        let err = run_ok(&gen_args(
            s(&input),
            s(&out),
            &["-c", "pixelate", "-s", "2,4", "--annotations", "copy"],
        ));
        assert!(
            err.contains(&format!("{name} dataset")),
            "auto-detect {name}: {err}"
        );
        let src = files_under(&input);
        let got = outputs(&out);
        for sev in ["2", "4"] {
            let cell = format!("pixelate/{sev}/");
            let in_cell: BTreeMap<&str, &Vec<u8>> = got
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&cell).map(|k| (k, v)))
                .collect();
            // same tree as the input
            assert_eq!(
                in_cell.keys().collect::<Vec<_>>(),
                src.keys().collect::<Vec<_>>(),
                "{name} cell {sev}"
            );
            for a in &annotations {
                assert_eq!(in_cell[a], &src[*a], "{name}: {a} carried unchanged");
            }
            for (k, v) in &in_cell {
                if annotations.contains(k) {
                    continue;
                }
                assert_ne!(*v, &src[*k], "{name}: {k} was corrupted");
                assert_eq!(dims(v), dims(&src[*k]), "{name}: {k} keeps full resolution");
                // format kept (`same`): PNG stays PNG, JPEG stays JPEG
                assert_eq!(v[..2], src[*k][..2], "{name}: {k} format");
            }
        }
        assert_eq!(
            manifest_records(&out)
                .iter()
                .filter(|r| r["kind"] == "annotation")
                .count(),
            annotations.len() * 2
        );
    }
}

#[test]
fn annotation_modes_link_copy_none() {
    use std::os::unix::fs::MetadataExt;
    let input = dataset("coco");
    let ann = input.join("annotations/instances_val2017.json");
    for mode in ["link", "copy", "none"] {
        let out = tmp(&format!("ann-{mode}"));
        run_ok(&gen_args(
            s(&input),
            s(&out),
            &["-c", "contrast", "-s", "1", "--annotations", mode],
        ));
        let dst = out.join("contrast/1/annotations/instances_val2017.json");
        match mode {
            "none" => assert!(!dst.exists()),
            _ => {
                assert_eq!(fs::read(&dst).unwrap(), fs::read(&ann).unwrap());
                let same = fs::metadata(&dst).unwrap().ino() == fs::metadata(&ann).unwrap().ino();
                // temp dirs and the checkout may be on different file systems: link falls
                // back to a copy there, which is the documented behaviour
                let same_fs =
                    fs::metadata(&out).unwrap().dev() == fs::metadata(&ann).unwrap().dev();
                assert_eq!(same, mode == "link" && same_fs, "{mode}");
            }
        }
    }
}

#[test]
fn folder_adapter_and_format_conversion() {
    let input = tmp("folder-in");
    fs::create_dir_all(input.join("a/b")).unwrap();
    fs::copy(
        dataset("cityscapes/leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png"),
        input.join("a/b/street.png"),
    )
    .unwrap();
    fs::copy(
        dataset("coco/val2017/000000000139.jpg"),
        input.join("top.jpg"),
    )
    .unwrap();
    fs::write(input.join("notes.txt"), "not an image").unwrap();
    let out = tmp("folder-out");
    let err = run_ok(&gen_args(
        s(&input),
        s(&out),
        &["-c", "saturate", "-s", "3", "--image-format", "png"],
    ));
    assert!(
        err.contains("folder dataset") && err.contains("non-image"),
        "{err}"
    );
    let got = outputs(&out);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["saturate/3/a/b/street.png", "saturate/3/top.png"]
    );
    assert_eq!(&got["saturate/3/top.png"][1..4], b"PNG");
    assert_eq!(dims(&got["saturate/3/top.png"]), (320, 200));
}

/// WebP outputs: lossy at `--webp-quality` by default (smaller than `--webp-lossless`, which
/// decodes to exactly the PNG output's pixels), recorded in the manifest, regenerated
/// byte-identically by `verify --input`, and the two options refuse to be combined.
#[test]
fn webp_outputs_lossy_by_default_lossless_on_request() {
    let input = tmp("webp-in");
    fs::copy(
        dataset("coco/val2017/000000000139.jpg"),
        input.join("top.jpg"),
    )
    .unwrap();
    let gen = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "generate",
            s(&input),
            "-o",
            s(out),
            "-c",
            "saturate",
            "-s",
            "3",
        ];
        args.extend_from_slice(extra);
        run_ok(&args);
        outputs(out)
            .remove("saturate/3/top.webp")
            .unwrap_or_default()
    };
    let (o_lossy, o_q30, o_lossless) = (tmp("webp-lossy"), tmp("webp-q30"), tmp("webp-ll"));
    let lossy = gen(&o_lossy, &["--image-format", "webp"]);
    let q30 = gen(&o_q30, &["--image-format", "webp", "--webp-quality", "30"]);
    let lossless = gen(&o_lossless, &["--image-format", "webp", "--webp-lossless"]);
    for f in [&lossy, &q30, &lossless] {
        assert_eq!(&f[8..12], b"WEBP");
        assert_eq!(dims(f), (320, 200));
    }
    assert_eq!(&lossy[12..16], b"VP8 ", "lossy bitstream");
    assert_eq!(&lossless[12..16], b"VP8L", "lossless bitstream");
    assert!(q30.len() < lossy.len() && lossy.len() < lossless.len());
    // Lossless equals the PNG output's pixels.
    let o_png = tmp("webp-png");
    run_ok(&gen_args(
        s(&input),
        s(&o_png),
        &["-c", "saturate", "-s", "3", "--image-format", "png"],
    ));
    let png = outputs(&o_png).remove("saturate/3/top.png").unwrap();
    let rgb = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8();
    assert_eq!(rgb(&lossless), rgb(&png));
    assert!(manifest_text(&o_lossy).contains("lossy, quality 85"));
    assert!(manifest_text(&o_q30).contains("lossy, quality 30"));
    assert!(manifest_text(&o_lossless).contains("WebPEncoder: lossless"));
    for o in [&o_lossy, &o_q30, &o_lossless] {
        let e = run_ok(&["verify", s(o), "--input", s(&input)]);
        assert!(e.contains("1 regenerated, 0 differ"), "{e}");
    }
    let e = err_text(&run(&gen_args(
        s(&input),
        s(&tmp("webp-both")),
        &[
            "--image-format",
            "webp",
            "--webp-lossless",
            "--webp-quality",
            "50",
        ],
    )));
    assert!(e.contains("--webp-quality"), "{e}");
}

/// The manifest records how sources were decoded; `verify --input` flags a manifest written
/// with another decoder (regenerated bytes would differ for JPEG sources).
#[test]
fn manifest_records_the_source_decoder() {
    let input = tmp("dec-in");
    fs::copy(
        dataset("coco/val2017/000000000139.jpg"),
        input.join("top.jpg"),
    )
    .unwrap();
    let out = tmp("dec-out");
    run_ok(&gen_args(
        s(&input),
        s(&out),
        &["-c", "contrast", "-s", "1"],
    ));
    let m = manifest_text(&out);
    assert!(
        m.lines().next().unwrap().contains("Pillow-exact decoder"),
        "{m}"
    );
    run_ok(&["verify", s(&out), "--input", s(&input)]);
    let edited = m.replacen("Pillow-exact decoder rev", "other decoder rev", 1);
    fs::write(out.join("manifest.jsonl"), edited).unwrap();
    let e = err_text(&run(&["verify", s(&out), "--input", s(&input)]));
    assert!(e.contains("decoded by"), "{e}");
}

/// Lossy WebP outputs are the very files Pillow writes with `save(f, "WEBP", quality=q)`
/// (fixtures/webp, made by scripts/make_webp_fixtures.py with Pillow 13 / libwebp 1.6.0).
#[test]
fn lossy_webp_is_byte_identical_to_pil() {
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(common::root().join("webp/index.json")).unwrap())
            .unwrap();
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let src = image::open(common::root().join(case["source"].as_str().unwrap()))
            .unwrap()
            .to_rgb8();
        let q = case["quality"].as_u64().unwrap() as u8;
        let want = fs::read(common::root().join(case["webp"].as_str().unwrap())).unwrap();
        let (w, h) = (src.width() as usize, src.height() as usize);
        let got = imgcorrupt::io::encode_webp_lossy(src.as_raw(), w, h, q).unwrap();
        assert!(
            got == want,
            "{}: {} bytes vs PIL {}",
            case["webp"],
            got.len(),
            want.len()
        );
    }
}

#[test]
fn odd_encodings_are_converted_to_rgb() {
    let out = tmp("odd");
    run_ok(&gen_args(
        s(&dataset("odd")),
        s(&out),
        &["-c", "contrast", "-s", "2", "--dataset", "folder"],
    ));
    let got = outputs(&out);
    assert_eq!(got.len(), 4);
    for (k, v) in &got {
        let img = image::load_from_memory(v).unwrap();
        assert_eq!((img.width(), img.height()), (40, 30), "{k}");
        assert_eq!(
            img.color(),
            image::ColorType::Rgb8,
            "{k}: written as 8-bit RGB"
        );
    }
}

// ---------------------------------------------------------------- determinism

fn imagenet_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "generate",
        "--dataset",
        "imagenet",
        "-o",
        out,
        "-c",
        "gaussian_noise,impulse_noise,pixelate",
        "-s",
        "1,4",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn threads_and_shards_give_identical_bytes_and_manifest() {
    let input = dataset("imagenet");
    let (o1, o2, o3) = (tmp("t1"), tmp("t2"), tmp("shards"));
    let mut a = imagenet_args(s(&o1), &["--threads", "1"]);
    a.insert(1, s(&input));
    run_ok(&a);
    let mut a = imagenet_args(s(&o2), &["--threads", "2"]);
    a.insert(1, s(&input));
    run_ok(&a);
    // shard 1 first, then 0: the last to finish merges automatically
    let mut a = imagenet_args(s(&o3), &["--shard", "1/2"]);
    a.insert(1, s(&input));
    let e = run_ok(&a);
    assert!(e.contains("other shards not finished"), "{e}");
    assert!(!o3.join("manifest.jsonl").exists());
    let mut a = imagenet_args(s(&o3), &["--shard", "0/2"]);
    a.insert(1, s(&input));
    let e = run_ok(&a);
    assert!(e.contains("merged"), "{e}");
    let m1 = manifest_text(&o1);
    assert_eq!(m1, manifest_text(&o2));
    assert_eq!(m1, manifest_text(&o3));
    // explicit merge gives the same bytes again
    fs::remove_file(o3.join("manifest.jsonl")).unwrap();
    run_ok(&["merge", s(&o3)]);
    assert_eq!(m1, manifest_text(&o3));
    assert_eq!(outputs(&o1), outputs(&o2));
    let sharded: BTreeMap<_, _> = outputs(&o3)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("manifest"))
        .collect();
    assert_eq!(outputs(&o1), sharded);
    assert_eq!(file_records(&o1).len(), 4 * 3 * 2);
    // a different run seed changes the outputs
    let o4 = tmp("seed");
    let mut a = imagenet_args(s(&o4), &["--seed", "7"]);
    a.insert(1, s(&input));
    run_ok(&a);
    assert_ne!(
        outputs(&o1)["gaussian_noise/1/n07747607/ILSVRC2012_val_00000001.JPEG"],
        outputs(&o4)["gaussian_noise/1/n07747607/ILSVRC2012_val_00000001.JPEG"]
    );
}

#[test]
fn merge_refuses_missing_shard() {
    let input = dataset("imagenet");
    let o = tmp("merge-missing");
    let mut a = imagenet_args(s(&o), &["--shard", "2/3"]);
    a.insert(1, s(&input));
    run_ok(&a);
    let e = err_text(&run(&["merge", s(&o)]));
    assert!(e.contains("0/3") && e.contains("1/3"), "{e}");
}

/// A bigger folder dataset (the fixture photos, several copies, native size) so that a run
/// takes long enough to be killed half-way.
fn big_folder(name: &str, copies: usize) -> Tmp {
    let input = tmp(name);
    let mut srcs: Vec<PathBuf> = fs::read_dir(dataset("coco/val2017"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    srcs.sort();
    for i in 0..copies {
        for p in &srcs {
            let d = input.join(format!("part{i}"));
            fs::create_dir_all(&d).unwrap();
            fs::copy(p, d.join(p.file_name().unwrap())).unwrap();
        }
    }
    input
}

#[test]
fn kill_9_then_resume_equals_uninterrupted_run() {
    // fewer copies in debug builds, which are slower anyway (still killed mid-run)
    let input = big_folder("kill-in", if cfg!(debug_assertions) { 2 } else { 6 });
    let args = |out: &Path| -> Vec<String> {
        [
            "generate", s(&input), "-o", s(out), "-c",
            "gaussian_noise,shot_noise,impulse_noise,speckle_noise,contrast,pixelate,brightness,saturate",
            "-s", "1-5", "--threads", "1",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let full = tmp("kill-full");
    let o = Command::new(BIN).args(args(&full)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    let killed = tmp("kill-killed");
    let mut child = Command::new(BIN)
        .args(args(&killed))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait for the first outputs, then SIGKILL
    let t0 = std::time::Instant::now();
    while t0.elapsed() < std::time::Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let j = killed.join("manifest.journal.jsonl");
        if fs::read_to_string(&j)
            .map(|t| t.lines().count() > 3)
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
    let interrupted = !killed.join("manifest.jsonl").exists();
    eprintln!("killed mid-run: {interrupted}");
    let o = Command::new(BIN).args(args(&killed)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    if interrupted {
        assert!(stderr(&o).contains("skipped"), "{}", stderr(&o));
    }
    assert_eq!(manifest_text(&full), manifest_text(&killed));
    assert_eq!(outputs(&full), outputs(&killed));
    assert!(!killed.join("manifest.journal.jsonl").exists());
    no_temp_files(&killed);
}

#[test]
fn rerun_skips_and_regenerates_tampered_or_unrecorded_outputs() {
    let input = dataset("imagenet");
    let out = tmp("rerun");
    let mut a = imagenet_args(s(&out), &[]);
    a.insert(1, s(&input));
    run_ok(&a);
    let before = outputs(&out);
    let m = manifest_text(&out);
    // tamper one output, delete another
    let f1 = out.join("pixelate/4/n02123045/ILSVRC2012_val_00000003.JPEG");
    let f2 = out.join("gaussian_noise/1/n07747607/ILSVRC2012_val_00000002.JPEG");
    fs::write(&f1, b"garbage").unwrap();
    fs::remove_file(&f2).unwrap();
    let e = run_ok(&a);
    assert!(e.contains("2 output(s) written, 22 skipped"), "{e}");
    assert_eq!(outputs(&out), before);
    assert_eq!(manifest_text(&out), m);
    // other settings into the same OUTPUT are refused
    let mut a2 = imagenet_args(s(&out), &["--seed", "3"]);
    a2.insert(1, s(&input));
    let e = err_text(&run(&a2));
    assert!(e.contains("different settings"), "{e}");
}

/// Outputs whose manifest recorded an earlier, comment-only revision of the built-in preset
/// (the digest listed in src/preset.rs `EARLIER_REVISIONS`) still resume and verify.
#[test]
fn earlier_comment_only_preset_revision_still_resumes_and_verifies() {
    const EARLIER: &str = "88a683a1e7ef6acd72e11b40c5dc1965d7801ec6dc13cf3e6c2dbd9e77deea75";
    let input = dataset("imagenet");
    let out = tmp("earlier-preset");
    let mut a = imagenet_args(s(&out), &[]);
    a.insert(1, s(&input));
    run_ok(&a);
    let mpath = out.join("manifest.jsonl");
    let text = fs::read_to_string(&mpath).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(head).unwrap();
    assert_ne!(header["preset_sha256"], EARLIER);
    header["preset_sha256"] = EARLIER.into();
    fs::write(&mpath, format!("{header}\n{rest}")).unwrap();
    let e = run_ok(&["verify", s(&out), "--input", s(&input), "--sample", "3"]);
    assert!(e.contains("3 regenerated, 0 differ"), "{e}");
    let e = run_ok(&a);
    assert!(e.contains("0 output(s) written, 24 skipped"), "{e}");
    // any other digest is a changed preset
    header["preset_sha256"] = "0".repeat(64).into();
    fs::write(&mpath, format!("{header}\n{rest}")).unwrap();
    let e = err_text(&run(&[
        "verify",
        s(&out),
        "--input",
        s(&input),
        "--sample",
        "3",
    ]));
    assert!(e.contains("has changed since generation"), "{e}");
}

// ---------------------------------------------------------------- verify

#[test]
fn verify_catches_flipped_byte_and_missing_file() {
    let input = dataset("imagenet");
    let out = tmp("verify");
    let mut a = imagenet_args(s(&out), &[]);
    a.insert(1, s(&input));
    run_ok(&a);
    let e = run_ok(&["verify", s(&out)]);
    assert!(e.contains("24 hash ok"), "{e}");
    assert!(e.contains("12 class folder(s) of 12 present"), "{e}");
    let e = run_ok(&["verify", s(&out), "--input", s(&input), "--sample", "5"]);
    assert!(e.contains("5 regenerated, 0 differ"), "{e}");
    let e = run_ok(&["verify", s(&out), "--input", s(&input)]);
    assert!(e.contains("24 regenerated, 0 differ"), "{e}");

    let flipped = "impulse_noise/1/n02123045/ILSVRC2012_val_00000004.JPEG";
    let missing = "pixelate/4/n07747607/ILSVRC2012_val_00000001.JPEG";
    let p = out.join(flipped);
    let mut bytes = fs::read(&p).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&p, bytes).unwrap();
    fs::remove_file(out.join(missing)).unwrap();
    let e = err_text(&run(&["verify", s(&out)]));
    assert!(e.contains(&format!("MISMATCH  {flipped}")), "{e}");
    assert!(e.contains(&format!("MISSING   {missing}")), "{e}");
    assert!(e.contains("1 missing, 1 mismatched"), "{e}");
    let e = err_text(&run(&["verify", s(&out), "--input", s(&input)]));
    assert!(e.contains(&format!("DIFFERS   {flipped}")), "{e}");
}

// ---------------------------------------------------------------- bad input

/// A minimal PNG declaring a 0×N image (CRCs computed here).
fn zero_width_png() -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |ty: &[u8], data: &[u8]| {
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut td = ty.to_vec();
        td.extend_from_slice(data);
        v.extend_from_slice(&td);
        v.extend_from_slice(&crc32(&td).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&0u32.to_be_bytes());
    ihdr.extend_from_slice(&5u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IEND", &[]);
    v
}

#[test]
fn bad_images_are_reported_and_the_rest_is_written() {
    let input = tmp("bad-in");
    let good = fs::read(dataset("coco/val2017/000000000139.jpg")).unwrap();
    fs::write(input.join("good.jpg"), &good).unwrap();
    fs::write(input.join("truncated.jpg"), &good[..good.len() / 2]).unwrap();
    fs::write(input.join("empty.png"), b"").unwrap();
    fs::write(input.join("text.png"), b"this is not an image at all").unwrap();
    fs::write(input.join("zero.png"), zero_width_png()).unwrap();
    let big = fs::read(dataset("coco/val2017/000000000285.jpg")).unwrap(); // 320x320
    fs::write(input.join("big.jpg"), &big).unwrap();
    let before = files_under(&input);
    let out = tmp("bad-out");
    let r = run(&gen_args(
        s(&input),
        s(&out),
        &["-c", "contrast", "-s", "1,2", "--max-pixels", "70000"],
    ));
    assert_eq!(r.status.code(), Some(1));
    let e = stderr(&r);
    for (f, reason) in [
        ("truncated.jpg", "truncated"),
        ("empty.png", "empty"),
        ("text.png", "not a recognised image"),
        ("zero.png", ""),
        ("big.jpg", "more than the limit of 70000 pixels"),
    ] {
        let line = e
            .lines()
            .find(|l| l.starts_with("  ") && l.contains(f))
            .unwrap_or_else(|| panic!("{f} not reported:\n{e}"));
        assert!(line.contains(reason), "{f}: {line}");
    }
    assert!(e.contains("5 failed"), "{e}");
    let got = outputs(&out);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["contrast/1/good.jpg", "contrast/2/good.jpg"]
    );
    assert_eq!(manifest_records(&out).len(), 2);
    no_temp_files(&out);
    assert_eq!(files_under(&input), before, "input tree untouched");
}

#[test]
fn output_inside_or_equal_to_input_is_refused() {
    let input = big_folder("inside", 1);
    let before = files_under(&input);
    for out in [
        input.to_path_buf(),
        input.join("out"),
        input.join("part0/x"),
    ] {
        let e = err_text(&run(&gen_args(
            s(&input),
            s(&out),
            &["-c", "contrast", "-s", "1"],
        )));
        assert!(e.contains("refusing to write into the input tree"), "{e}");
    }
    assert_eq!(files_under(&input), before);
}

#[test]
fn unwritable_output_is_a_clear_error() {
    let dir = tmp("unwritable");
    let file = dir.join("a-file");
    fs::write(&file, b"x").unwrap();
    let out = file.join("out");
    let e = err_text(&run(&gen_args(
        s(&dataset("imagenet")),
        s(&out),
        &["-c", "contrast", "-s", "1"],
    )));
    assert!(e.contains("a-file"), "{e}");
}

#[test]
fn malformed_annotations_are_clear_errors_and_missing_images_reported() {
    // COCO JSON that does not parse
    let coco = tmp("coco-bad");
    fs::create_dir_all(coco.join("annotations")).unwrap();
    fs::create_dir_all(coco.join("val2017")).unwrap();
    fs::copy(
        dataset("coco/val2017/000000000139.jpg"),
        coco.join("val2017/000000000139.jpg"),
    )
    .unwrap();
    fs::write(
        coco.join("annotations/instances_val2017.json"),
        "{\"images\": [",
    )
    .unwrap();
    let e = err_text(&run(&gen_args(
        s(&coco),
        s(&tmp("coco-bad-out")),
        &["-c", "contrast", "-s", "1"],
    )));
    assert!(
        e.contains("instances_val2017.json") && e.contains("not valid COCO JSON"),
        "{e}"
    );
    // listed but missing image: a note, the run proceeds
    fs::write(
        coco.join("annotations/instances_val2017.json"),
        r#"{"images":[{"id":1,"file_name":"000000000139.jpg"},{"id":2,"file_name":"000000999999.jpg"}],"annotations":[]}"#,
    )
    .unwrap();
    let e = run_ok(&gen_args(
        s(&coco),
        s(&tmp("coco-miss-out")),
        &["-c", "contrast", "-s", "1"],
    ));
    assert!(
        e.contains("missing on disk") && e.contains("000000999999.jpg"),
        "{e}"
    );

    // VOC XML without <size>
    let voc = tmp("voc-bad");
    let src = dataset("voc");
    for (k, v) in files_under(&src) {
        let p = voc.join(&k);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, v).unwrap();
    }
    let xml = voc.join("VOCdevkit/VOC2007/Annotations/000002.xml");
    let text = fs::read_to_string(&xml).unwrap();
    let start = text.find("<size>").unwrap();
    let end = text.find("</size>").unwrap() + "</size>".len();
    fs::write(&xml, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let e = err_text(&run(&gen_args(
        s(&voc),
        s(&tmp("voc-bad-out")),
        &["-c", "contrast", "-s", "1"],
    )));
    assert!(e.contains("000002.xml") && e.contains("no <size>"), "{e}");
}

// ---------------------------------------------------------------- selection, channel order

#[test]
fn bgr_mode_swaps_back_and_is_recorded() {
    let input = dataset("coco");
    let (rgb, bgr) = (tmp("rgb"), tmp("bgr"));
    let base = |o: &Path, order: &str| {
        run_ok(&gen_args(
            s(&input),
            s(o),
            &[
                "-c",
                "contrast,gaussian_noise",
                "-s",
                "3",
                "--channel-order",
                order,
                "--image-format",
                "png",
                "--annotations",
                "none",
            ],
        ));
    };
    base(&rgb, "rgb");
    base(&bgr, "bgr");
    let (a, b) = (outputs(&rgb), outputs(&bgr));
    for (k, v) in &a {
        if k.starts_with("contrast/") {
            // contrast treats channels alike: swapping, corrupting and swapping back is a no-op
            assert_eq!(v, &b[k], "{k}");
        } else {
            assert_ne!(v, &b[k], "{k}: noise lands on other channels in BGR mode");
        }
    }
    assert!(manifest_text(&bgr).contains("\"channel_order\":\"bgr\""));
}

#[test]
fn rerun_with_other_cells_extends_the_manifest() {
    let input = dataset("imagenet");
    let out = tmp("extend");
    run_ok(&gen_args(
        s(&input),
        s(&out),
        &["-c", "contrast", "-s", "1"],
    ));
    run_ok(&gen_args(
        s(&input),
        s(&out),
        &["-c", "pixelate", "-s", "2", "--shard", "0/1"],
    ));
    let recs = file_records(&out);
    assert_eq!(recs.len(), 8);
    assert_eq!(
        recs.iter()
            .filter(|r| r["corruption"] == "contrast")
            .count(),
        4
    );
    let outputs: Vec<&str> = recs.iter().map(|r| r["output"].as_str().unwrap()).collect();
    let mut sorted = outputs.clone();
    sorted.sort();
    assert_eq!(outputs, sorted, "records sorted by output path");
    run_ok(&["verify", s(&out)]);
}

/// numpy mode: each output's seed is the rule's seed masked to 32 bits, and the output is
/// exactly `corrupt` with that seed (`np.random.seed(seed)` semantics) on the prepared image.
#[test]
fn numpy_mode_seeds_fit_np_random_seed() {
    let input = dataset("coco");
    let out = tmp("numpy");
    run_ok(&gen_args(
        s(&input),
        s(&out),
        &[
            "-c",
            "gaussian_noise",
            "-s",
            "2",
            "--rng",
            "numpy",
            "--seed",
            "11",
            "--image-format",
            "png",
            "--annotations",
            "none",
        ],
    ));
    for r in manifest_records(&out) {
        let src = r["source"].as_str().unwrap();
        let full = imgcorrupt::rng::derive_seed(11, &[src.as_bytes(), b"gaussian_noise", b"2"]);
        let seed = r["seed"].as_u64().unwrap();
        assert_eq!(seed, full & 0xFFFF_FFFF);
        // Decoded as generate decodes sources (JPEG: the Pillow-exact decoder).
        let img = imgcorrupt::io::read_image(&input.join(src), 1 << 28).unwrap();
        let settings = imgcorrupt::Settings::new(seed).with_rng(imgcorrupt::RngMode::Numpy);
        let want = imgcorrupt::corrupt_with(
            &image::DynamicImage::ImageRgb8(img.to_rgb8()),
            imgcorrupt::Corruption::GaussianNoise,
            2,
            &settings,
        )
        .unwrap();
        let got = image::open(out.join(r["output"].as_str().unwrap())).unwrap();
        assert_eq!(got.to_rgb8(), want.to_rgb8(), "{src}");
    }
}

#[test]
fn link_loops_end_and_nested_imagenet_val_is_explained() {
    let input = tmp("loop");
    fs::create_dir_all(input.join("a")).unwrap();
    fs::copy(
        dataset("coco/val2017/000000000139.jpg"),
        input.join("a/x.jpg"),
    )
    .unwrap();
    std::os::unix::fs::symlink("..", input.join("a/up")).unwrap();
    let out = tmp("loop-out");
    let e = run_ok(&gen_args(
        s(&input),
        s(&out),
        &["-c", "contrast", "-s", "1"],
    ));
    assert!(e.contains("already visited"), "{e}");
    assert_eq!(file_records(&out).len(), 1);

    let root = tmp("nested");
    for (k, v) in files_under(&dataset("imagenet")) {
        let p = root.join("val").join(k);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, v).unwrap();
    }
    let e = err_text(&run(&gen_args(
        s(&root),
        s(&tmp("nested-out")),
        &["-c", "contrast", "-s", "1"],
    )));
    assert!(e.contains("pass that folder as INPUT"), "{e}");
}

/// Copy a fixture dataset into a temporary tree.
fn copy_dataset(name: &str, tag: &str) -> Tmp {
    let root = tmp(tag);
    for (k, v) in files_under(&dataset(name)) {
        let p = root.join(k);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, v).unwrap();
    }
    root
}

#[test]
fn split_selects_the_benchmark_split() {
    // COCO: train2017 next to val2017
    let coco = copy_dataset("coco", "split-coco");
    fs::create_dir_all(coco.join("train2017")).unwrap();
    fs::copy(
        coco.join("val2017/000000000139.jpg"),
        coco.join("train2017/000000000009.jpg"),
    )
    .unwrap();
    let out = tmp("split-coco-out");
    let args = |split: &str, o: &Path| -> Vec<String> {
        [
            "generate",
            s(&coco),
            "-o",
            s(o),
            "-c",
            "contrast",
            "-s",
            "1",
            "--split",
            split,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let o = Command::new(BIN)
        .args(args("val2017", &out))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Vec<String> = outputs(&out).into_keys().collect();
    assert_eq!(got.iter().filter(|k| k.contains("/val2017/")).count(), 4);
    assert!(!got.iter().any(|k| k.contains("train2017")));
    assert!(got.contains(&"contrast/1/annotations/instances_val2017.json".to_string()));
    let o = Command::new(BIN)
        .args(args("test2017", &tmp("x")))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("splits found: train2017, val2017"),
        "{}",
        stderr(&o)
    );

    // Cityscapes: a train split with its gtFine
    let cs = copy_dataset("cityscapes", "split-cs");
    for d in ["leftImg8bit", "gtFine"] {
        let from = cs.join(d).join("val/frankfurt");
        let to = cs.join(d).join("train/aachen");
        fs::create_dir_all(&to).unwrap();
        for e in fs::read_dir(&from).unwrap() {
            let p = e.unwrap().path();
            let name = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace("frankfurt", "aachen");
            fs::copy(&p, to.join(name)).unwrap();
        }
    }
    let out = tmp("split-cs-out");
    run_ok(&gen_args(
        s(&cs),
        s(&out),
        &["-c", "contrast", "-s", "1", "--split", "val"],
    ));
    let got: Vec<String> = outputs(&out).into_keys().collect();
    assert_eq!(got.len(), 6, "{got:?}"); // 2 images + 4 gtFine files of val
    assert!(got.iter().all(|k| k.contains("/val/frankfurt/")), "{got:?}");

    // VOC: only the ids of ImageSets/Main/<split>.txt
    let voc = copy_dataset("voc", "split-voc");
    fs::write(
        voc.join("VOCdevkit/VOC2007/ImageSets/Main/val.txt"),
        "000002\n",
    )
    .unwrap();
    let out = tmp("split-voc-out");
    run_ok(&gen_args(
        s(&voc),
        s(&out),
        &["-c", "contrast", "-s", "1", "--split", "val"],
    ));
    let imgs: Vec<String> = outputs(&out)
        .into_keys()
        .filter(|k| k.contains("JPEGImages"))
        .collect();
    assert_eq!(imgs, ["contrast/1/VOCdevkit/VOC2007/JPEGImages/000002.jpg"]);
}

/// The JPEG writer produces the very bytes of PIL's `save(quality=q, optimize=True)`
/// (libjpeg-turbo), the way ImageNet-C files were saved (fixtures/jpeg, made by PIL).
#[test]
fn jpeg_files_are_byte_identical_to_pil() {
    let index: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(common::root().join("jpeg/index.json")).unwrap())
            .unwrap();
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let src = image::open(common::root().join(case["source"].as_str().unwrap()))
            .unwrap()
            .to_rgb8();
        let want = fs::read(common::root().join(case["jpeg"].as_str().unwrap())).unwrap();
        let q = case["quality"].as_u64().unwrap() as u8;
        let got = imgcorrupt::io::encode_jpeg(
            src.as_raw(),
            src.width() as usize,
            src.height() as usize,
            q,
        )
        .unwrap();
        assert!(
            got == want,
            "{}: {} bytes vs PIL {}",
            case["jpeg"],
            got.len(),
            want.len()
        );
    }
}

// ---------------------------------------------------------------- frost source

/// The manifest records the frost source, and `verify --input` regenerates frost outputs from
/// it: procedural textures by default, the reference's photographs with `--frost-dir` (when
/// they are available, see tests/common: `IMGCORRUPT_FROST_DIR`).
#[test]
fn frost_source_is_recorded_and_verifiable() {
    let input = dataset("imagenet");
    let out = tmp("frost-procedural");
    run_ok(&gen_args(
        s(&input),
        s(&out),
        &["-c", "frost", "-s", "1,5", "--threads", "1"],
    ));
    let header: serde_json::Value =
        serde_json::from_str(manifest_text(&out).lines().next().unwrap()).unwrap();
    assert_eq!(header["frost_source"], "procedural");
    let e = run_ok(&["verify", s(&out), "--input", s(&input)]);
    assert!(e.contains("0 differ"), "{e}");

    let Some(dir) = common::frost_dir() else {
        eprintln!("frost_source_is_recorded_and_verifiable: original textures SKIPPED (set IMGCORRUPT_FROST_DIR)");
        return;
    };
    let out2 = tmp("frost-textures");
    run_ok(&gen_args(
        s(&input),
        s(&out2),
        &[
            "-c",
            "frost",
            "-s",
            "1,5",
            "--threads",
            "1",
            "--frost-dir",
            s(&dir),
        ],
    ));
    let header: serde_json::Value =
        serde_json::from_str(manifest_text(&out2).lines().next().unwrap()).unwrap();
    assert!(
        header["frost_source"]
            .as_str()
            .unwrap()
            .starts_with("textures:"),
        "{header}"
    );
    let e = run_ok(&["verify", s(&out2), "--input", s(&input)]);
    assert!(e.contains("0 differ"), "{e}");
    // the two sources give different pictures
    assert_ne!(outputs(&out), outputs(&out2));

    let missing = tmp("frost-missing");
    let e = err_text(&run(&gen_args(
        s(&input),
        s(&out2.join("x")),
        &["-c", "frost", "--frost-dir", s(&missing)],
    )));
    assert!(e.contains("frost1.png"), "{e}");
}
