//! Hostile input found by fuzzing and fault injection (issue 13): decoder limits, presets that
//! would abort the process, FIFOs and devices where files are expected, manifests that point
//! outside OUTPUT, pathological annotation lists, stale temporaries, and the small CLI items.
//! Each test failed (or hung) before its fix. Nothing here is timed: a would-be hang is
//! bounded by killing the child process after a generous deadline and failing.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{contrast1, err_text, fail_text, ok, run, s, tmp, BIN};
use imgcorrupt::io::{decode_image, DEFAULT_MAX_PIXELS};

fn png(path: &Path, w: u32, h: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 9) as u8, (y * 7) as u8, 40]))
        .save_with_format(path, image::ImageFormat::Png)
        .unwrap();
}

/// Runs the binary; a run still going after `limit` is killed and fails the test (what a
/// hang on a FIFO looked like), so the suite never blocks.
fn run_bounded(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("{args:?} still running after {limit:?}: blocked");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success(), "mkfifo {}", path.display());
}

/// `generate` a small folder dataset into `out` (png outputs).
fn small_run(input: &Path, out: &Path) {
    png(&input.join("a.png"), 12, 10);
    png(&input.join("b.png"), 10, 12);
    ok(&run(&contrast1(s(input), s(out), &[])));
}

/// CRC-32 (IEEE), as PNG chunks carry it.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
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

/// Pillow's default limit, documented: 2 × 89,478,485 pixels.
#[test]
fn default_pixel_limit_is_pillows() {
    assert_eq!(DEFAULT_MAX_PIXELS, 178_956_970);
    // a PNG whose header claims 13,400 × 13,400 (179.56 M pixels): refused by the limit
    // before anything is allocated, naming the file
    let mut bytes = Vec::new();
    image::RgbImage::new(1, 1)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes[16..20].copy_from_slice(&13_400u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&13_400u32.to_be_bytes());
    let crc = crc32(&bytes[12..29]); // IHDR type and data
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    let e = decode_image(&bytes, Path::new("big.png"), DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("big.png") && e.contains("more than the limit of 178956970 pixels"),
        "{e}"
    );
}

/// A small JPEG whose frame header claims 16384 × 8192 pixels: refused before the coefficient
/// planes are allocated, because its entropy-coded data cannot hold that many blocks (before:
/// 400 MB of garbage decoded and corrupted in seconds).
#[test]
fn jpeg_header_not_backed_by_data_is_refused() {
    let path = common::root().join("jpeg/squirrel_300x280_q85.jpg");
    let mut bytes = fs::read(&path).unwrap();
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF0");
    bytes[sof + 5..sof + 7].copy_from_slice(&8192u16.to_be_bytes()); // height
    bytes[sof + 7..sof + 9].copy_from_slice(&16384u16.to_be_bytes()); // width
    let e = decode_image(&bytes, Path::new("bomb.jpg"), DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bomb.jpg") && e.contains("16384x8192") && e.contains("bytes follow"),
        "{e}"
    );
    // the unpatched file still decodes (the check costs valid files nothing)
    let img = decode_image(&fs::read(&path).unwrap(), &path, DEFAULT_MAX_PIXELS).unwrap();
    assert_eq!((img.width(), img.height()), (300, 280));
}

/// `glass_blur.iterations` is bounded: a huge value is a preset error naming the key and the
/// severity (before: `memory allocation of … failed`, SIGABRT).
#[test]
fn glass_blur_iterations_is_bounded_in_presets() {
    let text = imgcorrupt::preset::builtin_text("imagecorruptions").unwrap();
    let bad = text.replace(
        "iterations = [2, 1, 3, 2, 2]",
        "iterations = [2, 1, 3, 2, 4000000000]",
    );
    assert_ne!(bad, text, "the preset's glass_blur row moved");
    let e = imgcorrupt::Preset::from_toml_str(&bad, "big.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("glass_blur.iterations") && e.contains("severity 5"),
        "{e}"
    );
    // the CLI says so before reading any image
    let dir = tmp("glass-iter");
    let preset = dir.join("big.toml");
    fs::write(&preset, &bad).unwrap();
    png(&dir.join("in.png"), 8, 8);
    let e = err_text(&run(&[
        "corrupt",
        s(&dir.join("in.png")),
        "-o",
        s(&dir.join("out.png")),
        "-c",
        "glass_blur",
        "-s",
        "5",
        "--preset",
        s(&preset),
    ]));
    assert!(e.contains("glass_blur.iterations"), "{e}");
}

