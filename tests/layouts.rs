//! What the real clients see in a generated tree (issue 13): torchvision's ImageFolder and
//! robustbench number classes by the sorted folder list, VOCDetection/VOCSegmentation read
//! `VOCdevkit/VOC20xx/…`, COCO tools rewrite annotation files in place. Each test builds the
//! tree a user would have and failed before its fix.

mod common;

use std::fs;
use std::path::Path;

use common::{contrast1, err_text, fail_text, manifest_records, ok, run, s, stderr, tmp};

/// A small deterministic RGB PNG (any extension: the decoder looks at the bytes).
fn png(path: &Path, w: u32, h: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 37 + y * 11) as u8,
            (x * 5 + y * 23) as u8,
            (x ^ y) as u8,
        ])
    });
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

/// Sorted names of the sub-folders of `dir`.
fn subfolders(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// An empty class and a class whose only source fails still exist in every cell, so
/// ImageFolder numbers the classes as in the clean tree; the manifest lists the empty ones;
/// verify accepts the result.
#[test]
fn empty_and_failed_classes_exist_in_every_cell() {
    let input = tmp("classes-in");
    let out = tmp("classes-out");
    png(&input.join("n01440764/a.png"), 40, 30);
    fs::create_dir_all(input.join("n01443537")).unwrap(); // empty class
    fs::create_dir_all(input.join("n01484850")).unwrap();
    fs::write(input.join("n01484850/broken.JPEG"), b"not a jpeg").unwrap(); // fails
    png(&input.join("n01491361/b.png"), 30, 40);
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1,2",
        "--geometry",
        "native",
    ]);
    let e = fail_text(&o); // the broken source fails the run
    assert!(e.contains("broken.JPEG"), "{e}");
    let clean = subfolders(&input);
    for sev in ["1", "2"] {
        assert_eq!(
            subfolders(&out.join("contrast").join(sev)),
            clean,
            "severity {sev}"
        );
    }
    let folders: Vec<String> = manifest_records(&out)
        .iter()
        .filter(|r| r["kind"] == "folder")
        .map(|r| r["output"].as_str().unwrap().to_string())
        .collect();
    // every class folder, empty, failed or not, is listed in every cell
    let want: Vec<String> = ["1", "2"]
        .iter()
        .flat_map(|sev| clean.iter().map(move |c| format!("contrast/{sev}/{c}")))
        .collect();
    assert_eq!(folders, want);
    ok(&run(&["verify", s(&out)]));
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    // a removed empty class folder is reported by verify
    fs::remove_dir(out.join("contrast/2/n01443537")).unwrap();
    let e = fail_text(&run(&["verify", s(&out)]));
    assert!(e.contains("contrast/2/n01443537"), "{e}");
}

/// Tiny-ImageNet's `train/<wnid>/images/*.JPEG` goes through the folder layout: every folder,
/// empty or not, is mirrored into every cell.
#[test]
fn folder_layout_mirrors_empty_folders() {
    let input = tmp("tiny-in");
    let out = tmp("tiny-out");
    png(
        &input.join("train/n01443537/images/n01443537_0.JPEG"),
        16,
        16,
    );
    fs::create_dir_all(input.join("train/n01629819/images")).unwrap();
    png(&input.join("val/images/val_0.JPEG"), 16, 16);
    ok(&run(&contrast1(s(&input), s(&out), &[])));
    assert_eq!(
        subfolders(&out.join("contrast/1/train")),
        ["n01443537", "n01629819"]
    );
    assert!(out.join("contrast/1/train/n01629819/images").is_dir());
    ok(&run(&["verify", s(&out)]));
}

/// Tiny-ImageNet's `train/` as INPUT is an imagenet tree (`<wnid>/images/<file>`, as
/// ImageFolder reads it): its images are corrupted, and every class folder, the empty one too,
/// is in every cell.
#[test]
fn tiny_imagenet_train_is_an_imagenet_tree() {
    let input = tmp("tiny-train-in");
    let out = tmp("tiny-train-out");
    png(&input.join("n01443537/images/n01443537_0.JPEG"), 64, 64);
    fs::write(
        input.join("n01443537/n01443537_boxes.txt"),
        "n01443537_0.JPEG 0 0 9 9\n",
    )
    .unwrap();
    fs::create_dir_all(input.join("n01629819/images")).unwrap();
    png(&input.join("n01641577/images/n01641577_0.JPEG"), 64, 64);
    let o = run(&contrast1(s(&input), s(&out), &["--geometry", "native"]));
    ok(&o);
    assert!(stderr(&o).contains("imagenet dataset"), "{}", stderr(&o));
    assert_eq!(subfolders(&out.join("contrast/1")), subfolders(&input));
    assert!(out
        .join("contrast/1/n01443537/images/n01443537_0.JPEG")
        .is_file());
    assert!(out.join("contrast/1/n01629819/images").is_dir());
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
}

