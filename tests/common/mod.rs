//! Helpers shared by the integration tests: the committed reference fixtures of
//! `scripts/make_fixtures.py`, small image utilities, and running the binary in temporary
//! folders.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use imgcorrupt::Corruption;
use serde::Deserialize;

/// One reference output (see fixtures/reference/index.json).
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub photo: String,
    pub width: usize,
    pub height: usize,
    pub corruption: String,
    pub severity: u8,
    pub seed: u64,
    pub file: String,
    pub psnr_vs_clean: Option<f64>,
}

#[derive(Deserialize)]
struct Index {
    entries: Vec<Entry>,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// All reference entries.
pub fn entries() -> Vec<Entry> {
    let text = std::fs::read_to_string(root().join("reference/index.json"))
        .expect("fixtures/reference/index.json");
    let idx: Index = serde_json::from_str(&text).expect("index.json parses");
    idx.entries
}

/// Entries of one corruption, grouped by severity.
pub fn entries_of(c: Corruption) -> BTreeMap<u8, Vec<Entry>> {
    let mut m: BTreeMap<u8, Vec<Entry>> = BTreeMap::new();
    for e in entries().into_iter().filter(|e| e.corruption == c.name()) {
        m.entry(e.severity).or_default().push(e);
    }
    assert!(!m.is_empty(), "no reference fixtures for {c}");
    m
}

/// RGB8 bytes of a PNG.
pub fn load_rgb(path: &Path) -> (Vec<u8>, usize, usize) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    let (w, h) = img.dimensions();
    (img.into_raw(), w as usize, h as usize)
}

/// The clean fixture photo of an entry.
pub fn photo(e: &Entry) -> (Vec<u8>, usize, usize) {
    load_rgb(&root().join("photos").join(format!("{}.png", e.photo)))
}

/// The reference output of an entry.
pub fn reference(e: &Entry) -> Vec<u8> {
    load_rgb(&root().join("reference").join(&e.file)).0
}

/// PSNR in dB between two 8-bit buffers (infinite when identical).
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// Mean structural similarity of two interleaved `w×h×c` 8-bit images, as scikit-image's
/// `structural_similarity(a, b, channel_axis=-1, data_range=255)` defines it: per channel, 7×7
/// uniform windows, sample (co)variances, K1 = 0.01, K2 = 0.03, averaged over every window that
/// lies inside the image, then over channels. Box sums come from summed-area tables, so the
/// cost is linear in the pixel count.
pub fn ssim(a: &[u8], b: &[u8], w: usize, h: usize, c: usize) -> f64 {
    const WIN: usize = 7;
    assert_eq!(a.len(), w * h * c);
    assert_eq!(b.len(), a.len());
    assert!(w >= WIN && h >= WIN, "ssim needs at least 7×7 pixels");
    let n = (WIN * WIN) as f64;
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let cov_norm = n / (n - 1.0);
    let mut total = 0.0;
    for ch in 0..c {
        // Summed-area tables of x, y, x², y², xy, (w+1)×(h+1) with a zero border.
        let stride = w + 1;
        let mut sat = vec![[0f64; 5]; stride * (h + 1)];
        for yy in 0..h {
            let mut row = [0f64; 5];
            for xx in 0..w {
                let i = (yy * w + xx) * c + ch;
                let (x, y) = (a[i] as f64, b[i] as f64);
                let v = [x, y, x * x, y * y, x * y];
                for k in 0..5 {
                    row[k] += v[k];
                    sat[(yy + 1) * stride + xx + 1][k] = sat[yy * stride + xx + 1][k] + row[k];
                }
            }
        }
        let mut sum = 0.0;
        for y0 in 0..=h - WIN {
            for x0 in 0..=w - WIN {
                let (y1, x1) = (y0 + WIN, x0 + WIN);
                let mut m = [0f64; 5];
                for (k, mk) in m.iter_mut().enumerate() {
                    *mk = (sat[y1 * stride + x1][k]
                        - sat[y0 * stride + x1][k]
                        - sat[y1 * stride + x0][k]
                        + sat[y0 * stride + x0][k])
                        / n;
                }
                let (mx, my) = (m[0], m[1]);
                let vx = cov_norm * (m[2] - mx * mx);
                let vy = cov_norm * (m[3] - my * my);
                let vxy = cov_norm * (m[4] - mx * my);
                sum += ((2.0 * mx * my + c1) * (2.0 * vxy + c2))
                    / ((mx * mx + my * my + c1) * (vx + vy + c2));
            }
        }
        total += sum / ((w - WIN + 1) * (h - WIN + 1)) as f64;
    }
    total / c as f64
}

/// Fraction of values within ±tol and the largest difference.
pub fn agreement(a: &[u8], b: &[u8], tol: u8) -> (f64, u8) {
    let mut ok = 0usize;
    let mut max = 0u8;
    for (&x, &y) in a.iter().zip(b) {
        let d = x.abs_diff(y);
        max = max.max(d);
        ok += usize::from(d <= tol);
    }
    (ok as f64 / a.len() as f64, max)
}