/// `verify` and the resume check of `generate` with a FIFO (or a link to `/dev/zero`) at a
/// manifest output path: an error naming the path, not a blocked process; `verify --input`
/// with a source that is `/dev/zero`: an error, not a read until memory runs out.
#[test]
fn fifos_and_devices_at_manifest_paths_are_errors() {
    let input = tmp("fifo-in");
    let out = tmp("fifo-out");
    small_run(&input, &out);
    let a = out.join("contrast/1/a.png");
    fs::remove_file(&a).unwrap();
    mkfifo(&a);
    let b = out.join("contrast/1/b.png");
    fs::remove_file(&b).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &b).unwrap();
    let limit = Duration::from_secs(120);
    let o = run_bounded(&["verify", s(&out)], limit);
    let e = fail_text(&o);
    assert!(
        e.contains("contrast/1/a.png") && e.contains("not a regular file"),
        "{e}"
    );
    assert!(e.contains("contrast/1/b.png"), "{e}");
    // the resume check treats them as not done and replaces them with real files
    let o = run_bounded(&contrast1(s(&input), s(&out), &[]), limit);
    ok(&o);
    assert!(fs::symlink_metadata(&a).unwrap().is_file());
    assert!(fs::symlink_metadata(&b).unwrap().is_file());
    ok(&run_bounded(&["verify", s(&out)], limit));
    // a source replaced by /dev/zero
    fs::remove_file(input.join("b.png")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", input.join("b.png")).unwrap();
    let o = run_bounded(&["verify", s(&out), "--input", s(&input)], limit);
    let e = fail_text(&o);
    assert!(
        e.contains("b.png") && e.contains("not a regular file"),
        "{e}"
    );
}

/// Manifest paths must be relative, normalised and inside their cell: a record whose output
/// is `../…` or absolute is an error naming it (before: hashed outside OUTPUT and counted as
/// "hash ok", an oracle for any file's hash).
#[test]
fn manifest_paths_outside_output_are_refused() {
    let input = tmp("escape-in");
    let out = tmp("escape-out");
    small_run(&input, &out);
    let secret = out.parent().unwrap().join(format!(
        "{}-secret",
        out.file_name().unwrap().to_string_lossy()
    ));
    fs::write(&secret, b"secret").unwrap();
    let manifest = fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let sha = common::sha256_file_hex(&secret);
    for bad in [
        format!("../{}", secret.file_name().unwrap().to_string_lossy()),
        secret.display().to_string(),
        "contrast/1/./a.png".to_string(),
        "contrast/1/x/../../../a.png".to_string(),
    ] {
        let mut lines: Vec<String> = manifest.lines().map(str::to_string).collect();
        let mut rec: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
        rec["output"] = bad.clone().into();
        rec["sha256"] = sha.clone().into();
        lines[1] = rec.to_string();
        fs::write(out.join("manifest.jsonl"), lines.join("\n") + "\n").unwrap();
        let e = fail_text(&run(&["verify", s(&out)]));
        assert!(
            e.contains(&bad) && e.contains("not a relative"),
            "{bad}: {e}"
        );
    }
    // sources too
    let mut lines: Vec<String> = manifest.lines().map(str::to_string).collect();
    let mut rec: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    rec["source"] = "../escape-in/a.png".into();
    lines[1] = rec.to_string();
    fs::write(out.join("manifest.jsonl"), lines.join("\n") + "\n").unwrap();
    let e = fail_text(&run(&["verify", s(&out), "--input", s(&input)]));
    assert!(e.contains("../escape-in/a.png"), "{e}");
    fs::remove_file(&secret).unwrap();
}