/// Tiny-ImageNet's `val/` (`images/` + `val_annotations.txt`) as INPUT: each image goes to
/// `<wnid>/<file>` of its annotated class, the Tiny-ImageNet-C layout; every class of the
/// annotations and of `wnids.txt` (one level up) has its folder in every cell; unlisted
/// images are left out with a note, listed-but-missing ones noted; verify and resume work.
#[test]
fn tiny_imagenet_val_goes_to_class_folders() {
    let root = tmp("tiny-val");
    let input = root.join("tiny-imagenet-200/val");
    let out = tmp("tiny-val-out");
    // distinct sizes, so that each output shows which source it came from
    png(&input.join("images/val_0.JPEG"), 64, 64);
    png(&input.join("images/val_1.JPEG"), 60, 64);
    png(&input.join("images/val_2.JPEG"), 64, 56);
    png(&input.join("images/stray.JPEG"), 8, 8);
    fs::write(
        input.join("val_annotations.txt"),
        "val_0.JPEG\tn01443537\t0\t32\t44\t62\n\
         val_1.JPEG\tn01629819\t52\t37\t63\t63\n\
         val_2.JPEG\tn01443537\t4\t0\t60\t55\n\
         val_9.JPEG\tn01629819\t0\t0\t9\t9\n",
    )
    .unwrap();
    fs::write(
        input.join("../wnids.txt"),
        "n01629819\nn01443537\nn01641577\n",
    )
    .unwrap();
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1,2",
        "--geometry",
        "native",
    ]);
    ok(&o);
    let e = stderr(&o);
    assert!(e.contains("imagenet dataset"), "{e}");
    assert!(e.contains("val_9.JPEG"), "missing listed image noted: {e}");
    assert!(e.contains("images/stray.JPEG"), "unlisted image noted: {e}");
    for sev in ["1", "2"] {
        let cell = out.join("contrast").join(sev);
        assert_eq!(
            subfolders(&cell),
            ["n01443537", "n01629819", "n01641577"],
            "severity {sev}"
        );
        for (f, w, h) in [
            ("n01443537/val_0.JPEG", 64, 64),
            ("n01629819/val_1.JPEG", 60, 64),
            ("n01443537/val_2.JPEG", 64, 56),
        ] {
            let img = image::open(cell.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!((img.width(), img.height()), (w, h), "{f}");
        }
        assert!(!cell.join("images").exists());
        assert!(!cell.join("n01629819/stray.JPEG").exists());
    }
    let recs = manifest_records(&out);
    let srcs: Vec<&str> = recs
        .iter()
        .filter(|r| r["output"] == "contrast/1/n01629819/val_1.JPEG")
        .filter_map(|r| r["source"].as_str())
        .collect();
    assert_eq!(srcs, ["images/val_1.JPEG"]);
    ok(&run(&["verify", s(&out)]));
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    let again = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1,2",
        "--geometry",
        "native",
    ]);
    ok(&again);
    assert!(
        stderr(&again).contains("0 output(s) written"),
        "{}",
        stderr(&again)
    );
    // a malformed annotation line is an error naming the file and line
    fs::write(input.join("val_annotations.txt"), "val_0.JPEG n01443537\n").unwrap();
    let e = err_text(&run(&contrast1(s(&input), s(&tmp("tiny-val-bad")), &[])));
    assert!(
        e.contains("val_annotations.txt") && e.contains("line 1"),
        "{e}"
    );
}

/// A source deleted from INPUT: `verify --input` flags its outputs, and a rerun removes them
/// from OUTPUT and from the manifest (before, they stayed and verify said OK).
#[test]
fn outputs_of_removed_sources_are_flagged_and_removed() {
    let input = tmp("removed-in");
    let out = tmp("removed-out");
    png(&input.join("n01/a.png"), 20, 20);
    png(&input.join("n01/b.png"), 20, 20);
    png(&input.join("n02/c.png"), 20, 20);
    let args = contrast1(
        s(&input),
        s(&out),
        &["--geometry", "native", "--image-format", "png"],
    );
    ok(&run(&args));
    assert!(out.join("contrast/1/n01/b.png").is_file());
    fs::remove_file(input.join("n01/b.png")).unwrap();
    let e = fail_text(&run(&["verify", s(&out), "--input", s(&input)]));
    assert!(
        e.contains("n01/b.png") && e.contains("no longer exists"),
        "{e}"
    );
    let o = run(&args);
    ok(&o);
    assert!(stderr(&o).contains("removed 1 output"), "{}", stderr(&o));
    assert!(!out.join("contrast/1/n01/b.png").exists());
    assert_eq!(
        listed(&out),
        [
            "contrast/1/n01",
            "contrast/1/n01/a.png",
            "contrast/1/n02",
            "contrast/1/n02/c.png"
        ]
    );
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    // a whole class deleted: its folder goes too, from OUTPUT and from the manifest, or
    // ImageFolder would count an extra class
    fs::remove_dir_all(input.join("n02")).unwrap();
    ok(&run(&args));
    assert_eq!(subfolders(&out.join("contrast/1")), ["n01"]);
    assert_eq!(listed(&out), ["contrast/1/n01", "contrast/1/n01/a.png"]);
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
}

