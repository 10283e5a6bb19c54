//! ImageNet-P sequences (src/corruptions/imagenet_p/): frame counts, the frames that are the
//! clean crop where the reference's are, determinism and seed sensitivity, and the published
//! parameters checked on the frames (tests that fail on a wrong magnitude).

use imgcorrupt::corruptions::imagenet_p::{Perturbation, Rgb, SIDE};
use imgcorrupt::dataset::sequences::{frames_of, load_source};
use std::path::Path;

fn source() -> Rgb {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos/china_120x160.png");
    load_source(&p, 1 << 28).unwrap()
}

fn mean_abs(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .sum::<f64>()
        / a.len() as f64
}

#[test]
fn resize_256_then_frames_of_224() {
    let img = source();
    assert_eq!((img.width, img.height), (256, 341));
    for p in Perturbation::ALL.into_iter().filter(|p| p.available()) {
        let f = frames_of(&img, "a.png", p, 1, 0).unwrap();
        assert_eq!(f.len(), p.frames(), "{}", p.name());
        assert_eq!(f.len(), if p == Perturbation::Translate { 41 } else { 31 });
        assert!(f.iter().all(|x| x.len() == SIDE * SIDE * 3));
    }
    assert!(frames_of(&img, "a.png", Perturbation::Snow, 1, 0).is_none());
}

#[test]
fn clean_frames_where_the_reference_has_them() {
    let img = source();
    let clean = img.center_crop();
    // noise sequences and zoom_blur: frame 0 is the clean crop (img0.png of the reference)
    for p in [
        Perturbation::GaussianNoise,
        Perturbation::ShotNoise,
        Perturbation::SpeckleNoise,
        Perturbation::ZoomBlur,
    ] {
        for d in 1..=3 {
            let f = frames_of(&img, "a.png", p, d, 3).unwrap();
            assert_eq!(f[0], clean, "{} d{d}: frame 0", p.name());
            assert_ne!(f[1], clean, "{} d{d}: frame 1", p.name());
        }
    }
    // the identity parameter of the geometric sequences
    for (p, i) in [
        (Perturbation::Translate, 20),
        (Perturbation::Rotate, 15),
        (Perturbation::Shear, 15),
    ] {
        let f = frames_of(&img, "a.png", p, 1, 0).unwrap();
        assert_eq!(f[i], clean, "{} frame {i}", p.name());
        assert_ne!(f[0], clean, "{} frame 0", p.name());
    }
    // tilt frame 15 is no rotation, but the reference's projection still scales by
    // f/(1 + f) about the corner (f = the diagonal, ≈ 0.998): close to, not equal to, clean
    let f = frames_of(&img, "a", Perturbation::Tilt, 1, 0).unwrap();
    let d15 = mean_abs(&f[15], &clean);
    assert!(d15 > 0.0 && d15 < 3.0, "{d15}");
    assert!(mean_abs(&f[0], &clean) > 4.0 * d15);
    // brightness frame 15 adds 0 to V: the HSV round trip and the reference's truncation to
    // 8 bits only (a value may drop by one level)
    let f = frames_of(&img, "a.png", Perturbation::Brightness, 1, 0).unwrap();
    assert!(f[15]
        .iter()
        .zip(&clean)
        .all(|(a, b)| *b - *a <= 1 && a <= b));
    // motion_blur frame 0 is blurred, as in the reference (angle −120°)
    let f = frames_of(&img, "a.png", Perturbation::MotionBlur, 1, 0).unwrap();
    assert!(mean_abs(&f[0], &clean) > 1.0);
}

#[test]
fn deterministic_and_seed_sensitive() {
    let img = source();
    for p in Perturbation::ALL.into_iter().filter(|p| p.available()) {
        let a = frames_of(&img, "n1/a.JPEG", p, 2, 5).unwrap();
        assert_eq!(
            a,
            frames_of(&img, "n1/a.JPEG", p, 2, 5).unwrap(),
            "{}",
            p.name()
        );
        let b = frames_of(&img, "n1/a.JPEG", p, 2, 6).unwrap();
        let c = frames_of(&img, "n1/b.JPEG", p, 2, 5).unwrap();
        if p.is_noise() {
            assert_ne!(a, b, "{}: seed ignored", p.name());
            assert_ne!(a, c, "{}: source ignored", p.name());
        } else {
            assert_eq!(
                a,
                b,
                "{}: a deterministic sequence depends on the seed",
                p.name()
            );
        }
    }
}

