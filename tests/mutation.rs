//! A deterministic mutation test of the decoders and `corrupt` (issue 13), in the normal
//! suite on stable Rust: a few hundred mutants of fixture JPEGs (baseline, progressive,
//! restart intervals, greyscale, CMYK, arithmetic) and PNGs (palette, 16-bit, grey+alpha) —
//! bit flips, byte overwrites, truncations, deleted and duplicated runs, and frame headers
//! that claim other sizes — go through `io::decode_image` and, when they decode, through
//! `corrupt_with`. Nothing may panic; every error names the file. Work is bounded by the pixel
//! limit given to the decoder (no timing assertions): a mutant claiming a huge frame is refused
//! before anything is allocated. The cargo-fuzz targets in `fuzz/` explore further.

use std::path::{Path, PathBuf};

use imgcorrupt::io::decode_image;
use imgcorrupt::{corrupt_with, Corruption, Settings};

/// SplitMix64: a fixed sequence for a fixed seed, so the mutants are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut v: Vec<PathBuf> = [
        "jpeg/decode/chelsea_420_17x13.jpg",
        "jpeg/decode/chelsea_422_6x7.jpg",
        "jpeg/decode/chelsea_prog.jpg",
        "jpeg/decode/chelsea_prog_17x13.jpg",
        "jpeg/decode/chelsea_420_rst1_cjpeg.jpg",
        "jpeg/decode/chelsea_grey_q85.jpg",
        "jpeg/decode/chelsea_sof1_qt16.jpg",
        "jpeg/decode/chelsea_arith.jpg",
        "jpeg/noise_73x41_q85.jpg",
        "datasets/odd/cmyk.jpg",
        "datasets/odd/palette.png",
        "datasets/odd/grey16.png",
        "datasets/odd/grey_alpha.png",
        "jpeg/noise_73x41.png",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    v.sort();
    v
}

/// One mutant of `src`.
fn mutate(src: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = src.to_vec();
    let n = b.len();
    match rng.below(7) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(n);
                b[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(n);
                b[i] = [0x00, 0xFF, rng.next() as u8][rng.below(3)];
            }
        }
        2 => {
            // truncated, sometimes with an end-of-image marker put back
            b.truncate(rng.below(n));
            if rng.below(2) == 0 {
                b.extend_from_slice(&[0xFF, 0xD9]);
            }
        }
        3 => {
            let (i, len) = (rng.below(n), 1 + rng.below(64));
            b.drain(i..(i + len).min(n));
        }
        4 => {
            let (i, len) = (rng.below(n), 1 + rng.below(64));
            let run: Vec<u8> = b[i..(i + len).min(n)].to_vec();
            let at = rng.below(b.len());
            b.splice(at..at, run);
        }
        5 => {
            // a frame header that claims another size (JPEG SOFn, PNG IHDR)
            let (w, h) = (
                [1u16, 7, 255, 4096, 16384, 65535][rng.below(6)],
                [1u16, 9, 300, 8192, 65535][rng.below(5)],
            );
            if let Some(p) = b
                .windows(2)
                .position(|x| x[0] == 0xFF && (0xC0..=0xC2).contains(&x[1]))
            {
                if p + 9 <= n {
                    b[p + 5..p + 7].copy_from_slice(&h.to_be_bytes());
                    b[p + 7..p + 9].copy_from_slice(&w.to_be_bytes());
                }
            } else if n > 24 && &b[12..16] == b"IHDR" {
                b[16..20].copy_from_slice(&u32::from(w).to_be_bytes());
                b[20..24].copy_from_slice(&u32::from(h).to_be_bytes());
            }
        }
        _ => {
            // a stray marker or chunk type in the middle
            let i = rng.below(n);
            let junk: &[u8] = [
                &[0xFF, 0xDA][..],
                &[0xFF, 0xC4, 0x00, 0x03, 0x10],
                &[0xFF, 0xDD, 0x00, 0x04, 0x00, 0x00],
                b"IDAT",
            ][rng.below(4)];
            b.splice(i..i, junk.iter().copied());
        }
    }
    b
}

#[test]
fn mutated_images_never_panic_and_errors_name_the_file() {
    const MUTANTS: usize = 420;
    // 4 Mpx: enough for every fixture, small enough that a mutant claiming more is refused
    const LIMIT: u64 = 1 << 22;
    let sources: Vec<(PathBuf, Vec<u8>)> = fixtures()
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, b)
        })
        .collect();
    let corruptions: Vec<Corruption> = Corruption::all().collect();
    let mut rng = Rng(13);
    let (mut decoded, mut corrupted, mut refused) = (0, 0, 0);
    for i in 0..MUTANTS {
        let (src, bytes) = &sources[i % sources.len()];
        let ext = src.extension().unwrap().to_string_lossy();
        let name = format!("mutant-{i:03}.{ext}");
        let m = mutate(bytes, &mut rng);
        match decode_image(&m, Path::new(&name), LIMIT) {
            Ok(img) => {
                decoded += 1;
                assert!(u64::from(img.width()) * u64::from(img.height()) <= LIMIT);
                // corrupt small results (every corruption in turn, severities 1-5); larger
                // ones only decode, which keeps the test's work bounded
                if u64::from(img.width()) * u64::from(img.height()) <= 1 << 14 {
                    let c = corruptions[i % corruptions.len()];
                    let severity = 1 + (i % 5) as u8;
                    let out = corrupt_with(&img, c, severity, &Settings::new(i as u64))
                        .unwrap_or_else(|e| panic!("{name} ({c} {severity}): {e}"));
                    assert_eq!((out.width(), out.height()), (img.width(), img.height()));
                    corrupted += 1;
                }
            }
            Err(e) => {
                refused += 1;
                let msg = e.to_string();
                assert!(msg.contains(&name), "error does not name {name}: {msg}");
            }
        }
    }
    // the mix exercises both paths (a fixed sequence: these counts do not change run to run)
    assert!(
        decoded > 50 && refused > 50,
        "decoded {decoded}, refused {refused}"
    );
    assert!(corrupted > 20, "corrupted {corrupted}");
}
