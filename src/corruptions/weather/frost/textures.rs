//! Frost textures (ALGORITHMS.md §4.9): the reference's six files loaded on request
//! ([`FrostTextures`]), and the procedural ice-crystal textures used by default
//! ([`procedural`]).
//!
//! The reference ships six photographs of frost (third-party files we do not redistribute).
//! Without them, frost uses five procedural textures, one per reference slot `k = 0..5` that
//! `randint(5)` picks from, with the same nominal sizes (600×900, 315×560, 315×560, 350×527,
//! 495×660) and roughly the same colour statistics as the photo in that slot, so that the
//! reference's size rule, crop-offset draws and severity curve carry over unchanged. Unlike the
//! reference, which upscales its photos with bicubic interpolation (always by ≥ 10 %), the
//! procedural textures are rendered directly at the rescaled size with all features scaled,
//! so they stay sharp at any image size.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};

/// An RGB8 texture (row-major, channel fastest, RGB order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Texture {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height * width * 3` bytes.
    pub rgb: Vec<u8>,
}

/// The six frost photographs of imagecorruptions (`frost1.png` … `frost6.jpg`), decoded to RGB.
///
/// The reference reads them with `cv2.imread` (BGR, alpha dropped) and reverses the channels
/// of the crop, i.e. it uses them as RGB; decoding straight to RGB is the same. The JPEGs are
/// decoded exactly as libjpeg-turbo does ([`crate::io::read_image`]; checked byte for byte
/// against `cv2.imread` 4.11 for frost4–6.jpg). `frost6.jpg` is loaded (it is part of
/// the set) but never selected, as in the reference (ALGORITHMS.md Quirk 7).
#[derive(Clone, Debug)]
pub struct FrostTextures {
    /// Folder the files came from.
    pub dir: PathBuf,
    /// The six textures, in file order.
    pub textures: Vec<Texture>,
}

impl FrostTextures {
    /// File names, in the reference's order.
    pub const FILES: [&'static str; 6] = [
        "frost1.png",
        "frost2.png",
        "frost3.png",
        "frost4.jpg",
        "frost5.jpg",
        "frost6.jpg",
    ];

    /// Load the six files from `dir`. A missing or undecodable file is an error naming it.
    pub fn load(dir: impl AsRef<Path>) -> Result<FrostTextures> {
        let dir = dir.as_ref().to_path_buf();
        let mut textures = Vec::with_capacity(6);
        for name in Self::FILES {
            let path = dir.join(name);
            let fail = |what: String| Error::Codec {
                path: path.clone(),
                message: format!("cannot load frost texture ({what})"),
            };
            // The crate's reader: JPEGs through the libjpeg-turbo-exact decoder, which is
            // also what OpenCV's `imread` uses (frost4–6.jpg decode byte-identically).
            let img = crate::io::read_image(&path, crate::io::DEFAULT_MAX_PIXELS)
                .map_err(|e| match e {
                    Error::Codec { message, .. } => fail(message),
                    Error::Io { source, .. } => fail(source.to_string()),
                    other => fail(other.to_string()),
                })?
                .to_rgb8();
            let (w, h) = img.dimensions();
            textures.push(Texture {
                width: w as usize,
                height: h as usize,
                rgb: img.into_raw(),
            });
        }
        Ok(FrostTextures { dir, textures })
    }
}

/// Nominal `(height, width)` of the five selectable slots (the reference files' sizes).
pub const SLOT_SIZES: [(usize, usize); 5] =
    [(600, 900), (315, 560), (315, 560), (350, 527), (495, 660)];

/// Look of one procedural slot, modelled on the reference photo in that slot.
struct Style {
    /// Colour of the darkest and brightest frost (RGB, 0..255).
    dark: [f32; 3],
    bright: [f32; 3],
    /// Base level of the background haze and its contrast (0..1 units).
    base: f32,
    haze: f32,
    /// Crystals per 10⁴ nominal pixels and their brightness.
    density: f32,
    crystal: f32,
    /// Crystal length range in nominal pixels.
    length: (f32, f32),
}