#[test]
fn noise_magnitudes_follow_the_published_parameters() {
    let img = source();
    let clean = img.center_crop();
    // mid-grey pixels only (no clipping): the residual's std is σ·255 (Gaussian), x·σ·255
    // (speckle), sqrt(x/λ)·255 (Poisson)
    let mid: Vec<usize> = (0..clean.len())
        .filter(|&i| (80..=180).contains(&clean[i]))
        .collect();
    assert!(mid.len() > 10_000);
    let std_of = |f: &[u8], scale: &dyn Fn(u8) -> f64| -> f64 {
        // truncation to 8 bits shifts the mean by 0.5, not the spread
        let r: Vec<f64> = mid
            .iter()
            .map(|&i| (f64::from(f[i]) - f64::from(clean[i])) / scale(clean[i]))
            .collect();
        let m = r.iter().sum::<f64>() / r.len() as f64;
        (r.iter().map(|v| (v - m).powi(2)).sum::<f64>() / r.len() as f64).sqrt()
    };
    for (d, sigma) in [(1u8, 0.03), (2, 0.05), (3, 0.08)] {
        let f = frames_of(&img, "a", Perturbation::GaussianNoise, d, 1).unwrap();
        let s = std_of(&f[7], &|_| 255.0);
        assert!(
            (s / sigma - 1.0).abs() < 0.08,
            "gaussian d{d}: {s} vs {sigma}"
        );
    }
    for (d, sigma) in [(1u8, 0.05), (2, 0.10), (3, 0.15)] {
        let f = frames_of(&img, "a", Perturbation::SpeckleNoise, d, 1).unwrap();
        let s = std_of(&f[7], &|x| f64::from(x));
        assert!(
            (s / sigma - 1.0).abs() < 0.08,
            "speckle d{d}: {s} vs {sigma}"
        );
    }
    for (d, lam) in [(1u8, 300.0f64), (2, 120.0), (3, 60.0)] {
        let f = frames_of(&img, "a", Perturbation::ShotNoise, d, 1).unwrap();
        let s = std_of(&f[7], &|x| (f64::from(x) / 255.0 / lam).sqrt() * 255.0);
        assert!((s - 1.0).abs() < 0.1, "shot d{d}: normalised std {s}");
    }
}

#[test]
fn sequences_move_monotonically_away_from_their_identity_frame() {
    let img = source();
    let clean = img.center_crop();
    let check = |p: Perturbation, id: usize| {
        let f = frames_of(&img, "a", p, 1, 0).unwrap();
        let d: Vec<f64> = f.iter().map(|x| mean_abs(x, &clean)).collect();
        for i in id + 1..f.len() {
            assert!(
                d[i] + 0.05 >= d[i - 1],
                "{} after frame {id}: {d:?}",
                p.name()
            );
        }
        for i in (0..id).rev() {
            assert!(
                d[i] + 0.05 >= d[i + 1],
                "{} before frame {id}: {d:?}",
                p.name()
            );
        }
    };
    check(Perturbation::Translate, 20);
    check(Perturbation::Rotate, 15);
    check(Perturbation::Shear, 15);
    check(Perturbation::Tilt, 15);
    check(Perturbation::Brightness, 15);
    check(Perturbation::GaussianBlur, 0);
    check(Perturbation::ZoomBlur, 0);
}

#[test]
fn brightness_and_translate_parameters() {
    let img = source();
    let clean = img.center_crop();
    // translate frame i: the crop shifted right by i − 20 (black comes in only where the
    // 256-wide source has no pixels: the crop starts 16 px in, so shifts up to 16 are exact)
    let f = frames_of(&img, "a", Perturbation::Translate, 1, 0).unwrap();
    for i in [4usize, 10, 27, 36] {
        let s = i as isize - 20;
        for y in [0usize, 100, 223] {
            for x in 16..208usize {
                let sx = (x as isize - s) as usize;
                assert_eq!(
                    f[i][(y * SIDE + x) * 3],
                    clean[(y * SIDE + sx) * 3],
                    "frame {i} ({x},{y})"
                );
            }
        }
    }
    // brightness frame i: mean V moves by (i − 15)·0.02·255 where nothing clips
    let f = frames_of(&img, "a", Perturbation::Brightness, 1, 0).unwrap();
    let v = |px: &[u8]| -> f64 {
        px.chunks(3)
            .map(|p| f64::from(*p.iter().max().unwrap()))
            .sum::<f64>()
            / (px.len() / 3) as f64
    };
    let (v15, v16, v14) = (v(&f[15]), v(&f[16]), v(&f[14]));
    // two steps of 0.02·255 = 5.1 levels; the reference's truncation to 8 bits moves a
    // value down by up to one level, so single steps measure 5–6 and 4–5
    assert!(((v16 - v14) - 10.2).abs() < 1.2, "{v14} {v15} {v16}");
    assert!(
        (4.0..=6.5).contains(&(v16 - v15)) && (4.0..=6.5).contains(&(v15 - v14)),
        "{v14} {v15} {v16}"
    );
}
