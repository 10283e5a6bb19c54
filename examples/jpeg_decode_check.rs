//! Exactness sweep and speed comparison of imgcorrupt's JPEG decoder against Pillow's decoded
//! pixels and the `image` crate, over a folder written by `scripts/make_jpeg_decode_fixtures.py`.
//!
//! ```text
//! cargo run --release --example jpeg_decode_check -- /tmp/jpeg-decode-big [REPS]
//! ```
//!
//! Prints one line per mismatch or fallback, then counts, and (with REPS > 0) the mean decode
//! time per image of both decoders on the natively decoded files.

use std::path::Path;
use std::time::Instant;

use imgcorrupt::codecs::jpeg::decode::{decode, DecodeError};

fn pil_rgb(dir: &Path, case: &serde_json::Value) -> Vec<u8> {
    let name = case["rgb"].as_str().unwrap();
    let p = dir.join(name);
    if name.ends_with(".png") {
        image::open(&p).unwrap().to_rgb8().into_raw()
    } else {
        std::fs::read(&p).unwrap()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).expect("usage: jpeg_decode_check DIR [REPS]"));
    let reps: usize = args.get(2).map_or(0, |s| s.parse().unwrap());
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let (mut exact, mut differ, mut fallback) = (0, 0, 0);
    let mut native_files = Vec::new();
    for case in index["cases"].as_array().unwrap() {
        let name = case["jpeg"].as_str().unwrap();
        let data = std::fs::read(dir.join(name)).unwrap();
        match decode(&data, u64::MAX) {
            Ok(d) => {
                let rgb = if d.channels == 3 {
                    d.pixels
                } else {
                    d.pixels.iter().flat_map(|&v| [v, v, v]).collect()
                };
                let want = pil_rgb(dir, case);
                if rgb == want {
                    exact += 1;
                } else {
                    differ += 1;
                    let n = rgb.iter().zip(&want).filter(|(a, b)| a != b).count();
                    let max = rgb
                        .iter()
                        .zip(&want)
                        .map(|(&a, &b)| (i16::from(a) - i16::from(b)).abs())
                        .max()
                        .unwrap_or(0);
                    println!(
                        "DIFFER {name}: {n} of {} values, max |d| {max}{}",
                        want.len(),
                        if rgb.len() != want.len() {
                            " (length differs)"
                        } else {
                            ""
                        }
                    );
                }
                native_files.push(data);
            }
            Err(DecodeError::Unsupported(m)) => {
                fallback += 1;
                println!("FALLBACK {name}: {m}");
            }
            Err(e) => {
                differ += 1;
                println!("ERROR {name}: {e}");
            }
        }
    }
    println!("{exact} byte-identical, {differ} differ, {fallback} fall back");
    if reps == 0 {
        return;
    }
    let time = |f: &dyn Fn(&[u8])| {
        let t = Instant::now();
        for _ in 0..reps {
            for d in &native_files {
                f(d);
            }
        }
        t.elapsed().as_secs_f64() * 1e3 / (reps * native_files.len()) as f64
    };
    let ours = time(&|d| {
        std::hint::black_box(decode(d, u64::MAX).unwrap());
    });
    let theirs = time(&|d| {
        let img = image::load_from_memory_with_format(d, image::ImageFormat::Jpeg).unwrap();
        std::hint::black_box(img.to_rgb8());
    });
    println!(
        "{} files x {reps}: imgcorrupt {ours:.3} ms/image, image crate {theirs:.3} ms/image ({:.2}x)",
        native_files.len(),
        ours / theirs
    );
}
