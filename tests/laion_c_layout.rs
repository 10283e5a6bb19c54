//! `generate --layout laion-c`: LAION-C's evaluator layout
//! (`<distortion>/intensity_level_<s>/<superclass>/<stem>.jpg`) from ImageNet class folders.

mod common;

use std::path::Path;

use common::{assert_same_run, fail_text, file_records, manifest_header, ok, run, s, stderr, tmp};

/// An ImageNet-style tree: two classes LAION-C maps (n02123045 → cat, n07747607 → fruit, two
/// images each) and one it does not (n04592741, one image).
fn tree(root: &Path) {
    let src = common::root().join("datasets/imagenet");
    for (wnid, from) in [
        ("n02123045", "n02123045"),
        ("n07747607", "n07747607"),
        ("n04592741", "n02123045"),
    ] {
        std::fs::create_dir_all(root.join(wnid)).unwrap();
        for e in std::fs::read_dir(src.join(from)).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if wnid == "n04592741" && !name.ends_with("03.JPEG") {
                continue;
            }
            std::fs::copy(e.path(), root.join(wnid).join(name)).unwrap();
        }
    }
}

fn gen<'a>(input: &'a str, out: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let bank = common::root().join("photos");
    let bank: &'static str = Box::leak(s(&bank).to_string().into_boxed_str());
    [
        &[
            "generate",
            input,
            "-o",
            out,
            "-c",
            "glitched,mosaic",
            "-s",
            "1,3",
            "--tile-bank",
            bank,
            "--layout",
            "laion-c",
        ][..],
        rest,
    ]
    .concat()
}

#[test]
fn laion_c_layout_paths_verify_resume_threads_shards() {
    let input = tmp("in");
    tree(&input);
    let out = tmp("out");
    let o = run(&gen(s(&input), s(&out), &["--threads", "1"]));
    ok(&o);
    assert!(
        stderr(&o).contains("1 source image(s) of ImageNet classes outside LAION-C's 285 skipped"),
        "{}",
        stderr(&o)
    );
    assert_eq!(manifest_header(&out)["layout"], "laion-c");
    // the evaluator's paths; the unmapped class is nowhere
    let recs = file_records(&out);
    assert_eq!(
        recs.len(),
        4 * 2 * 2,
        "4 mapped images × 2 distortions × 2 levels"
    );
    for c in ["glitched", "mosaic"] {
        for l in [1, 3] {
            let cell = out.join(c).join(format!("intensity_level_{l}"));
            for f in ["ILSVRC2012_val_00000003.jpg", "ILSVRC2012_val_00000004.jpg"] {
                assert!(cell.join("cat").join(f).is_file(), "{c} {l} {f}");
            }
            for f in ["ILSVRC2012_val_00000001.jpg", "ILSVRC2012_val_00000002.jpg"] {
                assert!(cell.join("fruit").join(f).is_file(), "{c} {l} {f}");
            }
            // all 16 superclass folders, so that ImageFolder numbers the classes alike
            let mut dirs: Vec<String> = std::fs::read_dir(&cell)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            dirs.sort();
            assert_eq!(dirs.len(), 16, "{dirs:?}");
            assert!(dirs.contains(&"dog".to_string()));
            assert!(!cell.join("n04592741").exists());
        }
        assert!(!out.join(c).join("1").exists());
    }
    for r in &recs {
        let o = r["output"].as_str().unwrap();
        assert!(!o.contains("n0"), "{o}");
        assert!(!r["source"].as_str().unwrap().starts_with("n04592741"));
    }

    // the bytes are those of the default layout's cell (same seed rule, same source keys)
    let plain = tmp("plain");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&plain),
        "-c",
        "glitched",
        "-s",
        "3",
    ]));
    assert_eq!(
        std::fs::read(plain.join("glitched/3/n07747607/ILSVRC2012_val_00000002.JPEG")).unwrap(),
        std::fs::read(out.join("glitched/intensity_level_3/fruit/ILSVRC2012_val_00000002.jpg"))
            .unwrap()
    );

    // verify, with regeneration from INPUT
    ok(&run(&["verify", s(&out), "--input", s(&input)]));

    // a resume writes nothing
    let o = run(&gen(s(&input), s(&out), &["--threads", "2"]));
    ok(&o);
    assert!(
        stderr(&o).contains("0 output(s) written, 16 skipped"),
        "{}",
        stderr(&o)
    );
    // … and the other layout into the same OUTPUT is refused
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "glitched,mosaic",
        "-s",
        "1,3",
        "--tile-bank",
        s(&common::root().join("photos")),
    ]);
    assert!(fail_text(&o).contains("layout"), "{}", fail_text(&o));

    // threads and shards do not change a byte
    let two = tmp("two");
    ok(&run(&gen(s(&input), s(&two), &["--threads", "2"])));
    assert_same_run(&out, &two, &recs);
    let sharded = tmp("sharded");
    for k in ["0/2", "1/2"] {
        ok(&run(&gen(s(&input), s(&sharded), &["--shard", k])));
    }
    assert_same_run(&out, &sharded, &recs);

    // a stray file in a cell is found by verify
    std::fs::write(out.join("mosaic/intensity_level_1/dog/x.jpg"), b"x").unwrap();
    let o = run(&["verify", s(&out)]);
    assert!(fail_text(&o).contains("x.jpg"), "{}", fail_text(&o));
}

#[test]
fn laion_c_layout_is_for_laion_c_on_imagenet_folders() {
    let input = tmp("in");
    tree(&input);
    let out = tmp("out");
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1",
        "--layout",
        "laion-c",
    ]);
    assert!(
        fail_text(&o).contains("`contrast` is not a LAION-C distortion"),
        "{}",
        fail_text(&o)
    );
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "--dataset",
        "folder",
        "-c",
        "glitched",
        "-s",
        "1",
        "--layout",
        "laion-c",
    ]);
    assert!(
        fail_text(&o).contains("no ImageNet classes"),
        "{}",
        fail_text(&o)
    );
    assert!(!out.join("glitched").exists());
}
