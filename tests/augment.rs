//! Training augmentations (`imgcorrupt::augment`): noise statistics, clean fractions, per-sample
//! determinism across thread counts and batch splits, u8/f32 agreement, replay, warnings.
//!
//! Statistical tests use fixed seeds (so they are deterministic) and tolerances of 5 standard
//! errors computed from the sample size.

use imgcorrupt::augment::{
    chw_f32_to_hwc_u8, hwc_u8_to_chw_f32, replay_f32, replay_u8, Applied, Augment, BatchKeys,
    CleanSplit, GaussianNoiseTraining, OneOf, Op, RandomCorruption, Record, SampleKey, Sequence,
    Shape, SpeckleNoiseTraining, GAUSSIAN_MULTI_SIGMAS,
};
use imgcorrupt::internals::noise_table::{distribution_quantised, NoiseKind, Quantise};
use imgcorrupt::Corruption;

/// Mean and (population) standard deviation.
fn moments(v: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let (mut n, mut s, mut s2) = (0usize, 0.0, 0.0);
    for x in v {
        n += 1;
        s += x;
        s2 += x * x;
    }
    let mean = s / n as f64;
    (mean, (s2 / n as f64 - mean * mean).sqrt(), n)
}

/// Assert `got` is within 5 standard errors of the normal-theory mean and sd of `sigma`-noise.
fn assert_moments(label: &str, mean: f64, sd: f64, n: usize, want_mean: f64, want_sd: f64) {
    let se_mean = want_sd / (n as f64).sqrt();
    let se_sd = want_sd / (2.0 * n as f64).sqrt();
    assert!(
        (mean - want_mean).abs() < 5.0 * se_mean,
        "{label}: mean {mean}, want {want_mean} ± {}",
        5.0 * se_mean
    );
    assert!(
        (sd - want_sd).abs() < 5.0 * se_sd,
        "{label}: sd {sd}, want {want_sd} ± {}",
        5.0 * se_sd
    );
}

fn gradient_u8(shape: Shape, salt: usize) -> Vec<u8> {
    (0..shape.len())
        .map(|i| ((i * 7 + salt * 13) % 256) as u8)
        .collect()
}

/// Policies covering every step kind, for the determinism tests.
fn mixed_policy(split: CleanSplit) -> OneOf {
    OneOf::new()
        .or(GaussianNoiseTraining::multi()
            .with_split(split)
            .allow_benchmark_corruptions())
        .or(SpeckleNoiseTraining::new().with_split(split))
        .or(
            RandomCorruption::new(&[Corruption::Saturate, Corruption::Pixelate])
                .unwrap()
                .with_probability(0.7)
                .allow_benchmark_corruptions(),
        )
}

#[test]
fn gaussian_noise_f32_has_mean_zero_and_sd_sigma() {
    // Mid-grey: with σ ≤ 0.12 the clip bounds are ≥ 4σ away, clipping is negligible
    // (P < 3·10⁻⁵ per value, shifting the sd by far less than the tolerance).
    let shape = Shape::new(64, 64, 3);
    for sigma in [0.08, 0.12] {
        let gnt = GaussianNoiseTraining::single(sigma)
            .with_p_clean(0.0)
            .allow_benchmark_corruptions();
        let mut diffs = Vec::new();
        for i in 0..8 {
            let mut img = vec![0.5f32; shape.len()];
            gnt.apply_f32(&mut img, shape, SampleKey::new(1, 0, i))
                .unwrap();
            diffs.extend(img.iter().map(|&v| v as f64 - 0.5));
        }
        let (m, sd, n) = moments(diffs.iter().copied());
        assert_moments(&format!("gaussian f32 σ={sigma}"), m, sd, n, 0.0, sigma);
    }
}

#[test]
fn speckle_noise_f32_has_sd_x_sigma() {
    let shape = Shape::new(64, 64, 3);
    let sp = SpeckleNoiseTraining::with_sigmas(&[0.15], CleanSplit::PerSample)
        .unwrap()
        .with_p_clean(0.0);
    let mut diffs = Vec::new();
    for i in 0..8 {
        let mut img = vec![0.5f32; shape.len()];
        sp.apply_f32(&mut img, shape, SampleKey::new(2, 0, i))
            .unwrap();
        diffs.extend(img.iter().map(|&v| v as f64 - 0.5));
    }
    let (m, sd, n) = moments(diffs.iter().copied());
    assert_moments("speckle f32", m, sd, n, 0.0, 0.5 * 0.15);
}