/// The output paths of OUTPUT's manifest records (files and class folders), in manifest order.
fn listed(out: &std::path::Path) -> Vec<String> {
    manifest_records(out)
        .iter()
        .map(|r| r["output"].as_str().unwrap().to_string())
        .collect()
}

/// The same in a sharded run: each shard sweeps its own part, the last one the merged
/// manifest of the earlier run.
#[test]
fn sharded_rerun_removes_outputs_of_removed_sources() {
    let input = tmp("removed-shard-in");
    let out = tmp("removed-shard-out");
    for f in ["n01/a.png", "n01/b.png", "n02/c.png", "n02/d.png"] {
        png(&input.join(f), 20, 20);
    }
    let shard = |k: &'static str| {
        ok(&run(&contrast1(
            s(&input),
            s(&out),
            &[
                "--geometry",
                "native",
                "--image-format",
                "png",
                "--shard",
                k,
            ],
        )))
    };
    shard("0/2");
    shard("1/2");
    assert_eq!(listed(&out).len(), 4 + 2);
    fs::remove_file(input.join("n01/b.png")).unwrap();
    fs::remove_file(input.join("n02/c.png")).unwrap();
    shard("0/2");
    shard("1/2");
    assert!(!out.join("contrast/1/n01/b.png").exists());
    assert!(!out.join("contrast/1/n02/c.png").exists());
    assert_eq!(
        listed(&out),
        [
            "contrast/1/n01",
            "contrast/1/n01/a.png",
            "contrast/1/n02",
            "contrast/1/n02/d.png"
        ]
    );
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
}

/// `generate VOCdevkit/` (one level below the documented INPUT) and `VOCdevkit/VOC2007/` are
/// refused with the exact command to run instead, before anything is written (before, the
/// first ran as a plain folder: masks corrupted as photos, XML dropped, exit 0).
#[test]
fn vocdevkit_as_input_is_refused_with_the_command() {
    let voc = common::root().join("datasets/voc");
    for input in [voc.join("VOCdevkit"), voc.join("VOCdevkit/VOC2007")] {
        let out = tmp("vocdevkit-out");
        let e = err_text(&run(&contrast1(s(&input), s(&out), &[])));
        let canonical = fs::canonicalize(&voc).unwrap();
        let want = format!(
            "imgcorrupt generate {} -o {} -c contrast -s 1",
            canonical.display(),
            out.display()
        );
        assert!(e.contains(&want), "{e}\nwant: {want}");
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "nothing written");
    }
}

/// Segmentation masks are never corrupted: the folder layout leaves files in annotation
/// folders out (saying so), the voc layout carries them unchanged.
#[test]
fn masks_are_never_corrupted() {
    let input = tmp("masks-in");
    png(&input.join("VOC2012/JPEGImages/2007_000032.jpg"), 24, 16);
    png(
        &input.join("VOC2012/SegmentationClass/2007_000032.png"),
        24,
        16,
    );
    png(
        &input.join("VOC2012/SegmentationObject/2007_000032.png"),
        24,
        16,
    );
    png(&input.join("city/gtFine/x_gtFine_labelIds.png"), 8, 8);
    png(&input.join("city/masks/y.png"), 8, 8);
    let out = tmp("masks-folder");
    let o = run(&contrast1(s(&input), s(&out), &["--dataset", "folder"]));
    ok(&o);
    assert!(stderr(&o).contains("annotation folders"), "{}", stderr(&o));
    assert!(out
        .join("contrast/1/VOC2012/JPEGImages/2007_000032.jpg")
        .is_file());
    for m in [
        "VOC2012/SegmentationClass",
        "VOC2012/SegmentationObject",
        "city/gtFine",
        "city/masks",
    ] {
        assert!(!out.join("contrast/1").join(m).exists(), "{m}");
    }
    // as a VOC tree (README layout), the masks are carried byte for byte
    let root = tmp("masks-voc-in");
    let devkit = root.join("VOCdevkit");
    fs::create_dir_all(&devkit).unwrap();
    fs::rename(input.join("VOC2012"), devkit.join("VOC2012")).unwrap();
    let out = tmp("masks-voc");
    ok(&run(&contrast1(s(&root), s(&out), &[])));
    let rel = "VOCdevkit/VOC2012/SegmentationClass/2007_000032.png";
    assert_eq!(
        fs::read(out.join("contrast/1").join(rel)).unwrap(),
        fs::read(root.join(rel)).unwrap()
    );
}

