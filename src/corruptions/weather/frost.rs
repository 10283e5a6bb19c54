//! `frost` (ALGORITHMS.md §4.9): a frost texture overlay.

use serde::Deserialize;

use crate::corruptions::params::{check_row, finite, Row};
use crate::corruptions::Job;
use crate::error::Result;

mod blend;
mod cubic;
mod linear;
pub mod textures;

pub use textures::FrostTextures;

/// The `[frost]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Weight of the image.
    pub image_weight: Row<f64>,
    /// Weight of the frost texture.
    pub frost_weight: Row<f64>,
    /// The original scripts' texture rule (ALGORITHMS.md §5.2): the texture is resized by this
    /// factor (OpenCV bilinear; 1 = unscaled, make_imagenet_c.py; 0.3 Tiny-ImageNet-C; 0.2
    /// CIFAR-10-C) and cropped at `randint[0, H_T − H)`, `randint[0, W_T − W)`. Absent
    /// (imagecorruptions): enlarged to cover the image, ×1.1, bicubic. A scaled texture that
    /// does not cover the image (where the original script would fail) uses the
    /// imagecorruptions rule.
    #[serde(default)]
    pub texture_scale: Option<f64>,
}

impl crate::corruptions::params::Params for Params {
    fn validate(&self) -> std::result::Result<(), String> {
        check_row("frost.image_weight", &self.image_weight, finite, "finite")?;
        check_row("frost.frost_weight", &self.frost_weight, finite, "finite")?;
        match self.texture_scale {
            Some(v) if !(v > 0.0 && v <= 10.0) => Err(format!(
                "key `frost.texture_scale`: value {v} must be in (0, 10]"
            )),
            _ => Ok(()),
        }
    }

    fn at_severity(&self, s: f64) -> Option<Self> {
        Some(Params {
            image_weight: crate::corruptions::params::lerp_row(&self.image_weight, s, Some(1.0))?,
            frost_weight: crate::corruptions::params::lerp_row(&self.frost_weight, s, Some(0.0))?,
            texture_scale: self.texture_scale,
        })
    }
}