#[test]
fn noise_u8_has_mean_zero_and_sd_sigma_with_rounding() {
    // 128 ± 6σ stays inside [0, 255] for 255σ ≈ 20: no clipping. Rounding to nearest keeps the
    // mean and adds the quantisation variance 1/12.
    let shape = Shape::new(64, 64, 3);
    let cases: [(Box<dyn Augment>, f64); 2] = [
        (
            Box::new(
                GaussianNoiseTraining::single(0.08)
                    .with_p_clean(0.0)
                    .allow_benchmark_corruptions(),
            ),
            255.0 * 0.08,
        ),
        (
            Box::new(
                SpeckleNoiseTraining::with_sigmas(&[0.15], CleanSplit::PerSample)
                    .unwrap()
                    .with_p_clean(0.0),
            ),
            128.0 * 0.15,
        ),
    ];
    for (k, (policy, sd)) in cases.iter().enumerate() {
        let mut diffs = Vec::new();
        for i in 0..8 {
            let mut img = vec![128u8; shape.len()];
            policy
                .apply_u8(&mut img, shape, SampleKey::new(3, k as u64, i))
                .unwrap();
            diffs.extend(img.iter().map(|&v| v as f64 - 128.0));
        }
        let (m, got_sd, n) = moments(diffs.iter().copied());
        let want_sd = (sd * sd + 1.0 / 12.0).sqrt();
        assert_moments(&format!("u8 case {k}"), m, got_sd, n, 0.0, want_sd);
    }
}

#[test]
fn multi_sigma_draws_each_sigma_uniformly() {
    let gnt = GaussianNoiseTraining::multi()
        .with_p_clean(0.0)
        .allow_benchmark_corruptions();
    let n = 5000;
    let mut counts = [0usize; 5];
    let mut out = Vec::new();
    for i in 0..n {
        out.clear();
        gnt.plan(SampleKey::new(9, 0, i).sample_seed(), None, &mut out);
        let s = out[0].sigma.unwrap();
        counts[GAUSSIAN_MULTI_SIGMAS.iter().position(|&x| x == s).unwrap()] += 1;
    }
    let se = (0.2f64 * 0.8 / n as f64).sqrt();
    for c in counts {
        assert!((c as f64 / n as f64 - 0.2).abs() < 5.0 * se, "{counts:?}");
    }
}

#[test]
fn clean_fraction_per_sample_is_p_clean() {
    let shape = Shape::new(2, 2, 3);
    for p in [0.3, 0.5] {
        let gnt = GaussianNoiseTraining::single(0.5)
            .with_p_clean(p)
            .with_split(CleanSplit::PerSample)
            .allow_benchmark_corruptions();
        let n = 4000;
        let mut batch = vec![100u8; n * shape.len()];
        let mut records = Vec::new();
        gnt.apply_batch_u8(&mut batch, shape, BatchKeys::range(5, 1, 0), &mut records)
            .unwrap();
        let clean = records.iter().filter(|r| r.is_clean()).count();
        let se = (p * (1.0 - p) / n as f64).sqrt();
        assert!(
            (clean as f64 / n as f64 - p).abs() < 5.0 * se,
            "p={p}: {clean}/{n}"
        );
        // clean samples are untouched
        for (img, rec) in batch.chunks(shape.len()).zip(&records) {
            if rec.is_clean() {
                assert!(img.iter().all(|&v| v == 100));
            }
        }
        // per-sample API: same decisions as the PerSample batch
        for i in [0usize, 1, 17, 3999] {
            let mut img = vec![100u8; shape.len()];
            let rec = gnt
                .apply_u8(&mut img, shape, SampleKey::new(5, 1, i as u64))
                .unwrap();
            assert_eq!(rec, records[i]);
        }
    }
}