/// An explicit `--dataset` that does not match the tree says so and names the layout
/// detection finds (before: a self-contradicting message for cityscapes, a silent folder run
/// for coco).
#[test]
fn explicit_dataset_mismatch_is_explained() {
    let imagenet = common::root().join("datasets/imagenet");
    for (kind, why) in [
        ("cityscapes", "no `leftImg8bit/` folder"),
        ("coco", "no `annotations/*.json` file"),
        ("voc", "no `JPEGImages/` folder"),
    ] {
        let out = tmp("mismatch-out");
        let e = err_text(&run(&contrast1(
            s(&imagenet),
            s(&out),
            &["--dataset", kind],
        )));
        assert!(
            e.contains(&format!("not a `{kind}` tree"))
                && e.contains(why)
                && e.contains("--dataset imagenet"),
            "{kind}: {e}"
        );
    }
}

/// Annotations are independent files by default: `json.dump(d, open(p, 'w'))` on a cell's
/// annotation file changes neither the clean dataset nor the other cells (before, the default
/// hard link made all of them one file).
#[test]
fn editing_a_cell_annotation_leaves_the_source_unchanged() {
    let input = tmp("ann-edit-in");
    // OUTPUT next to INPUT: the same file system, where a hard link would succeed
    let out = input.with_file_name(format!(
        "{}-out",
        input.file_name().unwrap().to_string_lossy()
    ));
    let _cleanup = OutGuard(out.clone());
    carry_and_edit(&input, &out, false);
}

/// On a file system with reflinks, the carried annotations are copy-on-write clones of the
/// source (no space used until edited), still independent files. Runs where
/// `IMGCORRUPT_REFLINK_DIR` names a folder on such a file system (`.ci/run` mounts a small XFS
/// with reflink=1 when it can: scripts/reflink_fs.sh); skipped otherwise.
#[test]
fn annotations_are_reflinked_where_the_file_system_can() {
    let Some(base) = std::env::var_os("IMGCORRUPT_REFLINK_DIR") else {
        eprintln!("skipped: IMGCORRUPT_REFLINK_DIR is not set (no reflink file system)");
        return;
    };
    let base = std::path::PathBuf::from(base).join(format!("layouts-{}", std::process::id()));
    let _cleanup = OutGuard(base.clone());
    carry_and_edit(&base.join("in"), &base.join("out"), true);
}

/// Generate a COCO tree INPUT → OUT, check that the cells' annotation files are clones of the
/// source when `reflinked` (their extents are shared, per `filefrag`), then edit one in place.
fn carry_and_edit(input: &std::path::Path, out: &std::path::Path, reflinked: bool) {
    let coco = common::root().join("datasets/coco");
    for rel in [
        "annotations/instances_val2017.json",
        "val2017/000000000139.jpg",
    ] {
        fs::create_dir_all(input.join(rel).parent().unwrap()).unwrap();
        fs::copy(coco.join(rel), input.join(rel)).unwrap();
    }
    ok(&run(&[
        "generate",
        s(input),
        "-o",
        s(out),
        "-c",
        "contrast",
        "-s",
        "1,2",
    ]));
    let src = input.join("annotations/instances_val2017.json");
    let clean = fs::read(&src).unwrap();
    let cell1 = out.join("contrast/1/annotations/instances_val2017.json");
    let cell2 = out.join("contrast/2/annotations/instances_val2017.json");
    if reflinked {
        for f in [&src, &cell1, &cell2] {
            let o = std::process::Command::new("filefrag")
                .arg("-v")
                .arg(f)
                .output()
                .expect("filefrag (e2fsprogs) runs");
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                text.contains("shared"),
                "{} is not a clone:\n{text}",
                f.display()
            );
        }
    }
    // not a hard link: each file has its own inode
    use std::os::unix::fs::MetadataExt;
    assert_ne!(
        fs::metadata(&src).unwrap().ino(),
        fs::metadata(&cell1).unwrap().ino()
    );
    // rewrite in place, as Python's open(p, 'w') does (O_TRUNC on the same inode)
    fs::write(&cell1, b"{\"images\": []}").unwrap();
    assert_eq!(fs::read(&src).unwrap(), clean, "the source changed");
    assert_eq!(fs::read(&cell2).unwrap(), clean, "another cell changed");
}

struct OutGuard(std::path::PathBuf);

impl Drop for OutGuard {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}