/// ALGORITHMS.md Appendix C test image: H=96, W=128 RGB pattern.
pub fn appendix_c_image() -> Vec<u8> {
    let (h, w) = (96usize, 128usize);
    let mut out = Vec::with_capacity(h * w * 3);
    for y in 0..h {
        for x in 0..w {
            let v = ((2 * x + 3 * y + 5 * ((x * y) % 7)) % 200 + 20) as i64;
            let checker = (((x / 16) + (y / 16)) % 2) as i64;
            for off in [0i64, 12, -15] {
                out.push((v + off * checker) as u8);
            }
        }
    }
    out
}

/// First 12 hex digits of SHA-256.
pub fn sha12(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    d.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

pub fn mean(bytes: &[u8]) -> f64 {
    bytes.iter().map(|&b| b as f64).sum::<f64>() / bytes.len() as f64
}

/// The reference's frost photographs, if available: `$IMGCORRUPT_FROST_DIR`, else the copy in
/// the oracle venv that `scripts/make_fixtures.py` creates. They are third-party files and not
/// part of the repository, so tests that need them skip (saying why) when they are absent.
pub fn frost_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("IMGCORRUPT_FROST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".venv-reference/lib/python3.11/site-packages/imagecorruptions/frost")
        });
    dir.join("frost1.png").exists().then_some(dir)
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256_file_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Running the binary and temporary folders (CLI tests)

/// The `imgcorrupt` binary built for the integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_imgcorrupt");

/// A fresh, unique, empty temporary folder, removed when dropped (kept if the test failed,
/// for inspection).
pub struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Tmp {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A [`Tmp`] folder named after the test binary, the process, a counter and `name`, so that
/// tests running in parallel (in one binary or several) never share one.
pub fn tmp(name: &str) -> Tmp {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = std::env::temp_dir().join(format!(
        "imgcorrupt-{}-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    Tmp(p)
}

/// `generate INPUT -o OUT -c contrast -s 1` followed by `rest`: the cheapest full run.
pub fn contrast1<'a>(input: &'a str, out: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    [
        &["generate", input, "-o", out, "-c", "contrast", "-s", "1"][..],
        rest,
    ]
    .concat()
}

/// Runs the binary with `args` (in the test's working directory, the package root).
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run imgcorrupt")
}

/// Runs the binary with `args` in the working directory `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run imgcorrupt")
}

/// The standard error of a run, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the binary with `args`, asserts that it succeeded (showing its standard error if
/// not) and returns its standard error.
pub fn run_ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed:\n{}", stderr(&o));
    stderr(&o)
}

/// Every regular file under `root` (relative path → bytes, `/`-separated), hidden files
/// included.
pub fn files_under(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The outputs of a generate run: [`files_under`] `root` but its manifest files.
pub fn outputs(root: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("manifest"))
        .collect()
}

/// The text of `root/manifest.jsonl`.
pub fn manifest_text(root: &Path) -> String {
    std::fs::read_to_string(root.join("manifest.jsonl")).expect("manifest.jsonl")
}

/// Asserts that a run succeeded, showing its exit status and both streams if not.
pub fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Asserts that a run failed; its standard error.
pub fn err_text(o: &Output) -> String {
    assert!(!o.status.success());
    stderr(o)
}

/// Asserts that a run failed; its standard output followed by its standard error (for
/// messages that may go to either stream, as `verify`'s report of differing files).
pub fn fail_text(o: &Output) -> String {
    assert!(!o.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A path as `&str`, for argument lists.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The header line of `root/manifest.jsonl`, parsed.
pub fn manifest_header(root: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(root.join("manifest.jsonl")).expect("manifest.jsonl");
    serde_json::from_str(text.lines().next().expect("a header line")).unwrap()
}

/// The records of `root/manifest.jsonl` (every line after the header), parsed.
pub fn manifest_records(root: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(root.join("manifest.jsonl"))
        .expect("manifest.jsonl")
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The records of OUTPUT's manifest.jsonl that list files (images and annotations): every
/// record but the `folder` records of the class folders.
pub fn file_records(root: &Path) -> Vec<serde_json::Value> {
    manifest_records(root)
        .into_iter()
        .filter(|r| r["kind"] != "folder")
        .collect()
}

/// Asserts that two generate runs wrote the same manifest and, for every record of `recs`,
/// the same output bytes.
pub fn assert_same_run(a: &Path, b: &Path, recs: &[serde_json::Value]) {
    assert_eq!(
        std::fs::read(a.join("manifest.jsonl")).unwrap(),
        std::fs::read(b.join("manifest.jsonl")).unwrap()
    );
    for r in recs {
        let o = r["output"].as_str().unwrap();
        assert_eq!(
            std::fs::read(a.join(o)).unwrap(),
            std::fs::read(b.join(o)).unwrap(),
            "{o}"
        );
    }
}