/// Styles of the five slots: 0 blue ice (frost1), 1–2 dense white feathers (frost2/3, two
/// different patterns where the reference has the same photo twice), 3 grey-blue (frost4),
/// 4 dark glass with bright ferns (frost5).
const STYLES: [Style; 5] = [
    Style {
        dark: [40.0, 120.0, 145.0],
        bright: [205.0, 225.0, 230.0],
        base: 0.20,
        haze: 0.35,
        density: 14.0,
        crystal: 0.40,
        length: (10.0, 120.0),
    },
    Style {
        dark: [120.0, 128.0, 140.0],
        bright: [245.0, 248.0, 252.0],
        base: 0.52,
        haze: 0.25,
        density: 60.0,
        crystal: 0.55,
        length: (8.0, 70.0),
    },
    Style {
        dark: [120.0, 128.0, 140.0],
        bright: [245.0, 248.0, 252.0],
        base: 0.52,
        haze: 0.25,
        density: 60.0,
        crystal: 0.55,
        length: (8.0, 70.0),
    },
    Style {
        dark: [70.0, 84.0, 98.0],
        bright: [235.0, 242.0, 248.0],
        base: 0.36,
        haze: 0.28,
        density: 110.0,
        crystal: 0.60,
        length: (6.0, 50.0),
    },
    Style {
        dark: [25.0, 33.0, 45.0],
        bright: [240.0, 245.0, 250.0],
        base: 0.28,
        haze: 0.35,
        density: 60.0,
        crystal: 0.70,
        length: (8.0, 70.0),
    },
];

/// SplitMix64: small, fast and good enough for texture layout.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f32 {
        (self.next() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f()
    }
}

/// Canvas of the crystal layer with bilinear splatting.
struct Canvas {
    w: usize,
    h: usize,
    v: Vec<f32>,
}

impl Canvas {
    #[inline]
    fn splat(&mut self, x: f32, y: f32, a: f32) {
        if x < 0.0 || y < 0.0 {
            return;
        }
        let (xi, yi) = (x as usize, y as usize);
        if xi + 1 >= self.w || yi + 1 >= self.h {
            return;
        }
        let (fx, fy) = (x - xi as f32, y - yi as f32);
        let p = yi * self.w + xi;
        // the two rows as fixed-size pairs: one bounds check each instead of one per value
        let (up, down) = self.v[p..].split_at_mut(self.w);
        let (up, down): (&mut [f32; 2], &mut [f32; 2]) = (
            (&mut up[..2]).try_into().expect("2 values"),
            (&mut down[..2]).try_into().expect("2 values"),
        );
        up[0] += a * (1.0 - fx) * (1.0 - fy);
        up[1] += a * fx * (1.0 - fy);
        down[0] += a * (1.0 - fx) * fy;
        down[1] += a * fx * fy;
    }

    /// Anti-aliased line of brightness `a`, sampled every half pixel.
    fn line(&mut self, (x0, y0): (f32, f32), (x1, y1): (f32, f32), a: f32) {
        let len = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
        let n = (len * 2.0).ceil().max(1.0) as usize;
        let (dx, dy) = ((x1 - x0) / n as f32, (y1 - y0) / n as f32);
        for i in 0..=n {
            self.splat(x0 + dx * i as f32, y0 + dy * i as f32, a * 0.5);
        }
    }
}

/// A feathery dendrite: a stem with side branches at ±(45…70)° whose length shrinks towards
/// the tip; long branches carry a second level of twigs. `s` scales nominal pixels to pixels.
#[allow(clippy::too_many_arguments)]
fn dendrite(
    c: &mut Canvas,
    rng: &mut Mix,
    x: f32,
    y: f32,
    angle: f32,
    len: f32,
    a: f32,
    level: u32,
    s: f32,
) {
    let (dx, dy) = (angle.cos(), angle.sin());
    let end = (x + dx * len * s, y + dy * len * s);
    c.line((x, y), end, a);
    if level >= 2 || len < 4.0 {
        return;
    }
    let spacing = rng.range(2.2, 4.5);
    let spread = rng.range(0.8, 1.2);
    let mut t = spacing * rng.f();
    let mut side = if rng.f() < 0.5 { 1.0 } else { -1.0 };
    while t < len {
        let frac = t / len;
        let blen = len * 0.38 * (1.0 - frac).powf(0.7) * rng.range(0.5, 1.1) * spread;
        if blen > 1.0 {
            let ba = angle + side * rng.range(0.8, 1.2);
            let (bx, by) = (x + dx * t * s, y + dy * t * s);
            dendrite(c, rng, bx, by, ba, blen, a * 0.8, level + 1, s);
            if rng.f() < 0.6 {
                // the opposite branch of a fern
                let ba = angle - side * rng.range(0.8, 1.2);
                let blen = blen * rng.range(0.6, 1.0);
                dendrite(c, rng, bx, by, ba, blen, a * 0.8, level + 1, s);
            }
        }
        side = -side;
        t += spacing * rng.range(0.7, 1.3);
    }
}

