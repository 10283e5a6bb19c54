//! The LAION-C and ImageNet-P suites from the command line: generate, verify, score.

mod common;

use common::{fail_text, manifest_header, ok, run, s, tmp};

#[test]
fn laion_c_generates_with_a_tile_bank_and_verifies() {
    let out = tmp("laion-c");
    let input = common::root().join("datasets/imagenet");
    let bank = common::root().join("photos");
    // mosaic without a bank is refused before anything is written
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "mosaic",
        "-s",
        "1",
    ]);
    assert!(fail_text(&o).contains("--tile-bank"), "{}", fail_text(&o));
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "laion-c",
        "-s",
        "2",
        "--tile-bank",
        s(&bank),
    ]));
    let h = manifest_header(&out);
    assert_eq!(h["preset"], "laion-c");
    assert!(h["encoders"]["jpeg"]
        .as_str()
        .unwrap()
        .contains("quality 100, 4:4:4"));
    assert_eq!(h["tile_bank"]["images"], 4);
    assert_eq!(h["tile_bank"]["sha256"].as_str().unwrap().len(), 64);
    for c in [
        "mosaic",
        "stickers",
        "glitched",
        "vertical_lines",
        "geometric_shapes",
        "luminance_checkerboard",
    ] {
        assert!(out.join(c).join("2").is_dir(), "{c}");
    }
    assert!(
        !out.join("gaussian_noise").exists(),
        "laion-c must not select the -C corruptions"
    );
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    // a changed bank is named by verify
    let bank2 = tmp("bank2");
    for f in ["chelsea_224x224.png", "coffee_97x61.png"] {
        std::fs::copy(bank.join(f), bank2.join(f)).unwrap();
    }
    let out2 = tmp("laion-c2");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&out2),
        "-c",
        "stickers",
        "-s",
        "1",
        "--tile-bank",
        s(&bank2),
    ]));
    std::fs::remove_file(bank2.join("coffee_97x61.png")).unwrap();
    let o = run(&["verify", s(&out2), "--input", s(&input)]);
    assert!(
        fail_text(&o).contains("has changed since generation"),
        "{}",
        fail_text(&o)
    );
}

#[test]
fn laion_c_compat_selects_its_preset() {
    let out = tmp("compat");
    let input = common::root().join("datasets/imagenet");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "glitched",
        "-s",
        "3",
        "--laion-c-compat",
        "--image-format",
        "png",
    ]));
    assert_eq!(manifest_header(&out)["preset"], "laion-c-compat");
}

#[test]
fn imagenet_p_generates_npy_and_verifies() {
    let out = tmp("imagenet-p");
    let input = common::root().join("datasets/imagenet");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "p:rotate,p:gaussian_noise",
        "-s",
        "1-2",
        "--sequence-format",
        "npy",
    ]));
    let npy = std::fs::read(out.join("rotate/n02123045/ILSVRC2012_val_00000003.npy")).unwrap();
    assert_eq!(npy.len(), 128 + 31 * 224 * 224 * 3);
    assert!(out
        .join("gaussian_noise_2/n02123045/ILSVRC2012_val_00000003.npy")
        .is_file());
    assert!(
        !out.join("rotate_2").exists(),
        "non-noise sequences have no difficulty folders"
    );
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    // a tampered stack is found
    let p = out.join("rotate/n02123045/ILSVRC2012_val_00000003.npy");
    let mut b = std::fs::read(&p).unwrap();
    b[5000] ^= 1;
    std::fs::write(&p, b).unwrap();
    assert!(!run(&["verify", s(&out)]).status.success());
    let o = run(&["generate", s(&input), "-o", s(&out), "-c", "p:sleet"]);
    assert!(
        fail_text(&o).contains("unknown ImageNet-P perturbation"),
        "{}",
        fail_text(&o)
    );
}

