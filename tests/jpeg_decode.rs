//! The JPEG source decoder against Pillow (fixtures of scripts/make_jpeg_decode_fixtures.py:
//! every kind's decoded RGB was written by Pillow 13 / libjpeg-turbo 3), its fallback to the
//! `image` crate, and its behaviour on truncated, corrupt and randomly damaged files.

use std::path::{Path, PathBuf};

use imgcorrupt::codecs::jpeg::decode::{decode, DecodeError};
use imgcorrupt::io::decode_image;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Case {
    jpeg: String,
    rgb: String,
    width: u32,
    height: u32,
    native: bool,
    sha256: String,
    imagenet224_sha256: String,
}

#[derive(Deserialize)]
struct Index {
    cases: Vec<Case>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jpeg/decode")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(dir().join("index.json")).expect("index.json");
    serde_json::from_str::<Index>(&text).unwrap().cases
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

/// Pillow's decoded pixels, as written by the fixture script.
fn pil_rgb(c: &Case) -> Vec<u8> {
    let img = image::open(dir().join(&c.rgb)).unwrap().to_rgb8();
    assert_eq!(
        (img.width(), img.height()),
        (c.width, c.height),
        "{}",
        c.rgb
    );
    let px = img.into_raw();
    assert_eq!(
        hex(&Sha256::digest(&px)),
        c.sha256,
        "{} vs index.json",
        c.rgb
    );
    px
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn to_rgb(channels: usize, px: Vec<u8>) -> Vec<u8> {
    if channels == 3 {
        px
    } else {
        px.iter().flat_map(|&v| [v, v, v]).collect()
    }
}

#[test]
fn fixture_set_covers_the_kinds() {
    let cs = cases();
    let names: Vec<&str> = cs.iter().map(|c| c.jpeg.as_str()).collect();
    for kind in [
        "_444_",
        "_422_",
        "_420_",
        "_grey_",
        "_rst3",
        "_rstrow",
        "_rst1_cjpeg",
        "_rgb",
        "_sof1",
        "_440",
        "_411",
        "_mixed",
        "_prog",
        "_arith",
        "_cmyk",
        "_1x1",
        "_17x13",
    ] {
        assert!(names.iter().any(|n| n.contains(kind)), "no {kind} case");
    }
    assert!(cs.iter().filter(|c| c.native).count() >= 40);
}

#[test]
fn native_kinds_are_byte_identical_to_pillow() {
    for c in cases().iter().filter(|c| c.native) {
        let d = decode(&read(&c.jpeg), u64::MAX).unwrap_or_else(|e| panic!("{}: {e}", c.jpeg));
        assert_eq!((d.width as u32, d.height as u32), (c.width, c.height));
        let grey = c.jpeg.contains("grey");
        assert_eq!(d.channels, if grey { 1 } else { 3 }, "{}", c.jpeg);
        assert!(to_rgb(d.channels, d.pixels) == pil_rgb(c), "{}", c.jpeg);
    }
}

#[test]
fn read_path_uses_the_exact_decoder_and_falls_back_for_the_rest() {
    for c in cases() {
        let bytes = read(&c.jpeg);
        if c.jpeg.contains("_arith") {
            // Neither decoder reads arithmetic coding: a clear error.
            let e = decode_image(&bytes, Path::new(&c.jpeg), 1 << 28).unwrap_err();
            assert!(e.to_string().contains(&c.jpeg), "{e}");
            continue;
        }
        let img = decode_image(&bytes, Path::new(&c.jpeg), 1 << 28)
            .unwrap_or_else(|e| panic!("{e}"))
            .to_rgb8();
        assert_eq!((img.width(), img.height()), (c.width, c.height));
        if c.native {
            assert!(img.into_raw() == pil_rgb(&c), "{}", c.jpeg);
        } else {
            assert!(
                matches!(decode(&bytes, u64::MAX), Err(DecodeError::Unsupported(_))),
                "{} should fall back",
                c.jpeg
            );
            // The fallback decoder is close to Pillow, not exact.
            {
                let want = pil_rgb(&c);
                let max = img
                    .into_raw()
                    .iter()
                    .zip(&want)
                    .map(|(&a, &b)| (i16::from(a) - i16::from(b)).abs())
                    .max()
                    .unwrap();
                assert!(max <= 16, "{}: fallback differs by {max}", c.jpeg);
            }
        }
    }
}

/// The ImageNet-C source path of `generate` (decode, Resize(256), CenterCrop(224)) gives
/// Pillow + torchvision's pixels for JPEG sources (hash of PIL's result in index.json).
#[test]
fn imagenet_source_path_matches_pil_for_jpeg_sources() {
    let mut n = 0;
    for c in cases().iter().filter(|c| c.native && c.width >= 17) {
        let img = decode_image(&read(&c.jpeg), Path::new(&c.jpeg), 1 << 28)
            .unwrap()
            .to_rgb8();
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (px, gw, gh) = imgcorrupt::dataset::execute::imagenet_geometry(img.as_raw(), w, h);
        assert_eq!((gw, gh), (224, 224));
        assert_eq!(
            hex(&Sha256::digest(&px)),
            c.imagenet224_sha256,
            "{}",
            c.jpeg
        );
        n += 1;
    }
    assert!(n >= 25, "{n}");
}

#[test]
fn pixel_limit_is_checked_before_decoding() {
    let bytes = read("chelsea_420_q75.jpg");
    assert!(matches!(
        decode(&bytes, 100),
        Err(DecodeError::TooLarge {
            width: 47,
            height: 33
        })
    ));
    let e = decode_image(&bytes, Path::new("big/pic.jpg"), 100)
        .unwrap_err()
        .to_string();
    assert!(e.contains("big/pic.jpg") && e.contains("47x33"), "{e}");
}

#[test]
fn truncated_and_corrupt_files_give_errors_naming_the_file() {
    let good = read("chelsea_420_q75.jpg");
    // Cut inside the entropy-coded data: no EOI, refused as truncated.
    let cut = &good[..good.len() * 2 / 3];
    let e = decode_image(cut, Path::new("val/n01/cut.JPEG"), 1 << 28)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("val/n01/cut.JPEG") && e.contains("truncated"),
        "{e}"
    );
    // Cut inside the headers.
    let e = decode_image(&good[..300], Path::new("head.jpg"), 1 << 28)
        .unwrap_err()
        .to_string();
    assert!(e.contains("head.jpg"), "{e}");
    // A Huffman table whose codes overflow the code space.
    let p = good
        .windows(2)
        .position(|w| w == [0xFF, 0xC4])
        .expect("DHT");
    let mut bad = good.clone();
    // Two more 1-bit codes (and two fewer of the longest length): more codes than fit.
    let counts = p + 5..p + 21;
    let last = counts.clone().rev().find(|&i| bad[i] >= 2).unwrap();
    bad[counts.start] += 2;
    bad[last] -= 2;
    let e = decode_image(&bad, Path::new("bad-dht.jpg"), 1 << 28)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad-dht.jpg") && e.contains("Huffman table"),
        "{e}"
    );
    // Only SOI and EOI.
    let e = decode_image(&[0xFF, 0xD8, 0xFF, 0xD9], Path::new("empty.jpg"), 1 << 28)
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty.jpg"), "{e}");
}

