//! The hand-written JPEG decoder on arbitrary bytes: no panic, no memory fault, and work
//! bounded by the pixel limit (4 Mpx here, so one input stays fast).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = imgcorrupt::codecs::jpeg::decode::decode(data, 1 << 22) {
        assert_eq!(d.pixels.len(), d.width * d.height * d.channels);
    }
});