/// Saturating brightness curve `1 − e^(−x)`, approximated by `x·(1 + x/2)/(1 + x + x²/2)`
/// (slope 1 at 0, limit 1, within 0.07 of the exponential) — much cheaper than `exp`.
#[inline(always)]
fn soft_sat(x: f32) -> f32 {
    let x = if x > 0.0 { x } else { 0.0 };
    x * (1.0 + 0.5 * x) / (1.0 + x + 0.5 * x * x)
}

/// Value noise: bilinear interpolation of a random grid with cells of `cell` pixels.
///
/// The horizontal interpolations (`top`, `bot`) depend only on the grid row and the column, so
/// they are computed once per grid row and shared by the `cell` image rows inside it; the
/// per-pixel step is then a plain vectorisable loop. Same operations in the same order as the
/// direct per-pixel form (the test `value_noise_matches_the_direct_form`), so the same bits.
fn value_noise(rng: &mut Mix, w: usize, h: usize, cell: f32, out: &mut [f32], amp: f32) {
    let gw = (w as f32 / cell).ceil() as usize + 2;
    let gh = (h as f32 / cell).ceil() as usize + 2;
    let grid: Vec<f32> = (0..gw * gh).map(|_| rng.f()).collect();
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    // per column: grid column and smoothed weight (shared by all rows)
    let cols: Vec<(usize, f32)> = (0..w)
        .map(|x| {
            let gx = x as f32 / cell;
            let xi = gx as usize;
            (xi, smooth(gx - xi as f32))
        })
        .collect();
    let lerp_row = |g: &[f32], row: &mut [f32]| {
        for (r, &(xi, fx)) in row.iter_mut().zip(&cols) {
            *r = g[xi] + (g[xi + 1] - g[xi]) * fx;
        }
    };
    let (mut top, mut bot) = (vec![0f32; w], vec![0f32; w]);
    let mut cached = usize::MAX;
    for y in 0..h {
        let gy = y as f32 / cell;
        let yi = gy as usize;
        let fy = smooth(gy - yi as f32);
        if yi != cached {
            lerp_row(&grid[yi * gw..(yi + 1) * gw], &mut top);
            lerp_row(&grid[(yi + 1) * gw..(yi + 2) * gw], &mut bot);
            cached = yi;
        }
        for ((o, &t), &b) in out[y * w..(y + 1) * w].iter_mut().zip(&top).zip(&bot) {
            *o += amp * (t + (b - t) * fy - 0.5);
        }
    }
}

/// Separable box blur of radius `r` (edge-clamped), in place.
fn box_blur(v: &mut [f32], w: usize, h: usize, r: usize) {
    if r == 0 {
        return;
    }
    let norm = 1.0 / (2 * r + 1) as f32;
    // The row with its edge-clamped border of `r + 1` values on each side, so that the running
    // sum reads `line[x + 2r + 2]` and `line[x + 1]` for pixel `x` without clamping (the same
    // values, added in the same order, as clamped reads of the bare row).
    let mut line = vec![0f32; w + 2 * r + 2];
    for y in 0..h {
        let row = &mut v[y * w..(y + 1) * w];
        line[r + 1..r + 1 + w].copy_from_slice(row);
        let (first, last) = (row[0], row[w - 1]);
        line[..r + 1].fill(first);
        line[r + 1 + w..].fill(last);
        let mut acc: f32 = line[1..2 * r + 2].iter().copied().sum();
        for ((out, &add), &sub) in row.iter_mut().zip(&line[2 * r + 2..]).zip(&line[1..]) {
            *out = acc * norm;
            acc += add - sub;
        }
    }
    // vertical pass row by row (one running sum per column, same order as a column loop)
    let src = v.to_vec();
    let row = |i: isize| {
        let y = i.clamp(0, h as isize - 1) as usize;
        &src[y * w..(y + 1) * w]
    };
    let mut acc = vec![0f32; w];
    for k in -(r as isize)..=r as isize {
        for (a, &x) in acc.iter_mut().zip(row(k)) {
            *a += x;
        }
    }
    for y in 0..h {
        for (o, &a) in v[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = a * norm;
        }
        let (add, sub) = (
            row(y as isize + r as isize + 1),
            row(y as isize - r as isize),
        );
        for ((a, &p), &m) in acc.iter_mut().zip(add).zip(sub) {
            *a += p - m;
        }
    }
}

