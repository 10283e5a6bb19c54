//! `corrupt_with` on small arbitrary images: the first bytes choose width and height (1..=24),
//! the pixel layout, the corruption (every row of the catalogue), the severity (0..=6, so the
//! out-of-range ones are checked to fail cleanly), the RNG mode and the seed; the rest are
//! the pixels.
#![no_main]
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use imgcorrupt::{corrupt_with, Corruption, RngMode, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (w, h) = (u32::from(data[0] % 24) + 1, u32::from(data[1] % 24) + 1);
    let all: Vec<Corruption> = Corruption::all().collect();
    let corruption = all[usize::from(data[3]) % all.len()];
    let severity = data[4] % 7;
    let rng = if data[5] & 1 == 0 { RngMode::Fast } else { RngMode::Numpy };
    let seed = u64::from(u16::from_le_bytes([data[6], data[7]]));
    let rest = &data[8..];
    let channels = [1u32, 2, 3, 4][usize::from(data[2] % 4)];
    let n = (w * h * channels) as usize;
    let px: Vec<u8> = (0..n).map(|i| rest.get(i % rest.len().max(1)).copied().unwrap_or(0)).collect();
    let img = match channels {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, px).unwrap()),
        2 => DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(w, h, px).unwrap()),
        3 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).unwrap()),
        _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, px).unwrap()),
    };
    let settings = Settings::new(seed).with_rng(rng);
    match corrupt_with(&img, corruption, severity, &settings) {
        Ok(out) => {
            assert!((1..=5).contains(&severity));
            assert_eq!((out.width(), out.height(), out.color()), (w, h, img.color()));
        }
        Err(_) => {}
    }
});
