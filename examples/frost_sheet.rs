//! Contact sheet of frost: a photo clean and at severities 1–5 (procedural textures, fast
//! mode), and the five bare procedural textures. Writes docs/frost.png.
//!
//!     cargo run --release --example frost_sheet [photo.png] [out.png]
use image::{imageops, DynamicImage, RgbImage};
use imgcorrupt::corruptions::weather::frost::textures as frost;
use imgcorrupt::{corrupt_with, Corruption, Settings};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let photo = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("fixtures/photos/chelsea_224x224.png");
    let out = args.get(2).map(String::as_str).unwrap_or("docs/frost.png");
    let img = image::open(photo).expect("photo").to_rgb8();
    let (w, h) = img.dimensions();
    let tile = 300u32;
    let mut sheet = RgbImage::from_pixel(tile * 6, tile * 2, image::Rgb([255, 255, 255]));
    let fit = |i: &RgbImage| {
        imageops::resize(
            i,
            tile - 8,
            (tile - 8) * i.height() / i.width(),
            imageops::FilterType::Triangle,
        )
    };
    imageops::overlay(&mut sheet, &fit(&img), 4, 4);
    for s in 1..=5u8 {
        let o = corrupt_with(
            &DynamicImage::ImageRgb8(img.clone()),
            Corruption::Frost,
            s,
            &Settings::new(7),
        )
        .unwrap();
        imageops::overlay(
            &mut sheet,
            &fit(&o.to_rgb8()),
            (tile * s as u32 + 4) as i64,
            4,
        );
    }
    let _ = (w, h);
    for k in 0..5 {
        let (th, tw) = frost::SLOT_SIZES[k];
        let t = frost::procedural(
            k,
            (th as f64 * 1.1).ceil() as usize,
            (tw as f64 * 1.1).ceil() as usize,
        );
        let t = RgbImage::from_raw(t.width as u32, t.height as u32, t.rgb.clone()).unwrap();
        let crop = imageops::crop_imm(&t, 0, 0, 290, 290).to_image();
        imageops::overlay(
            &mut sheet,
            &crop,
            (tile * k as u32 + 4) as i64,
            (tile + 4) as i64,
        );
    }
    std::fs::create_dir_all(std::path::Path::new(out).parent().unwrap()).ok();
    sheet.save(out).unwrap();
    println!("wrote {out}");
}