/// Render procedural slot `slot` (0..5) at `height × width` pixels; `scale` is the size relative
/// to the slot's nominal size (features scale with it). Deterministic in `(slot, size)`.
pub fn render(slot: usize, height: usize, width: usize) -> Texture {
    let style = &STYLES[slot % 5];
    let (nh, nw) = SLOT_SIZES[slot % 5];
    let s = (width as f32 / nw as f32).max(height as f32 / nh as f32);
    let mut rng = Mix(0x6672_6f73_7400_0000 ^ slot as u64);
    let (w, h) = (width, height);
    let n = w * h;
    // background: frosted haze of varying density
    let mut haze = vec![0f32; n];
    value_noise(&mut rng, w, h, 160.0 * s, &mut haze, 1.0);
    value_noise(&mut rng, w, h, 48.0 * s, &mut haze, 0.5);
    value_noise(&mut rng, w, h, 12.0 * s, &mut haze, 0.2);
    // crystals, denser where the haze is denser
    let mut canvas = Canvas {
        w,
        h,
        v: vec![0f32; n],
    };
    // Growth direction field: frost ferns in one region tend to grow the same way (they
    // follow the temperature gradient on the glass); a coarse random grid of directions.
    let (fw, fh) = (5usize, 4usize);
    let flow: Vec<f32> = (0..fw * fh)
        .map(|_| rng.range(0.0, std::f32::consts::TAU))
        .collect();
    let count = (style.density * (nw * nh) as f32 / 1e4) as usize;
    for _ in 0..count {
        let (x, y) = (rng.f() * w as f32, rng.f() * h as f32);
        let d = haze[(y as usize).min(h - 1) * w + (x as usize).min(w - 1)];
        if rng.f() > 0.55 + d {
            continue;
        }
        let cell = ((y / h as f32 * fh as f32) as usize).min(fh - 1) * fw
            + ((x / w as f32 * fw as f32) as usize).min(fw - 1);
        // mostly along the local direction (either way), some at random
        let angle = if rng.f() < 0.7 {
            flow[cell]
                + rng.range(-0.5, 0.5)
                + if rng.f() < 0.5 {
                    0.0
                } else {
                    std::f32::consts::PI
                }
        } else {
            rng.range(0.0, std::f32::consts::TAU)
        };
        // log-uniform lengths: many small crystals, a few large ferns
        let len = style.length.0 * (style.length.1 / style.length.0).powf(rng.f());
        let a = 0.15 + 0.85 * rng.f() * rng.f();
        dendrite(&mut canvas, &mut rng, x, y, angle, len, a, 0, s);
    }
    let mut glow = canvas.v.clone();
    box_blur(&mut glow, w, h, (1.5 * s).round().max(1.0) as usize);
    // Brightness per pixel (a vectorisable pass; the grain is a stateless hash of the pixel
    // index), then the slot's dark→bright colour ramp through a 1024-step table.
    let mut level = haze; // reuse
    let salt = rng.next() as u32;
    for (i, ((l, &c), &g)) in level.iter_mut().zip(&canvas.v).zip(&glow).enumerate() {
        let mut z = (i as u32 ^ salt).wrapping_mul(0x9e37_79b1);
        z ^= z >> 15;
        z = z.wrapping_mul(0x85eb_ca6b);
        z ^= z >> 13;
        let grain = (z >> 8) as f32 * (1.0 / (1u32 << 24) as f32) - 0.5;
        let v = style.base
            + style.haze * *l
            + style.crystal * (soft_sat(1.2 * c) * 0.8 + soft_sat(2.0 * g) * 0.5)
            + 0.04 * grain;
        let v = if v > 0.0 { v } else { 0.0 };
        *l = if v < 1.0 { v } else { 1.0 };
    }
    let ramp: Vec<[u8; 3]> = (0..1024)
        .map(|k| {
            let l = k as f32 / 1023.0;
            std::array::from_fn(|ch| {
                (style.dark[ch] + (style.bright[ch] - style.dark[ch]) * l).clamp(0.0, 255.0) as u8
            })
        })
        .collect();
    let mut rgb = vec![0u8; n * 3];
    for (px, &l) in rgb.chunks_exact_mut(3).zip(&level) {
        px.copy_from_slice(&ramp[(l * 1023.0 + 0.5) as usize]);
    }
    Texture { width, height, rgb }
}

