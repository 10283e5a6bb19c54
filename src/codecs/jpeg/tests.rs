//! Unit tests: Pillow parity vectors, scalar/AVX2 twin equality.

use super::*;
use crate::simd::available;
use sha2::{Digest, Sha256};

/// Tiny deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 33) as usize % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// Formula images of `oracle/test_vectors.py` (`kind` 0: integer-hash noise, 1: gradients).
fn pattern(kind: u8, w: usize, h: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(w * h * 3);
    for y in 0..h as u64 {
        for x in 0..w as u64 {
            for c in 0..3u64 {
                let p = if kind == 0 {
                    let t = x * x * 13 + y * y * 7 + x * y * 5 + c * 71 + x * 29 + y * 43;
                    ((t * 2_654_435_761) >> 13) & 255
                } else {
                    let (w, h) = (w as u64, h as u64);
                    match c {
                        0 => x * 255 / (w - 1).max(1),
                        1 => y * 255 / (h - 1).max(1),
                        _ => (x + y) * 255 / (w + h - 2).max(1),
                    }
                };
                v.push(p as u8);
            }
        }
    }
    v
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs the pipeline on a chosen path.
fn run(src: &[u8], w: usize, h: usize, q: u8, level: Isa) -> Vec<u8> {
    let mut dst = vec![0u8; w * h * 3];
    roundtrip_impl(&mut JpegScratch::new(), src, w, h, q, &mut dst, level);
    dst
}

/// SHA-256 of Pillow 13.0.0 (libjpeg-turbo 3.2.0) decoding its own JPEG of `pattern(kind, w, h)`
/// at `quality`: `(kind, w, h, quality, sha256)`, from `oracle/test_vectors.py`.
#[rustfmt::skip]
const PILLOW_VECTORS: &[(u8, usize, usize, u8, &str)] = &[
    (0, 1, 1, 7, "f99dff1ddcf1fe3f1e541d88265ec145f4cc4a11b5e1d4e205a2c92cd0ecb838"),
    (0, 1, 1, 25, "48262d37f59b1b16cc7ecaca686b095bfbe3599dd25ba8f9c5376904bd05dfd8"),
    (0, 1, 1, 75, "82ce63012dfac69783e09e4fe5781c686ded27e0058d6e4b8a3543753f2fd68b"),
    (0, 2, 3, 7, "0ca54b32597bb32bcb48ef8439a2fb6f906496c28c4d85dc85aee101f6a8ba09"),
    (0, 2, 3, 25, "3f07521744d39edca7a18c01d0c43a53c164f1829a911f11a5516fc50eabf0fb"),
    (0, 2, 3, 75, "802cc1a32fd93b22eadc7deab62d64b6907a44cbaef71feb50dbd586325a31fa"),
    (0, 4, 4, 7, "fbe24191f38227372691f38d61cc36d70df4d4b05254707227787b3665a5d6e4"),
    (0, 4, 4, 25, "75500889af0988a4a3dc07c8d62b00d548ff0ca39fdbdfd52bd85e832fb76b1a"),
    (0, 4, 4, 75, "ba03d180ed69c95912bd1ed977892c9f04270cf2d682799c7d3d58198ffde780"),
    (0, 5, 3, 7, "a403767ff95527a5bc4d5e35eb2fdf213a97af25c928b8eed86d80162587ff00"),
    (0, 5, 3, 25, "3aca89c56a1ec4e8bf95cccf1938e61ceb1333dbf1976dbf4aecc7e8f4bc96f7"),
    (0, 5, 3, 75, "ccca5fe5a72edd6b8149d2ecdfb72b6cbfa665bced2df46012eaacb22b6e647e"),
    (0, 3, 5, 7, "fe9a30e7ecdbaeab59d077d7acdbab72d5c9393f842d22bc76a26573e3de7098"),
    (0, 3, 5, 25, "80e286433769e67c100d4ca1f950a668c665e5df6c5b1ccf5d47ca2eeb49b09d"),
    (0, 3, 5, 75, "7b1a31852d411415d4378f6b7d55c092186b0c9ad49bc7f2487441864751dc4d"),
    (0, 17, 9, 7, "eb7a0123ad00dfb0d786046610212c20720a00601c6a81579117963f44d85d0d"),
    (0, 17, 9, 25, "146b00847b8a534a451d33dce1863907e7d1ea1d1e23d458f14416b04a6cc0a2"),
    (0, 17, 9, 75, "d4abe6a3883d94c7cace6c58ddae55e692d6b32f7d27a974d463106584874ddf"),
    (0, 33, 17, 7, "9d782f22567ab2908d46bd120fa0d31e19693a9da49a36b46951342c4cc4ff89"),
    (0, 33, 17, 25, "66704a8b9e9fd00ec214507d0622aed9c0f45efb69b356185e68f595a5e43337"),
    (0, 33, 17, 75, "0b2e9d1ef82f4ea3dc16875f17cbe62a26bc4aec7c5a4364bd0768e0183ae117"),
    (0, 97, 61, 7, "0ba1eae46d3e6390462b719781c6dc63233eff1b85177d98a784a8ab6beb0c2e"),
    (0, 97, 61, 25, "7d6f3df42e3033ace3bd34c616040747477c728c024ca669aed00270abc2d4f6"),
    (0, 97, 61, 75, "f20d8be054678f0efccdbb6fb84cce7e6c264ad36b4ebc302527386f20ad96f5"),
    (1, 1, 1, 7, "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c"),
    (1, 1, 1, 25, "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c"),
    (1, 1, 1, 75, "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c"),
    (1, 2, 3, 7, "878d458088a0d79a3514254d64c3ab3b34f9b34a9c0dede244eb311ad9c58d0f"),
    (1, 2, 3, 25, "4e426923831c4d2bdf939de9c52dd7ffc9fda76d4b7aad7978e60e9c1360dacf"),
    (1, 2, 3, 75, "e7416a012e4bf173b308c9b926af44e47ed9671464e98c057b1965c416904586"),
    (1, 4, 4, 7, "50a8e0bca106b23e53707c582b5dfe5dddd137df9e6677235474958691243532"),
    (1, 4, 4, 25, "a559bf32a424ade973f625f5e2e6fa7afc290e08decb5506e16b02db2ef5b3e5"),
    (1, 4, 4, 75, "b1307e1bd747ef63760790967e2446dd4b2b5395e8751cc40d3f0d7c331e2554"),
    (1, 5, 3, 7, "e4258d5e39196a9ea433adff45a5d64afa328bc8b237f4fbe3c22aa9c97c3933"),
    (1, 5, 3, 25, "3014f12abad37c8e261007b07c940ac485131579d69107c6c5bed993581f3933"),
    (1, 5, 3, 75, "46bc6be761cf841357fa802de14cf763ff97e5a88bbdea166f80a8b17bd37da7"),
    (1, 3, 5, 7, "b08c7db02e3639c1c93b3fa066c0e1c5a296ebe4335bd8ecf5947fa9369282bb"),
    (1, 3, 5, 25, "741d3d8e3404a02972be92932ca3194bb859f9cf4c75770182d0204145f27813"),
    (1, 3, 5, 75, "7cc1e1df502ed7706a0278fa027ef7f23f3fd3ca3de783b03d933276787b6744"),
    (1, 17, 9, 7, "4b2d2e575c657d6d7e2903bbe5b3f4df1eccc5e25ec6b67b1b1ca41613bee6d1"),
    (1, 17, 9, 25, "25ba70589ed447a54340424de37c23819d261c7c09c871a409a636ec16aacf20"),
    (1, 17, 9, 75, "3c199eb70fa9674c077c3a6ed142f5de06177d2e9eb2a7ba273b07ecde2d9d6c"),
    (1, 33, 17, 7, "b2c3cac54f3da67569a29d56b315961d7b8784967bdb4708b7754550958d4ee4"),
    (1, 33, 17, 25, "cc9b84b08ff212e3e26cfad12b66830fc60cf1566a3d884402c40e56a6456143"),
    (1, 33, 17, 75, "00ac43a26cd21f88e633b6a0335329802260ba1a33bfa799f4263d3aea04bdae"),
    (1, 97, 61, 7, "22d79d25fe04e5f0da862104df7a18e35cb92c29d1dca005e76b2b8533c5b352"),
    (1, 97, 61, 25, "d756b9c7f6911f869d12664e18932aff257efa8224332cac790be9e2b9c7bd8f"),
    (1, 97, 61, 75, "9272ffebd17a4a43317f319f78d22b2a18d9cc72ba9a3b1a61c318c6dd70280a"),
];

#[test]
fn matches_pillow_vectors() {
    for &(kind, w, h, q, want) in PILLOW_VECTORS {
        let src = pattern(kind, w, h);
        for level in available() {
            let got = run(&src, w, h, q, level);
            assert_eq!(
                sha256_hex(&got),
                want,
                "{level:?} kind={kind} {w}x{h} q={q}"
            );
        }
    }
}

#[test]
fn public_api_and_scratch_reuse() {
    let (w, h) = (33, 17);
    let src = pattern(0, w, h);
    let want = run(&src, w, h, 25, Isa::Scalar);
    let mut dst = vec![0u8; w * h * 3];
    roundtrip_rgb(&src, w, h, 25, &mut dst);
    assert_eq!(dst, want);
    // Reuse one scratch across sizes and qualities (larger first, then smaller).
    let mut s = JpegScratch::new();
    for &(w, h, q) in &[
        (97, 61, 7),
        (17, 9, 25),
        (33, 17, 25),
        (5, 3, 75),
        (33, 17, 7),
    ] {
        let src = pattern(1, w, h);
        let mut dst = vec![0u8; w * h * 3 + 5];
        roundtrip_rgb_with(&mut s, &src, w, h, q, &mut dst);
        assert_eq!(&dst[..w * h * 3], &run(&src, w, h, q, isa())[..]);
        assert_eq!(&dst[w * h * 3..], &[0u8; 5]);
    }
    // Empty images are a no-op.
    roundtrip_rgb(&[], 0, 5, 50, &mut []);
    roundtrip_rgb(&[], 5, 0, 50, &mut []);
}

#[test]
fn twin_pipeline() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..150 {
        let w = 1 + rng.below(70);
        let h = 1 + rng.below(40);
        let q = [1u8, 7, 10, 15, 18, 25, 50, 90, 100][i % 9];
        let src = if i % 3 == 0 {
            pattern((i % 2) as u8, w, h)
        } else {
            rng.bytes(w * h * 3)
        };
        let scalar = run(&src, w, h, q, Isa::Scalar);
        for level in available() {
            assert_eq!(scalar, run(&src, w, h, q, level), "{level:?} {w}x{h} q={q}");
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn twin_blocks() {
    if !has_avx2() {
        return;
    }
    let mut rng = Rng(7);
    let mut tables: Vec<[u16; 64]> = [1u8, 5, 7, 25, 50, 95, 100]
        .iter()
        .flat_map(|&q| {
            let (l, c) = quant_tables(q);
            [l, c]
        })
        .collect();
    for _ in 0..8 {
        tables.push(std::array::from_fn(|_| 1 + rng.below(255) as u16));
    }
    let (stride, rows) = (8 * 7, 8 * 3);
    for (t, table) in tables.iter().enumerate() {
        let d = Divisors::new(table);
        for k in 0..8 {
            let mut plane = match k {
                // Flat blocks (DC-only after quantisation: the IDCT's shortcut), extremes included.
                6 | 7 => (0..stride * rows)
                    .map(|i| {
                        let blk = (i % stride / 8 + 7 * (i / stride / 8) + t) % 5;
                        [0, 255, 1, 254, 128][blk]
                    })
                    .collect(),
                // Extremes: checkerboards of 0/255 stress saturation and range limiting.
                0 => (0..stride * rows)
                    .map(|i| {
                        if (i % stride + i / stride) % 2 == 0 {
                            0
                        } else {
                            255
                        }
                    })
                    .collect(),
                1 => (0..stride * rows)
                    .map(|i| {
                        if (i % stride / 2 + i / stride) % 2 == 0 {
                            255
                        } else {
                            0
                        }
                    })
                    .collect(),
                _ => rng.bytes(stride * rows),
            };
            let mut offs = Vec::new();
            block_offsets(&mut offs, stride, rows);
            // Odd count exercises the lone-block path.
            offs.truncate(offs.len() - (k % 2));
            // Encoder half: quantised coefficients.
            let mut c0 = vec![[0i16; 64]; offs.len()];
            let mut c1 = vec![[1i16; 64]; offs.len()];
            dct::coef_blocks_scalar(&plane, stride, &offs, &d, &mut c0);
            unsafe { dct::avx2::coef_blocks(&plane, stride, &offs, &d, &mut c1) };
            assert!(c0 == c1, "coefficients: table {t} pattern {k}");
            let mut a = plane.clone();
            dct::roundtrip_blocks_scalar(&mut a, stride, &offs, &d);
            unsafe { dct::avx2::roundtrip_blocks(&mut plane, stride, &offs, &d) };
            assert_eq!(a, plane, "table {t} pattern {k}");
        }
    }
}

/// The IDCT's DC-only shortcut gives what the two passes give, for every dequantised DC
/// (including the ones that saturate in the column pass).
#[test]
fn dc_only_sample_equals_the_idct() {
    for dc in i16::MIN..=i16::MAX {
        let mut ws = [0i16; 64];
        ws[0] = dc;
        let mut out = [0u8; 64];
        dct::idct_block(&mut ws, &mut out, 8);
        assert!(out.iter().all(|&v| v == dct::dc_only_sample(dc)), "dc {dc}");
    }
}

/// The encoder half ([`coefs_impl`]) yields exactly the coefficients the Pillow-verified round
/// trip decodes: dequantising and inverse-transforming every real block reproduces the round
/// trip's planes. Dummy blocks follow `compress_first_pass`. Scalar and AVX2 agree.
#[test]
fn coefficients_feed_the_round_trip() {
    let mut rng = Rng(0x5eed);
    for i in 0..60 {
        let (w, h) = if i < 6 {
            [(1, 1), (8, 8), (9, 17), (16, 16), (17, 9), (33, 40)][i]
        } else {
            (1 + rng.below(60), 1 + rng.below(45))
        };
        let q = [1u8, 7, 25, 50, 85, 95, 100][i % 7];
        let src = if i % 4 == 0 {
            pattern((i % 8 / 4) as u8, w, h)
        } else {
            rng.bytes(w * h * 3)
        };
        let mut s = JpegScratch::new();
        let coefs = coefs_impl(&mut s, &src, w, h, q, Isa::Scalar);
        for level in available() {
            let other = coefs_impl(&mut JpegScratch::new(), &src, w, h, q, level);
            for (a, b) in coefs.iter().zip(&other) {
                assert!(a.blocks == b.blocks, "{level:?} {w}x{h} q={q}");
            }
        }
        let g = Geom::new(w, h);
        let (dl, dc) = *s.divisors(q);
        let planes = [
            (&s.y[..g.yw * g.yh], g.yw, g.yh, &dl, 2),
            (&s.cb[..g.cpw * g.cph], g.cpw, g.cph, &dc, 1),
            (&s.cr[..g.cpw * g.cph], g.cpw, g.cph, &dc, 1),
        ];
        for (c, ((plane, pw, ph, d, samp), cp)) in planes.into_iter().zip(&coefs).enumerate() {
            let (wib, hib) = (pw / 8, ph / 8);
            assert_eq!(cp.across, wib.div_ceil(samp) * samp);
            assert_eq!(cp.down, hib.div_ceil(samp) * samp);
            assert_eq!(cp.blocks.len(), cp.across * cp.down);
            let mut want = plane.to_vec();
            let mut offs = Vec::new();
            block_offsets(&mut offs, pw, ph);
            dct::roundtrip_blocks_scalar(&mut want, pw, &offs, d);
            let mut got = vec![0u8; pw * ph];
            for by in 0..cp.down {
                for bx in 0..cp.across {
                    let blk = &cp.blocks[by * cp.across + bx];
                    if bx < wib && by < hib {
                        let mut ws = std::array::from_fn(|k| blk[k].wrapping_mul(d.quant[k]));
                        dct::idct_block(&mut ws, &mut got[by * 8 * pw + bx * 8..], pw);
                        continue;
                    }
                    // Dummy block: no AC; DC of the left neighbour in a real block row, else of
                    // the right-most block of the same MCU one block row up.
                    assert!(blk[1..].iter().all(|&v| v == 0), "{w}x{h} c{c} dummy AC");
                    let from = if by < hib {
                        by * cp.across + bx - 1
                    } else {
                        (by - 1) * cp.across + bx / samp * samp + samp - 1
                    };
                    assert_eq!(blk[0], cp.blocks[from][0], "{w}x{h} c{c} dummy DC");
                }
            }
            assert!(got == want, "{w}x{h} q={q} component {c}");
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn twin_color_and_sampling() {
    if !has_avx2() {
        return;
    }
    let mut rng = Rng(99);
    for n in (0..90).chain([223, 224, 640, 641]) {
        // RGB → YCbCr, including the extreme corners of the cube.
        let mut rgb = rng.bytes(3 * n);
        for (i, v) in rgb.iter_mut().enumerate().take(3 * n.min(8)) {
            *v = if ((i / 3) >> (i % 3)) & 1 == 1 {
                255
            } else {
                0
            };
        }
        let (mut y0, mut b0, mut r0) = (vec![0; n], vec![0; n], vec![0; n]);
        let (mut y1, mut b1, mut r1) = (vec![0; n], vec![0; n], vec![0; n]);
        color::rgb_to_ycc_row_scalar(&rgb, &mut y0, &mut b0, &mut r0);
        unsafe { color::avx2::rgb_to_ycc_row(&rgb, &mut y1, &mut b1, &mut r1) };
        assert_eq!((&y0, &b0, &r0), (&y1, &b1, &r1), "rgb_to_ycc n={n}");

        // YCbCr → RGB (random components, including out-of-gamut combinations).
        let (y, cb, cr) = (rng.bytes(n), rng.bytes(n), rng.bytes(n));
        let (mut o0, mut o1) = (vec![0u8; 3 * n], vec![0u8; 3 * n]);
        color::ycc_to_rgb_row_scalar(&y, &cb, &cr, &mut o0);
        unsafe { color::avx2::ycc_to_rgb_row(&y, &cb, &cr, &mut o1) };
        assert_eq!(o0, o1, "ycc_to_rgb n={n}");

        // Downsampling (`n` outputs from 2n inputs).
        let (a, b) = (rng.bytes(2 * n), rng.bytes(2 * n));
        let (mut d0, mut d1) = (vec![0u8; n], vec![0u8; n]);
        sample::downsample_row_scalar(&a, &b, &mut d0);
        unsafe { sample::avx2::downsample_row(&a, &b, &mut d1) };
        assert_eq!(d0, d1, "downsample n={n}");

        // Fancy upsampling of n column sums into 2n − (0 or 1) outputs.
        if n >= 1 {
            let (near, far) = (rng.bytes(n), rng.bytes(n));
            let (mut c0, mut c1) = (vec![0i16; n + 40], vec![0i16; n + 40]);
            sample::colsum_scalar(&near, &far, n, &mut c0);
            unsafe { sample::avx2::colsum(&near, &far, n, &mut c1) };
            assert_eq!(c0[..n + 2], c1[..n + 2], "colsum n={n}");
            for w in [2 * n - 1, 2 * n] {
                let (mut u0, mut u1) = (vec![0u8; w], vec![0u8; w]);
                sample::fancy_h_scalar(&c0[..n + 2], &mut u0);
                unsafe { sample::avx2::fancy_h(&c0[..n + 2], &mut u1) };
                assert_eq!(u0, u1, "fancy_h n={n} w={w}");
            }
        }
    }
}

/// The fused decoder back end (fancy upsampling of both chroma rows + YCbCr → RGB) equals the
/// unfused kernels it replaces, scalar and AVX2, on every width from 1 to 100 and a few
/// larger ones, including odd widths (one output fewer than twice the chroma samples), rows
/// longer than needed, and the extreme sample values.
#[test]
fn twin_fancy_ycc_row() {
    let mut rng = Rng(17);
    for w in (1usize..=100).chain([223, 224, 225, 640, 641]) {
        for extra in [0, 3] {
            let n = w.div_ceil(2) + extra;
            let mut rows: Vec<Vec<u8>> = (0..4).map(|_| rng.bytes(n)).collect();
            if w % 5 == 0 {
                // Saturating corners: all 0 / all 255 chroma.
                rows[0].fill(0);
                rows[1].fill(0);
                rows[2].fill(255);
                rows[3].fill(255);
            }
            let y = rng.bytes(w);
            let (cb, cr) = ([&rows[0][..], &rows[1]], [&rows[2][..], &rows[3]]);
            // Reference: the unfused scalar kernels.
            let mut want = vec![0u8; 3 * w];
            if n >= 1 {
                let (mut ub, mut ur) = (vec![0u8; w], vec![0u8; w]);
                let mut cs = vec![0i16; n + 2];
                sample::fancy_row_scalar(cb[0], cb[1], n, &mut cs, &mut ub);
                sample::fancy_row_scalar(cr[0], cr[1], n, &mut cs, &mut ur);
                color::ycc_to_rgb_row_scalar(&y, &ub, &ur, &mut want);
            }
            let mut got = vec![0u8; 3 * w];
            sample::fancy_ycc_row_scalar(&y, cb, cr, n, &mut got);
            assert_eq!(got, want, "scalar w={w} n={n}");
            #[cfg(target_arch = "x86_64")]
            if has_avx2() {
                let mut got = vec![0u8; 3 * w];
                unsafe { sample::avx2::fancy_ycc_row(&y, cb, cr, n, &mut got) };
                assert_eq!(got, want, "avx2 w={w} n={n}");
            }
        }
    }
}

/// YCbCr → RGB: the AVX2 kernel (16-bit lanes) equals the scalar `jdcolor.c` arithmetic on
/// all 2^24 (Y, Cb, Cr) triples, one row of the 256 Y values per (Cb, Cr) pair, and on rows
/// whose length is no multiple of 16 (overlapping last step).
#[test]
fn ycc_to_rgb_avx2_exhaustive() {
    if !has_avx2() {
        return;
    }
    let y: Vec<u8> = (0..=255).collect();
    let (mut a, mut b) = (vec![0u8; 768], vec![0u8; 768]);
    for cb in 0..=255u8 {
        for cr in 0..=255u8 {
            let (cbs, crs) = ([cb; 256], [cr; 256]);
            color::ycc_to_rgb_row_scalar(&y, &cbs, &crs, &mut a);
            unsafe { color::avx2::ycc_to_rgb_row(&y, &cbs, &crs, &mut b) };
            assert!(a == b, "cb {cb} cr {cr}");
        }
    }
    let mut rng = Rng(5);
    for n in 16..80 {
        let (yy, cb, cr) = (rng.bytes(n), rng.bytes(n), rng.bytes(n));
        let (mut o0, mut o1) = (vec![0u8; 3 * n], vec![0u8; 3 * n]);
        color::ycc_to_rgb_row_scalar(&yy, &cb, &cr, &mut o0);
        unsafe { color::avx2::ycc_to_rgb_row(&yy, &cb, &cr, &mut o1) };
        assert_eq!(o0, o1, "n {n}");
    }
}

/// The decoder's AVX2 path (IDCT, fancy upsampling, colour) equals its scalar twin on every
/// decoding fixture.
#[test]
fn decoder_scalar_equals_avx2() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jpeg/decode");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "jpg") {
            let data = std::fs::read(&p).unwrap();
            let a = decode::decode_impl(&data, u64::MAX, Isa::Scalar);
            for level in available() {
                let b = decode::decode_impl(&data, u64::MAX, level);
                assert_eq!(a, b, "{level:?} {}", p.display());
            }
            n += usize::from(a.is_ok());
        }
    }
    assert!(n >= 40, "{n}");
}

/// Decoder IDCT (dequantise + islow IDCT of a run of blocks): AVX2 equals scalar on random
/// coefficients, including extreme ones that overflow the 16-bit dequantisation and saturate.
#[cfg(target_arch = "x86_64")]
#[test]
fn decoder_idct_scalar_equals_avx2() {
    if !has_avx2() {
        return;
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for n in [1usize, 2, 3, 7, 16] {
        for round in 0..40 {
            let quant: [i16; 64] = std::array::from_fn(|_| match round % 3 {
                0 => 1 + rng.below(30) as i16,
                1 => 1 + rng.below(255) as i16,
                _ => rng.next() as i16, // 16-bit tables, wrapping products
            });
            let blocks: Vec<[i16; 64]> = (0..n)
                .map(|_| {
                    std::array::from_fn(|k| {
                        if round % 5 == 4 {
                            // only the 4×4 lowest frequencies: the sparse IDCT path, with
                            // extreme values on odd rounds
                            match (k / 8 < 4 && k % 8 < 4, round % 2) {
                                (false, _) => 0,
                                (true, 1) => rng.next() as i16,
                                (true, _) => rng.below(2048) as i16 - 1024,
                            }
                        } else if round % 4 == 3 {
                            rng.next() as i16
                        } else if k == 0 || rng.below(4) == 0 {
                            rng.below(512) as i16 - 256
                        } else {
                            0
                        }
                    })
                })
                .collect();
            let stride = 8 * n + 5;
            let mut a = vec![0u8; 8 * stride];
            let mut b = vec![1u8; 8 * stride];
            dct::idct_blocks_scalar(&blocks, &quant, &mut a, stride);
            // SAFETY: AVX2 checked above; the buffer holds 8 rows of `stride ≥ 8n` samples.
            unsafe { dct::avx2::idct_blocks(&blocks, &quant, &mut b, stride) };
            for r in 0..8 {
                let row = r * stride..r * stride + 8 * n;
                assert_eq!(a[row.clone()], b[row], "n={n} round={round} row {r}");
            }
        }
    }
}

// ------------------------------------------------------------------ file encoder

/// Every file of `fixtures/jpeg` (written by PIL's `save(quality=q, optimize=True)`) comes out
/// byte for byte at every SIMD level, from one encoder reused across sizes and qualities.
#[test]
fn encoder_writes_pil_files_at_every_level() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("jpeg/index.json")).unwrap())
            .unwrap();
    let cases = index["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for level in available() {
        let mut enc = JpegEncoder::new();
        let mut out = vec![1, 2, 3];
        for case in cases {
            let src = image::open(root.join(case["source"].as_str().unwrap()))
                .unwrap()
                .to_rgb8();
            let want = std::fs::read(root.join(case["jpeg"].as_str().unwrap())).unwrap();
            let q = case["quality"].as_u64().unwrap() as u8;
            let (w, h) = (src.width() as usize, src.height() as usize);
            enc.encode_at(src.as_raw(), w, h, q, &mut out, level)
                .unwrap();
            assert!(out == want, "{level:?} {}", case["jpeg"]);
        }
    }
}

/// On random sizes, qualities and contents (noise at q = 100 gives long codes, the 16-bit
/// length limit and many stuffed `0xFF` bytes): the twins write the same bytes, a reused
/// encoder writes what a fresh one does, and the file decodes (our Pillow-exact decoder) to
/// the Pillow-verified lossy round trip of the same pixels.
#[test]
fn encoder_twins_reuse_and_decode() {
    let mut rng = Rng(0x51ed_270b_2a0c_f1a3);
    let mut reused = JpegEncoder::new();
    let mut out = Vec::new();
    for i in 0..120 {
        let w = 1 + rng.below(90);
        let h = 1 + rng.below(50);
        let q = [1u8, 10, 50, 75, 85, 95, 100][i % 7];
        let src = match i % 4 {
            0 => pattern((i % 2) as u8, w, h),
            1 => vec![255u8; w * h * 3],
            _ => rng.bytes(w * h * 3),
        };
        let want = encode_jpeg(&src, w, h, q).unwrap();
        for level in available() {
            reused.encode_at(&src, w, h, q, &mut out, level).unwrap();
            assert!(out == want, "{level:?} {w}x{h} q={q}");
        }
        let d = decode::decode(&want, u64::MAX).unwrap();
        assert_eq!((d.width, d.height, d.channels), (w, h, 3));
        assert!(d.pixels == run(&src, w, h, q, Isa::Scalar), "{w}x{h} q={q}");
    }
    assert!(encode_jpeg(&[], 0, 3, 85).is_err());
    assert!(encode_jpeg(&[0; 8], 2, 2, 85).is_err());
}

/// libjpeg's selection loop: code sizes per symbol (0..=256).
fn scan_codesizes(freq_in: &[u64; 256]) -> [usize; 257] {
    let mut freq = [0u64; 257];
    freq[..256].copy_from_slice(freq_in);
    freq[256] = 1;
    let mut codesize = [0usize; 257];
    let mut others = [-1i32; 257];
    loop {
        let (mut c1, mut c2, mut v) = (-1i32, -1i32, u64::MAX);
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 && f <= v {
                (v, c1) = (f, i as i32);
            }
        }
        v = u64::MAX;
        for (i, &f) in freq.iter().enumerate() {
            if f != 0 && f <= v && i as i32 != c1 {
                (v, c2) = (f, i as i32);
            }
        }
        if c2 < 0 {
            return codesize;
        }
        let (mut a, mut b) = (c1 as usize, c2 as usize);
        freq[a] += freq[b];
        freq[b] = 0;
        codesize[a] += 1;
        while others[a] >= 0 {
            a = others[a] as usize;
            codesize[a] += 1;
        }
        others[a] = b as i32;
        codesize[b] += 1;
        while others[b] >= 0 {
            b = others[b] as usize;
            codesize[b] += 1;
        }
    }
}