#[test]
fn short_scan_data_decodes_like_libjpeg() {
    // Entropy-coded data cut short but followed by EOI: libjpeg (and so Pillow) decodes the
    // missing bits as zeros and leaves the remaining blocks at zero instead of failing; the
    // result must be an image of the frame's size, never a panic.
    let good = read("chelsea_444_q90.jpg");
    let sos = good.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    for cut in [sos + 20, sos + 40, (sos + good.len()) / 2, good.len() - 10] {
        let mut f = good[..cut].to_vec();
        f.extend_from_slice(&[0xFF, 0xD9]);
        match decode(&f, u64::MAX) {
            Ok(d) => assert_eq!((d.width, d.height), (40, 32)),
            Err(DecodeError::Corrupt(_)) => {}
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
}

/// xorshift64* for the damage patterns.
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
}

#[test]
fn random_damage_never_panics() {
    let files = [
        "chelsea_420_q75.jpg",
        "china_422_q85.jpg",
        "coffee_grey_q85.jpg",
        "chelsea_420_rst3.jpg",
        "chelsea_mixed.jpg",
        "chelsea_sof1_qt16.jpg",
        "chelsea_420_2x3.jpg",
        "chelsea_prog.jpg",
        "chelsea_prog_rst.jpg",
        "chelsea_ycck.jpg",
    ];
    // IMGCORRUPT_FUZZ_ITERS raises the per-file count for a longer one-off run.
    let iters: usize = std::env::var("IMGCORRUPT_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = [0usize; 3];
    for name in files {
        let good = read(name);
        for _ in 0..iters {
            let mut f = good.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(f.len());
                f[i] ^= 1 << rng.below(8);
            }
            if rng.below(4) == 0 {
                f.truncate(rng.below(f.len()));
            }
            // Limit the pixels so a damaged frame size cannot allocate much.
            let k = match decode(&f, 1 << 20) {
                Ok(d) => {
                    assert_eq!(d.pixels.len(), d.width * d.height * d.channels);
                    0
                }
                Err(DecodeError::Corrupt(_)) | Err(DecodeError::TooLarge { .. }) => 1,
                Err(DecodeError::Unsupported(_)) => 2,
            };
            outcomes[k] += 1;
            // The full read path must turn every failure into an error naming the file.
            if let Err(e) = decode_image(&f, Path::new("fuzz.jpg"), 1 << 20) {
                assert!(e.to_string().contains("fuzz.jpg"), "{e}");
            }
        }
    }
    // Both outcomes occur (the damage is neither always harmless nor always fatal).
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