/// Size at which procedural slot `slot` is rendered for an image that the reference would cover
/// with the slot's photo enlarged by `f` to `ht × wt` (`f = 1.1` when the photo already covers
/// the image). For `f = 1.1` that is `ht × wt` itself (one size for all small images); larger
/// factors are rounded up to the next step of 2^(1/8) (≤ 9 % larger features than the
/// reference's rescaled photo), so that images of many different sizes share a few cached
/// textures instead of rendering one per size. Always at least `ht × wt`, so every crop offset
/// the reference can draw is valid.
pub fn procedural_size(slot: usize, f: f64, ht: usize, wt: usize) -> (usize, usize) {
    if f <= 1.1 * (1.0 + 1e-12) {
        return (ht, wt);
    }
    let q = (f.log2() * 8.0).ceil() / 8.0;
    let fq = 2f64.powf(q).max(f);
    let (nh, nw) = SLOT_SIZES[slot % 5];
    (
        ((nh as f64 * fq).ceil() as usize).max(ht),
        ((nw as f64 * fq).ceil() as usize).max(wt),
    )
}

/// Procedural texture of `slot` at `height × width`, cached: the result depends only on its
/// arguments, so the cache never changes an output. The cache keeps at most 64 MiB of textures
/// (whole cache dropped when full; textures in use stay alive through their `Arc`).
pub fn procedural(slot: usize, height: usize, width: usize) -> Arc<Texture> {
    #[cfg(test)]
    FETCHED.with_borrow_mut(|f| f.push((slot, height, width)));
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    cached(cache, (slot, height, width), || render(slot, height, width))
}

