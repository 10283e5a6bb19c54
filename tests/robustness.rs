//! Hostile-input audit of the CLI and the dataset pipeline: paths that sneak OUTPUT into
//! INPUT, file names at the length limit, files discovery cannot use, files verify must not
//! overlook, absurd arguments and messages that repeat themselves. Each test failed before
//! the fix it guards. Images are tiny so that debug builds stay fast.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::{contrast1, err_text, run, s, stderr, tmp};

/// A small deterministic RGB PNG.
fn png(path: &Path, w: u32, h: u32) {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 37 + y * 11) as u8,
            (x * 5 + y * 23) as u8,
            (x ^ y) as u8,
        ])
    });
    img.save(path).unwrap();
}

/// Every entry under `root` (relative path → bytes; folders as empty values), hidden ones
/// included, without following links.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                stack.push(p);
            } else if meta.is_file() {
                out.insert(rel, fs::read(&p).unwrap());
            } else {
                out.insert(rel, b"<link>".to_vec());
            }
        }
    }
    out
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed:\n{}", stderr(&o));
    stderr(&o)
}

/// `-o <missing>/../<input>/x`: the guard must see through `..` after a folder that does not
/// exist yet (create_dir_all would create `<missing>` and then write inside INPUT).
#[test]
fn output_reaching_input_through_a_missing_folder_and_dotdot_is_refused() {
    let input = tmp("dotdot-in");
    png(&input.join("a.png"), 4, 3);
    let before = tree(&input);
    let parent = input.parent().unwrap();
    let missing = format!("imgcorrupt-robustness-missing-{}", std::process::id());
    let sneaky = format!(
        "{}/{missing}/../{}/x",
        parent.display(),
        input.file_name().unwrap().to_str().unwrap()
    );
    let e = err_text(&run(&contrast1(s(&input), &sneaky, &[])));
    assert!(e.contains("refusing to write into the input tree"), "{e}");
    assert_eq!(tree(&input), before, "input tree untouched");
    assert!(
        !parent.join(&missing).exists(),
        "nothing created on refusal"
    );

    // A `..` that lands outside INPUT is fine and goes where the path says.
    let out = tmp("dotdot-out");
    let fine = format!(
        "{}/{missing}/../{}/y",
        parent.display(),
        out.file_name().unwrap().to_str().unwrap()
    );
    ok(&contrast1(s(&input), &fine, &[]));
    assert!(out.join("y/contrast/1/a.png").is_file());
    let _ = fs::remove_dir_all(parent.join(&missing));
}

/// Names up to the file-system limit (255 bytes) work: the hidden temporary name an output is
/// first written to must not be longer than the limit.
#[test]
fn file_names_at_the_length_limit_are_written() {
    let input = tmp("long-in");
    let name = format!("{}.png", "n".repeat(251)); // 255 bytes
    png(&input.join(&name), 5, 4);
    let out = tmp("long-out");
    ok(&contrast1(s(&input), s(&out), &[]));
    assert!(out.join("contrast/1").join(&name).is_file());
    let e = ok(&contrast1(s(&input), s(&out), &[]));
    assert!(e.contains("1 skipped"), "{e}");
    ok(&["verify", s(&out), "--input", s(&input)]);

    // `corrupt` writes the same way.
    let single = out.join(format!("{}.png", "c".repeat(251)));
    ok(&[
        "corrupt",
        s(&input.join(&name)),
        "-o",
        s(&single),
        "-c",
        "contrast",
        "-s",
        "2",
    ]);
    assert!(single.is_file());
    for k in tree(&out).keys() {
        let base = k.trim_end_matches('/').rsplit('/').next().unwrap();
        assert!(!base.starts_with('.'), "leftover temporary file {k}");
    }
}