/// 200,000 ImageSets ids missing on disk are summarised in one pass (before: a quadratic
/// `Vec::contains`, over two minutes). Not timed: the run just has to finish with the note.
#[test]
fn voc_discovery_with_many_missing_ids() {
    let root = tmp("voc-ids");
    let voc = root.join("VOCdevkit/VOC2007");
    png(&voc.join("JPEGImages/000001.jpg"), 8, 8);
    fs::create_dir_all(voc.join("ImageSets/Main")).unwrap();
    let ids: String = (0..200_000).map(|i| format!("{:06}\n", i + 2)).collect();
    fs::write(voc.join("ImageSets/Main/test.txt"), ids).unwrap();
    let ds = imgcorrupt::dataset::discover::discover(&root, imgcorrupt::dataset::DatasetKind::Voc)
        .unwrap();
    assert_eq!(ds.images, ["VOCdevkit/VOC2007/JPEGImages/000001.jpg"]);
    assert!(
        ds.notes.iter().any(|n| n.starts_with("200000 image(s)")),
        "{:?}",
        ds.notes
    );
}

/// A hidden manifest temporary left by a writer that ran out of space (or was killed) is
/// removed by the next run.
#[test]
fn stale_manifest_temporary_is_removed_on_rerun() {
    let input = tmp("tmp-in");
    let out = tmp("tmp-out");
    small_run(&input, &out);
    let stale = out.join(".manifest.jsonl.tmp-4242-17");
    fs::write(&stale, b"{\"half\": ").unwrap();
    ok(&run(&contrast1(s(&input), s(&out), &[])));
    assert!(!stale.exists());
}

/// The small CLI items: input-path errors name the path, `-c commn` suggests the subset,
/// `-s 1,,3` is refused, `corrupt -s 1,2` explains itself, and `corrupt` writes JPEGs at
/// quality 85 by default, as `generate` does.
#[test]
fn cli_messages_and_defaults() {
    let dir = tmp("cli-small");
    let missing = dir.join("missing");
    let e = err_text(&run(&["generate", s(&missing), "-o", s(&dir.join("o"))]));
    assert!(
        e.contains(&missing.display().to_string()) && e.contains("input folder"),
        "{e}"
    );
    let e = err_text(&run(&[
        "generate",
        s(&dir),
        "-o",
        s(&dir.join("o")),
        "-c",
        "commn",
    ]));
    assert!(e.contains("did you mean `common`"), "{e}");
    let e = err_text(&run(&[
        "generate",
        s(&dir),
        "-o",
        s(&dir.join("o")),
        "-s",
        "1,,3",
    ]));
    assert!(e.contains("1,,3") && e.contains("empty item"), "{e}");
    png(&dir.join("in.png"), 16, 16);
    let e = err_text(&run(&[
        "corrupt",
        s(&dir.join("in.png")),
        "-o",
        s(&dir.join("o.png")),
        "-c",
        "fog",
        "-s",
        "1,2",
    ]));
    assert!(e.contains("one severity") && e.contains("generate"), "{e}");
    let src = dir.join("in.png");
    let jpg = |name: &str, extra: &[&str]| {
        let o = dir.join(name);
        let mut args = vec!["corrupt", s(&src), "-o", s(&o), "-c", "contrast", "-s", "1"];
        args.extend_from_slice(extra);
        ok(&run(&args));
        fs::read(o).unwrap()
    };
    assert_eq!(jpg("d.jpg", &[]), jpg("q85.jpg", &["--quality", "85"]));
    assert_ne!(jpg("d2.jpg", &[]), jpg("q95.jpg", &["--quality", "95"]));
}

/// Found by the `read_image` fuzz target: a palette PNG whose `PLTE` chunk is 49 bytes made
/// the png crate panic (a dataset run would have died with it); now an error naming the file.
#[test]
fn png_with_a_partial_palette_entry_is_an_error() {
    let path = common::root().join("hostile/png_plte_49_bytes.png");
    let bytes = fs::read(&path).unwrap();
    let e = decode_image(&bytes, &path, DEFAULT_MAX_PIXELS)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("png_plte_49_bytes.png") && e.contains("PLTE chunk of 49 bytes"),
        "{e}"
    );
}