/// `--sequence-format mp4`: with the `mp4` feature, one H.264 file per sequence that decodes
/// back to the frames (PSNR) and verifies; without it, a message naming the feature.
#[test]
fn imagenet_p_mp4_or_a_clear_refusal() {
    let out = tmp("imagenet-p-mp4");
    let input = common::root().join("datasets/imagenet");
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "p:snow,p:spatter",
        "--sequence-format",
        "mp4",
    ]);
    #[cfg(not(feature = "mp4"))]
    assert!(fail_text(&o).contains("`mp4` feature"), "{}", fail_text(&o));
    #[cfg(feature = "mp4")]
    {
        use imgcorrupt::corruptions::imagenet_p::Perturbation;
        use imgcorrupt::dataset::sequences::{frames_of, load_source};
        ok(&o);
        let rel = "n02123045/ILSVRC2012_val_00000003";
        let src = std::fs::read_dir(input.join("n02123045"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|n| n.starts_with("ILSVRC2012_val_00000003"))
            .unwrap();
        let img = load_source(&input.join("n02123045").join(&src), 1 << 28).unwrap();
        for p in [Perturbation::Snow, Perturbation::Spatter] {
            let file = std::fs::read(out.join(format!("{}/{rel}.mp4", p.name()))).unwrap();
            let (w, h, frames) = imgcorrupt::codecs::mp4::h264::decode_mp4(&file).unwrap();
            assert_eq!((w, h, frames.len()), (224, 224, 31));
            let want = frames_of(&img, &format!("n02123045/{src}"), p, 1, 0);
            for (i, (a, b)) in want.iter().zip(&frames).enumerate() {
                let mse = a
                    .iter()
                    .zip(b)
                    .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
                    .sum::<f64>()
                    / a.len() as f64;
                let psnr = 10.0 * (255.0f64 * 255.0 / mse).log10();
                assert!(psnr > 30.0, "{} frame {i}: {psnr:.1} dB", p.name());
            }
        }
        ok(&run(&["verify", s(&out), "--input", s(&input)]));
    }
}

#[test]
fn score_flip_by_hand() {
    let dir = tmp("flip");
    let f = dir.join("p.csv");
    std::fs::write(
        &f,
        "perturbation,sequence,frame,ranking\nrotate,a,0,1 2 3 4 5\nrotate,a,1,2 1 3 4 5\nrotate,a,2,2 1 3 4 5\n",
    )
    .unwrap();
    let o = run(&["score", s(&f), "--flip", "-o", s(&dir.join("s.json"))]);
    ok(&o);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s.json")).unwrap()).unwrap();
    assert_eq!(v["rows"][0]["flip_prob"], 0.5);
    assert_eq!(v["rows"][0]["top5_distance"], 1.0);
    // difficulty 2: frames 0 and 2 compared: top-1 1 → 2 is a flip
    ok(&run(&[
        "score",
        s(&f),
        "--flip",
        "--difficulty",
        "2",
        "-o",
        s(&dir.join("s2.json")),
    ]));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("s2.json")).unwrap()).unwrap();
    assert_eq!(v["rows"][0]["flip_prob"], 1.0);
}

/// ImageNet-P's `-s` are difficulties (a frame step, three released noise sets): a continuous
/// severity is refused with the reason, before anything is written.
#[test]
fn imagenet_p_refuses_continuous_severity_with_the_reason() {
    let dir = common::tmp("p-cont");
    let out = dir.join("out");
    let o = common::run(&[
        "generate",
        common::s(&common::root().join("datasets/imagenet")),
        "-o",
        common::s(&out),
        "-c",
        "p:rotate",
        "-s",
        "1,2.5",
    ]);
    let e = common::err_text(&o);
    assert!(
        e.contains("ImageNet-P takes no continuous severity") && e.contains("frame step"),
        "{e}"
    );
    assert!(!out.join("rotate").exists());
}