/// An image file that discovery cannot use (a dangling link, a name that is not UTF-8) is a
/// failure of the run, named in the final report, not a note that still exits 0.
#[test]
fn images_discovery_cannot_use_fail_the_run() {
    use std::os::unix::ffi::OsStrExt;
    let input = tmp("unusable-in");
    png(&input.join("good.png"), 4, 4);
    std::os::unix::fs::symlink("nowhere.png", input.join("broken.png")).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"bad\xffname.png");
    png(&input.join(bad), 4, 4);
    let fifo = std::process::Command::new("mkfifo")
        .arg(input.join("pipe.jpg"))
        .status()
        .is_ok_and(|st| st.success());
    // non-image files that cannot be used stay notes (the folder layout ignores them anyway)
    fs::write(
        input.join(std::ffi::OsStr::from_bytes(b"notes\xff.txt")),
        b"x",
    )
    .unwrap();
    let out = tmp("unusable-out");
    let o = run(&contrast1(s(&input), s(&out), &[]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let report = &e[e
        .find("failure(s):")
        .unwrap_or_else(|| panic!("no failure report:\n{e}"))..];
    assert!(report.contains("broken.png"), "{e}");
    assert!(
        report.contains("bad") && report.contains("not UTF-8"),
        "{e}"
    );
    assert!(!report.contains("notes"), "{e}");
    if fifo {
        assert!(report.contains("pipe.jpg: not a regular file"), "{e}");
    }
    assert!(
        e.contains(if fifo { "3 failed" } else { "2 failed" }),
        "{e}"
    );
    assert!(out.join("contrast/1/good.png").is_file());
}

/// `verify` reports files in OUTPUT that the manifest does not list (they would change what
/// a benchmark reads from a cell).
#[test]
fn verify_reports_files_not_in_the_manifest() {
    let input = tmp("extra-in");
    png(&input.join("a.png"), 4, 3);
    png(&input.join("b.png"), 3, 4);
    let out = tmp("extra-out");
    ok(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1,2",
    ]);
    ok(&["verify", s(&out)]);
    fs::copy(out.join("contrast/1/a.png"), out.join("contrast/1/c.png")).unwrap();
    fs::create_dir_all(out.join("contrast/3")).unwrap();
    fs::write(out.join("contrast/3/d.png"), b"x").unwrap();
    fs::write(out.join("contrast/1/.hidden"), b"x").unwrap(); // hidden: ignored, as in discovery
                                                              // outside the cells: not what a benchmark reads (e.g. Slurm logs), left alone
    fs::create_dir_all(out.join("logs")).unwrap();
    fs::write(out.join("logs/job_1.out"), b"x").unwrap();
    fs::write(out.join("contrast/README"), b"x").unwrap();
    let e = err_text(&run(&["verify", s(&out)]));
    assert!(e.contains("EXTRA     contrast/1/c.png"), "{e}");
    assert!(e.contains("EXTRA     contrast/3/d.png"), "{e}");
    assert!(
        !e.contains(".hidden") && !e.contains("logs") && !e.contains("README"),
        "{e}"
    );
    assert!(e.contains("2 extra"), "{e}");
    fs::remove_file(out.join("contrast/1/c.png")).unwrap();
    fs::remove_dir_all(out.join("contrast/3")).unwrap();
    ok(&["verify", s(&out)]);
}

