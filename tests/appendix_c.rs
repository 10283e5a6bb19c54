//! The test vectors of docs/ALGORITHMS.md Appendix C: a 128×96 synthetic pattern, `np.random.seed(0)` before
//! every call, first 12 hex digits of SHA-256 of the output and its mean (imagecorruptions HEAD;
//! for the corruptions below 1.1.2 agrees). Every cell must match the hash exactly, except the
//! cells listed in `MEAN_ONLY`, where HEAD and 1.1.2 differ by known last-bit effects and the
//! mean must agree to ±0.01.

mod common;

use common::*;
use imgcorrupt::{corrupt_buffer, Corruption, PixelLayout, RngMode, Settings};

/// (corruption, [(hash12, mean); 5]) straight from the table of docs/ALGORITHMS.md Appendix C.
const VECTORS: &[(&str, [(&str, f64); 5])] = &[
    (
        "gaussian_noise",
        [
            ("dbe8d27c448b", 117.479),
            ("f11bae15fe11", 117.633),
            ("8ea9738774da", 117.986),
            ("4cb6bcfe19cc", 118.650),
            ("42db88f7465a", 119.774),
        ],
    ),
    (
        "shot_noise",
        [
            ("3e0af36a1797", 117.414),
            ("ebc99a131861", 116.915),
            ("ff6edfbb15fa", 115.970),
            ("4401db17aafd", 111.936),
            ("ebb0cdbecba3", 106.958),
        ],
    ),
    (
        "impulse_noise",
        [
            ("1b7006d50885", 118.220),
            ("5fc7e02438b2", 118.678),
            ("311dab59588c", 118.798),
            ("ff162297e260", 119.422),
            ("55dda1098a5d", 120.414),
        ],
    ),
    (
        "snow",
        [
            ("afd32344bc61", 161.698),
            ("2fba38de4cdf", 187.074),
            ("6ec94ddac245", 186.300),
            ("24cd4a7cca05", 198.006),
            ("0d19740fef08", 212.809),
        ],
    ),
    // fog: the ALGORITHMS.md Appendix C rows are imagecorruptions HEAD (float32 plasma buffer); 1.1.2 (float64,
    // what we reproduce) gives the same bytes for s1–s3 and s5 and, at s4, different bytes
    // (hash 0e32f427832a) with the same mean 117.684, which the mean check accepts.
    (
        "fog",
        [
            ("3226b808a92f", 114.877),
            ("d4fe0df4dded", 114.603),
            ("582fb76bc126", 115.935),
            ("71f448d0be00", 117.684),
            ("ffb6cca81f96", 118.158),
        ],
    ),
    (
        "defocus_blur",
        [
            ("6d2293f8afd6", 117.475),
            ("fbf69c2dc8ec", 117.478),
            ("48c984527d57", 117.518),
            ("cc3c5e5045bb", 119.049),
            ("1b0a64d6b2eb", 118.796),
        ],
    ),
    (
        "glass_blur",
        [
            ("22dda554e02d", 116.469),
            ("d06d59cf94bd", 116.741),
            ("d24ac547528e", 116.432),
            ("5aeb429a0e96", 117.278),
            ("549035298642", 117.186),
        ],
    ),
    (
        "motion_blur",
        [
            ("8b426135d3d4", 117.720),
            ("f8f523773597", 117.988),
            ("d37920f3816d", 118.252),
            ("9523061a2abe", 118.544),
            ("27c7e0a1a5b0", 118.699),
        ],
    ),
    (
        "zoom_blur",
        [
            ("7afd4436b0bb", 117.701),
            ("809afc5d687b", 117.802),
            ("e93b04523aec", 117.912),
            ("e2496786fef5", 118.012),
            ("d870c9be6b7a", 118.121),
        ],
    ),
    (
        "elastic_transform",
        [
            ("0243f2534212", 117.551),
            ("3a78d6668ce3", 117.540),
            ("9b95b7643821", 117.564),
            ("8e11ae1a4303", 117.646),
            ("0edd6eddf66f", 117.590),
        ],
    ),
    (
        "gaussian_blur",
        [
            ("bd804fa12712", 117.421),
            ("d5dc9a1f1813", 117.455),
            ("e674516209d7", 117.388),
            ("16200e804c95", 117.362),
            ("bb8cf180d2c6", 117.334),
        ],
    ),
    (
        "brightness",
        [
            ("db733af4a135", 141.362),
            ("ae4d6c3394eb", 164.333),
            ("f6ca112ad7b4", 184.038),
            ("6018fcfcbbf6", 201.336),
            ("28d6f2bdeb6b", 215.036),
        ],
    ),
    (
        "contrast",
        [
            ("93c9ebb201e8", 117.462),
            ("a4d8359a5843", 117.480),
            ("6d0300e79ca7", 117.397),
            ("3fd1c2b34523", 117.482),
            ("bf5d29df110f", 117.492),
        ],
    ),
    (
        "pixelate",
        [
            ("38fe4b5cc03c", 118.396),
            ("561fe671f091", 118.483),
            ("b87ebc3cac37", 118.182),
            ("30d574a0b537", 118.156),
            ("8e74ef57dc02", 118.281),
        ],
    ),
    (
        "jpeg_compression",
        [
            ("c1f532680d22", 117.570),
            ("8871d5b552b7", 117.433),
            ("2c47a56bc383", 116.908),
            ("ae2058357579", 118.498),
            ("7614a18f9473", 117.178),
        ],
    ),
    (
        "speckle_noise",
        [
            ("e58cdd39efcb", 117.295),
            ("2a999af04e04", 117.048),
            ("17216f27075c", 115.537),
            ("50917c3f53d5", 114.179),
            ("3a5a7079497c", 112.302),
        ],
    ),
    (
        "spatter",
        [
            ("1f64bcf16f80", 119.152),
            ("6ea716a51ab2", 121.489),
            ("57c1ca2ab3c6", 124.953),
            ("03b5a0a10965", 110.189),
            ("e1cf219418ac", 104.857),
        ],
    ),
    (
        "saturate",
        [
            ("1f0cb2af79dc", 122.321),
            ("ad5faee6031a", 123.654),
            ("b332bb58e4af", 111.653),
            ("d8f2cca65672", 92.120),
            ("95f1c864cf02", 84.739),
        ],
    ),
];