/// The heap in `optimal_table` picks the very pairs of libjpeg's `jpeg_gen_optimal_table`
/// (two linear scans for the least frequencies, ties to the larger index), checked against
/// that scan on frequency sets full of ties.
#[test]
fn optimal_table_matches_libjpeg_scan() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in 0..300 {
        let mut freq = [0u64; 256];
        let used = 1 + rng.below(256);
        for _ in 0..used {
            // few distinct values → many ties; some wide ranges → deep trees (length limit)
            let f = match i % 3 {
                0 => 1 + rng.below(4) as u64,
                1 => 1u64 << rng.below(30),
                _ => 1 + rng.below(100_000) as u64,
            };
            freq[rng.below(256)] = f;
        }
        let cs = scan_codesizes(&freq);
        if cs.iter().any(|&c| c > 32) {
            continue; // libjpeg stops with JERR_HUFF_CLEN_OVERFLOW
        }
        let t = encode::optimal_table_for_test(&freq);
        // libjpeg's huffval from the scan's code sizes: by length, then by symbol.
        let mut by_len: Vec<(usize, usize)> = (0..256)
            .filter(|&s| cs[s] > 0)
            .map(|s| (cs[s], s))
            .collect();
        by_len.sort();
        let vals: Vec<u8> = by_len.iter().map(|&(_, s)| s as u8).collect();
        assert_eq!(t.1, vals, "case {i}");
        let mut bits = [0i64; 33];
        for &c in cs.iter().filter(|&&c| c > 0) {
            bits[c] += 1;
        }
        let sum: u32 = t.0[1..].iter().map(|&b| u32::from(b)).sum();
        assert_eq!(sum as usize, vals.len(), "case {i}");
        if cs.iter().all(|&c| c <= 16) {
            // no length limiting: the counts are the scan's, minus the reserved code
            let mut last = 16;
            while bits[last] == 0 {
                last -= 1;
            }
            bits[last] -= 1;
            for (l, (&got, &want)) in t.0.iter().zip(&bits).enumerate().skip(1) {
                assert_eq!(i64::from(got), want, "case {i} len {l}");
            }
        }
    }
}

