//! Manifest and journal reading (`record::manifest::stream`, strict and tolerant, and
//! `read_header`) on arbitrary file contents: records come out validated (relative,
//! normalised paths) or the file is an error naming it, never a panic.
#![no_main]
use imgcorrupt::dataset::record::manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("manifest.jsonl");
    std::fs::write(&path, data).expect("write");
    for tolerant in [false, true] {
        let res = manifest::stream(
            &path,
            tolerant,
            |_| {},
            |r| {
                assert!(!r.output.starts_with('/') && !r.output.split('/').any(|c| c == ".."));
                assert!(!r.source.starts_with('/') && !r.source.split('/').any(|c| c == ".."));
                Ok(())
            },
        );
        if let Err(e) = res {
            assert!(e.to_string().contains("manifest.jsonl"), "{e}");
        }
    }
    let _ = manifest::read_header(&path);
});
