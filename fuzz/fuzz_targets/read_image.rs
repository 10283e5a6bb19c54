//! Every decoder behind `io::decode_image` (JPEG through imgcorrupt's decoder or `image`, PNG,
//! WebP, BMP, TIFF) on arbitrary bytes: an image or an error naming the file, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-input");
    match imgcorrupt::io::decode_image(data, path, 1 << 22) {
        Ok(img) => assert!(u64::from(img.width()) * u64::from(img.height()) <= 1 << 22),
        Err(e) => assert!(e.to_string().contains("fuzz-input"), "{e}"),
    }
});
