//! The annotation checks of discovery: a VOC XML file and a COCO JSON file (the first byte
//! picks which), arbitrary text in, a result or an error out, never a panic.
#![no_main]
use imgcorrupt::dataset::discover::{check_voc_annotation, coco_file_names};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if which & 1 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            if let Ok(a) = check_voc_annotation(text) {
                if let Some(f) = a.filename {
                    assert!(text.contains(f));
                }
            }
        }
    } else {
        let _ = coco_file_names(rest);
    }
});
