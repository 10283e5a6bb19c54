//! The AdaIN backend (issue 7, ALGORITHMS.md §9.2) against PyTorch: `fixtures/adain/` holds a random
//! width/8 network with the exact AdaIN architecture and tensor names (written by
//! `scripts/make_adain_fixtures.py`), test images, and PyTorch's outputs for them.
#![cfg(feature = "adain")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use imgcorrupt::stylize::adain::{AdainNet, AdainStyle};
use imgcorrupt::Error;
use serde_json::Value;

use common::{fail_text, ok, run, run_in, s};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/adain")
}

fn expected() -> &'static Value {
    static E: OnceLock<Value> = OnceLock::new();
    E.get_or_init(|| {
        let s = std::fs::read_to_string(dir().join("expected.json")).unwrap();
        serde_json::from_str(&s).unwrap()
    })
}

fn image(name: &str) -> (Vec<u8>, u32, u32) {
    let im = image::open(dir().join(name)).unwrap().to_rgb8();
    let (w, h) = im.dimensions();
    (im.into_raw(), w, h)
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// (encoder, decoder) file pairs: zip .pth + legacy .pth (f32), and safetensors (f16).
fn pairs() -> [(PathBuf, PathBuf); 2] {
    let d = dir();
    [
        (d.join("vgg.pth"), d.join("decoder_legacy.pth")),
        (d.join("vgg.safetensors"), d.join("decoder.safetensors")),
    ]
}

fn net() -> &'static AdainNet {
    static N: OnceLock<AdainNet> = OnceLock::new();
    N.get_or_init(|| {
        let [(v, d), _] = pairs();
        AdainNet::load(&v, &d).unwrap()
    })
}

