//! The suite presets (corruptions/*.toml): every one loads, runs every corruption at every
//! severity at its native size in both RNG modes, and differs from imagecorruptions where its
//! tables or code options say so.

mod common;

use std::sync::Arc;

use image::{imageops::FilterType, DynamicImage};
use imgcorrupt::corruptions::digital::elastic_transform::{Form, Params as Elastic};
use imgcorrupt::corruptions::weather::fog::Params as Fog;
use imgcorrupt::{corrupt_with, Corruption, Preset, RngMode, Settings};

/// (preset, native side) of the suite presets.
const SUITES: &[(&str, u32)] = &[
    ("cifar-10-c", 32),
    ("tiny-imagenet-c", 64),
    ("imagenet-64-c", 64),
    ("imagenet-c", 224),
    ("imagenet-c-299", 299),
];

fn photo(side: u32) -> DynamicImage {
    let img = image::open(common::root().join("photos/chelsea_224x224.png")).unwrap();
    img.resize_exact(side, side, FilterType::Triangle)
}

#[test]
fn every_builtin_is_listed_and_loads() {
    let names: Vec<&str> = imgcorrupt::preset::builtin_names().collect();
    for (name, _) in SUITES {
        assert!(names.contains(name), "{name} not built in: {names:?}");
        let p = Preset::builtin(name).unwrap();
        assert_eq!(p.info().name, *name);
    }
    assert!(names.contains(&"imagecorruptions"));
}

#[test]
fn every_corruption_runs_at_the_native_size_deterministically() {
    for &(name, side) in SUITES {
        let preset = Arc::new(Preset::builtin(name).unwrap());
        let img = photo(side);
        for c in Corruption::all() {
            for s in 1..=5u8 {
                for rng in [RngMode::Numpy, RngMode::Fast] {
                    let set = Settings::new(11).with_rng(rng).with_preset(preset.clone());
                    let a = corrupt_with(&img, c, s, &set)
                        .unwrap_or_else(|e| panic!("{name} {c} s{s} {rng}: {e}"));
                    assert_eq!((a.width(), a.height()), (side, side));
                    let b = corrupt_with(&img, c, s, &set).unwrap();
                    assert_eq!(a, b, "{name} {c} s{s} {rng} not deterministic");
                }
            }
        }
    }
}

#[test]
fn suite_presets_select_the_original_code_paths() {
    let ic = Preset::builtin("imagecorruptions").unwrap();
    assert_eq!(ic.params::<Elastic>().unwrap().form, Form::Imagecorruptions);
    assert_eq!(ic.params::<Fog>().unwrap().map_size, None);
    for (name, map) in [
        ("cifar-10-c", 32),
        ("tiny-imagenet-c", 64),
        ("imagenet-64-c", 64),
        ("imagenet-c", 256),
    ] {
        let p = Preset::builtin(name).unwrap();
        assert_eq!(
            p.params::<Elastic>().unwrap().form,
            Form::ImagenetC,
            "{name}"
        );
        assert_eq!(p.params::<Fog>().unwrap().map_size, Some(map), "{name}");
    }
    // the original elastic transform is a different function: same seed, other pixels
    let img = photo(224);
    let out = |p: &str| {
        let set = Settings::new(3)
            .with_rng(RngMode::Numpy)
            .with_preset(Arc::new(Preset::builtin(p).unwrap()));
        corrupt_with(&img, Corruption::ElasticTransform, 3, &set).unwrap()
    };
    assert_ne!(out("imagecorruptions"), out("imagenet-c"));
}