/// ImageNet-P under the manifest machinery's rules: `--shard K/N` splits the sources, the last
/// shard merges the parts, and the merged `sequences.jsonl` and every file equal one process's
/// (threads 1 and 2 alike); `merge` rebuilds it; verify before the merge says what to do; a
/// rerun keeps finished sequences (resume) and remakes a lost one; other settings are refused.
#[test]
fn imagenet_p_shards_merge_and_resume_like_the_cells() {
    let dir = tmp("p-shards");
    let input = common::root().join("datasets/imagenet");
    let g = |out: &std::path::Path, rest: &[&str]| {
        let mut a = vec![
            "generate",
            s(&input),
            "-o",
            s(out),
            "-c",
            "p:rotate,p:gaussian_noise",
            "-s",
            "1-2",
            "--sequence-format",
            "npy",
        ];
        a.extend_from_slice(rest);
        let o = run(&a);
        ok(&o);
        common::stderr(&o)
    };
    let (one, two, sh) = (dir.join("one"), dir.join("two"), dir.join("sh"));
    g(&one, &["--threads", "1"]);
    g(&two, &["--threads", "2"]);
    g(&sh, &["--shard", "2/3"]);
    assert!(!sh.join("sequences.jsonl").exists());
    let e = fail_text(&run(&["verify", s(&sh)]));
    assert!(e.contains("imgcorrupt merge"), "{e}");
    g(&sh, &["--shard", "0/3"]);
    let e = g(&sh, &["--shard", "1/3"]);
    assert!(e.contains("merged"), "{e}");
    let files = |root: &std::path::Path| {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if p.is_dir() {
                    stack.push(p);
                } else if !rel.starts_with("sequences.shard-") && !rel.ends_with(".status.json") {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    };
    let a = files(&one);
    assert_eq!(a.len(), 1 + 4 * 3, "{:?}", a.keys().collect::<Vec<_>>());
    assert_eq!(a, files(&two));
    assert_eq!(
        a,
        files(&sh),
        "shards merged = one process, manifest included"
    );
    std::fs::remove_file(sh.join("sequences.jsonl")).unwrap();
    ok(&run(&["merge", s(&sh)]));
    assert_eq!(a, files(&sh));
    ok(&run(&["verify", s(&sh), "--input", s(&input)]));
    // resume: everything kept; a lost stack is made again, the same bytes
    let e = g(&one, &[]);
    assert!(e.contains("0 sequence(s) written, 12 skipped"), "{e}");
    let lost = "rotate/n07747607/ILSVRC2012_val_00000001.npy";
    std::fs::remove_file(one.join(lost)).unwrap();
    let e = g(&one, &[]);
    assert!(e.contains("3 sequence(s) written, 9 skipped"), "{e}");
    assert_eq!(a, files(&one));
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&one),
        "-c",
        "p:rotate,p:gaussian_noise",
        "-s",
        "1-2",
        "--sequence-format",
        "npy",
        "--seed",
        "9",
    ]);
    assert!(
        fail_text(&o).contains("other settings"),
        "{}",
        fail_text(&o)
    );
}