/// An I/O error's reason appears once in the message, not `path: reason: reason`.
#[test]
fn error_messages_do_not_repeat_their_cause() {
    let dir = tmp("repeat");
    let missing = dir.join("missing.png");
    let e = err_text(&run(&[
        "corrupt",
        s(&missing),
        "-o",
        s(&dir.join("o.png")),
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("missing.png"), "{e}");
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
    let e = err_text(&run(&[
        "generate",
        s(&missing),
        "-o",
        s(&dir.join("o")),
        "-c",
        "contrast",
    ]));
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
}

/// Thread counts beyond any machine are refused by argument parsing instead of crashing
/// while spawning the pool.
#[test]
fn absurd_thread_counts_are_refused() {
    let input = tmp("threads-in");
    png(&input.join("a.png"), 4, 3);
    let out = tmp("threads-out");
    for args in [
        contrast1(s(&input), s(&out), &["--threads", "1000000"]),
        vec!["verify", s(&out), "--threads", "1000000"],
        vec!["bench", "-c", "contrast", "-s", "1", "--threads", "1000000"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("--threads") && !e.contains("panicked"), "{e}");
    }
    assert!(!out.join("contrast").exists());
}

/// `corrupt IN -o IN` (however spelled) would destroy the source: refused, file unchanged.
/// A hard link to the input is another entry: the output replaces that entry only.
#[test]
fn corrupt_refuses_to_overwrite_its_input() {
    let dir = tmp("self");
    fs::create_dir_all(dir.join("sub")).unwrap();
    let p = dir.join("a.png");
    png(&p, 6, 5);
    let before = fs::read(&p).unwrap();
    let dotted = format!("{}/./sub/../a.png", dir.display());
    for o in [s(&p), dotted.as_str()] {
        let e = err_text(&run(&[
            "corrupt",
            s(&p),
            "-o",
            o,
            "-c",
            "contrast",
            "-s",
            "3",
        ]));
        assert!(e.contains("overwrite") && e.contains("a.png"), "{e}");
    }
    assert_eq!(fs::read(&p).unwrap(), before);
    let linked = dir.join("b.png");
    fs::hard_link(&p, &linked).unwrap();
    ok(&[
        "corrupt",
        s(&p),
        "-o",
        s(&linked),
        "-c",
        "contrast",
        "-s",
        "3",
    ]);
    assert_eq!(fs::read(&p).unwrap(), before);
    assert_ne!(fs::read(&linked).unwrap(), before);
}

/// VOC XML is XML: whitespace inside tags and attributes are valid and must not be reported
/// as a missing `<size>`/`<object>`.
#[test]
fn voc_xml_with_attributes_and_whitespace_in_tags_is_accepted() {
    let root = tmp("voc-xml");
    let voc = root.join("VOCdevkit/VOC2007");
    for d in ["JPEGImages", "Annotations", "ImageSets/Main"] {
        fs::create_dir_all(voc.join(d)).unwrap();
    }
    png(&voc.join("JPEGImages/000001.png"), 4, 3);
    fs::write(
        voc.join("Annotations/000001.xml"),
        "<?xml version=\"1.0\"?>\n<annotation verified=\"yes\">\n<filename>000001.png</filename>\n\
         <size >\n<width>4</width>\n<height\n>3</height>\n<depth>3</depth></size>\n\
         <object type=\"bndbox\"><name>cat</name></object>\n</annotation >\n",
    )
    .unwrap();
    let out = tmp("voc-xml-out");
    let e = ok(&contrast1(s(&root), s(&out), &[]));
    assert!(!e.contains("no <object>"), "{e}");
    assert!(out
        .join("contrast/1/VOCdevkit/VOC2007/JPEGImages/000001.png")
        .is_file());
}

/// A rerun after a source changed regenerates that source's outputs (and re-copies a changed
/// annotation file): the result equals a fresh run on the current INPUT, and `verify --input`
/// agrees. Resuming must not keep outputs made from a file that is no longer the source.
#[test]
fn rerun_after_a_source_changed_regenerates_its_outputs() {
    let input = tmp("changed-in");
    fs::create_dir_all(input.join("val")).unwrap();
    fs::create_dir_all(input.join("annotations")).unwrap();
    png(&input.join("val/a.png"), 6, 4);
    png(&input.join("val/b.png"), 4, 6);
    let ann = input.join("annotations/instances_val.json");
    fs::write(
        &ann,
        r#"{"images":[{"file_name":"a.png"},{"file_name":"b.png"}]}"#,
    )
    .unwrap();
    let args = |out: &Path| -> Vec<String> {
        [
            "generate",
            s(&input),
            "-o",
            s(out),
            "-c",
            "contrast,pixelate",
            "-s",
            "1",
            "--annotations",
            "copy",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let run_ok = |out: &Path| {
        let a = args(out);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = tmp("changed-out");
    run_ok(&out);
    // change one image and the annotation file, then rerun into the same OUTPUT
    png(&input.join("val/a.png"), 7, 5);
    fs::write(&ann, r#"{"images":[{"file_name":"a.png"}]}"#).unwrap();
    let e = run_ok(&out);
    assert!(e.contains("2 output(s) written, 2 skipped"), "{e}");
    assert!(e.contains("2 annotation file(s) carried"), "{e}");
    let fresh = tmp("changed-fresh");
    run_ok(&fresh);
    assert_eq!(tree(&out), tree(&fresh));
    ok(&["verify", s(&out), "--input", s(&input)]);
}

/// `--preset NAME` that is neither a built-in preset nor a file says both, not a bare
/// "No such file or directory".
#[test]
fn unknown_preset_names_the_builtins() {
    let input = tmp("preset-in");
    png(&input.join("a.png"), 4, 3);
    let out = tmp("preset-out");
    let e = err_text(&run(&contrast1(
        s(&input),
        s(&out),
        &["--preset", "imagenet-z"],
    )));
    assert!(
        e.contains("preset imagenet-z")
            && e.contains("imagecorruptions")
            && e.contains("no such file"),
        "{e}"
    );
    let e = err_text(&run(&[
        "corrupt",
        s(&input.join("a.png")),
        "-o",
        s(&out.join("x.png")),
        "-c",
        "contrast",
        "-s",
        "1",
        "--preset",
        "imagenet-z",
    ]));
    assert!(
        e.contains("preset imagenet-z") && e.contains("imagecorruptions"),
        "{e}"
    );
}

/// A second run of the same shard into the same OUTPUT while the first is still going is
/// refused (it would delete the first run's temporaries as stale: failed outputs and a
/// manifest missing files). The journal's lock stands for the running process here; other
/// shards are not affected.
#[test]
fn concurrent_run_of_the_same_shard_is_refused() {
    let input = tmp("lock-in");
    png(&input.join("a.png"), 4, 3);
    png(&input.join("b.png"), 3, 4);
    let out = tmp("lock-out");
    let gen = |extra: &[&str]| run(&contrast1(s(&input), s(&out), extra));
    for (journal, shard) in [
        ("manifest.journal.jsonl", None),
        ("manifest.shard-0-of-2.journal.jsonl", Some("0/2")),
    ] {
        let held = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out.join(journal))
            .unwrap();
        held.lock().unwrap();
        let o = gen(&shard.map(|k| vec!["--shard", k]).unwrap_or_default());
        let e = err_text(&o);
        assert!(
            e.contains("another imgcorrupt is writing") && e.contains(journal),
            "{e}"
        );
        if shard.is_some() {
            // the other shard runs while shard 0 is "running"
            assert!(gen(&["--shard", "1/2"]).status.success());
        }
        drop(held);
        // Another test thread's fork may still hold a copy of `held`'s descriptor (until its
        // exec closes it) and with it the lock: wait until the lock is really free.
        let probe = fs::File::open(out.join(journal)).unwrap();
        let t0 = std::time::Instant::now();
        while probe.try_lock().is_err() {
            assert!(
                t0.elapsed().as_secs() < 30,
                "lock on {journal} never released"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(probe);
        if shard.is_none() {
            fs::remove_file(out.join(journal)).unwrap(); // the stand-in's empty journal
        }
    }
    assert!(gen(&["--shard", "0/2"]).status.success());
    ok(&["verify", s(&out)]);
}

/// Shards rerun with another shard count (a resubmitted array of another size) still merge
/// once one count is complete: outputs do not depend on N, and every part is merged in.
#[test]
fn shards_of_another_count_do_not_block_the_merge() {
    let input = tmp("mixn-in");
    for n in ["a", "b", "c", "d", "e"] {
        png(&input.join(format!("{n}.png")), 3, 3);
    }
    let out = tmp("mixn-out");
    let gen = |k: &str| ok(&contrast1(s(&input), s(&out), &["--shard", k]));
    gen("0/2");
    gen("0/3");
    gen("1/3");
    let e = gen("2/3");
    assert!(e.contains("all shards finished: merged 5 records"), "{e}");
    ok(&["verify", s(&out)]);
    let e = ok(&["merge", s(&out)]);
    assert!(e.contains("merged 5 records"), "{e}");
    let whole = tmp("mixn-whole");
    ok(&contrast1(s(&input), s(&whole), &[]));
    assert_eq!(
        fs::read(out.join("manifest.jsonl")).unwrap(),
        fs::read(whole.join("manifest.jsonl")).unwrap()
    );
}

/// `bench --size` is checked before any work: an empty, malformed or gigantic size is an
/// argument error naming `--size` (it used to blame the first photo, run a 0x0 cell, or abort
/// on a 30 GB allocation).
#[test]
fn bench_size_is_checked_up_front() {
    for bad in ["0x0", "5x0", "abc", "axb", "12", "100000x100000", "64x"] {
        let o = run(&["bench", "-c", "contrast", "-s", "1", "--size", bad, "--csv"]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("--size") && e.contains(bad), "{e}");
        assert!(o.stdout.is_empty(), "{bad}: nothing timed");
    }
    let o = run(&[
        "bench", "-c", "contrast", "-s", "1", "--size", "8x6", "--csv", "--min-ms", "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("contrast,1,8,6,"));
}

/// A preset file given by a relative path is recorded by absolute path, so `verify --input`
/// run from another folder finds it (it used to fail: "no such file").
#[test]
fn relative_preset_file_is_verifiable_from_elsewhere() {
    let dir = tmp("relpreset");
    let input = dir.join("in");
    fs::create_dir_all(&input).unwrap();
    png(&input.join("a.png"), 5, 4);
    fs::write(
        dir.join("mine.toml"),
        "[preset]\nname = \"mine\"\nextends = \"imagecorruptions\"\n[contrast]\nfactor = [0.5, 0.4, 0.3, 0.2, 0.1]\n",
    )
    .unwrap();
    let o = common::run_in(
        &dir,
        &[
            "generate",
            "in",
            "-o",
            "out",
            "-c",
            "contrast",
            "-s",
            "2",
            "--preset",
            "mine.toml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // from the package root (the test's working directory), not `dir`
    ok(&["verify", s(&dir.join("out")), "--input", s(&input)]);
    // the same file by another spelling resumes instead of being "different settings"
    let o = common::run_in(
        &input,
        &[
            "generate",
            ".",
            "-o",
            "../out",
            "-c",
            "contrast",
            "-s",
            "2",
            "--preset",
            "../mine.toml",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 skipped"), "{}", stderr(&o));
}

/// A long thin source under ImageNet geometry (shorter side to 256) is refused when the
/// resized image would exceed `--max-pixels`, as a failure of that image — a 1×40000 strip
/// would otherwise ask for gigabytes and abort the whole run.
#[test]
fn imagenet_geometry_refuses_sources_that_blow_up() {
    let input = tmp("thin-in");
    let class = input.join("n01234567");
    fs::create_dir_all(&class).unwrap();
    png(&class.join("strip.png"), 400, 1); // → 102400x256 = 26 M pixels
    png(&class.join("ok.png"), 40, 30);
    let out = tmp("thin-out");
    let o = run(&contrast1(s(&input), s(&out), &["--max-pixels", "1000000"]));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    let line = e
        .lines()
        .find(|l| l.starts_with("  ") && l.contains("strip.png"))
        .unwrap_or_else(|| panic!("strip.png not reported:\n{e}"));
    assert!(
        line.contains("102400x256") && line.contains("1000000 pixels"),
        "{line}"
    );
    assert!(out.join("contrast/1/n01234567/ok.jpg").is_file());
}

/// Whatever sits at an output's temporary name (here a link into the input tree) is
/// replaced, never written through: the run writes only inside OUTPUT.
#[test]
fn a_link_at_the_temporary_name_is_not_written_through() {
    let input = tmp("tmplink-in");
    png(&input.join("a.png"), 4, 3);
    let before = tree(&input);
    let out = tmp("tmplink-out");
    fs::create_dir_all(out.join("contrast/1")).unwrap();
    std::os::unix::fs::symlink(
        input.join("a.png"),
        out.join("contrast/1/.a.png.imgcorrupt-tmp"),
    )
    .unwrap();
    ok(&contrast1(s(&input), s(&out), &[]));
    assert_eq!(tree(&input), before, "input tree untouched");
    let meta = fs::symlink_metadata(out.join("contrast/1/a.png")).unwrap();
    assert!(meta.is_file(), "a real file, not the link");
    ok(&["verify", s(&out), "--input", s(&input)]);
}

/// A link in INPUT that leads into OUTPUT is not followed: a rerun does not read the outputs
/// back as sources (it used to corrupt them again into `<cell>/link/<cell>/…`). OUTPUT above
/// INPUT (`-o /data` for `/data/in`) still reads all of INPUT.
#[test]
fn links_from_input_into_output_are_not_followed() {
    let root = tmp("inlink");
    let input = root.join("in");
    fs::create_dir_all(&input).unwrap();
    png(&input.join("a.png"), 4, 3);
    std::os::unix::fs::symlink("../out", input.join("results")).unwrap();
    let out = root.join("out");
    for _ in 0..2 {
        ok(&contrast1(s(&input), s(&out), &[]));
    }
    let files: Vec<String> = tree(&out)
        .into_keys()
        .filter(|k| !k.ends_with('/'))
        .collect();
    assert_eq!(
        files,
        ["contrast/1/a.png", "manifest.jsonl", "manifest.status.json"]
    );

    let above = tmp("inlink-above");
    let inner = above.join("data/in");
    fs::create_dir_all(&inner).unwrap();
    png(&inner.join("b.png"), 3, 3);
    ok(&contrast1(s(&inner), s(&above), &[]));
    assert!(above.join("contrast/1/b.png").is_file());
}
