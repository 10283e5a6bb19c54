//! Webdataset shards in and out (issue 17): shards made from the fixture photos, outputs read
//! back with Python's `tarfile` (and the `webdataset` library when it is installed),
//! determinism across threads and shard splits, kill -9 + resume, every bad-shard case,
//! `--wds-cells-in-sample`, `--output-format wds` from a folder, and `status`.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{err_text, ok, run, s, stderr, tmp, Tmp, BIN};
use imgcorrupt::dataset::webdataset::tar::{Header, Member, Reader, Writer};

/// The fixture photos (PNG and JPEG), sorted.
fn photos() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for dir in ["fixtures/photos", "fixtures/datasets/imagenet/n02123045"] {
        let mut names: Vec<PathBuf> = fs::read_dir(common::root().join(&dir["fixtures/".len()..]))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            let ext = p
                .extension()
                .unwrap()
                .to_string_lossy()
                .to_ascii_lowercase();
            let ext = if ext == "jpeg" {
                "jpg".to_string()
            } else {
                ext
            };
            v.push((ext, fs::read(&p).unwrap()));
        }
    }
    v
}

/// Write `shards` shards of `per` samples each into `dir`: `<key>.<img>`, `<key>.txt`,
/// `<key>.json` (img2dataset's layout), with a non-zero mtime and an owner name.
fn make_shards(dir: &Path, shards: usize, per: usize) {
    let ph = photos();
    fs::create_dir_all(dir).unwrap();
    for sh in 0..shards {
        let mut w = Writer::new(fs::File::create(dir.join(format!("shard-{sh:05}.tar"))).unwrap());
        for i in 0..per {
            let key = format!("{sh:03}{i:04}");
            let (ext, img) = &ph[(sh * per + i) % ph.len()];
            for (name, data) in [
                (format!("{key}.{ext}"), img.clone()),
                (
                    format!("{key}.txt"),
                    format!("caption of {key}").into_bytes(),
                ),
                (
                    format!("{key}.json"),
                    format!("{{\"key\": \"{key}\"}}").into_bytes(),
                ),
            ] {
                let mut h = Header::file(&name);
                h.mtime = 1_700_000_000;
                h.uname = "tester".into();
                w.append(&h, &data).unwrap();
            }
        }
        w.finish().unwrap();
    }
}

fn members(path: &Path) -> Vec<Member> {
    let mut r = Reader::new(fs::File::open(path).unwrap());
    let mut v = Vec::new();
    while let Some(m) = r.next_member().unwrap() {
        v.push(m);
    }
    v
}

fn gen(input: &str, out: &Path, rest: &[&str]) -> std::process::Output {
    let mut a = vec![
        "generate",
        input,
        "-o",
        s(out),
        "-c",
        "contrast,gaussian_noise",
        "-s",
        "1,5",
    ];
    a.extend_from_slice(rest);
    run(&a)
}

/// Every file under `root` except the status files (relative path → bytes).
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if !rel.ends_with(".status.json") {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The files of a one-thread run `one`, checked equal to a two-thread run's and to a
/// sharded + merged run's (its per-shard manifests aside), manifest included.
fn same_runs(one: &Path, two: &Path, sharded: &Path) -> BTreeMap<String, Vec<u8>> {
    let a = files(one);
    assert_eq!(a, files(two), "two threads equal one");
    let mut c = files(sharded);
    c.retain(|k, _| !k.starts_with("manifest.shard-"));
    assert_eq!(
        a, c,
        "sharded + merged equals one process, manifest included"
    );
    a
}

fn python() -> Option<&'static str> {
    Command::new("python3")
        .arg("-c")
        .arg("import tarfile")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "python3")
}

#[test]
fn shards_in_shards_out_read_back_by_python_tarfile_and_webdataset() {
    let dir = tmp("wds-rt");
    let input = dir.join("in");
    make_shards(&input, 2, 5);
    let out = dir.join("out");
    let o = gen(s(&input), &out, &["--threads", "2"]);
    ok(&o);
    assert!(stderr(&o).contains("webdataset"), "{}", stderr(&o));
    for cell in [
        "contrast/1",
        "contrast/5",
        "gaussian_noise/1",
        "gaussian_noise/5",
    ] {
        for sh in ["shard-00000", "shard-00001"] {
            let a = members(&input.join(format!("{sh}.tar")));
            let b = members(&out.join(format!("{cell}/{sh}.tar")));
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.header.name, y.header.name, "keys and member order kept");
                assert_eq!(x.header.mtime, y.header.mtime);
                assert_eq!(x.header.uname, y.header.uname);
                if x.header.name.ends_with(".txt") || x.header.name.ends_with(".json") {
                    assert_eq!(x.data, y.data, "non-image members byte-identical");
                } else {
                    assert_ne!(x.data, y.data, "{} corrupted", x.header.name);
                    image::load_from_memory(&y.data).expect("the corrupted member decodes");
                }
            }
        }
    }
    ok(&run(&["verify", s(&out)]));
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    // a rerun does nothing
    let o = gen(s(&input), &out, &[]);
    ok(&o);
    assert!(
        stderr(&o).contains("0 output(s) written, 8 skipped"),
        "{}",
        stderr(&o)
    );

    let Some(py) = python() else {
        eprintln!("python3 not found: tarfile check skipped");
        return;
    };
    let script = r#"
