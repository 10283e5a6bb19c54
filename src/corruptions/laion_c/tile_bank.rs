//! The tile bank of `mosaic` and `stickers`: training images, each reduced to one small
//! square tile, as LAION-C builds its bank (`Resize(256)`, `CenterCrop(224)`,
//! `Resize((t, t))` of every image of a training WebDataset).
//!
//! Here the bank is a folder of image files (`--tile-bank DIR`, searched recursively, sorted by
//! relative path so that the tile order, and with it every output, does not depend on the
//! file system's listing order). Each image is centre-cropped to the square of side
//! 224/256 of its shorter side (what Resize(256) + CenterCrop(224) keeps) and resized straight
//! to every tile size the preset uses (antialiased bilinear, one resize instead of the
//! reference's two). Its [`digest`](TileBank::digest) — SHA-256 over the sorted (relative
//! path, file SHA-256) pairs — goes into the manifest: an output depends on the bank.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::kernels::resample::{self, Filter};

/// File extensions read as bank images.
const EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"];

/// Tiles of one size: pixels (RGB, `count · t · t · 3`), mean colours and a k-d tree on them.
#[derive(Debug)]
pub struct Tiles {
    /// Side in pixels.
    pub size: usize,
    /// Tile pixels, tile after tile.
    pub pixels: Vec<u8>,
    /// Mean RGB of each tile, on the 0..=255 scale.
    pub means: Vec<[f32; 3]>,
    tree: KdTree,
}

impl Tiles {
    /// The pixels of tile `i`.
    pub fn tile(&self, i: usize) -> &[u8] {
        let n = self.size * self.size * 3;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Index of the tile whose mean colour is nearest to `c` (Euclidean; ties: lowest index).
    pub fn nearest(&self, c: [f32; 3]) -> usize {
        self.tree.nearest(&self.means, c)
    }
}

/// A loaded tile bank.
#[derive(Debug)]
pub struct TileBank {
    /// The folder it was loaded from.
    pub dir: PathBuf,
    /// SHA-256 (hex) over the sorted (relative path, file SHA-256) pairs.
    pub digest: String,
    /// Number of images (= tiles per size).
    pub len: usize,
    sizes: BTreeMap<usize, Tiles>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let ft = entry.file_type().map_err(io)?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if ft.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

impl TileBank {
    /// Load every image under `dir` and make its tiles of the given sizes (at least one image).
    pub fn load(dir: impl AsRef<Path>, sizes: &[usize]) -> Result<TileBank> {
        let dir = dir.as_ref().to_path_buf();
        let mut files = Vec::new();
        walk(&dir, &mut files)?;
        files.sort();
        if files.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{}: the tile bank holds no image files ({})",
                dir.display(),
                EXTENSIONS.join(", ")
            )));
        }
        let mut images = Vec::with_capacity(files.len());
        let mut hasher = Sha256::new();
        for path in &files {
            let bytes = crate::digest::read_regular(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let rel = path.strip_prefix(&dir).unwrap_or(path);
            let rel = rel.to_string_lossy().replace('\\', "/");
            hasher.update((rel.len() as u64).to_le_bytes());
            hasher.update(rel.as_bytes());
            hasher.update(Sha256::digest(&bytes));
            let img =
                crate::io::decode_image(&bytes, path, crate::io::DEFAULT_MAX_PIXELS)?.to_rgb8();
            let (w, h) = (img.width() as usize, img.height() as usize);
            // the square Resize(256) + CenterCrop(224) keeps
            let side = ((w.min(h) * 224) / 256).max(1);
            let (left, top) = ((w - side) / 2, (h - side) / 2);
            let mut crop = Vec::with_capacity(side * side * 3);
            let raw = img.as_raw();
            for y in top..top + side {
                crop.extend_from_slice(&raw[(y * w + left) * 3..(y * w + left + side) * 3]);
            }
            images.push((crop, side));
        }
        let digest = crate::digest::hex(&hasher.finalize());
        let mut map = BTreeMap::new();
        for &t in sizes {
            if t == 0 || map.contains_key(&t) {
                continue;
            }
            map.insert(t, Self::make_tiles(&images, t));
        }
        Ok(TileBank {
            dir,
            digest,
            len: images.len(),
            sizes: map,
        })
    }

    /// A bank made from in-memory square-cropped RGB images (tests, Python).
    pub fn from_images(images: &[(Vec<u8>, usize)], sizes: &[usize]) -> TileBank {
        let mut hasher = Sha256::new();
        for (px, side) in images {
            hasher.update((*side as u64).to_le_bytes());
            hasher.update(Sha256::digest(px));
        }
        let mut map = BTreeMap::new();
        for &t in sizes {
            if t > 0 {
                map.insert(t, Self::make_tiles(images, t));
            }
        }
        TileBank {
            dir: PathBuf::new(),
            digest: crate::digest::hex(&hasher.finalize()),
            len: images.len(),
            sizes: map,
        }
    }

    fn make_tiles(images: &[(Vec<u8>, usize)], t: usize) -> Tiles {
        let mut pixels = Vec::with_capacity(images.len() * t * t * 3);
        let mut means = Vec::with_capacity(images.len());
        for (crop, side) in images {
            let tile = resample::resize(crop, *side, *side, 3, t, t, Filter::Bilinear);
            let mut s = [0f64; 3];
            for px in tile.chunks_exact(3) {
                for c in 0..3 {
                    s[c] += f64::from(px[c]);
                }
            }
            let n = (t * t) as f64;
            means.push([(s[0] / n) as f32, (s[1] / n) as f32, (s[2] / n) as f32]);
            pixels.extend_from_slice(&tile);
        }
        let tree = KdTree::build(&means);
        Tiles {
            size: t,
            pixels,
            means,
            tree,
        }
    }

    /// The tiles of side `t`, if the bank was loaded with that size.
    pub fn tiles(&self, t: usize) -> Option<&Tiles> {
        self.sizes.get(&t)
    }
}

