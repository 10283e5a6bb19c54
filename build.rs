//! Collects the built-in presets: every `corruptions/*.toml` file becomes one entry of
//! `BUILTIN` in `src/preset.rs` (name = file stem), so that a new suite's preset file is picked
//! up by adding the file alone, with no list to edit.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corruptions");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corruptions/ (the preset folder) is readable")
        .map(|e| e.expect("corruptions/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    // Sorted, so that the list (and `imgcorrupt list --presets`) does not depend on the
    // file system's order.
    files.sort();
    let mut out = String::from("&[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 preset file name");
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push(']');
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_presets.rs");
    std::fs::write(dest, out).expect("write builtin_presets.rs");
}