/// Frost (ALGORITHMS.md §4.9, Quirk 7): `clip(a·x + b·T, 0, 255)` with `T` an `H×W` crop of a frost
/// texture. Draws (both RNG modes, in this order): slot `k = randint(5)`, then the crop offsets
/// `randint(H_T − H)`, `randint(W_T − W)`, where the texture is enlarged to
/// `ceil(size · 1.1 · f)` with `f = 1` if it covers the image, else the factor that makes it
/// cover it (the reference's rule).
///
/// * With [`crate::Settings::frost_textures`]: the reference's photo `k`, rescaled by OpenCV's
///   `INTER_CUBIC` (`cubic.rs` next to this file, only the crop window is computed) — imagecorruptions' frost.
/// * Without (default): procedural texture `k` ([`textures::procedural`]) rendered directly at
///   the enlarged size (cached per slot and size; for images larger than the slot the size is
///   rounded up to a 2^(1/8) step, [`textures::procedural_size`], so that datasets of varied
///   image sizes share textures), same size rule and draws; the crop is taken at the drawn
///   offsets.
pub fn frost(job: &mut Job<'_>, p: &Params) -> Result<()> {
    let a = p.image_weight[job.level];
    let b = p.frost_weight[job.level];
    let (w, h) = (job.width, job.height);
    let k = job.rng.randint(0, 5) as usize;
    let (hf, wf) = match job.frost_textures {
        Some(set) => (set.textures[k].height, set.textures[k].width),
        None => textures::SLOT_SIZES[k],
    };
    let Cover {
        f,
        original,
        ht,
        wt,
    } = cover(p, (hf, wf), (w, h));
    let r0 = job.rng.randint(0, ht as i64 - h as i64) as usize;
    let c0 = job.rng.randint(0, wt as i64 - w as i64) as usize;
    // The procedural texture is fetched before the crop buffer below is borrowed: a worker
    // waiting for another thread's render runs other queued jobs meanwhile (textures.rs), and
    // one of them may be a frost call on this thread wanting the same buffer.
    let procedural = match job.frost_textures {
        Some(_) => None,
        None => Some(procedural_texture(k, f, original, (ht, wt))),
    };
    let mut work = |crop: &mut [u8]| {
        fill_crop(
            &*job,
            procedural.as_ref().map(|(t, tw)| (t.rgb.as_slice(), *tw)),
            original,
            k,
            f,
            (wf, hf),
            (wt, ht),
            (r0, c0),
            (w, h),
            crop,
        );
        // f64 as the reference: a·x + b·T, clipped to [0, 255], truncated
        blend::frost(job.src, crop, a, b, job.dst);
    };
    // `fill_crop` writes the whole window, so a buffer kept per thread (grown, never cleared)
    // gives the same bytes as a fresh zeroed one without zero-filling it on every call; large
    // windows get a fresh one, so that no thread keeps a large image's worth of memory.
    thread_local! {
        static CROP: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    const KEEP: usize = 1 << 22;
    let n = w * h * 3;
    if n > KEEP {
        work(&mut vec![0u8; n]);
    } else {
        CROP.with_borrow_mut(|buf| {
            if buf.len() < n {
                buf.resize(n, 0);
            }
            work(&mut buf[..n]);
        });
    }
    Ok(())
}

/// How a texture of `hf × wf` covers a `w × h` image: the scale `f`, the original scripts'
/// fixed scale when it applies (`(scale, ht, wt)`), and the scaled size `ht × wt`.
struct Cover {
    f: f64,
    original: Option<(f64, usize, usize)>,
    ht: usize,
    wt: usize,
}

fn cover(p: &Params, (hf, wf): (usize, usize), (w, h): (usize, usize)) -> Cover {
    // the original scripts' fixed scale, where the scaled texture covers the image
    let original = p.texture_scale.and_then(|sc| {
        let (ht, wt) = (linear::scaled_len(hf, sc), linear::scaled_len(wf, sc));
        (ht > h && wt > w).then_some((sc, ht, wt))
    });
    let (hx, wx) = (h as f64, w as f64);
    let f = match original {
        Some((sc, _, _)) => sc,
        None => {
            let cover = match (hf >= h, wf >= w) {
                (true, true) => 1.0,
                (false, true) => hx / hf as f64,
                (true, false) => wx / wf as f64,
                (false, false) => (hx / hf as f64).max(wx / wf as f64),
            };
            cover * 1.1
        }
    };
    let (ht, wt) = match original {
        Some((_, ht, wt)) => (ht, wt),
        None => (
            (hf as f64 * f).ceil() as usize,
            (wf as f64 * f).ceil() as usize,
        ),
    };
    Cover {
        f,
        original,
        ht,
        wt,
    }
}

/// The procedural texture of slot `k` for a cover (its pixels and row width): rendered at the
/// scaled size itself when the original's factor is known, else at [`textures::procedural_size`].
fn procedural_texture(
    k: usize,
    f: f64,
    original: Option<(f64, usize, usize)>,
    (ht, wt): (usize, usize),
) -> (std::sync::Arc<textures::Texture>, usize) {
    match original {
        Some(_) => (textures::procedural(k, ht, wt), wt),
        None => {
            let (th, tw) = textures::procedural_size(k, f, ht, wt);
            (textures::procedural(k, th, tw), tw)
        }
    }
}

/// Render (into the process's texture cache) the procedural texture that [`frost`] with `p`
/// uses for slot `k` (0..5) on a `w × h` image, without the reference's photographs. A
/// dataset run whose images all have one size calls it for the five slots as parallel jobs
/// before its images: otherwise the two workers reach frost together and one of them waits
/// for the other's render (`dataset::run`). The cache only saves time: outputs do not change.
pub fn warm_procedural(p: &Params, k: usize, w: usize, h: usize) {
    let Cover {
        f,
        original,
        ht,
        wt,
    } = cover(p, textures::SLOT_SIZES[k % 5], (w, h));
    procedural_texture(k % 5, f, original, (ht, wt));
}

/// The `w × h` window at (`r0`, `c0`) of frost texture `k` scaled by `f` (to `wt × ht`): the
/// reference's photograph (`original`: OpenCV linear by `f`; else cubic to `wt × ht`) or the
/// procedural texture (`procedural`: its pixels and row width, fetched by the caller). Writes
/// every value of `crop`.
#[allow(clippy::too_many_arguments)]
fn fill_crop(
    job: &Job<'_>,
    procedural: Option<(&[u8], usize)>,
    original: Option<(f64, usize, usize)>,
    k: usize,
    f: f64,
    (wf, hf): (usize, usize),
    (wt, ht): (usize, usize),
    (r0, c0): (usize, usize),
    (w, h): (usize, usize),
    crop: &mut [u8],
) {
    match job.frost_textures {
        Some(set) if original.is_some() => {
            let t = &set.textures[k];
            linear::resize_linear_window(&t.rgb, wf, hf, 3, f, (r0, c0), (w, h), crop);
        }
        Some(set) => {
            let t = &set.textures[k];
            cubic::resize_cubic_window(&t.rgb, wf, hf, 3, wt, ht, (r0, c0), (w, h), crop);
        }
        None => {
            // rendered at the scaled size itself when the original's factor is known (features
            // scale with the size), else at the rounded size of `procedural_size`
            let (rgb, tw) = procedural.expect("procedural texture fetched by the caller");
            for r in 0..h {
                let s = ((r0 + r) * tw + c0) * 3;
                crop[r * w * 3..(r + 1) * w * 3].copy_from_slice(&rgb[s..s + w * 3]);
            }
        }
    }
}