/// A 3-d tree over the tile means (exact nearest neighbour; the reference uses SciPy's
/// KDTree on the same keys).
#[derive(Debug)]
struct KdTree {
    /// Node order: an implicit balanced tree over this permutation of tile indices.
    order: Vec<u32>,
}

impl KdTree {
    fn build(points: &[[f32; 3]]) -> KdTree {
        let mut order: Vec<u32> = (0..points.len() as u32).collect();
        fn rec(points: &[[f32; 3]], idx: &mut [u32], depth: usize) {
            if idx.len() <= 1 {
                return;
            }
            let axis = depth % 3;
            let mid = idx.len() / 2;
            idx.select_nth_unstable_by(mid, |&a, &b| {
                points[a as usize][axis]
                    .total_cmp(&points[b as usize][axis])
                    .then(a.cmp(&b))
            });
            let (left, right) = idx.split_at_mut(mid);
            rec(points, left, depth + 1);
            rec(points, &mut right[1..], depth + 1);
        }
        rec(points, &mut order, 0);
        KdTree { order }
    }

    fn nearest(&self, points: &[[f32; 3]], q: [f32; 3]) -> usize {
        let mut best = (f32::INFINITY, usize::MAX);
        fn dist(a: [f32; 3], b: [f32; 3]) -> f32 {
            let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
            d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
        }
        fn rec(
            points: &[[f32; 3]],
            idx: &[u32],
            depth: usize,
            q: [f32; 3],
            best: &mut (f32, usize),
        ) {
            if idx.is_empty() {
                return;
            }
            let mid = idx.len() / 2;
            let i = idx[mid] as usize;
            let d = dist(points[i], q);
            if d < best.0 || (d == best.0 && i < best.1) {
                *best = (d, i);
            }
            let axis = depth % 3;
            let diff = q[axis] - points[i][axis];
            let (near, far) = if diff < 0.0 {
                (&idx[..mid], &idx[mid + 1..])
            } else {
                (&idx[mid + 1..], &idx[..mid])
            };
            rec(points, near, depth + 1, q, best);
            if diff * diff <= best.0 {
                rec(points, far, depth + 1, q, best);
            }
        }
        rec(points, &self.order, 0, q, &mut best);
        best.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::FastRng;

    #[test]
    fn kd_tree_finds_the_brute_force_nearest() {
        let mut rng = FastRng::new(7);
        let pts: Vec<[f32; 3]> = (0..500)
            .map(|_| [0; 3].map(|_: i32| (rng.next_f64() * 255.0) as f32))
            .collect();
        let tree = KdTree::build(&pts);
        for _ in 0..2000 {
            let q = [0; 3].map(|_: i32| (rng.next_f64() * 300.0 - 20.0) as f32);
            let want = (0..pts.len())
                .min_by(|&a, &b| {
                    let da: f32 = (0..3).map(|c| (pts[a][c] - q[c]).powi(2)).sum();
                    let db: f32 = (0..3).map(|c| (pts[b][c] - q[c]).powi(2)).sum();
                    da.total_cmp(&db).then(a.cmp(&b))
                })
                .unwrap();
            let got = tree.nearest(&pts, q);
            let d = |i: usize| -> f32 { (0..3).map(|c| (pts[i][c] - q[c]).powi(2)).sum() };
            assert_eq!(d(got), d(want), "query {q:?}");
        }
    }
}