/// Fibonacci frequencies (1, 2, 3, 5, …) and "one more than all before" frequencies make
/// Huffman trees as deep as there are symbols: unlimited code lengths far over 32 (libjpeg's
/// `JERR_HUFF_CLEN_OVERFLOW`, where this builder used to index out of bounds). `optimal_table`
/// must still return a valid table: lengths 1..=16, one code per used symbol, a Kraft sum that
/// leaves the all-ones code free, and no more frequent symbol with a longer code than a rarer
/// one.
#[test]
fn optimal_table_limits_arbitrarily_deep_trees() {
    for (n, first, fib) in [(45usize, 0usize, true), (80, 100, true), (60, 3, false)] {
        let mut freq = [0u64; 256];
        let (mut a, mut b) = (1u64, 2u64);
        let mut sum = 1u64; // the reserved symbol's count
        for f in &mut freq[first..first + n] {
            if fib {
                *f = a;
                (a, b) = (b, a + b);
            } else {
                *f = sum + 1;
                sum += *f;
            }
        }
        let depth = *scan_codesizes(&freq).iter().max().unwrap();
        assert!(
            depth > 32,
            "n {n}: the case must be deeper than libjpeg's limit ({depth})"
        );
        let (bits, vals) = encode::optimal_table_for_test(&freq);
        assert_eq!(vals.len(), n);
        let total: usize = bits[1..].iter().map(|&b| usize::from(b)).sum();
        assert_eq!(total, n, "n {n}: one code per symbol");
        let kraft: u64 = (1..=16).map(|l| u64::from(bits[l]) << (16 - l)).sum();
        assert!(
            kraft < 1 << 16,
            "n {n}: Kraft sum {kraft} leaves no all-ones code"
        );
        // Code length per symbol, from huffval order (by length, then by value).
        let mut len = [0usize; 256];
        let mut k = 0;
        for (l, &count) in bits.iter().enumerate().skip(1) {
            for _ in 0..count {
                len[usize::from(vals[k])] = l;
                k += 1;
            }
        }
        for s in first..first + n {
            assert!(
                len[s] >= 1 && len[s] <= 16,
                "n {n}: symbol {s} length {}",
                len[s]
            );
            for t in first..first + n {
                if freq[s] > freq[t] {
                    assert!(
                        len[s] <= len[t],
                        "n {n}: {s} more frequent than {t} but longer"
                    );
                }
            }
        }
    }
}