#[test]
fn reference_batch_split_by_position() {
    let shape = Shape::new(1, 1, 3);
    let cases: [(Box<dyn Augment>, usize, usize); 4] = [
        // single σ: the first round(B·p_clean) stay clean (70 → 35, 5 → round(2.5) = 2)
        (
            Box::new(GaussianNoiseTraining::single(0.5).allow_benchmark_corruptions()),
            70,
            35,
        ),
        (
            Box::new(GaussianNoiseTraining::single(0.5).allow_benchmark_corruptions()),
            5,
            2,
        ),
        // multi σ: the last B − round(B·(1 − p_clean)) are noised (7 → 7 − 4 = 3 noised)
        (
            Box::new(GaussianNoiseTraining::multi().allow_benchmark_corruptions()),
            7,
            4,
        ),
        (Box::new(SpeckleNoiseTraining::new()), 70, 35),
    ];
    for (policy, b, clean) in cases.iter() {
        let mut batch = vec![128u8; b * shape.len()];
        let mut records = Vec::new();
        policy
            .apply_batch_u8(
                &mut batch,
                shape,
                BatchKeys::range(0, 0, 1000),
                &mut records,
            )
            .unwrap();
        let flags: Vec<bool> = records.iter().map(Record::is_clean).collect();
        let want: Vec<bool> = (0..*b).map(|i| i < *clean).collect();
        assert_eq!(flags, want, "batch {b}");
    }
}

fn run_batch_u8(
    policy: &dyn Augment,
    batch: &mut [u8],
    shape: Shape,
    keys: BatchKeys,
) -> Vec<Record> {
    let mut records = Vec::new();
    policy
        .apply_batch_u8(batch, shape, keys, &mut records)
        .unwrap();
    records
}

#[test]
fn batches_do_not_depend_on_thread_count() {
    let shape = Shape::new(9, 7, 3);
    let policy = mixed_policy(CleanSplit::FirstRound);
    let src: Vec<u8> = (0..16).flat_map(|i| gradient_u8(shape, i)).collect();
    let mut results = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut u8_batch = src.clone();
        let mut f32_batch = vec![0f32; src.len()];
        for (s, d) in src
            .chunks(shape.len())
            .zip(f32_batch.chunks_mut(shape.len()))
        {
            hwc_u8_to_chw_f32(s, d, shape).unwrap();
        }
        let (r8, r32) = pool.install(|| {
            let r8 = run_batch_u8(&policy, &mut u8_batch, shape, BatchKeys::range(3, 2, 50));
            let mut r32 = Vec::new();
            policy
                .apply_batch_f32(&mut f32_batch, shape, BatchKeys::range(3, 2, 50), &mut r32)
                .unwrap();
            (r8, r32)
        });
        assert_eq!(r8, r32, "both buffer types draw the same parameters");
        results.push((u8_batch, f32_batch, r8));
    }
    assert!(results[0] == results[1]);
    // The batch really was augmented by several kinds of steps.
    let ops: std::collections::HashSet<Op> = results[0]
        .2
        .iter()
        .flat_map(|r| r.steps.iter().map(|s| s.op))
        .collect();
    assert!(ops.len() >= 3, "{ops:?}");
}

#[test]
fn batches_do_not_depend_on_batch_splitting() {
    let shape = Shape::new(5, 6, 3);
    let src: Vec<u8> = (0..8).flat_map(|i| gradient_u8(shape, i)).collect();
    let half = 4 * shape.len();

    // Per-sample split: one batch of 8 == two batches of 4 == eight single calls.
    let policy = mixed_policy(CleanSplit::PerSample);
    let mut whole = src.clone();
    let r_whole = run_batch_u8(&policy, &mut whole, shape, BatchKeys::range(1, 0, 0));
    let mut split = src.clone();
    let (a, b) = split.split_at_mut(half);
    let mut r_split = run_batch_u8(&policy, a, shape, BatchKeys::range(1, 0, 0));
    r_split.extend(run_batch_u8(&policy, b, shape, BatchKeys::range(1, 0, 4)));
    assert_eq!(whole, split);
    assert_eq!(r_whole, r_split);
    let mut single = src.clone();
    for (i, img) in single.chunks_mut(shape.len()).enumerate() {
        let rec = policy
            .apply_u8(img, shape, SampleKey::new(1, 0, i as u64))
            .unwrap();
        assert_eq!(rec, r_whole[i]);
    }
    assert_eq!(single, whole);

    // Shuffled explicit indices: sample k gets the same result wherever it sits.
    let order = [6u64, 2, 7, 0, 5, 1, 3, 4];
    let mut shuffled: Vec<u8> = order
        .iter()
        .flat_map(|&k| src[k as usize * shape.len()..][..shape.len()].to_vec())
        .collect();
    run_batch_u8(&policy, &mut shuffled, shape, BatchKeys::list(1, 0, &order));
    for (pos, &k) in order.iter().enumerate() {
        assert_eq!(
            shuffled[pos * shape.len()..][..shape.len()],
            whole[k as usize * shape.len()..][..shape.len()]
        );
    }

    // Reference position split: which samples are clean depends on the batch, but a sample
    // noised in both batchings gets the same noise (samples 6 and 7 here).
    let gnt = GaussianNoiseTraining::multi()
        .with_split(CleanSplit::FirstRound)
        .allow_benchmark_corruptions();
    let mut whole = src.clone();
    let r_whole = run_batch_u8(&gnt, &mut whole, shape, BatchKeys::range(1, 0, 0));
    let mut split = src.clone();
    let (a, b) = split.split_at_mut(half);
    run_batch_u8(&gnt, a, shape, BatchKeys::range(1, 0, 0));
    let r_b = run_batch_u8(&gnt, b, shape, BatchKeys::range(1, 0, 4));
    assert!(r_whole[..4].iter().all(Record::is_clean));
    assert!(!r_whole[6].is_clean() && !r_b[2].is_clean());
    assert_eq!(whole[6 * shape.len()..], split[6 * shape.len()..]);
}

