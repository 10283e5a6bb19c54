//! Layout sensitivity of the JPEG round trip (`jpeg_compression`): times
//! `codecs::jpeg::roundtrip_rgb_with` on one photo, called from several stack depths and with the
//! source, destination and scratch at several heap offsets, so that 4 KiB aliasing between the
//! kernels' stack traffic and the planes shows up as a spread between configurations.
//!
//! ```text
//! IMGCORRUPT_SIMD=avx2 taskset -c 1 cargo run --release --example jpeg_layout -- [PHOTO] [ROUNDS]
//! ```
//!
//! Prints, per configuration, the median thread-CPU µs per image over all rounds (mean over the qualities
//! of severities 1–5, 25/18/15/10/7), then min, max and spread. Configurations are interleaved
//! round by round so that machine noise spreads over all of them.

use std::hint::black_box;

use imgcorrupt::codecs::jpeg::{roundtrip_rgb_with, JpegScratch};

const QUALITIES: [u8; 5] = [25, 18, 15, 10, 7];

/// CPU time of this thread in seconds: the machine is shared, and wall time would count the
/// slices other processes get on the same core.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Runs `f` from a stack frame `N` bytes deeper than the caller's.
#[inline(never)]
fn deeper<const N: usize>(f: &mut dyn FnMut()) {
    let mut pad = [0u8; N];
    black_box(&mut pad);
    f();
    black_box(&pad);
}

fn at_depth(depth: usize, f: &mut dyn FnMut()) {
    match depth {
        0 => f(),
        256 => deeper::<256>(f),
        512 => deeper::<512>(f),
        1024 => deeper::<1024>(f),
        1536 => deeper::<1536>(f),
        2048 => deeper::<2048>(f),
        3072 => deeper::<3072>(f),
        _ => unreachable!(),
    }
}

struct Config {
    name: String,
    depth: usize,
    src_off: usize,
    dst_off: usize,
    /// Bytes allocated (and kept) before the scratch, to move it on the heap.
    scratch_shift: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let photo = args
        .get(1)
        .map_or("fixtures/photos/chelsea_224x224.png", String::as_str);
    let rounds: usize = args.get(2).map_or(7, |s| s.parse().unwrap());
    let img = image::open(photo).unwrap().to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let rgb = img.into_raw();
    let n = rgb.len();

    let mut configs = Vec::new();
    for depth in [0, 256, 512, 1024, 1536, 2048, 3072] {
        configs.push(Config {
            name: format!("stack +{depth}"),
            depth,
            src_off: 0,
            dst_off: 0,
            scratch_shift: 0,
        });
    }
    for (s, d) in [
        (64, 0),
        (0, 64),
        (1024, 2048),
        (2048, 0),
        (0, 2048),
        (3072, 1024),
    ] {
        configs.push(Config {
            name: format!("src +{s} dst +{d}"),
            depth: 0,
            src_off: s,
            dst_off: d,
            scratch_shift: 0,
        });
    }
    for k in [1024, 2048, 3072] {
        configs.push(Config {
            name: format!("scratch shift {k}"),
            depth: 0,
            src_off: 0,
            dst_off: 0,
            scratch_shift: k,
        });
    }

    // Per configuration: page-aligned buffers (so the offsets are offsets mod 4096) and its own
    // scratch, warmed up.
    struct State {
        src: Vec<u8>,
        dst: Vec<u8>,
        _shift: Vec<u8>,
        scratch: JpegScratch,
    }
    let aligned = |len: usize| vec![0u8; len + 8192];
    let page = |v: &Vec<u8>| (4096 - v.as_ptr() as usize % 4096) % 4096;
    let mut states: Vec<State> = configs
        .iter()
        .map(|c| {
            let mut src = aligned(n);
            let o = page(&src) + c.src_off;
            src[o..o + n].copy_from_slice(&rgb);
            let shift = vec![1u8; c.scratch_shift + 1];
            State {
                src,
                dst: aligned(n),
                _shift: shift,
                scratch: JpegScratch::new(),
            }
        })
        .collect();

    let reps = 200;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    for _ in 0..rounds {
        for (i, c) in configs.iter().enumerate() {
            let st = &mut states[i];
            let so = page(&st.src) + c.src_off;
            let dof = page(&st.dst) + c.dst_off;
            let (src, dst, scratch) = (&st.src[so..so + n], &mut st.dst, &mut st.scratch);
            let dst = &mut dst[dof..dof + n];
            let mut total = 0.0;
            for &q in &QUALITIES {
                let mut run = || roundtrip_rgb_with(scratch, src, w, h, q, dst);
                at_depth(c.depth, &mut run); // warm-up
                let t = thread_cpu();
                for _ in 0..reps {
                    at_depth(c.depth, &mut run);
                }
                total += (thread_cpu() - t) * 1e6 / reps as f64;
            }
            times[i].push(total / QUALITIES.len() as f64);
        }
    }
    let mut medians = Vec::new();
    for (c, t) in configs.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let m = t[t.len() / 2];
        medians.push(m);
        println!("{:<22} {:7.2} µs  (min {:.2})", c.name, m, t[0]);
    }
    let lo = medians.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = medians.iter().copied().fold(0.0, f64::max);
    println!(
        "medians: min {lo:.2} µs, max {hi:.2} µs, spread {:.1} %",
        (hi / lo - 1.0) * 100.0
    );
}