#[cfg(test)]
std::thread_local! {
    /// The keys [`procedural`] was asked for on this thread (tests of which textures a call uses).
    pub(crate) static FETCHED: std::cell::RefCell<Vec<(usize, usize, usize)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Texture cache: bytes held, and one slot per key.
type Cache = Mutex<(usize, HashMap<(usize, usize, usize), Arc<Slot>>)>;

/// A cached texture, and whether a thread has taken on rendering it.
#[derive(Default)]
struct Slot {
    claimed: AtomicBool,
    texture: OnceLock<Arc<Texture>>,
}

/// The texture of `key` from `cache`, made by `make` at most once per key while it is cached:
/// the lock guards only the map, and a thread that misses a key another thread is rendering
/// does not render it a second time (generation threads reach the same severity of the same
/// slot at about the same moment). While it waits it runs other queued work of its rayon pool
/// ([`help_while`]): a render takes 7–21 ms, and a generation worker blocked that long left
/// its core idle (issue 18: most of what 2 threads lost against 2× one thread).
fn cached(
    cache: &Cache,
    key: (usize, usize, usize),
    make: impl FnOnce() -> Texture,
) -> Arc<Texture> {
    const LIMIT: usize = 64 << 20;
    let slot = {
        let mut guard = cache.lock().expect("frost cache poisoned");
        let (bytes, map) = &mut *guard;
        match map.get(&key) {
            Some(slot) => slot.clone(),
            None => {
                let size = key.1 * key.2 * 3;
                if *bytes + size > LIMIT {
                    map.clear();
                    *bytes = 0;
                }
                *bytes += size;
                map.entry(key).or_default().clone()
            }
        }
    };
    if slot.texture.get().is_none() && slot.claimed.swap(true, Ordering::AcqRel) {
        help_while(|| slot.texture.get().is_none());
    }
    // renders when this thread claimed the key; otherwise returns the other thread's texture,
    // blocking until it is ready (or renders it, if that thread panicked)
    slot.texture.get_or_init(|| Arc::new(make())).clone()
}

std::thread_local! {
    /// Whether this thread may run other pool work while it waits for a texture ([`help_while`]).
    static HELPING: Cell<bool> = const { Cell::new(true) };
}

/// Allow or forbid (`on`) this thread to run other work of its rayon pool while it waits for
/// a texture another thread renders; returns the previous setting. A dataset worker that holds
/// a very large source forbids it, so that it cannot start a second large source meanwhile
/// (its memory bound, `dataset::execute::LargeSourceGuard`).
pub fn set_helping(on: bool) -> bool {
    HELPING.with(|h| h.replace(on))
}

/// While `pending()`, run queued jobs of the rayon pool this thread works for
/// (`rayon::yield_now`); return when nothing is left to run (the caller then blocks) or when not
/// on a pool thread. Not nested: a job run here that waits for a texture in turn blocks, so the
/// stack grows by one job at most. Outputs do not depend on it (only when work runs).
fn help_while(pending: impl Fn() -> bool) {
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            HELPING.with(|h| h.set(true));
        }
    }
    if !HELPING.with(|h| h.replace(false)) {
        return;
    }
    let _restore = Restore;
    while pending() && matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_deterministic_and_sized() {
        let a = render(4, 40, 64);
        assert_eq!((a.width, a.height, a.rgb.len()), (64, 40, 40 * 64 * 3));
        assert_eq!(a, render(4, 40, 64));
        assert_ne!(render(1, 40, 64), render(2, 40, 64));
        assert!(Arc::ptr_eq(&procedural(3, 20, 30), &procedural(3, 20, 30)));
    }

    #[test]
    fn concurrent_misses_render_once() {
        let cache = Cache::default();
        let renders = std::sync::atomic::AtomicUsize::new(0);
        let start = std::sync::Barrier::new(4);
        let got: Vec<Arc<Texture>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        cached(&cache, (2, 8, 9), || {
                            renders.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            render(2, 8, 9)
                        })
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert_eq!(renders.into_inner(), 1);
        assert!(got.iter().all(|t| Arc::ptr_eq(t, &got[0])));
        assert_eq!(*got[0], render(2, 8, 9));
    }

    /// A pool worker that needs a texture another worker is rendering runs its other queued
    /// work meanwhile, instead of leaving its core idle; the texture is still rendered once.
    #[test]
    fn a_waiting_worker_runs_other_work() {
        use std::sync::atomic::AtomicUsize;
        let cache = Cache::default();
        let (claimed, rendered, renders) = (
            AtomicBool::new(false),
            AtomicBool::new(false),
            AtomicUsize::new(0),
        );
        let slow = || {
            renders.fetch_add(1, Ordering::SeqCst);
            claimed.store(true, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(300));
            rendered.store(true, Ordering::SeqCst);
            render(1, 8, 9)
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (a, (early, b)) = pool.install(|| {
            rayon::join(
                || cached(&cache, (1, 8, 9), slow),
                || {
                    while !claimed.load(Ordering::SeqCst) {
                        std::hint::spin_loop();
                    }
                    // the second closure is queued on this worker while the first waits
                    let (t, early) = rayon::join(
                        || cached(&cache, (1, 8, 9), slow),
                        || !rendered.load(Ordering::SeqCst),
                    );
                    (early, t)
                },
            )
        });
        assert!(
            early,
            "the waiting worker blocked instead of running queued work"
        );
        assert_eq!(renders.into_inner(), 1);
        assert!(Arc::ptr_eq(&a, &b));
        // outside a pool (e.g. Python's calling thread) a miss waits as before
        assert!(Arc::ptr_eq(
            &cached(&cache, (1, 8, 9), || unreachable!()),
            &a
        ));
    }

    #[test]
    fn procedural_sizes_cover_the_reference_size_and_are_shared() {
        // small images: the reference's size exactly
        assert_eq!(procedural_size(0, 1.1, 660, 990), (660, 990));
        // larger images: rounded up, never below the reference's size
        let mut sizes = std::collections::BTreeSet::new();
        for h in 400..700usize {
            let f = (h as f64 / 315.0) * 1.1;
            let (ht, wt) = ((315.0 * f).ceil() as usize, (560.0 * f).ceil() as usize);
            let (qh, qw) = procedural_size(1, f, ht, wt);
            assert!(qh >= ht && qw >= wt);
            assert!((qh as f64) < ht as f64 * 1.1 + 2.0);
            sizes.insert((qh, qw));
        }
        // 300 heights spanning a factor 1.75 share 8 sizes (steps of 2^(1/8))
        assert!(sizes.len() <= 8, "{sizes:?}");
    }

    /// value_noise's per-pixel bilinear form, as it was written before the per-grid-row cache.
    fn value_noise_direct(rng: &mut Mix, w: usize, h: usize, cell: f32, out: &mut [f32], amp: f32) {
        let gw = (w as f32 / cell).ceil() as usize + 2;
        let gh = (h as f32 / cell).ceil() as usize + 2;
        let grid: Vec<f32> = (0..gw * gh).map(|_| rng.f()).collect();
        let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
        for y in 0..h {
            let gy = y as f32 / cell;
            let yi = gy as usize;
            let fy = smooth(gy - yi as f32);
            for x in 0..w {
                let gx = x as f32 / cell;
                let xi = gx as usize;
                let fx = smooth(gx - xi as f32);
                let g = |r: usize, c: usize| grid[r * gw + c];
                let top = g(yi, xi) + (g(yi, xi + 1) - g(yi, xi)) * fx;
                let bot = g(yi + 1, xi) + (g(yi + 1, xi + 1) - g(yi + 1, xi)) * fx;
                out[y * w + x] += amp * (top + (bot - top) * fy - 0.5);
            }
        }
    }

    #[test]
    fn value_noise_matches_the_direct_form() {
        for (w, h, cell) in [
            (990, 70, 176.0),
            (61, 47, 13.2),
            (7, 300, 52.8),
            (1, 1, 12.0),
        ] {
            let start: Vec<f32> = (0..w * h).map(|i| (i % 17) as f32 * 0.01).collect();
            let (mut a, mut b) = (start.clone(), start);
            value_noise(&mut Mix(5), w, h, cell, &mut a, 0.5);
            value_noise_direct(&mut Mix(5), w, h, cell, &mut b, 0.5);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "{w}x{h} cell {cell}");
        }
    }

    #[test]
    fn box_blur_matches_clamped_running_sums() {
        // the direct form: clamped reads of the row / column, the same running-sum order
        let direct = |v: &mut [f32], w: usize, h: usize, r: usize| {
            let norm = 1.0 / (2 * r + 1) as f32;
            for y in 0..h {
                let line = v[y * w..(y + 1) * w].to_vec();
                let at = |i: isize| line[i.clamp(0, w as isize - 1) as usize];
                let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
                for x in 0..w {
                    v[y * w + x] = acc * norm;
                    acc += at(x as isize + r as isize + 1) - at(x as isize - r as isize);
                }
            }
            let src = v.to_vec();
            let at = |y: isize, x: usize| src[y.clamp(0, h as isize - 1) as usize * w + x];
            for x in 0..w {
                let mut acc = 0f32;
                for k in -(r as isize)..=r as isize {
                    acc += at(k, x);
                }
                for y in 0..h {
                    v[y * w + x] = acc * norm;
                    acc += at(y as isize + r as isize + 1, x) - at(y as isize - r as isize, x);
                }
            }
        };
        let mut rng = Mix(9);
        for (w, h, r) in [(40, 30, 2), (3, 5, 4), (1, 9, 1), (17, 1, 3)] {
            let start: Vec<f32> = (0..w * h).map(|_| rng.f()).collect();
            let (mut a, mut b) = (start.clone(), start);
            box_blur(&mut a, w, h, r);
            direct(&mut b, w, h, r);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "{w}x{h} r {r}");
        }
    }

    #[test]
    fn missing_file_is_named() {
        let e = FrostTextures::load("/nonexistent/frost")
            .unwrap_err()
            .to_string();
        assert!(e.contains("frost1.png"), "{e}");
    }
}