#[test]
fn u8_and_f32_noise_agree_in_distribution() {
    // For constant inputs near the clip bounds and mid-range, compare the mean and sd of the u8
    // output and of round(255·f32 output) with the exact distribution of
    // round(255·clip(v/255 + σz, 0, 1)).
    // σ = 0.08 (255σ ≈ 20 LSB) and ~110k values per case: 5 standard errors of the mean are
    // ≈ 0.3 LSB, so a truncating quantiser (−0.5 LSB) would fail.
    let shape = Shape::new(48, 48, 3);
    let sigma = 0.08;
    let gnt = GaussianNoiseTraining::single(sigma)
        .with_p_clean(0.0)
        .allow_benchmark_corruptions();
    for v in [3u8, 100, 250] {
        let p = distribution_quantised(NoiseKind::Gaussian, sigma, v, Quantise::Round);
        let mean: f64 = p.iter().enumerate().map(|(k, q)| k as f64 * q).sum();
        let sd = p
            .iter()
            .enumerate()
            .map(|(k, q)| (k as f64 - mean).powi(2) * q)
            .sum::<f64>()
            .sqrt();
        let mut from_u8 = Vec::new();
        let mut from_f32 = Vec::new();
        for i in 0..16 {
            let key = SampleKey::new(4, v as u64, i);
            let mut img = vec![v; shape.len()];
            gnt.apply_u8(&mut img, shape, key).unwrap();
            from_u8.extend(img.iter().map(|&x| x as f64));
            let mut f = vec![v as f32 / 255.0; shape.len()];
            gnt.apply_f32(&mut f, shape, key).unwrap();
            assert!(f.iter().all(|x| (0.0..=1.0).contains(x)));
            let mut q = vec![0u8; shape.len()];
            chw_f32_to_hwc_u8(&f, &mut q, shape).unwrap();
            from_f32.extend(q.iter().map(|&x| x as f64));
        }
        for (label, data) in [("u8", &from_u8), ("f32", &from_f32)] {
            let (m, s, n) = moments(data.iter().copied());
            assert_moments(&format!("{label} v={v}"), m, s, n, mean, sd);
        }
    }
}

#[test]
fn corruptions_on_f32_match_u8_exactly() {
    let shape = Shape::new(33, 17, 3);
    let rc = RandomCorruption::new(&[
        Corruption::Saturate,
        Corruption::Pixelate,
        Corruption::SpeckleNoise,
    ])
    .unwrap()
    .allow_benchmark_corruptions();
    for i in 0..6 {
        let key = SampleKey::new(8, 0, i);
        let src = gradient_u8(shape, i as usize);
        let mut img = src.clone();
        let rec = rc.apply_u8(&mut img, shape, key).unwrap();
        let mut f = vec![0f32; shape.len()];
        hwc_u8_to_chw_f32(&src, &mut f, shape).unwrap();
        let rec32 = rc.apply_f32(&mut f, shape, key).unwrap();
        assert_eq!(rec, rec32);
        let mut back = vec![0u8; shape.len()];
        chw_f32_to_hwc_u8(&f, &mut back, shape).unwrap();
        assert_eq!(back, img, "{rec:?}");
        assert_ne!(img, src, "{rec:?}");
    }
}