/// `imgcorrupt status` on an ImageNet-P run: per shard, sequences done of planned and the
/// failures (a broken source fails its sequences), a dead process's journal as interrupted,
/// and whether the parts can be merged; then the finished run.
#[test]
fn imagenet_p_status_reports_shards_failures_and_merge() {
    let dir = tmp("p-status");
    let input = dir.join("in");
    copy_tree(&common::root().join("datasets/imagenet"), &input);
    std::fs::write(input.join("n07747607/broken.JPEG"), b"\xff\xd8 not a jpeg").unwrap();
    let out = dir.join("out");
    let g = |shard: &str| {
        run(&[
            "generate",
            s(&input),
            "-o",
            s(&out),
            "-c",
            "p:rotate,p:gaussian_noise",
            "-s",
            "1-2",
            "--sequence-format",
            "npy",
            "--shard",
            shard,
        ])
    };
    let status = || {
        let o = run(&["status", s(&out)]);
        ok(&o);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // 5 sources sorted: n02123045/3, n02123045/4, n07747607/1, n07747607/broken, n07747607/x…
    let sorted = |root: &std::path::Path| {
        let mut v = Vec::new();
        for c in std::fs::read_dir(root).unwrap() {
            let c = c.unwrap().path();
            for f in std::fs::read_dir(&c).unwrap() {
                let f = f.unwrap().path();
                v.push(f.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
        v.sort();
        v
    };
    let sources = sorted(&input);
    let broken = sources.iter().position(|s| s.contains("broken")).unwrap();
    let bad_shard = broken % 2;
    let good_shard = 1 - bad_shard;
    let count = |k: usize| (0..sources.len()).filter(|i| i % 2 == k).count();
    // the shard without the broken source
    ok(&g(&format!("{good_shard}/2")));
    let t = status();
    assert!(t.contains("ImageNet-P sequence run"), "{t}");
    let line = format!(
        "shard {good_shard}/2: finished, {0}/{0} sequences done, 0 failure(s)",
        3 * count(good_shard)
    );
    assert!(t.contains(&line), "{t}");
    assert!(
        t.contains("merge: not yet") && t.contains(&format!("shard(s) {bad_shard}/2 not finished")),
        "{t}"
    );
    // a dead process's journal: interrupted, its records counted
    let part = out.join(format!("sequences.shard-{good_shard}-of-2.jsonl"));
    let journal = out.join(format!("sequences.journal-{bad_shard}-of-2.jsonl"));
    let text = std::fs::read_to_string(&part).unwrap();
    let head = text.lines().next().unwrap().replace(
        &format!("\"shard\":[{good_shard},2]"),
        &format!("\"shard\":[{bad_shard},2]"),
    );
    let rec = text.lines().nth(1).unwrap();
    std::fs::write(&journal, format!("{head}\n{rec}\n")).unwrap();
    let t = status();
    assert!(
        t.contains(&format!(
            "shard {bad_shard}/2: interrupted (rerun the same command to resume), 1/? sequences done"
        )),
        "{t}"
    );
    std::fs::remove_file(&journal).unwrap();
    // the shard with the broken source: it fails, the others are done, no merge
    let o = g(&format!("{bad_shard}/2"));
    assert!(!o.status.success());
    let t = status();
    let line = format!(
        "shard {bad_shard}/2: finished, {}/{} sequences done, 1 failure(s)",
        3 * (count(bad_shard) - 1),
        3 * count(bad_shard)
    );
    assert!(t.contains(&line), "{t}");
    assert!(t.contains("failed: n07747607/broken.JPEG"), "{t}");
    assert!(t.contains("failures: 1 in total"), "{t}");
    // the parts lack the broken source's sequences: not mergeable
    assert!(
        t.contains(&format!(
            "the parts hold {} source image(s), the run has {}",
            sources.len() - 1,
            sources.len()
        )),
        "{t}"
    );
    assert!(!out.join("sequences.jsonl").exists());
    // the broken source removed from INPUT, its shard rerun: its part is of another run now
    std::fs::remove_file(input.join("n07747607/broken.JPEG")).unwrap();
    let o = g(&format!("{bad_shard}/2"));
    ok(&o);
    let e = common::stderr(&o);
    assert!(
        e.contains("every shard finished, but") && e.contains("settings differ"),
        "{e}"
    );
    assert!(!out.join("sequences.jsonl").exists());
    // … and so is the other shard once rerun: merged, and status says so
    ok(&g(&format!("{good_shard}/2")));
    assert!(out.join("sequences.jsonl").exists());
    let t = status();
    assert!(
        t.contains("merge: possible (12 sequences, every part checked)"),
        "{t}"
    );
    for k in 0..2 {
        assert!(
            t.contains(&format!(
                "shard {k}/2: finished, 6/6 sequences done, 0 failure(s)"
            )),
            "{t}"
        );
    }
    assert!(!t.contains("failures:"), "{t}");
}

/// `imgcorrupt merge` of ImageNet-P parts checks them as one run and refuses, naming the
/// problem: a missing part, a record duplicated into another shard's part, a sequence lost
/// from a part, a part of another run, an output missing on disk, a part renamed to another
/// shard. The intact parts merge into the same manifest as before.
#[test]
fn imagenet_p_merge_refuses_missing_or_tampered_parts() {
    let dir = tmp("p-merge");
    let input = common::root().join("datasets/imagenet");
    let out = dir.join("out");
    let g = |out: &std::path::Path, shard: &str, seed: &str| {
        ok(&run(&[
            "generate",
            s(&input),
            "-o",
            s(out),
            "-c",
            "p:rotate,p:gaussian_noise",
            "-s",
            "1-2",
            "--sequence-format",
            "npy",
            "--shard",
            shard,
            "--seed",
            seed,
        ]))
    };
    for k in 0..3 {
        g(&out, &format!("{k}/3"), "0");
    }
    let merged = std::fs::read(out.join("sequences.jsonl")).unwrap();
    let part = |k: usize| out.join(format!("sequences.shard-{k}-of-3.jsonl"));
    let saved: Vec<String> = (0..3)
        .map(|k| std::fs::read_to_string(part(k)).unwrap())
        .collect();
    let restore = || {
        for (k, t) in saved.iter().enumerate() {
            std::fs::write(part(k), t).unwrap();
        }
    };
    let refused = |what: &str| {
        let o = run(&["merge", s(&out)]);
        assert!(!o.status.success(), "{what}: merged");
        let e = fail_text(&o);
        assert!(e.contains(what), "expected `{what}` in: {e}");
        restore();
    };
    // a part missing
    std::fs::remove_file(part(1)).unwrap();
    refused("2 of 3 shard part(s) present; shard(s) 1/3 not finished");
    // --allow-incomplete merges what there is
    std::fs::remove_file(part(1)).unwrap();
    ok(&run(&["merge", s(&out), "--allow-incomplete"]));
    let n = std::fs::read_to_string(out.join("sequences.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(n, 1 + 12 - saved[1].lines().count() + 1);
    restore();
    // a record of part 0 copied into part 2
    let rec = saved[0].lines().nth(1).unwrap();
    std::fs::write(part(2), format!("{}{rec}\n", saved[2])).unwrap();
    refused("recorded more than once");
    // a record taken out of part 2
    let mut lines: Vec<&str> = saved[2].lines().collect();
    lines.remove(2);
    std::fs::write(part(2), lines.join("\n") + "\n").unwrap();
    refused("2 of its 3 sequence(s) recorded");
    // a part renamed to another shard
    std::fs::write(part(1), &saved[2]).unwrap();
    refused("not the one its name gives");
    // a part of another run (another seed)
    let other = dir.join("other");
    g(&other, "1/3", "9");
    std::fs::copy(other.join("sequences.shard-1-of-3.jsonl"), part(1)).unwrap();
    refused("settings differ from the other parts");
    // a recorded output missing on disk
    let lost = out.join("gaussian_noise_2/n07747607/ILSVRC2012_val_00000001.npy");
    let bytes = std::fs::read(&lost).unwrap();
    std::fs::remove_file(&lost).unwrap();
    refused("gaussian_noise_2/n07747607/ILSVRC2012_val_00000001.npy: recorded but missing on disk");
    std::fs::write(&lost, bytes).unwrap();
    // intact again: the same manifest
    ok(&run(&["merge", s(&out)]));
    assert_eq!(std::fs::read(out.join("sequences.jsonl")).unwrap(), merged);
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dst = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).unwrap();
        }
    }
}

/// ImageNet-P has difficulties 1-3 only: the default `-s 1-5` says on stderr that it skips 4
/// and 5 (only when a noise sequence, the one kind with per-difficulty outputs, is selected);
/// an explicit request beyond 3 is refused before anything is written.
#[test]
fn imagenet_p_says_which_difficulties_it_skips() {
    let dir = tmp("p-diff");
    let input = common::root().join("datasets/imagenet");
    let g = |out: &std::path::Path, c: &str, sev: Option<&str>| {
        let mut a = vec![
            "generate",
            s(&input),
            "-o",
            s(out),
            "-c",
            c,
            "--sequence-format",
            "npy",
        ];
        if let Some(sev) = sev {
            a.extend(["-s", sev]);
        }
        run(&a)
    };
    let out = dir.join("default");
    let o = g(&out, "p:gaussian_noise", None);
    ok(&o);
    let e = common::stderr(&o);
    assert!(
        e.contains("difficulties 4, 5 of the default -s 1-5 skipped"),
        "{e}"
    );
    for d in ["gaussian_noise", "gaussian_noise_2", "gaussian_noise_3"] {
        assert!(out.join(d).is_dir(), "{d}");
    }
    assert!(!out.join("gaussian_noise_4").exists());
    // no note without a noise sequence, nor with -s 1-3
    let e = common::stderr(&g(&dir.join("rot"), "p:rotate", None));
    assert!(!e.contains("difficulties 4"), "{e}");
    let e = common::stderr(&g(&dir.join("three"), "p:gaussian_noise", Some("1-3")));
    assert!(!e.contains("difficulties 4"), "{e}");
    // explicit 4 or 5: refused, naming them
    let refused = dir.join("refused");
    let e = fail_text(&g(&refused, "p:gaussian_noise", Some("2,4-5")));
    assert!(
        e.contains("ImageNet-P difficulties are 1-3 (-s 2,4-5: no difficulty 4, 5"),
        "{e}"
    );
    assert!(!refused.join("gaussian_noise_2").exists());
}