fn style(net: &AdainNet) -> AdainStyle {
    let (s, w, h) = image("style_33x27.png");
    net.style_features(&s, w, h).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn forward_pass_matches_pytorch_for_both_formats() {
    let e = expected();
    for (vgg, dec) in pairs() {
        let net = AdainNet::load(&vgg, &dec).unwrap();
        assert_eq!(net.width_factor(), 8);
        assert_eq!(net.feature_channels(), 64);
        let st = style(&net);
        let dm = max_abs_diff(st.mean(), &floats(&e["style_relu4_1_mean"]));
        let ds = max_abs_diff(st.std(), &floats(&e["style_relu4_1_std"]));
        assert!(
            dm <= 1e-4 && ds <= 1e-4,
            "{vgg:?}: style stats differ by {dm}, {ds}"
        );
        for case in e["cases"].as_array().unwrap() {
            let (c, w, h) = image(case["content"].as_str().unwrap());
            assert_eq!(
                (w as u64, h as u64),
                (
                    case["width"].as_u64().unwrap(),
                    case["height"].as_u64().unwrap()
                )
            );
            let alpha = case["alpha"].as_f64().unwrap() as f32;
            let got = net.stylize_f32(&c, w, h, &st, alpha).unwrap();
            let want = floats(&case["output_f32"]);
            let d = max_abs_diff(&got, &want);
            assert!(d <= 1e-4, "{vgg:?} {}: max |Δ| = {d}", case["content"]);
            // The output spans a real range (the comparison is not trivially satisfied).
            let (lo, hi) = want
                .iter()
                .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
            assert!(hi - lo > 0.3, "fixture output too flat: {lo}..{hi}");

            // Quantisation as torchvision save_image: identical except where the float lies
            // within 1e-4 of a rounding boundary.
            let q = net.stylize(&c, w, h, &st, alpha).unwrap();
            let want_q: Vec<u8> = case["output_u8"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u8)
                .collect();
            for (i, (&a, &b)) in q.iter().zip(&want_q).enumerate() {
                if a != b {
                    let frac = (want[i] * 255.0 + 0.5).fract();
                    assert!(
                        a.abs_diff(b) == 1 && !(0.03..=0.97).contains(&frac),
                        "{vgg:?} {} byte {i}: {a} vs {b} (float {})",
                        case["content"],
                        want[i]
                    );
                }
            }
        }
    }
}

#[test]
fn adain_features_carry_the_style_statistics() {
    let net = net();
    let st = style(net);
    let (c, w, h) = image("content_40x32.png");
    // α = 0 gives the content's relu4_1 features, α = 1 the AdaIN output.
    let (ch, fh, fw, content) = net.adain_features(&c, w, h, &st, 0.0).unwrap();
    let (ch1, fh1, fw1, t) = net.adain_features(&c, w, h, &st, 1.0).unwrap();
    assert_eq!((ch, fh, fw), (64, 4, 5)); // ceil(32/8) × ceil(40/8)
    assert_eq!((ch1, fh1, fw1), (ch, fh, fw));
    let n = fh * fw;
    let stats = |d: &[f32]| {
        let m = d.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = d.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (m, var)
    };
    let mut live = 0;
    for k in 0..ch {
        let (_, var_c) = stats(&content[k * n..(k + 1) * n]);
        let (m_t, var_t) = stats(&t[k * n..(k + 1) * n]);
        let (sm, ss) = (st.mean()[k] as f64, st.std()[k] as f64);
        assert!(
            (m_t - sm).abs() <= 1e-5 + 1e-4 * sm.abs(),
            "channel {k}: mean {m_t} vs {sm}"
        );
        // var(AdaIN) = var_c / (var_c + eps) · σs² (σc includes eps as calc_mean_std does)
        let want = var_c / (var_c + 1e-5) * ss * ss;
        assert!(
            (var_t - want).abs() <= 1e-9 + 1e-4 * want,
            "channel {k}: var {var_t} vs {want}"
        );
        if var_c > 1e-3 {
            live += 1;
            // where the content channel is not flat, the output variance is the style's
            // (σs² = unbiased style variance + eps, as calc_mean_std)
            assert!(
                (var_t - ss * ss).abs() <= 1e-2 * ss * ss,
                "channel {k}: {var_t} vs {}",
                ss * ss
            );
        }
    }
    assert!(live >= ch / 2, "only {live} content channels vary");
}

#[test]
fn deterministic_across_calls_and_thread_counts() {
    let net = net();
    let st = style(net);
    let (c, w, h) = image("content_37x29.png");
    let a = net.stylize_f32(&c, w, h, &st, 0.8).unwrap();
    let b = net.stylize_f32(&c, w, h, &st, 0.8).unwrap();
    assert_eq!(a, b);
    // The convolutions run their GEMMs single-threaded in a 1-thread pool and split between
    // threads in a 2-thread pool: bitwise equality shows the K reduction is never split.
    let mut bits = Vec::new();
    for threads in ["1", "2"] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.parse().unwrap())
            .build()
            .unwrap();
        let f = pool.install(|| net.stylize_f32(&c, w, h, &st, 0.8).unwrap());
        bits.push(f.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
    }
    assert_eq!(bits[0], bits[1]);
    assert_eq!(bits[0], a.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
}

#[test]
fn odd_and_tiny_sizes() {
    let net = net();
    let st = style(net);
    let (src, sw, _) = image("content_37x29.png");
    for (w, h) in [
        (1u32, 1u32),
        (1, 9),
        (9, 1),
        (2, 3),
        (8, 8),
        (9, 9),
        (17, 10),
        (33, 17),
    ] {
        let mut c = Vec::new();
        for y in 0..h as usize {
            for x in 0..w as usize {
                let i = (y * sw as usize + x) * 3;
                c.extend_from_slice(&src[i..i + 3]);
            }
        }
        let out = net.stylize(&c, w, h, &st, 1.0).unwrap();
        assert_eq!(out.len(), (w * h * 3) as usize, "{w}x{h}");
        let f = net.stylize_f32(&c, w, h, &st, 1.0).unwrap();
        assert!(f.iter().all(|v| v.is_finite()), "{w}x{h}");
    }
    // a style smaller than the minimum side works too
    let s = net
        .style_features(&[10, 200, 30, 40, 50, 60], 2, 1)
        .unwrap();
    assert!(s.std().iter().all(|v| v.is_finite() && *v > 0.0));
}

#[test]
fn bad_arguments_are_rejected() {
    let net = net();
    let st = style(net);
    let (c, w, h) = image("content_40x32.png");
    assert!(matches!(
        net.stylize(&c, w, h, &st, 1.5),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        net.stylize(&c, w, h, &st, f32::NAN),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        net.stylize(&c[1..], w, h, &st, 1.0),
        Err(Error::InvalidImage(_))
    ));
    assert!(matches!(
        net.stylize(&[], 0, 0, &st, 1.0),
        Err(Error::InvalidImage(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Weight-file errors, on safetensors files rewritten from the fixture.

/// Tensors of a safetensors file: name → (dtype, shape, bytes), in file order.
fn read_st(path: &Path) -> Vec<(String, String, Vec<usize>, Vec<u8>)> {
    let b = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let header: serde_json::Map<String, Value> = serde_json::from_slice(&b[8..8 + n]).unwrap();
    let data = &b[8 + n..];
    let mut v: Vec<_> = header
        .into_iter()
        .filter(|(k, _)| k != "__metadata__")
        .map(|(k, t)| {
            let o = t["data_offsets"].as_array().unwrap();
            let (s, e) = (
                o[0].as_u64().unwrap() as usize,
                o[1].as_u64().unwrap() as usize,
            );
            let shape = t["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            (
                k,
                t["dtype"].as_str().unwrap().to_string(),
                shape,
                data[s..e].to_vec(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn write_st(path: &Path, tensors: &[(String, String, Vec<usize>, Vec<u8>)]) {
    let mut header = serde_json::Map::new();
    let mut data = Vec::new();
    for (k, dt, shape, bytes) in tensors {
        header.insert(
            k.clone(),
            serde_json::json!({"dtype": dt, "shape": shape, "data_offsets": [data.len(), data.len() + bytes.len()]}),
        );
        data.extend_from_slice(bytes);
    }
    let h = serde_json::to_vec(&Value::Object(header)).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&h);
    out.extend_from_slice(&data);
    std::fs::write(path, out).unwrap();
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("imgcorrupt-adain-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Writes a copy of the weight file `src` as `name` (in the temporary folder) with the shape of
/// `tensor` replaced by `shape`; returns the copy's path and the tensor's original shape.
fn reshaped(src: &Path, tensor: &str, shape: Vec<usize>, name: &str) -> (PathBuf, Vec<usize>) {
    let mut t = read_st(src);
    let e = t.iter_mut().find(|x| x.0 == tensor).unwrap();
    let was = std::mem::replace(&mut e.2, shape);
    let p = tmp(name);
    write_st(&p, &t);
    (p, was)
}

fn weights_err(r: imgcorrupt::Result<AdainNet>) -> (String, String, String, String) {
    match r {
        Err(e @ Error::Weights { .. }) => {
            let msg = e.to_string();
            let Error::Weights {
                path,
                tensor,
                expected,
                found,
            } = e
            else {
                unreachable!()
            };
            assert!(
                msg.contains(&tensor) && msg.contains(&expected) && msg.contains(&found),
                "{msg}"
            );
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                tensor,
                expected,
                found,
            )
        }
        Err(e) => panic!("expected Error::Weights, got {e}"),
        Ok(_) => panic!("expected Error::Weights, got a network"),
    }
}

#[test]
fn wrong_shape_names_tensor_and_expected_shape() {
    let [_, (vgg, dec)] = pairs();
    // same byte count, transposed-looking shape
    let (p, was) = reshaped(
        &vgg,
        "12.weight",
        vec![16, 16, 9, 1],
        "vgg_bad_shape.safetensors",
    );
    assert_eq!(was, vec![16, 16, 3, 3]);
    let (file, tensor, expected, found) = weights_err(AdainNet::load(&p, &dec));
    assert_eq!(
        (file.as_str(), tensor.as_str()),
        ("vgg_bad_shape.safetensors", "12.weight")
    );
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("[16, 16, 3, 3]", "[16, 16, 9, 1]")
    );

    // a decoder of another width than the encoder: the expectation follows the encoder's factor
    let [(v32, _), _] = pairs();
    let (p, was) = reshaped(
        &dec,
        "1.weight",
        vec![64, 32, 3, 3],
        "dec_bad_shape.safetensors",
    );
    assert_eq!(was, vec![32, 64, 3, 3]);
    let (file, tensor, expected, found) = weights_err(AdainNet::load(&v32, &p));
    assert_eq!(
        (file.as_str(), tensor.as_str()),
        ("dec_bad_shape.safetensors", "1.weight")
    );
    assert_eq!(
        (expected.as_str(), found.as_str()),
        ("[32, 64, 3, 3]", "[64, 32, 3, 3]")
    );

    // a first conv whose width is not 64/k
    let (p, _) = reshaped(
        &vgg,
        "2.weight",
        vec![6, 4, 3, 3],
        "vgg_bad_width.safetensors",
    );
    let (_, tensor, expected, found) = weights_err(AdainNet::load(&p, &dec));
    assert_eq!(tensor, "2.weight");
    assert!(expected.contains("[64, 3, 3, 3]"), "{expected}");
    assert_eq!(found, "[6, 4, 3, 3]");
}

#[test]
fn missing_tensor_is_named() {
    let [_, (vgg, dec)] = pairs();
    let mut d = read_st(&dec);
    d.retain(|x| x.0 != "21.bias");
    let p = tmp("dec_missing.safetensors");
    write_st(&p, &d);
    let (file, tensor, expected, found) = weights_err(AdainNet::load(&vgg, &p));
    assert_eq!(file, "dec_missing.safetensors");
    assert_eq!(
        (tensor.as_str(), expected.as_str(), found.as_str()),
        ("21.bias", "[8]", "missing")
    );

    let mut t = read_st(&vgg);
    t.retain(|x| x.0 != "29.weight");
    let p = tmp("vgg_missing.safetensors");
    write_st(&p, &t);
    let (_, tensor, expected, found) = weights_err(AdainNet::load(&p, &dec));
    assert_eq!(
        (tensor.as_str(), expected.as_str(), found.as_str()),
        ("29.weight", "[64, 32, 3, 3]", "missing")
    );

    // extra tensors (the published vgg_normalised holds all of VGG-19) are ignored
    let mut t = read_st(&vgg);
    t.push((
        "32.weight".into(),
        "F16".into(),
        vec![1, 1, 1, 1],
        vec![0, 60],
    ));
    let p = tmp("vgg_extra.safetensors");
    write_st(&p, &t);
    assert!(AdainNet::load(&p, &dec).is_ok());
}

#[test]
fn missing_or_garbage_file_is_named() {
    let [(vgg, dec), _] = pairs();
    let missing = dir().join("no_such_decoder.pth");
    match AdainNet::load(&vgg, &missing) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("no_such_decoder.pth"), "{e}"),
        Err(e) => panic!("expected Error::Io, got {e}"),
        Ok(_) => panic!("loaded a missing file"),
    }
    let p = tmp("garbage.pth");
    std::fs::write(&p, b"this is not a weight file at all").unwrap();
    match AdainNet::load(&p, &dec) {
        Err(e @ Error::WeightFile { .. }) => assert!(e.to_string().contains("garbage.pth"), "{e}"),
        Err(e) => panic!("expected Error::WeightFile, got {e}"),
        Ok(_) => panic!("loaded garbage"),
    }
    // a truncated legacy .pth
    let b = std::fs::read(&dec).unwrap();
    let p = tmp("truncated.pth");
    std::fs::write(&p, &b[..b.len() / 2]).unwrap();
    assert!(matches!(
        AdainNet::load(&vgg, &p),
        Err(Error::WeightFile { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// End to end through the CLI (issue 7 "done when"): `generate --style-backend adain` writes a
// stylized dataset whose manifest records the styles and the weights, `verify` passes (hashes and
// regeneration) and detects tampering; `corrupt` runs the same backend.

/// What the library gives for one content image, one style file and one severity.
fn library_stylize(photo: &Path, style: &Path, vgg: &Path, dec: &Path, severity: u8) -> Vec<u8> {
    use imgcorrupt::{StyleBackend, StyleBackendKind, Stylizer};
    let backend = StyleBackend::load(StyleBackendKind::Adain, Some(vgg), Some(dec)).unwrap();
    let st = Stylizer::from_file(style).unwrap().with_backend(backend);
    let settings = imgcorrupt::Settings::new(0).with_stylizer(std::sync::Arc::new(st));
    let img = image::DynamicImage::ImageRgb8(image::open(photo).unwrap().to_rgb8());
    imgcorrupt::corrupt_with(&img, imgcorrupt::Corruption::Stylize, severity, &settings)
        .unwrap()
        .to_rgb8()
        .into_raw()
}

#[test]
fn cli_generate_adain_dataset_manifest_and_verify() {
    let d = common::tmp("generate");
    // a tiny input folder, and private copies of the weights so that the test can change one
    let input = d.join("input");
    std::fs::create_dir_all(&input).unwrap();
    for f in ["coffee_97x61.png", "fruits_160x120.png"] {
        std::fs::copy(common::root().join("photos").join(f), input.join(f)).unwrap();
    }
    let vgg = d.join("vgg_normalised.pth");
    let dec = d.join("decoder.pth");
    std::fs::copy(dir().join("vgg.pth"), &vgg).unwrap();
    std::fs::copy(dir().join("decoder_legacy.pth"), &dec).unwrap();
    let styles = common::root().join("styles");
    // weights given relative to the working directory: the manifest records absolute paths,
    // so that `verify --input` finds them from anywhere
    let gen = |out: &Path, threads: &str| {
        run_in(
            &d,
            &[
                "generate",
                s(&input),
                "-o",
                s(out),
                "-c",
                "stylize",
                "-s",
                "1,5",
                "--styles",
                s(&styles),
                "--style-backend",
                "adain",
                "--vgg",
                "vgg_normalised.pth",
                "--decoder",
                "decoder.pth",
                "--image-format",
                "png",
                "--threads",
                threads,
            ],
        )
    };
    let out = d.join("out");
    ok(&gen(&out, "2"));
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let mut lines = manifest.lines();
    let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let st = &header["stylize"];
    assert_eq!(st["backend"], "adain");
    assert_eq!(st["count"], 4);
    // the weights: absolute path and SHA-256 of each file
    for (key, file) in [("vgg", &vgg), ("decoder", &dec)] {
        let want = format!(
            "{} sha256:{}",
            std::fs::canonicalize(file).unwrap().display(),
            common::sha256_file_hex(file)
        );
        assert_eq!(st[key].as_str(), Some(want.as_str()), "{key}");
    }
    let recs: Vec<Value> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 2 * 2);
    for r in &recs {
        let style = styles.join(r["style"].as_str().unwrap());
        assert_eq!(
            r["style_sha256"].as_str().unwrap(),
            common::sha256_file_hex(&style)
        );
        // the output is the library's adain stylization of that source with that style
        let src = input.join(r["source"].as_str().unwrap());
        let sev = r["severity"].as_u64().unwrap() as u8;
        let got = image::open(out.join(r["output"].as_str().unwrap())).unwrap();
        let src_img = image::open(&src).unwrap();
        assert_eq!(got.width(), src_img.width());
        assert_eq!(got.height(), src_img.height());
        assert_ne!(got.to_rgb8().into_raw(), src_img.to_rgb8().into_raw());
        assert_eq!(
            got.to_rgb8().into_raw(),
            library_stylize(&src, &style, &vgg, &dec, sev),
            "{}",
            r["output"]
        );
    }
    // one thread: the same manifest and the same bytes
    let one = d.join("one");
    ok(&gen(&one, "1"));
    common::assert_same_run(&out, &one, &recs);
    // verify: hashes, and regeneration through the adain backend the header names
    ok(&run(&["verify", s(&out)]));
    ok(&run(&["verify", s(&out), "--input", s(&input)]));
    // a tampered output is reported, by name
    let victim = recs[0]["output"].as_str().unwrap().to_string();
    let bytes = std::fs::read(out.join(&victim)).unwrap();
    let mut img = image::open(out.join(&victim)).unwrap().to_rgb8();
    img.get_pixel_mut(0, 0).0[0] ^= 1;
    img.save(out.join(&victim)).unwrap();
    let e = fail_text(&run(&["verify", s(&out)]));
    assert!(e.contains(&victim), "{e}");
    std::fs::write(out.join(&victim), &bytes).unwrap();
    ok(&run(&["verify", s(&out)]));
    // changed weights: regeneration refuses, naming the weight file
    let mut w = std::fs::read(&dec).unwrap();
    w.extend_from_slice(b"x");
    std::fs::write(&dec, &w).unwrap();
    let e = fail_text(&run(&["verify", s(&out), "--input", s(&input)]));
    assert!(
        e.contains("decoder.pth") && e.contains("changed since generation"),
        "{e}"
    );
}

#[test]
fn cli_corrupt_with_the_adain_backend() {
    let d = common::tmp("corrupt");
    let photo = common::root().join("photos/coffee_97x61.png");
    let style = common::root().join("styles/baboon_128x128.png");
    let (vgg, dec) = (
        dir().join("vgg.safetensors"),
        dir().join("decoder.safetensors"),
    );
    // `corrupt` with the adain backend and the encoder weights; `extra` adds the style source
    // and (or not) the decoder
    let corrupt = |out: &Path, severity: &str, extra: &[&str]| {
        let mut args = vec![
            "corrupt",
            s(&photo),
            "-o",
            s(out),
            "-c",
            "stylize",
            "-s",
            severity,
            "--style-backend",
            "adain",
            "--vgg",
            s(&vgg),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let out = d.join("a.png");
    ok(&corrupt(
        &out,
        "4",
        &["--style", s(&style), "--decoder", s(&dec)],
    ));
    assert_eq!(
        image::open(&out).unwrap().to_rgb8().into_raw(),
        library_stylize(&photo, &style, &vgg, &dec, 4)
    );
    // a folder of styles works as well
    let styles = common::root().join("styles");
    ok(&corrupt(
        &d.join("b.png"),
        "2",
        &["--styles", s(&styles), "--decoder", s(&dec)],
    ));
    // without weights: an error naming the options, nothing written
    let c = d.join("c.png");
    let e = fail_text(&corrupt(&c, "2", &["--style", s(&style)]));
    assert!(e.contains("--vgg") && e.contains("--decoder"), "{e}");
    assert!(!c.exists());
    // a missing weight file is named
    let nowhere = d.join("nowhere.pth");
    let e = fail_text(&corrupt(
        &c,
        "2",
        &["--style", s(&style), "--decoder", s(&nowhere)],
    ));
    assert!(e.contains("nowhere.pth"), "{e}");
}