#[test]
fn replay_reproduces_a_sample() {
    let shape = Shape::new(12, 10, 3);
    let policy = Sequence::new()
        .then(
            RandomCorruption::new(&[Corruption::Saturate, Corruption::Contrast])
                .unwrap()
                .allow_benchmark_corruptions(),
        )
        .then(SpeckleNoiseTraining::new().with_p_clean(0.0))
        .then(
            GaussianNoiseTraining::multi()
                .with_p_clean(0.0)
                .allow_benchmark_corruptions(),
        );
    for i in 0..4 {
        let key = SampleKey::new(77, 3, i);
        let src = gradient_u8(shape, i as usize);
        let mut img = src.clone();
        let rec = policy.apply_u8(&mut img, shape, key).unwrap();
        assert_eq!(rec.steps.len(), 3);
        let json = serde_json::to_string(&rec).unwrap();
        let back: Record = serde_json::from_str(&json).unwrap();
        let mut again = src.clone();
        back.replay_u8(&mut again, shape).unwrap();
        assert_eq!(again, img, "{json}");

        let mut f = vec![0f32; shape.len()];
        hwc_u8_to_chw_f32(&src, &mut f, shape).unwrap();
        let f0 = f.clone();
        let rec32 = policy.apply_f32(&mut f, shape, key).unwrap();
        assert_eq!(rec32, rec);
        let mut f_again = f0;
        replay_f32(&back.steps, &mut f_again, shape).unwrap();
        assert!(f
            .iter()
            .zip(&f_again)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    // A hand-written record works too.
    let step = Applied {
        op: Op::GaussianNoise,
        sigma: Some(0.2),
        corruption: None,
        severity: None,
        seed: 5,
    };
    let mut a = vec![128u8; shape.len()];
    let mut b = a.clone();
    replay_u8(&[step], &mut a, shape).unwrap();
    replay_u8(&[step], &mut b, shape).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, vec![128u8; shape.len()]);
}

#[test]
fn warnings_list_benchmark_corruptions_unless_allowed() {
    let rc = RandomCorruption::new(&[Corruption::Contrast, Corruption::Saturate]).unwrap();
    let w = rc.warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("contrast") && w[0].contains("validation"),
        "{w:?}"
    );
    assert!(rc.allow_benchmark_corruptions().warnings().is_empty());
    assert!(RandomCorruption::from_selection("saturate,speckle_noise")
        .unwrap()
        .warnings()
        .is_empty());
    assert_eq!(GaussianNoiseTraining::single(0.5).warnings().len(), 1);
    assert!(SpeckleNoiseTraining::new().warnings().is_empty());
    let seq = Sequence::new()
        .then(SpeckleNoiseTraining::new())
        .then(GaussianNoiseTraining::multi());
    assert!(seq.warns());
    assert!(seq.warnings()[0].contains("gaussian_noise"));
}

#[test]
fn shapes_and_errors() {
    let rc = RandomCorruption::new(&[Corruption::Saturate])
        .unwrap()
        .allow_benchmark_corruptions();
    for (h, w, c) in [(1, 1, 3), (1, 9, 1), (9, 1, 4), (2, 3, 2)] {
        let shape = Shape::new(h, w, c);
        let mut img = vec![77u8; shape.len()];
        rc.apply_u8(&mut img, shape, SampleKey::new(0, 0, 0))
            .unwrap();
        let mut f = vec![0.3f32; shape.len()];
        rc.apply_f32(&mut f, shape, SampleKey::new(0, 0, 0))
            .unwrap();
    }
    let five = Shape::new(2, 2, 5);
    assert!(rc
        .apply_u8(&mut [0u8; 20], five, SampleKey::new(0, 0, 0))
        .is_err());
    // noise works for any channel count
    let gnt = GaussianNoiseTraining::single(0.1).allow_benchmark_corruptions();
    gnt.apply_u8(&mut [0u8; 20], five, SampleKey::new(0, 0, 0))
        .unwrap();
    assert!(gnt
        .apply_u8(&mut [0u8; 19], five, SampleKey::new(0, 0, 0))
        .is_err());
    let mut records = Vec::new();
    assert!(gnt
        .apply_batch_f32(
            &mut [0f32; 40],
            five,
            BatchKeys::list(0, 0, &[1]),
            &mut records
        )
        .is_err());
}