import sys, tarfile
inp, out = sys.argv[1], sys.argv[2]
a = tarfile.open(inp); b = tarfile.open(out)
ma, mb = a.getmembers(), b.getmembers()
assert [m.name for m in ma] == [m.name for m in mb], "names"
for x, y in zip(ma, mb):
    assert y.isfile()
    if x.name.endswith((".txt", ".json")):
        assert a.extractfile(x).read() == b.extractfile(y).read()
print("tarfile ok", len(mb))
try:
    import webdataset as wds
except ImportError:
    print("webdataset not installed: skipped"); sys.exit(0)
keys_a = [s["__key__"] for s in wds.WebDataset(inp, shardshuffle=False)]
got = list(wds.WebDataset(out, shardshuffle=False))
assert [s["__key__"] for s in got] == keys_a, "keys"
for s in got:
    assert set(k for k in s if not k.startswith("__")) >= {"txt", "json"}, s.keys()
    assert s["txt"] == ("caption of " + s["__key__"]).encode()
print("webdataset ok", len(got))
"#;
    let o = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(input.join("shard-00001.tar"))
        .arg(out.join("gaussian_noise/5/shard-00001.tar"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    eprintln!("{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn python_written_gnu_and_pax_shards_with_long_names_are_read() {
    let Some(py) = python() else {
        eprintln!("python3 not found: skipped");
        return;
    };
    let dir = tmp("wds-py");
    let input = dir.join("in");
    fs::create_dir_all(&input).unwrap();
    let png = common::root().join("photos/coffee_97x61.png");
    let script = r#"
import sys, tarfile, io
png = open(sys.argv[2], "rb").read()
for fmt, name in [(tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")]:
    with tarfile.open(f"{sys.argv[1]}/{name}.tar", "w", format=fmt) as t:
        for key in ["a" * 130 + "/k0", "short/k1"]:
            for ext, data in [("png", png), ("cls", b"3")]:
                ti = tarfile.TarInfo(f"{key}.{ext}"); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
"#;
    let o = Command::new(py)
        .args(["-c", script, s(&input), s(&png)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.join("out");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "2",
    ]));
    for name in ["gnu", "pax"] {
        let m = members(&out.join(format!("contrast/2/{name}.tar")));
        let names: Vec<&str> = m.iter().map(|m| m.header.name.as_str()).collect();
        let long = format!("{}/k0", "a".repeat(130));
        assert_eq!(
            names,
            [
                format!("{long}.png"),
                format!("{long}.cls"),
                "short/k1.png".into(),
                "short/k1.cls".into()
            ]
        );
    }
    // and Python reads our long names back
    let o = Command::new(py)
        .args([
            "-c",
            "import sys, tarfile; n=[m.name for m in tarfile.open(sys.argv[1])]; assert n[0] == 'a'*130 + '/k0.png', n; print(n)",
            s(&out.join("contrast/2/gnu.tar")),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn one_thread_two_threads_and_sharded_merge_give_identical_manifests() {
    let dir = tmp("wds-det");
    let input = dir.join("in");
    make_shards(&input, 4, 3);
    let one = dir.join("one");
    let two = dir.join("two");
    ok(&gen(s(&input), &one, &["--threads", "1"]));
    ok(&gen(s(&input), &two, &["--threads", "2"]));
    let sharded = dir.join("sharded");
    for k in [2, 0, 1] {
        let spec = format!("{k}/3");
        let o = gen(s(&input), &sharded, &["--threads", "1", "--shard", &spec]);
        ok(&o);
        if k != 1 {
            assert!(!sharded.join("manifest.jsonl").exists());
            let st = run(&["status", s(&sharded)]);
            ok(&st);
            let text = String::from_utf8_lossy(&st.stdout).into_owned();
            assert!(text.contains("merge: not yet"), "{text}");
        }
    }
    let st = run(&["status", s(&sharded)]);
    let text = String::from_utf8_lossy(&st.stdout).into_owned();
    assert!(
        text.contains("shard 0/3: finished, 2/2 shards done") && text.contains("merge: possible"),
        "{text}"
    );
    same_runs(&one, &two, &sharded);
    // a brace pattern naming the same shards, and `--shard` taking every N-th tar
    let pat = format!("{}/shard-{{00000..00003}}.tar", input.display());
    let braced = dir.join("braced");
    ok(&gen(&pat, &braced, &["--threads", "2"]));
    assert_eq!(
        fs::read(one.join("manifest.jsonl")).unwrap(),
        fs::read(braced.join("manifest.jsonl")).unwrap()
    );
    let part = dir.join("part");
    ok(&gen(s(&input), &part, &["--shard", "1/2"]));
    let mut got: Vec<String> = fs::read_dir(part.join("contrast/1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(got, ["shard-00001.tar", "shard-00003.tar"]);
}

#[test]
fn kill_9_then_resume_equals_uninterrupted_run() {
    let dir = tmp("wds-kill");
    let input = dir.join("in");
    make_shards(&input, 8, 4);
    let args = |out: &Path| -> Vec<String> {
        [
            "generate",
            s(&input),
            "-o",
            s(out),
            "-c",
            "gaussian_noise,shot_noise,impulse_noise,contrast,pixelate,brightness",
            "-s",
            "1-5",
            "--threads",
            "1",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let full = dir.join("full");
    let o = Command::new(BIN).args(args(&full)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let killed = dir.join("killed");
    let mut child = Command::new(BIN)
        .args(args(&killed))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while t0.elapsed() < std::time::Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        let j = killed.join("manifest.journal.jsonl");
        if fs::read_to_string(&j)
            .map(|t| t.lines().count() > 40)
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let interrupted = !killed.join("manifest.jsonl").exists();
    eprintln!("killed mid-run: {interrupted}");
    if interrupted {
        let st = run(&["status", s(&killed)]);
        let text = String::from_utf8_lossy(&st.stdout).into_owned();
        assert!(text.contains("interrupted"), "{text}");
    }
    let o = Command::new(BIN).args(args(&killed)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    if interrupted {
        assert!(!stderr(&o).contains(" 0 skipped"), "{}", stderr(&o));
    }
    assert_eq!(files(&full), files(&killed));
    ok(&run(&["verify", s(&killed)]));
}

/// Copy the good shard and write the bad ones next to it.
fn bad_shards(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    make_shards(&input, 1, 3);
    let good = fs::read(input.join("shard-00000.tar")).unwrap();
    let ms = members(&input.join("shard-00000.tar"));
    // truncated inside the second sample's image
    let sample0: usize = ms[..3]
        .iter()
        .map(|m| 512 + m.data.len().div_ceil(512) * 512)
        .sum();
    fs::write(input.join("truncated.tar"), &good[..sample0 + 512 + 700]).unwrap();
    // cut at a member boundary: no end-of-archive marker
    let mut w = Writer::new(Vec::new());
    for m in &ms[..3] {
        w.append(&m.header, &m.data).unwrap();
    }
    let bytes = w.finish().unwrap();
    fs::write(input.join("no-end.tar"), &bytes[..bytes.len() - 1024]).unwrap();
    // a damaged header
    let mut corrupt = good.clone();
    let second = 512 + ms[0].data.len().div_ceil(512) * 512;
    corrupt[second + 10] ^= 0x55;
    fs::write(input.join("corrupt.tar"), corrupt).unwrap();
    // duplicate key, a sample without image, an undecodable image
    let mut w = Writer::new(fs::File::create(input.join("samples.tar")).unwrap());
    let img = &ms[0].data;
    for (n, d) in [
        ("k1.png", &img[..]),
        ("k1.txt", b"one"),
        ("k2.txt", b"no image here"),
        ("k3.png", b"not a png"),
        ("k3.txt", b"three"),
        ("k1.json", b"{}"),
        ("k4.png", &img[..]),
    ] {
        w.append(&Header::file(n), d).unwrap();
    }
    w.finish().unwrap();
    input
}

#[test]
fn bad_shards_are_reported_by_shard_and_key_and_the_rest_continues() {
    let dir = tmp("wds-bad");
    let input = bad_shards(&dir);
    let out = dir.join("out");
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1",
        "--threads",
        "2",
    ]);
    let e = err_text(&o);
    let lines: Vec<&str> = e.lines().collect();
    let has = |parts: &[&str]| lines.iter().any(|l| parts.iter().all(|p| l.contains(p)));
    assert!(has(&["truncated.tar", "key `0000001`", "truncated"]), "{e}");
    assert!(
        has(&["no-end.tar", "after key `0000000`", "end-of-archive"]),
        "{e}"
    );
    assert!(
        has(&["corrupt.tar", "after key `0000000`", "checksum"]),
        "{e}"
    );
    assert!(has(&["samples.tar", "key `k1`", "duplicate key"]), "{e}");
    assert!(has(&["samples.tar", "key `k2`", "no image member"]), "{e}");
    assert!(has(&["samples.tar", "key `k3`"]), "{e}");
    assert!(e.contains("6 failure(s)"), "{e}");
    // the good shard and the good samples are written; the broken shards are not
    let cell = out.join("contrast/1");
    assert!(cell.join("shard-00000.tar").exists());
    assert!(!cell.join("truncated.tar").exists() && !cell.join("corrupt.tar").exists());
    let names: Vec<String> = members(&cell.join("samples.tar"))
        .into_iter()
        .map(|m| m.header.name)
        .collect();
    assert_eq!(names, ["k1.png", "k1.txt", "k4.png"]);
    ok(&run(&["verify", s(&out)]));
    let st = String::from_utf8_lossy(&run(&["status", s(&out)]).stdout).into_owned();
    assert!(st.contains("6 failure(s)"), "{st}");
    // a rerun retries the broken shards only, and reports them again
    let o = run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "1",
    ]);
    let e = err_text(&o);
    assert!(
        e.contains("truncated.tar") && e.contains("2 skipped"),
        "{e}"
    );
}

#[test]
fn cells_in_sample_layout() {
    let dir = tmp("wds-ins");
    let input = dir.join("in");
    make_shards(&input, 2, 2);
    let out = dir.join("out");
    ok(&gen(s(&input), &out, &["--wds-cells-in-sample"]));
    let a = members(&input.join("shard-00001.tar"));
    let b = members(&out.join("shard-00001.tar"));
    let names: Vec<&str> = b.iter().map(|m| m.header.name.as_str()).collect();
    let ext = a[0].header.name.rsplit('.').next().unwrap().to_string();
    let key = a[0].header.name.split('.').next().unwrap();
    let mut want: Vec<String> = a[..3].iter().map(|m| m.header.name.clone()).collect();
    // cells in catalogue order
    for c in [
        "gaussian_noise.1",
        "gaussian_noise.5",
        "contrast.1",
        "contrast.5",
    ] {
        want.push(format!("{key}.{c}.{ext}"));
    }
    assert_eq!(
        &names[..7],
        want.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for (x, y) in a[..3].iter().zip(&b[..3]) {
        assert_eq!(x.data, y.data, "the sample's own members are unchanged");
    }
    // the cell members equal the cells layout's images (same seed rule)
    let cells = dir.join("cells");
    ok(&gen(s(&input), &cells, &[]));
    let c = members(&cells.join("gaussian_noise/5/shard-00001.tar"));
    assert_eq!(b[4].data, c[0].data);
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    assert!(!out.join("contrast").exists());
}

#[test]
fn output_format_wds_from_a_folder_equals_the_folder_run() {
    let input = common::root().join("datasets/imagenet");
    let dir = tmp("wds-from-folder");
    let folder = dir.join("folder");
    let shards = dir.join("shards");
    let args = ["-c", "contrast,gaussian_noise", "-s", "1,5"];
    let mut a = vec!["generate", s(&input), "-o", s(&folder)];
    a.extend_from_slice(&args);
    ok(&run(&a));
    let mut a = vec![
        "generate",
        s(&input),
        "-o",
        s(&shards),
        "--output-format",
        "wds",
        "--wds-shard-size",
        "3",
    ];
    a.extend_from_slice(&args);
    ok(&run(&a));
    let m0 = members(&shards.join("contrast/5/000000.tar"));
    let m1 = members(&shards.join("contrast/5/000001.tar"));
    assert_eq!(m0.len(), 3);
    assert_eq!(m1.len(), 1);
    assert_eq!(m0[0].header.name, "n02123045/ILSVRC2012_val_00000003.jpeg");
    for m in m0.iter().chain(&m1) {
        let stem = m.header.name.trim_end_matches(".jpeg");
        let f = fs::read(folder.join(format!("contrast/5/{stem}.JPEG"))).unwrap();
        assert_eq!(
            m.data, f,
            "{}: the shard member is the folder run's file",
            m.header.name
        );
    }
    ok(&run(&["verify", s(&shards), "--input", s(&input)]));
    // by bytes: a limit of the largest source cuts the four sources into several shards
    let sz = [
        "n02123045/ILSVRC2012_val_00000003.JPEG",
        "n02123045/ILSVRC2012_val_00000004.JPEG",
        "n07747607/ILSVRC2012_val_00000001.JPEG",
        "n07747607/ILSVRC2012_val_00000002.JPEG",
    ]
    .iter()
    .map(|f| fs::metadata(input.join(f)).unwrap().len())
    .max()
    .unwrap();
    let limit = format!("{sz}B");
    let bytes = dir.join("bytes");
    let mut a = vec![
        "generate",
        s(&input),
        "-o",
        s(&bytes),
        "--output-format",
        "wds",
        "--wds-shard-size",
        &limit,
    ];
    a.extend_from_slice(&args);
    ok(&run(&a));
    assert!(bytes.join("contrast/1/000001.tar").exists());
}

#[test]
fn refusals() {
    let dir: Tmp = tmp("wds-refuse");
    let input = dir.join("in");
    make_shards(&input, 1, 1);
    // output = the shards' folder with the in-sample layout would overwrite the input
    let e = err_text(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&input),
        "-c",
        "contrast",
        "-s",
        "1",
        "--wds-cells-in-sample",
    ]));
    assert!(e.contains("refusing"), "{e}");
    let e = err_text(&run(&[
        "generate",
        &format!("{}/x-{{0..1}}.tar", input.display()),
        "-o",
        s(&dir.join("o")),
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("does not exist"), "{e}");
    let e = err_text(&run(&[
        "generate",
        s(&common::root().join("datasets/imagenet")),
        "-o",
        s(&dir.join("o2")),
        "--wds-cells-in-sample",
    ]));
    assert!(e.contains("needs webdataset input"), "{e}");
}

#[test]
fn the_image_member_is_configurable() {
    let dir = tmp("wds-member");
    let input = dir.join("in");
    fs::create_dir_all(&input).unwrap();
    let png = fs::read(common::root().join("photos/coffee_97x61.png")).unwrap();
    let mut w = Writer::new(fs::File::create(input.join("s.tar")).unwrap());
    for n in ["k.seg.png", "k.photo.png", "k.txt"] {
        w.append(&Header::file(n), &png).unwrap();
    }
    w.finish().unwrap();
    // without a plain .png member, the default finds no image
    let e = err_text(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&dir.join("a")),
        "-c",
        "contrast",
        "-s",
        "3",
    ]));
    assert!(e.contains("key `k`: no image member"), "{e}");
    let out = dir.join("b");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "3",
        "--wds-image",
        "photo.png",
    ]));
    let m = members(&out.join("contrast/3/s.tar"));
    let names: Vec<&str> = m.iter().map(|m| m.header.name.as_str()).collect();
    assert_eq!(names, ["k.seg.png", "k.photo.png", "k.txt"]);
    assert_eq!(m[0].data, png, "the mask is copied");
    assert_ne!(m[1].data, png, "the photo is corrupted");
    assert_eq!(m[2].data, png);
}

/// Continuous severities (issue 16) with webdataset input and `--output-format wds`: cells
/// `fog/2.5/<shard>.tar` beside the level cells; threads 1 = 2 = three process shards merged
/// (manifest included); from a folder, every member is the folder run's `fog/2.5/` file;
/// verify regenerates them and reports a stray file in a continuous cell.
#[test]
fn continuous_severities_in_and_out_of_shards() {
    let dir = tmp("wds-cont");
    let input = dir.join("in");
    make_shards(&input, 3, 2);
    let cells = ["-c", "fog,gaussian_noise", "-s", "0.5,2.5,3"];
    let g = |out: &Path, rest: &[&str]| {
        let mut a = vec!["generate", s(&input), "-o", s(out)];
        a.extend_from_slice(&cells);
        a.extend_from_slice(rest);
        ok(&run(&a));
    };
    let (one, two, sh) = (dir.join("one"), dir.join("two"), dir.join("sh"));
    g(&one, &["--threads", "1"]);
    g(&two, &["--threads", "2"]);
    for k in [1, 2, 0] {
        g(&sh, &["--shard", &format!("{k}/3")]);
    }
    let a = same_runs(&one, &two, &sh);
    for cell in ["fog/0.5", "fog/2.5", "fog/3", "gaussian_noise/2.5"] {
        for k in 0..3 {
            assert!(
                a.contains_key(&format!("{cell}/shard-{k:05}.tar")),
                "{cell}: {:?}",
                a.keys().collect::<Vec<_>>()
            );
        }
    }
    assert!(a["fog/2.5/shard-00000.tar"] != a["fog/3/shard-00000.tar"]);
    let text = fs::read_to_string(one.join("manifest.jsonl")).unwrap();
    assert!(text.contains("\"severity\":2.5"), "{text}");
    ok(&run(&["verify", s(&one), "--input", s(&input)]));

    // --output-format wds from a folder: the members are the folder run's files
    let inet = common::root().join("datasets/imagenet");
    let (folder, shards) = (dir.join("folder"), dir.join("shards"));
    ok(&run(&[
        "generate",
        s(&inet),
        "-o",
        s(&folder),
        "-c",
        "fog",
        "-s",
        "2.5",
    ]));
    ok(&run(&[
        "generate",
        s(&inet),
        "-o",
        s(&shards),
        "-c",
        "fog",
        "-s",
        "2.5",
        "--output-format",
        "wds",
    ]));
    let m = members(&shards.join("fog/2.5/000000.tar"));
    assert_eq!(m.len(), 4);
    for mem in &m {
        let stem = mem.header.name.trim_end_matches(".jpeg");
        let f = fs::read(folder.join(format!("fog/2.5/{stem}.JPEG"))).unwrap();
        assert!(mem.data == f, "{}", mem.header.name);
    }
    let v = run(&["verify", s(&shards), "--input", s(&inet)]);
    ok(&v);
    assert!(
        stderr(&v).contains("4 regenerated, 0 differ")
            || String::from_utf8_lossy(&v.stdout).contains("4 regenerated, 0 differ")
    );
    fs::write(shards.join("fog/2.5/stray.tar"), b"x").unwrap();
    let e = common::fail_text(&run(&["verify", s(&shards)]));
    assert!(e.contains("fog/2.5/stray.tar"), "{e}");
}

/// `--severity-schedule` with `--output-format wds` (issue 16): cells
/// `fog/schedule/<shard>.tar`; threads 1 = 2 = three process shards merged (manifest
/// included); each image member is the folder run's `fog/schedule/` file and is followed by a
/// `<key>.json` member carrying its severity, which its manifest record also holds; verify
/// regenerates the members; `score --dataset` bins member predictions as for folder outputs.
/// Webdataset input is refused with the reason.
#[test]
fn severity_schedule_with_webdataset_output() {
    let dir = tmp("wds-sched");
    let inet = common::root().join("datasets/imagenet");
    let g = |out: &Path, rest: &[&str]| {
        let mut a = vec![
            "generate",
            s(&inet),
            "-o",
            s(out),
            "-c",
            "fog,gaussian_noise",
            "--severity-schedule",
            "linear:0-4.5",
            "--output-format",
            "wds",
            "--wds-shard-size",
            "2",
        ];
        a.extend_from_slice(rest);
        ok(&run(&a));
    };
    let (one, two, sh) = (dir.join("one"), dir.join("two"), dir.join("sh"));
    g(&one, &["--threads", "1"]);
    g(&two, &["--threads", "2"]);
    for k in [2, 0, 1] {
        g(&sh, &["--shard", &format!("{k}/3")]);
    }
    let a = same_runs(&one, &two, &sh);
    assert!(a.contains_key("fog/schedule/000000.tar") && a.contains_key("fog/schedule/000001.tar"));
    // the folder run of the same schedule: its files are the members
    let folder = dir.join("folder");
    ok(&run(&[
        "generate",
        s(&inet),
        "-o",
        s(&folder),
        "-c",
        "fog,gaussian_noise",
        "--severity-schedule",
        "linear:0-4.5",
    ]));
    let recs = common::file_records(&folder);
    let by_source: BTreeMap<String, f64> = recs
        .iter()
        .filter(|r| r["corruption"] == "fog")
        .map(|r| {
            (
                r["source"].as_str().unwrap().to_string(),
                r["scheduled_severity"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_source.values().copied().collect::<Vec<_>>(),
        [0.0, 1.5, 3.0, 4.5]
    );
    let mut images = 0;
    for t in ["000000", "000001"] {
        let m = members(&one.join(format!("fog/schedule/{t}.tar")));
        assert_eq!(m.len(), 4, "two images, each with its json");
        for pair in m.chunks(2) {
            let (img, json) = (&pair[0], &pair[1]);
            let stem = img.header.name.trim_end_matches(".jpeg");
            assert_eq!(json.header.name, format!("{stem}.json"));
            let f = fs::read(folder.join(format!("fog/schedule/{stem}.JPEG"))).unwrap();
            assert!(img.data == f, "{}", img.header.name);
            let v: serde_json::Value = serde_json::from_slice(&json.data).unwrap();
            let want = by_source[&format!("{stem}.JPEG")];
            assert_eq!(v["scheduled_severity"].as_f64().unwrap(), want, "{stem}");
            images += 1;
        }
    }
    assert_eq!(images, 4);
    // the manifest: each image member with its severity
    let text = fs::read_to_string(one.join("manifest.jsonl")).unwrap();
    let mut csv = String::from("path,label,pred\n");
    let mut n = 0;
    for line in text.lines().skip(1) {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let out = r["output"].as_str().unwrap();
        if r["corruption"] == "fog" && out.ends_with(".jpeg") {
            let sev = r["scheduled_severity"].as_f64().unwrap();
            assert_eq!(sev, by_source[r["source"].as_str().unwrap()], "{out}");
            assert_eq!(r["severity"], "schedule");
            csv += &format!("{out},n1,{}\n", if sev >= 2.0 { "n2" } else { "n1" });
            n += 1;
        }
    }
    assert_eq!(n, 4);
    let v = run(&["verify", s(&one), "--input", s(&inet)]);
    ok(&v);
    let t = format!("{}{}", stderr(&v), String::from_utf8_lossy(&v.stdout));
    assert!(t.contains("8 regenerated, 0 differ"), "{t}");
    // score: bins from the manifest, as for folder outputs
    let preds = dir.join("preds.csv");
    fs::write(&preds, csv).unwrap();
    let out_csv = dir.join("score.csv");
    ok(&run(&[
        "score",
        s(&preds),
        "--dataset",
        s(&one),
        "-o",
        s(&out_csv),
    ]));
    let rows = fs::read_to_string(&out_csv).unwrap();
    for want in [
        "schedule_error,fog,50,",
        "schedule_error_0-1,fog,0,1 images",
        "schedule_error_1-2,fog,0,1 images",
        "schedule_error_3-4,fog,100,1 images",
        "schedule_error_4-5,fog,100,1 images",
    ] {
        assert!(rows.contains(want), "{want} not in\n{rows}");
    }
    // the `<key>.json` members are recorded like other non-image members: the severity is on
    // the image's record only (one per image)
    let recs: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let jsons: Vec<_> = recs
        .iter()
        .filter(|r| r["output"].as_str().unwrap().ends_with(".json"))
        .collect();
    assert_eq!(jsons.len(), 8);
    assert!(jsons
        .iter()
        .all(|r| r.get("scheduled_severity").is_none() && r.get("seed").is_none()));
    assert_eq!(
        recs.iter()
            .filter(|r| r.get("scheduled_severity").is_some())
            .count(),
        8
    );
}

/// `generate INPUT -o OUT -c fog,contrast --severity-schedule SCHEDULE REST…`
fn scheduled(input: &Path, out: &Path, schedule: &str, rest: &[&str]) -> std::process::Output {
    let mut a = vec![
        "generate",
        s(input),
        "-o",
        s(out),
        "-c",
        "fog,contrast",
        "--severity-schedule",
        schedule,
    ];
    a.extend_from_slice(rest);
    run(&a)
}

/// `--severity-schedule` over webdataset input (issue 16): a first pass over the member
/// headers numbers the samples in stream order (shards in order, samples in archive order;
/// a member of no sample does not count), so sample i of N gets the schedule's
/// severity for i of N. Checked: threads 1 = 2 = three process shards merged, byte for byte
/// with the manifest; each image record's severity against the formula; the severity member
/// is `<key>.json` when the sample has none, else `<key>.scheduled_severity.json` (the
/// sample's own `.json` copied unchanged); a member at severity 1 is the `-s 1` run's member
/// (same seed rule); verify regenerates all and catches a tampered member.
#[test]
fn severity_schedule_over_webdataset_input() {
    let dir = tmp("wds-in-sched");
    let input = dir.join("in");
    make_shards(&input, 2, 3);
    // a third shard: a member of no sample (copied, not counted), then an image-only sample
    let ph = photos();
    let mut w = Writer::new(fs::File::create(input.join("shard-00002.tar")).unwrap());
    w.append(&Header::file("README"), b"no sample").unwrap();
    w.append(&Header::file("0020001.png"), &ph[0].1).unwrap();
    w.finish().unwrap();
    assert_eq!(ph[0].0, "png");
    let g = |out: &Path, rest: &[&str]| scheduled(&input, out, "linear:0-3", rest);
    let (one, two, sh) = (dir.join("one"), dir.join("two"), dir.join("sh"));
    ok(&g(&one, &["--threads", "1"]));
    ok(&g(&two, &["--threads", "2"]));
    for k in [1, 2, 0] {
        ok(&g(&sh, &["--shard", &format!("{k}/3")]));
    }
    same_runs(&one, &two, &sh);
    // stream order: shard 0's three samples, shard 1's three, shard 2's image-only sample
    let keys = [
        "shard-00000.tar/0000000",
        "shard-00000.tar/0000001",
        "shard-00000.tar/0000002",
        "shard-00001.tar/0010000",
        "shard-00001.tar/0010001",
        "shard-00001.tar/0010002",
        "shard-00002.tar/0020001",
    ];
    let text = fs::read_to_string(one.join("manifest.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["severity_schedule"], "linear:0-3");
    let recs: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut seen = 0;
    for r in recs
        .iter()
        .filter(|r| r.get("scheduled_severity").is_some())
    {
        let out = r["output"].as_str().unwrap();
        let src = r["source"].as_str().unwrap();
        let i = keys
            .iter()
            .position(|k| src.starts_with(&format!("{k}.")))
            .unwrap_or_else(|| panic!("{src}"));
        let want = 3.0 * i as f64 / 6.0;
        assert_eq!(r["scheduled_severity"].as_f64().unwrap(), want, "{out}");
        assert_eq!(r["severity"], "schedule");
        assert!(r["seed"].is_u64(), "{out}");
        seen += 1;
    }
    assert_eq!(seen, 14, "one record per image and corruption");
    // the severity member's name and content
    let m = members(&one.join("fog/schedule/shard-00000.tar"));
    let names: Vec<&str> = m.iter().map(|x| x.header.name.as_str()).collect();
    assert_eq!(
        &names[..4],
        [
            "0000000.png",
            "0000000.scheduled_severity.json",
            "0000000.txt",
            "0000000.json"
        ]
    );
    assert_eq!(m[1].data, b"{\"scheduled_severity\":0}");
    assert_eq!(m[3].data, b"{\"key\": \"0000000\"}");
    let m2 = members(&one.join("fog/schedule/shard-00002.tar"));
    let names: Vec<&str> = m2.iter().map(|x| x.header.name.as_str()).collect();
    assert_eq!(names, ["README", "0020001.png", "0020001.json"]);
    assert_eq!(m2[2].data, b"{\"scheduled_severity\":3}");
    // sample 2 sits at severity 1: its member is the `-s 1` run's
    let lv = dir.join("levels");
    ok(&run(&[
        "generate",
        s(&input),
        "-o",
        s(&lv),
        "-c",
        "fog",
        "-s",
        "1",
    ]));
    let find = |tar: &Path, name: &str| {
        members(tar)
            .into_iter()
            .find(|x| x.header.name == name)
            .unwrap()
            .data
    };
    let img = m[2 * 4].header.name.clone();
    assert!(img.starts_with("0000002."), "{img}");
    assert!(find(&lv.join("fog/1/shard-00000.tar"), &img) == m[2 * 4].data);
    // verify regenerates every corrupted member; a tampered member is caught
    let v = run(&["verify", s(&sh), "--input", s(&input)]);
    ok(&v);
    let t = format!("{}{}", stderr(&v), String::from_utf8_lossy(&v.stdout));
    assert!(t.contains("14 regenerated, 0 differ"), "{t}");
    let tar = sh.join("contrast/schedule/shard-00001.tar");
    let mut w = Writer::new(Vec::new());
    let mut tampered = 0;
    for mut x in members(&tar) {
        if x.header.name == "0010001.jpg" {
            let k = x.data.len() / 2;
            x.data[k] ^= 0x20;
            tampered += 1;
        }
        w.append(&x.header, &x.data).unwrap();
    }
    assert_eq!(tampered, 1);
    fs::write(&tar, w.finish().unwrap()).unwrap();
    let e = common::fail_text(&run(&["verify", s(&sh), "--input", s(&input)]));
    assert!(
        e.contains("contrast/schedule/shard-00001.tar/0010001."),
        "{e}"
    );
}

/// `--severity-schedule` with `--wds-cells-in-sample`: every corruption's image member
/// `<key>.<corruption>.schedule.<ext>` is followed by its own severity member
/// `<key>.<corruption>.schedule.json` holding the manifest's `scheduled_severity` (the
/// sample's `<key>.json` stays the input's). Checked: threads 1 = 2 = two process shards
/// merged, byte for byte; names and contents by position in the stream; the image equals the
/// one-shard-per-cell layout's; verify regenerates every image.
#[test]
fn severity_schedule_with_cells_in_sample() {
    let dir = tmp("wds-ins-sched");
    let input = dir.join("in");
    make_shards(&input, 2, 2);
    let g = |out: &Path, rest: &[&str]| scheduled(&input, out, "linear:1-4", rest);
    let (one, two, sh) = (dir.join("one"), dir.join("two"), dir.join("sh"));
    ok(&g(&one, &["--wds-cells-in-sample", "--threads", "1"]));
    ok(&g(&two, &["--wds-cells-in-sample", "--threads", "2"]));
    for k in [1, 0] {
        ok(&g(
            &sh,
            &["--wds-cells-in-sample", "--shard", &format!("{k}/2")],
        ));
    }
    same_runs(&one, &two, &sh);
    let text = fs::read_to_string(one.join("manifest.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cells = dir.join("cells");
    ok(&g(&cells, &[]));
    for (n, sh) in ["shard-00000.tar", "shard-00001.tar"].iter().enumerate() {
        let inp = members(&input.join(sh));
        let out = members(&one.join(sh));
        let per_cell = members(&cells.join("fog/schedule").join(sh));
        for i in 0..2 {
            let key = format!("{n:03}{i:04}");
            let ext = inp[3 * i]
                .header
                .name
                .rsplit('.')
                .next()
                .unwrap()
                .to_string();
            // sample i of shard n is image 2n + i of 4: linear 1 → 4
            let want = 1.0 + 3.0 * (2 * n + i) as f64 / 3.0;
            let at = |name: &str| {
                out.iter()
                    .position(|m| m.header.name == name)
                    .unwrap_or_else(|| panic!("{sh}: no {name}"))
            };
            // the sample's own json is the input's, unchanged
            let own = &out[at(&format!("{key}.json"))];
            assert_eq!(own.data, inp[3 * i + 2].data);
            for corr in ["fog", "contrast"] {
                let stem = format!("{key}.{corr}.schedule");
                let img = at(&format!("{stem}.{ext}"));
                let json = at(&format!("{stem}.json"));
                assert_eq!(json, img + 1, "severity member right after its image");
                let v: serde_json::Value = serde_json::from_slice(&out[json].data).unwrap();
                assert!((v["scheduled_severity"].as_f64().unwrap() - want).abs() < 1e-9);
                let rec = recs
                    .iter()
                    .find(|r| r["output"] == format!("{sh}/{stem}.{ext}"))
                    .unwrap();
                assert_eq!(rec["scheduled_severity"], v["scheduled_severity"]);
                if corr == "fog" {
                    let same = per_cell
                        .iter()
                        .find(|m| m.header.name == format!("{key}.{ext}"))
                        .unwrap();
                    assert!(
                        same.data == out[img].data,
                        "{stem}: same image as the cells layout"
                    );
                }
            }
        }
    }
    let v = run(&["verify", s(&one), "--input", s(&input)]);
    ok(&v);
    let t = format!("{}{}", stderr(&v), String::from_utf8_lossy(&v.stdout));
    assert!(t.contains("8 regenerated, 0 differ"), "{t}");
}

/// The counting pass of `--severity-schedule` over webdataset input numbers exactly the
/// samples the run renders, in stream order: not a member of no sample, a sample without an
/// image member of `--wds-image`, a duplicate key, or a sample whose image member is a
/// format the run cannot write; and it reads a truncated shard up to the damage without
/// failing.
#[test]
fn schedule_counting_pass_numbers_rendered_samples() {
    use imgcorrupt::dataset::webdataset::{discover, execute};
    let dir = tmp("wds-count");
    fs::create_dir_all(&dir).unwrap();
    let png = &photos()[0].1;
    let mut w = Writer::new(Vec::new());
    for (name, data) in [
        ("README", &b"x"[..]),
        ("a.png", png),
        ("a.cls", b"1"),
        ("b.txt", b"no image"),
        ("c.jpg", b"not decoded by the pass"),
        ("a.png", png), // a second sample `a`: duplicate key
        ("d.gif", b"GIF89a"),
        ("e.webp", b"RIFF"),
    ] {
        w.append(&Header::file(name), data).unwrap();
    }
    fs::write(dir.join("s0.tar"), w.finish().unwrap()).unwrap();
    let mut w = Writer::new(Vec::new());
    w.append(&Header::file("f.png"), png).unwrap();
    w.append(&Header::file("g.png"), png).unwrap();
    let full = w.finish().unwrap();
    fs::write(dir.join("s1.tar"), &full[..full.len() - 1024 - 200]).unwrap();
    let shards = discover::shards(&dir).unwrap();
    use imgcorrupt::dataset::ImageFormatChoice::{Png, Same};
    let count = |exts: &[&str], format| {
        let exts: Vec<String> = exts.iter().map(|e| e.to_string()).collect();
        execute::scheduled_sources(&shards, &exts, format).unwrap()
    };
    // gif is read but cannot be written as itself: left out unless written as PNG
    let exts = ["jpg", "png", "webp", "gif"];
    assert_eq!(count(&exts, Same), ["s0/a", "s0/c", "s0/e", "s1/f"]);
    assert_eq!(count(&exts, Png), ["s0/a", "s0/c", "s0/d", "s0/e", "s1/f"]);
    assert_eq!(count(&["png"], Same), ["s0/a", "s1/f"]);
}