/// With no affine move (ε = 0) and no displacement (α = 0, σ = 0) the original elastic
/// transform is the identity up to its `trunc(f32(x / 255) · 255)` quantisation; with ε > 0 and
/// α = 0 it is a pure affine warp, which moves pixels.
#[test]
fn original_elastic_degenerate_cases() {
    let toml = |eps: f64| {
        format!(
            "[preset]\nname = \"t\"\nextends = \"imagecorruptions\"\n[elastic_transform]\nform = \"imagenet-c\"\nalpha = [0.0, 0.0, 0.0, 0.0, 0.0]\nsigma = [0.0, 0.0, 0.0, 0.0, 0.0]\naffine = [{eps}, {eps}, {eps}, {eps}, {eps}]\n"
        )
    };
    let img = photo(64);
    let rgb = img.to_rgb8();
    for rng in [RngMode::Numpy, RngMode::Fast] {
        let p = Arc::new(Preset::from_toml_str(&toml(0.0), "t").unwrap());
        let set = Settings::new(5).with_rng(rng).with_preset(p);
        let out = corrupt_with(&img, Corruption::ElasticTransform, 1, &set)
            .unwrap()
            .to_rgb8();
        let want: Vec<u8> = rgb
            .as_raw()
            .iter()
            .map(|&v| ((v as f32 / 255.0) * 255.0) as u8)
            .collect();
        assert_eq!(out.as_raw(), &want, "{rng}");
        let p = Arc::new(Preset::from_toml_str(&toml(3.0), "t").unwrap());
        let set = Settings::new(5).with_rng(rng).with_preset(p);
        let moved = corrupt_with(&img, Corruption::ElasticTransform, 1, &set)
            .unwrap()
            .to_rgb8();
        assert_ne!(moved.as_raw(), &want, "{rng}");
    }
    let bad = "[preset]\nname = \"t\"\nextends = \"imagecorruptions\"\n[elastic_transform]\nform = \"imagenet-c\"\n";
    let e = Preset::from_toml_str(bad, "bad.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("elastic_transform.sigma"), "{e}");
}

#[test]
fn list_preset_shows_what_a_preset_defines() {
    let o = common::run(&["list", "--preset", "imagenet-64-c"]);
    common::ok(&o);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("# extends tiny-imagenet-c"), "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("fog") && l.contains("from tiny-imagenet-c")));
    let o = common::run(&["list", "--preset", "imagenet-c"]);
    let text = String::from_utf8(o.stdout).unwrap();
    let elastic = text
        .lines()
        .find(|l| l.starts_with("elastic_transform"))
        .unwrap();
    assert!(
        elastic.contains("defined") && elastic.contains("form"),
        "{elastic}"
    );
    assert!(text
        .lines()
        .any(|l| l.starts_with("gaussian_noise") && l.contains("from imagecorruptions")));
    let e = common::err_text(&common::run(&["list", "--preset", "no-such-preset"]));
    assert!(e.contains("no-such-preset"), "{e}");
}

/// Compare `corruption` under each suite preset with the oracle file
/// `fixtures/original/<stem>_<preset>_<side>.npy` (input, then severities 1..5, seeds
/// `seed_base + severity` in numpy mode): ±1 on ≥ 99.9 % of values.
fn check_oracle(
    min_share: f64,
    min_exact: f64,
    stem: &str,
    corruption: Corruption,
    seed_base: u64,
    frost: Option<Arc<imgcorrupt::FrostTextures>>,
) {
    for (preset, side) in [
        ("imagenet-c", 224usize),
        ("tiny-imagenet-c", 64),
        ("cifar-10-c", 32),
        ("imagenet-c-299", 299),
    ] {
        let file = format!("{stem}_{preset}_{side}.npy");
        check_oracle_file(
            min_share, min_exact, &file, preset, corruption, seed_base, &frost,
        );
    }
}

/// One oracle file `fixtures/original/<file>`: uint8 (6, H, W, 3), the input then severities
/// 1..5 of the original function with `np.random.seed(seed_base + severity)`.
fn check_oracle_file(
    min_share: f64,
    min_exact: f64,
    file: &str,
    preset: &str,
    corruption: Corruption,
    seed_base: u64,
    frost: &Option<Arc<imgcorrupt::FrostTextures>>,
) {
    use imgcorrupt::dataset::cifar::npy;
    let path = common::root().join("original").join(file);
    let bytes = std::fs::read(&path).unwrap();
    let h = npy::parse_header(&bytes, &path).unwrap();
    assert_eq!(h.descr.as_str(), "|u1");
    assert!(
        h.shape.len() == 4 && h.shape[0] == 6 && h.shape[3] == 3,
        "{file}: {:?}",
        h.shape
    );
    let (ih, iw) = (h.shape[1], h.shape[2]);
    let plane = ih * iw * 3;
    let data = &bytes[h.data_offset..];
    let input = image::RgbImage::from_raw(iw as u32, ih as u32, data[..plane].to_vec()).unwrap();
    let input = DynamicImage::ImageRgb8(input);
    let p = Arc::new(Preset::builtin(preset).unwrap());
    for s in 1..=5u8 {
        let want = &data[s as usize * plane..(s as usize + 1) * plane];
        let mut set = Settings::new(seed_base + s as u64)
            .with_rng(RngMode::Numpy)
            .with_preset(p.clone());
        if let Some(f) = frost {
            set = set.with_frost_textures(f.clone());
        }
        let got = corrupt_with(&input, corruption, s, &set).unwrap().to_rgb8();
        let (share, max) = common::agreement(got.as_raw(), want, 1);
        let (exact, _) = common::agreement(got.as_raw(), want, 0);
        eprintln!(
            "{file} s{s}: ±1 on {:.4} %, identical {:.4} %, max diff {max}",
            100.0 * share,
            100.0 * exact
        );
        assert!(exact >= min_exact, "{file} s{s}: only {exact} identical");
        assert!(
            share >= min_share,
            "{file} s{s}: only {share} within ±1 (max {max})"
        );
    }
}

/// imagenet-c-299's glass_blur (constant bounds 299) and fog (plasma map 512 cropped to 299)
/// against the original functions of make_imagenet_c_inception.py, and make_imagenet_c.py's
/// glass_blur (constant bounds 224) on a 232×240 image, where only the top-left 224×224 is
/// shuffled (scripts/make_original_fixtures.py; seeds `500 + s`, `600 + s`): numpy-mode
/// tolerance.
#[test]
fn original_glass_and_fog_match_the_originals() {
    check_oracle_file(
        0.999,
        0.0,
        "glass_imagenet-c-299_299.npy",
        "imagenet-c-299",
        Corruption::GlassBlur,
        500,
        &None,
    );
    check_oracle_file(
        0.999,
        0.0,
        "glass_imagenet-c_232x240.npy",
        "imagenet-c",
        Corruption::GlassBlur,
        500,
        &None,
    );
    check_oracle_file(
        0.999,
        0.0,
        "fog_imagenet-c-299_299.npy",
        "imagenet-c-299",
        Corruption::Fog,
        600,
        &None,
    );
}

/// `--geometry inception` against make_imagenet_c_inception.py's `resized_center_crop` run
/// with PIL on four committed photographs (97×61 up to 224×224): within ±1 on ≥ 99.9 %.
#[test]
fn inception_geometry_matches_pil() {
    use imgcorrupt::dataset::cifar::npy;
    let path = common::root().join("original/geometry_inception.npy");
    let bytes = std::fs::read(&path).unwrap();
    let h = npy::parse_header(&bytes, &path).unwrap();
    let names =
        std::fs::read_to_string(common::root().join("original/geometry_inception.txt")).unwrap();
    let names: Vec<&str> = names.lines().collect();
    assert_eq!(h.shape, vec![names.len(), 299, 299, 3]);
    let plane = 299 * 299 * 3;
    for (k, name) in names.iter().enumerate() {
        let (px, w, hh) = common::load_rgb(&common::root().join("photos").join(name));
        let (got, gw, gh) = imgcorrupt::dataset::execute::inception_geometry(&px, w, hh).unwrap();
        assert_eq!((gw, gh), (299, 299));
        let want = &bytes[h.data_offset + k * plane..h.data_offset + (k + 1) * plane];
        let (share, max) = common::agreement(&got, want, 1);
        eprintln!(
            "inception geometry {name}: ±1 on {:.4} %, max diff {max}",
            100.0 * share
        );
        assert!(share >= 0.999, "{name}: only {share} within ±1 (max {max})");
    }
}

/// The `form = "imagenet-c"` elastic transform against the original algorithm run with the
/// real OpenCV / scikit-image / SciPy calls (scripts/make_original_fixtures.py: numpy-mode seeds
/// `100 + severity`): within ±1 on ≥ 99.9 % of values, the numpy-mode tolerance.
#[test]
fn original_elastic_matches_the_opencv_oracle() {
    check_oracle(
        0.999,
        0.0,
        "elastic",
        Corruption::ElasticTransform,
        100,
        None,
    );
}

/// `frost.texture_scale` (1 at 224, 0.3 at 64, 0.2 at 32) with imagecorruptions' frost photos
/// against the original frost run with OpenCV (cv2.imread, cv2.resize bilinear; seeds
/// `200 + severity`). Needs the photos (IMGCORRUPT_FROST_DIR), like the other frost parity tests.
#[test]
fn original_frost_matches_the_opencv_oracle() {
    let Some(dir) = common::frost_dir() else {
        eprintln!("SKIPPED: imagecorruptions' frost photos not found (set IMGCORRUPT_FROST_DIR)");
        return;
    };
    let textures = Arc::new(imgcorrupt::FrostTextures::load(&dir).unwrap());
    check_oracle(0.999, 1.0, "frost", Corruption::Frost, 200, Some(textures));
}

/// `motion_blur.quantise = "imagemagick"` against ImageMagick itself (Wand's
/// `MagickMotionBlurImage` on a PNG round trip, as the original scripts call it; seeds
/// `300 + severity`): ±1 on ≥ 99 % of values.
#[test]
fn original_motion_blur_matches_imagemagick() {
    check_oracle(
        0.99,
        0.999,
        "motion_blur",
        Corruption::MotionBlur,
        300,
        None,
    );
}

/// `snow.layer = "imagemagick"` against the original snow (layer trimmed, truncated to 8 bits
/// into a PNG, blurred by ImageMagick through Wand; seeds `400 + severity`): ±1 on ≥ 99 %.
#[test]
fn original_snow_matches_imagemagick() {
    check_oracle(0.99, 0.999, "snow", Corruption::Snow, 400, None);
}

/// `glass_blur.loop_side` (the original scripts' constant loop bounds): on an `S×S` image it
/// is imagecorruptions' rule exactly; on a larger image only the top-left `S×S` is shuffled,
/// so rows beyond it and the blur's reach equal the unshuffled result (iterations 0) while
/// without the key they do not; a smaller image is a clear error.
#[test]
fn glass_blur_loop_side_is_the_originals_constant_bound() {
    let preset = |extra: &str| {
        Arc::new(
            Preset::from_toml_str(
                &format!(
                    "[preset]\nname = \"t\"\nextends = \"imagecorruptions\"\n[glass_blur]\nsigma = [0.7, 0.7, 0.7, 0.7, 0.7]\nmax_delta = [2, 2, 2, 2, 2]\niterations = [{}, 1, 1, 1, 1]\n{extra}",
                    if extra.contains("iter0") { 0 } else { 2 }
                )
                .replace("iter0", ""),
                "t.toml",
            )
            .unwrap(),
        )
    };
    let run = |p: Arc<Preset>, img: &DynamicImage| {
        let set = Settings::new(5).with_rng(RngMode::Numpy).with_preset(p);
        corrupt_with(img, Corruption::GlassBlur, 1, &set).map(|o| o.to_rgb8().into_raw())
    };
    let square = photo(64);
    assert_eq!(
        run(preset("loop_side = 64\n"), &square).unwrap(),
        run(preset(""), &square).unwrap(),
        "an S×S image: the two rules agree"
    );
    let big = photo(96);
    let constant = run(preset("loop_side = 64\n"), &big).unwrap();
    let own = run(preset(""), &big).unwrap();
    let still = run(preset("iter0"), &big).unwrap();
    let row = 96 * 3;
    // σ 0.7, truncate 4: the blur reaches 3 pixels; shuffled rows end at 63
    let below = 64 + 4;
    assert_eq!(constant[below * row..], still[below * row..]);
    assert_ne!(own[below * row..], still[below * row..]);
    assert_ne!(constant[..60 * row], still[..60 * row]);
    let e = run(preset("loop_side = 64\n"), &photo(48))
        .unwrap_err()
        .to_string();
    assert!(e.contains("loop_side = 64") && e.contains("48x48"), "{e}");
    let e = Preset::from_toml_str(
        "[preset]\nname = \"t\"\nextends = \"imagecorruptions\"\n[glass_blur]\nloop_side = 0\n",
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("glass_blur.loop_side"), "{e}");
}

/// imagenet-c-299 carries its own preprocessing (`geometry = "inception"`), the original's
/// frost rule (photographs unscaled) and plasma map (512), and the constant loop side 299.
#[test]
fn imagenet_c_299_builds_in_its_geometry_and_frost_rule() {
    use imgcorrupt::corruptions::blur::glass_blur::Params as Glass;
    use imgcorrupt::corruptions::weather::frost::Params as Frost;
    let p = Preset::builtin("imagenet-c-299").unwrap();
    assert_eq!(p.info().geometry.as_deref(), Some("inception"));
    assert_eq!(p.params::<Frost>().unwrap().texture_scale, Some(1.0));
    assert_eq!(p.params::<Fog>().unwrap().map_size, Some(512));
    assert_eq!(p.params::<Glass>().unwrap().loop_side, Some(299));
    let base = Preset::builtin("imagecorruptions").unwrap();
    assert_eq!(base.info().geometry, None);
    assert_eq!(base.params::<Glass>().unwrap().loop_side, None);
    let e = Preset::from_toml_str("[preset]\nname = \"t\"\ngeometry = \"square\"\n", "t.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("preset.geometry"), "{e}");
}
