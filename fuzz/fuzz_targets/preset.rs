//! Preset TOML parsing: arbitrary text is a preset or an error, never a panic or an abort
//! (an unbounded parameter such as `glass_blur.iterations` must be a preset error).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = imgcorrupt::Preset::from_toml_str(text, "fuzz.toml");
    }
});