/// Cells checked on the mean only, each with the reason.
const MEAN_ONLY: &[(&str, u8, &str)] = &[
    (
        "motion_blur",
        4,
        "the Appendix C hash comes from HEAD on NumPy 2.4; the 1.1.2 oracle of our fixtures gives \
         77e6a048b194 (same mean), which is what we produce: a last-bit difference in the kernel \
         weights' exp() between the two NumPy builds",
    ),
    (
        "fog",
        4,
        "HEAD's plasma map is float32, 1.1.2's float64 (ALGORITHMS.md §0); the 1.1.2 oracle gives \
         0e32f427832a (same mean), which is what we produce",
    ),
];

#[test]
fn input_pattern_matches_spec() {
    let img = appendix_c_image();
    assert_eq!(sha12(&img)[..12], *"0bb89ca2010d");
    assert!((mean(&img) - 117.9872).abs() < 1e-4);
}

#[test]
fn test_vectors() {
    let img = appendix_c_image();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, cells) in VECTORS {
        let c = Corruption::from_name(name).unwrap();
        for (i, (hash, want_mean)) in cells.iter().enumerate() {
            let mut out = vec![0u8; img.len()];
            let settings = Settings::new(0).with_rng(RngMode::Numpy);
            corrupt_buffer(
                imgcorrupt::ImageView::new(&img, 128, 96, PixelLayout::Rgb),
                &mut out,
                c,
                i as u8 + 1,
                &settings,
            )
            .unwrap();
            let (got_hash, got_mean) = (sha12(&out), mean(&out));
            checked += 1;
            if std::env::var_os("IMGCORRUPT_REPORT").is_some() {
                eprintln!(
                    "{name} s{}: {got_hash} {got_mean:.3} (want {hash} {want_mean:.3})",
                    i + 1
                );
            }
            let s = i as u8 + 1;
            let mean_only = MEAN_ONLY.iter().any(|(n, sev, _)| n == name && *sev == s);
            if got_hash != *hash && (!mean_only || (got_mean - want_mean).abs() > 0.01) {
                failures.push(format!(
                    "{name} s{}: got {got_hash} {got_mean:.3}, want {hash} {want_mean:.3}",
                    i + 1
                ));
            }
        }
    }
    assert!(
        checked >= 40,
        "too few implemented corruptions checked: {checked}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// ALGORITHMS.md Appendix C frost rows, only with the reference's own frost photographs (third-party files,
/// not in the repository: `$IMGCORRUPT_FROST_DIR` or the oracle venv's copy); skipped otherwise.
/// OpenCV's bicubic rescale is reproduced to ±1, so cells pass on the mean (±0.05 here).
#[test]
fn frost_rows_with_original_textures() {
    const FROST: [(&str, f64); 5] = [
        ("78ef19808b5b", 170.371),
        ("59083fd4cf17", 174.158),
        ("7965664e2889", 175.860),
        ("7229a95a0c0e", 170.261),
        ("79608ef4b76c", 171.107),
    ];
    let Some(dir) = frost_dir() else {
        eprintln!(
            "frost_rows_with_original_textures: SKIPPED: no frost textures (set IMGCORRUPT_FROST_DIR)"
        );
        return;
    };
    let textures = std::sync::Arc::new(imgcorrupt::FrostTextures::load(&dir).unwrap());
    let img = appendix_c_image();
    let mut failures = Vec::new();
    for (i, (hash, want_mean)) in FROST.iter().enumerate() {
        let mut out = vec![0u8; img.len()];
        let settings = Settings::new(0)
            .with_rng(RngMode::Numpy)
            .with_frost_textures(textures.clone());
        corrupt_buffer(
            imgcorrupt::ImageView::new(&img, 128, 96, PixelLayout::Rgb),
            &mut out,
            Corruption::Frost,
            i as u8 + 1,
            &settings,
        )
        .unwrap();
        let (got_hash, got_mean) = (sha12(&out), mean(&out));
        eprintln!(
            "frost s{}: {got_hash} {got_mean:.3} (reference {hash} {want_mean:.3})",
            i + 1
        );
        if got_hash != *hash && (got_mean - want_mean).abs() > 0.05 {
            failures.push(format!(
                "frost s{}: got {got_hash} {got_mean:.3}, want {hash} {want_mean:.3}",
                i + 1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
