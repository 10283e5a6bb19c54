//! The `imgcorrupt` binary: list, corrupt, bench, and its error paths (exit code ≠ 0, a message
//! naming the problem, no partial output file).

mod common;

use std::path::{Path, PathBuf};

use common::{err_text, run, s, stderr, tmp};

fn photo() -> PathBuf {
    common::root().join("photos/fruits_160x120.png")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn list_prints_catalogue_in_order() {
    let o = run(&["list"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    let all: Vec<&str> = text.lines().collect();
    // the 19 corruptions, a blank line, then the shift operators under a `#` heading (stylize,
    // then the six LAION-C operators), then a blank line, a heading and the 15 C-bar operators
    // with their suites
    assert_eq!(all.len(), 45, "{text}");
    assert!(
        all[22].starts_with("mosaic") && all[27].starts_with("luminance_checkerboard"),
        "{text}"
    );
    assert_eq!(all[28], "");
    assert!(all[29].starts_with("# ImageNet-C-bar"));
    assert!(all[30].starts_with("caustic_refraction") && all[30].ends_with(" c-bar"));
    assert!(all[31].starts_with("inverse_sparkles") && all[31].ends_with(" c-bar,cifar-c-bar"));
    assert!(
        all[44].starts_with("transverse_chromatic_abberation") && all[44].ends_with(" cifar-c-bar")
    );
    assert_eq!(all[19], "");
    assert!(all[20].starts_with('#'));
    assert!(
        all[21].starts_with("stylize")
            && all[21].contains("shift")
            && all[21].contains("stylization"),
        "{}",
        all[21]
    );
    let lines = &all[..19];
    assert!(
        lines[0].starts_with("gaussian_noise")
            && lines[0].contains("common")
            && lines[0].contains("noise")
    );
    assert!(lines[18].starts_with("saturate") && lines[18].contains("validation"));
    let names: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let expected: Vec<&str> = imgcorrupt::Corruption::all().map(|c| c.name()).collect();
    assert_eq!(names, expected);
}

#[test]
fn corrupt_numpy_mode_reproduces_the_reference_file() {
    let dir = tmp("numpy");
    // fixtures/reference/index.json: fruits_160x120 is photo 3, shot_noise index 1, severity 2
    let e = common::entries()
        .into_iter()
        .find(|e| e.photo == "fruits_160x120" && e.corruption == "shot_noise" && e.severity == 2)
        .unwrap();
    let out = dir.join("out.png");
    let seed = e.seed.to_string();
    let o = run(&[
        "corrupt",
        photo().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-c",
        "shot_noise",
        "-s",
        "2",
        "--seed",
        &seed,
        "--rng",
        "numpy",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(common::load_rgb(&out).0, common::reference(&e));
}

#[test]
fn corrupt_writes_every_output_format() {
    let dir = tmp("formats");
    for ext in ["png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff"] {
        let out = dir.join(format!("o.{ext}"));
        let o = run(&[
            "corrupt",
            photo().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-c",
            "contrast",
            "-s",
            "3",
        ]);
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        let img = image::open(&out).unwrap();
        assert_eq!((img.width(), img.height()), (160, 120), "{ext}");
    }
    // only the outputs, no temporary files left behind
    assert_eq!(files_in(&dir).len(), 7, "{:?}", files_in(&dir));
}

#[test]
fn errors_name_the_problem_and_leave_no_file() {
    let dir = tmp("errors");
    let out = dir.join("out.png");
    let p = photo();
    let input = p.to_str().unwrap();
    let o_str = out.to_str().unwrap();

    let e = err_text(&run(&[
        "corrupt",
        input,
        "-o",
        o_str,
        "-c",
        "gausian_noise",
        "-s",
        "3",
    ]));
    assert!(e.contains("did you mean `gaussian_noise`"), "{e}");

    for bad in ["0", "6", "-1"] {
        let o = run(&["corrupt", input, "-o", o_str, "-c", "contrast", "-s", bad]);
        assert!(!o.status.success(), "severity {bad}");
        assert!(stderr(&o).contains("severity"), "{}", stderr(&o));
    }

    let not_image = dir.join("notes.png");
    std::fs::write(&not_image, b"this is not an image").unwrap();
    let e = err_text(&run(&[
        "corrupt",
        not_image.to_str().unwrap(),
        "-o",
        o_str,
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("notes.png"), "{e}");

    let truncated = dir.join("truncated.png");
    let bytes = std::fs::read(photo()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = err_text(&run(&[
        "corrupt",
        truncated.to_str().unwrap(),
        "-o",
        o_str,
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("truncated.png"), "{e}");

    let missing = dir.join("missing.png");
    let e = err_text(&run(&[
        "corrupt",
        missing.to_str().unwrap(),
        "-o",
        o_str,
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("missing.png"), "{e}");
    // the reason once, not repeated by the error chain ("…: No such file…: No such file…")
    assert_eq!(e.lines().count(), 1, "{e}");
    let reason = e.rsplit(": ").next().unwrap().trim();
    assert_eq!(e.matches(reason).count(), 1, "{e}");

    let unwritable = dir.join("no/such/dir/out.png");
    let e = err_text(&run(&[
        "corrupt",
        input,
        "-o",
        unwritable.to_str().unwrap(),
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("out.png"), "{e}");
    let reason = e.rsplit(": ").next().unwrap().trim();
    assert_eq!(e.matches(reason).count(), 1, "{e}");

    let e = err_text(&run(&[
        "corrupt",
        input,
        "-o",
        dir.join("out.gif").to_str().unwrap(),
        "-c",
        "contrast",
        "-s",
        "1",
    ]));
    assert!(e.contains("out.gif"), "{e}");

    let bad_preset = dir.join("preset.toml");
    std::fs::write(
        &bad_preset,
        "[preset]\nname = \"x\"\n[gaussian_noise]\nsigma = [1, 2]\n",
    )
    .unwrap();
    let e = err_text(&run(&[
        "corrupt",
        input,
        "-o",
        o_str,
        "-c",
        "contrast",
        "-s",
        "1",
        "--preset",
        bad_preset.to_str().unwrap(),
    ]));
    assert!(e.contains("preset.toml") && e.contains("sigma"), "{e}");

    let e = err_text(&run(&[
        "corrupt",
        input,
        "-o",
        o_str,
        "-c",
        "shot_noise",
        "-s",
        "1",
        "--rng",
        "numpy",
        "--seed",
        "4294967296",
    ]));
    assert!(e.contains("seed"), "{e}");

    // nothing was written by any failing call (the inputs we created are the only files)
    assert_eq!(
        files_in(&dir),
        vec!["notes.png", "preset.toml", "truncated.png"]
    );
}

#[test]
fn preset_file_changes_the_parameters() {
    let dir = tmp("preset");
    let preset = dir.join("mine.toml");
    std::fs::write(&preset, "[preset]\nname = \"mine\"\nextends = \"imagecorruptions\"\n[contrast]\nfactor = [1.0, 1.0, 1.0, 1.0, 1.0]\n").unwrap();
    let out = dir.join("o.png");
    let o = run(&[
        "corrupt",
        photo().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-c",
        "contrast",
        "-s",
        "5",
        "--preset",
        preset.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // factor 1 leaves x unchanged up to the reference's truncation of v/255*255
    let (a, _, _) = common::load_rgb(&photo());
    let (b, _, _) = common::load_rgb(&out);
    assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
}

#[test]
fn bench_prints_csv() {
    let o = run(&[
        "bench",
        "-c",
        "contrast,gaussian_noise",
        "-s",
        "1,5",
        "--size",
        "native",
        "--min-ms",
        "1",
        "--csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "corruption,severity,width,height,ms_per_image,images"
    );
    assert_eq!(lines.len(), 5);
    assert!(lines[1].starts_with("gaussian_noise,1,"));
    let ms: f64 = lines[1].split(',').nth(4).unwrap().parse().unwrap();
    assert!(ms > 0.0);
}

/// `bench --imagenet-p -c p:…` times only the named sequences (each noise one at its three
/// difficulties) and labels the sum "selected", not "whole set"; a -C name is refused.
#[test]
fn bench_imagenet_p_selects_sequences() {
    let photo = photo();
    let photo = photo.to_str().unwrap();
    let args = ["bench", photo, "--imagenet-p", "--min-ms", "1", "-c"];
    let o = run(&[&args[..], &["p:translate,p:shot_noise"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        names,
        [
            "translate",
            "shot_noise",
            "shot_noise_2",
            "shot_noise_3",
            "selected"
        ]
    );
    let o = run(&[&args[..], &["spatter"]].concat());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("p:<perturbation>"), "{}", stderr(&o));
}

/// The library's result for `corrupt INPUT -c contrast -s 3` (seed 0, fast mode: the CLI's
/// defaults).
fn library_contrast(input: &Path) -> image::DynamicImage {
    let img = imgcorrupt::io::read_image(input, imgcorrupt::io::DEFAULT_MAX_PIXELS).unwrap();
    let settings = imgcorrupt::Settings::new(0);
    imgcorrupt::corrupt_with(&img, imgcorrupt::Corruption::Contrast, 3, &settings).unwrap()
}

#[test]
fn corrupt_webp_quality_writes_lossy_webp() {
    let dir = tmp("webp-quality");
    let p = photo();
    let (lossless, lossy) = (dir.join("exact.webp"), dir.join("lossy.webp"));
    for (out, extra) in [
        (&lossless, &[][..]),
        (&lossy, &["--webp-quality", "80"][..]),
    ] {
        let mut args = vec!["corrupt", s(&p), "-o", s(out), "-c", "contrast", "-s", "3"];
        args.extend_from_slice(extra);
        common::ok(&run(&args));
    }
    let (exact_bytes, lossy_bytes) = (
        std::fs::read(&lossless).unwrap(),
        std::fs::read(&lossy).unwrap(),
    );
    // RIFF chunk after "WEBP": VP8L = lossless, "VP8 " = lossy
    assert_eq!(&exact_bytes[12..16], b"VP8L");
    assert_eq!(&lossy_bytes[12..16], b"VP8 ");
    assert!(
        lossy_bytes.len() < exact_bytes.len(),
        "lossy {} B vs lossless {} B",
        lossy_bytes.len(),
        exact_bytes.len()
    );
    let decoded = image::open(&lossy).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (160, 120));
    let lib = library_contrast(&p).to_rgb8();
    // the lossless default keeps the library's pixels exactly
    assert_eq!(image::open(&lossless).unwrap().to_rgb8(), lib);
    let expected = imgcorrupt::io::encode_webp_lossy(&lib, 160, 120, 80).unwrap();
    assert_eq!(lossy_bytes, expected, "same bytes as io::encode_webp_lossy");
}

/// A `.jpg` output of `corrupt` is the file Pillow's `save(quality=q, optimize=True)` writes for
/// the same pixels, as `generate`'s outputs are (the `image` crate's encoder, used before,
/// writes other bytes); RGBA drops its alpha first. Checked against PIL's own file of a
/// fixture through `io::write_image`, and through the CLI against the library's pixels.
#[test]
fn corrupt_jpeg_output_is_pillows_file() {
    let dir = tmp("jpeg-pillow");
    let root = common::root();
    let src = image::open(root.join("jpeg/noise_73x41.png")).unwrap();
    for (q, want) in [
        (30, "jpeg/noise_73x41_q30.jpg"),
        (85, "jpeg/noise_73x41_q85.jpg"),
    ] {
        let out = dir.join(format!("w{q}.jpg"));
        imgcorrupt::io::write_image(&out, &image::DynamicImage::ImageRgb8(src.to_rgb8()), q)
            .unwrap();
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(root.join(want)).unwrap(),
            "q{q}: not PIL's file {want}"
        );
        let rgba = image::DynamicImage::ImageRgba8(src.to_rgba8());
        let out_a = dir.join(format!("a{q}.jpg"));
        imgcorrupt::io::write_image(&out_a, &rgba, q).unwrap();
        assert_eq!(std::fs::read(&out_a).unwrap(), std::fs::read(&out).unwrap());
    }
    let p = photo();
    let out = dir.join("contrast.jpg");
    common::ok(&run(&[
        "corrupt",
        s(&p),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "3",
        "--quality",
        "90",
    ]));
    let lib = library_contrast(&p).to_rgb8();
    let expected = imgcorrupt::io::encode_jpeg(lib.as_raw(), 160, 120, 90).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == expected,
        "corrupt's .jpg is not encode_jpeg's"
    );
}

#[test]
fn corrupt_webp_quality_keeps_alpha_and_refuses_other_formats() {
    let dir = tmp("webp-quality-alpha");
    // RGBA input with a gradient alpha: lossy WebP keeps the alpha plane losslessly
    let rgba = image::RgbaImage::from_fn(40, 30, |x, y| {
        image::Rgba([(x * 6) as u8, (y * 8) as u8, 90, (x * 3 + y * 2) as u8])
    });
    let input = dir.join("in.png");
    rgba.save(&input).unwrap();
    let out = dir.join("o.webp");
    common::ok(&run(&[
        "corrupt",
        s(&input),
        "-o",
        s(&out),
        "-c",
        "contrast",
        "-s",
        "3",
        "--webp-quality",
        "75",
    ]));
    assert_eq!(
        &std::fs::read(&out).unwrap()[12..16],
        b"VP8X",
        "extended (alpha) WebP"
    );
    let decoded = image::open(&out).unwrap();
    assert!(decoded.color().has_alpha());
    let lib = library_contrast(&input).to_rgba8();
    let alpha = |img: &image::RgbaImage| img.pixels().map(|p| p[3]).collect::<Vec<u8>>();
    assert_eq!(alpha(&decoded.to_rgba8()), alpha(&lib));

    // --webp-quality with a non-WebP output is an error, before anything is written
    let png = dir.join("o.png");
    let e = err_text(&run(&[
        "corrupt",
        s(&input),
        "-o",
        s(&png),
        "-c",
        "contrast",
        "-s",
        "3",
        "--webp-quality",
        "75",
    ]));
    assert!(e.contains("--webp-quality") && e.contains("o.png"), "{e}");
    assert!(!png.exists());
}

/// A reader that closes the pipe early (`imgcorrupt list | head -1`) must not make the binary
/// panic with "failed printing to stdout: Broken pipe": it ends quietly (killed by SIGPIPE, as
/// Unix tools are), and nothing is written to stderr.
#[cfg(unix)]
#[test]
fn closed_stdout_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    // The read end is closed before the binary starts, so its first `println!` hits EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(common::BIN)
        .args(["list"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    // SIGPIPE is 13 on every Linux and BSD/macOS ABI.
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
}