// ------------------------------------------------------------------ bit writer

/// The entropy-coded bytes of `(value, length)` pairs, one bit at a time: MSB first, padded
/// with 7 one-bits, whole bytes only, a zero stuffed after each `0xFF` (jchuff.c).
fn naive_bits(items: &[(u32, u32)]) -> Vec<u8> {
    let mut bits: Vec<bool> = Vec::new();
    for &(v, len) in items {
        bits.extend((0..len).rev().map(|i| (v >> i) & 1 == 1));
    }
    bits.extend([true; 7]);
    let mut out = Vec::new();
    for byte in bits.chunks_exact(8) {
        let b = byte.iter().fold(0u8, |a, &x| (a << 1) | u8::from(x));
        out.push(b);
        if b == 0xFF {
            out.push(0);
        }
    }
    out
}

/// `write_symbols` against the bit-at-a-time writer: random codes (1–16 bits) with random
/// magnitude bits (0–11), then streams of all-ones codes, whose every byte is `0xFF` (every
/// word takes the stuffing path, and the output outgrows its first reservation), each
/// appended after existing bytes of `out`.
#[test]
fn bit_writer_equals_bit_at_a_time() {
    let mut rng = Rng(0x2b99_2ddf_a232_49d6);
    for case in 0..40 {
        let mut codes = [0u64; 1024];
        let mut sizes = [0u32; 1024];
        for (i, c) in codes.iter_mut().enumerate() {
            let all_ones = case >= 30;
            let len = if all_ones {
                16
            } else {
                1 + rng.below(16) as u64
            };
            let code = if all_ones {
                0xFFFF
            } else {
                rng.next() & ((1 << len) - 1)
            };
            let size = if all_ones { 11 } else { rng.below(12) as u32 };
            sizes[i] = size;
            *c = (code << size) | ((len + u64::from(size)) << 32);
        }
        let n = rng.below(5000);
        let mut syms = Vec::with_capacity(n);
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            let idx = rng.below(1024);
            let size = sizes[idx];
            let mag = if case >= 30 {
                (1u32 << size) - 1
            } else {
                (rng.next() as u32) & ((1u32 << size) - 1)
            };
            syms.push(((idx as u32) << 16) | mag);
            let len = (codes[idx] >> 32) as u32;
            items.push((codes[idx] as u32 | mag, len));
        }
        let prefix = rng.bytes(case);
        let mut out = prefix.clone();
        encode::write_symbols(&syms, &codes, &mut out);
        let mut want = prefix;
        want.extend(naive_bits(&items));
        assert!(out == want, "case {case}: {n} symbols");
    }
}