/// A record read back from JSON can hold any σ: replaying a NaN, infinite or negative one is
/// an error naming it (it used to write NaN into f32 images and garbage into u8 ones).
#[test]
fn replay_rejects_invalid_sigma() {
    let shape = Shape::new(3, 5, 3);
    for op in [Op::GaussianNoise, Op::SpeckleNoise] {
        for sigma in [f64::NAN, f64::INFINITY, -0.1] {
            let step = Applied {
                op,
                sigma: Some(sigma),
                corruption: None,
                severity: None,
                seed: 1,
            };
            let mut img = vec![100u8; shape.len()];
            let e = replay_u8(&[step], &mut img, shape).unwrap_err().to_string();
            assert!(e.contains("σ") && e.contains(&sigma.to_string()), "{e}");
            assert_eq!(
                img,
                vec![100u8; shape.len()],
                "{op:?} {sigma}: image changed"
            );
            let mut f = vec![0.4f32; shape.len()];
            assert!(
                replay_f32(&[step], &mut f, shape).is_err(),
                "{op:?} {sigma}"
            );
            assert!(f.iter().all(|&v| v == 0.4), "{op:?} {sigma}: image changed");
        }
    }
}

/// A shape whose value count does not fit in `usize` is an error naming it (it used to
/// overflow: a panic in debug builds, a division by zero in release batches).
#[test]
fn overflowing_shapes_are_errors() {
    let gnt = GaussianNoiseTraining::single(0.1).allow_benchmark_corruptions();
    let huge = Shape::new(usize::MAX / 2 + 1, 2, 1);
    let mut img = vec![0u8; 8];
    let e = gnt
        .apply_u8(&mut img, huge, SampleKey::new(0, 0, 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("overflows"), "{e}");
    let mut records = Vec::new();
    let e = gnt
        .apply_batch_u8(&mut img, huge, BatchKeys::range(0, 0, 0), &mut records)
        .unwrap_err()
        .to_string();
    assert!(e.contains("overflows"), "{e}");
    let mut f = vec![0f32; 8];
    assert!(gnt
        .apply_batch_f32(&mut f, huge, BatchKeys::range(0, 0, 0), &mut records)
        .is_err());
    assert!(replay_u8(&[], &mut img, huge).is_err());
}

/// A choice added to a `OneOf` after its weights would never be chosen: applying it is an
/// error saying so, rather than a silently ignored choice.
#[test]
fn one_of_choice_added_after_weights_is_an_error() {
    let policy = OneOf::new()
        .or(SpeckleNoiseTraining::new())
        .or(SpeckleNoiseTraining::new())
        .with_weights(&[1.0, 1.0])
        .unwrap()
        .or(GaussianNoiseTraining::single(0.2).allow_benchmark_corruptions());
    let shape = Shape::new(2, 2, 3);
    let mut img = vec![9u8; shape.len()];
    let e = policy
        .apply_u8(&mut img, shape, SampleKey::new(0, 0, 0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("3 choices but 2 weights"), "{e}");
    let mut records = Vec::new();
    let mut f = vec![0.5f32; 2 * shape.len()];
    assert!(policy
        .apply_batch_f32(&mut f, shape, BatchKeys::range(0, 0, 0), &mut records)
        .is_err());
    assert_eq!(img, vec![9u8; shape.len()]);
}

/// A user-defined policy only needs `plan`: it gets every buffer type, batching and replay.
#[test]
fn custom_policies_need_only_plan() {
    struct AlwaysSpeckle;
    impl Augment for AlwaysSpeckle {
        fn plan(
            &self,
            seed: u64,
            _: Option<imgcorrupt::augment::BatchPosition>,
            out: &mut Vec<Applied>,
        ) {
            out.push(Applied {
                op: Op::SpeckleNoise,
                sigma: Some(0.3),
                corruption: None,
                severity: None,
                seed,
            });
        }
    }
    let shape = Shape::new(3, 3, 3);
    let mut batch = vec![0.5f32; 2 * shape.len()];
    let mut records = Vec::new();
    AlwaysSpeckle
        .apply_batch_f32(&mut batch, shape, BatchKeys::range(0, 0, 0), &mut records)
        .unwrap();
    assert!(AlwaysSpeckle.warnings().is_empty() && !AlwaysSpeckle.warns());
    assert!(records.iter().all(|r| !r.is_clean()));
    assert!(batch.iter().any(|&v| v != 0.5));
}
