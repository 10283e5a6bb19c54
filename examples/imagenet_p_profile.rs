//! One ImageNet-P sequence set of one image: the workload for instruction counts
//! (BENCHMARKS.md "ImageNet-P"). The set runs twice; the second run (steady state: the noise
//! tables are cached after the first image) is the function `measured`:
//!
//!     valgrind --tool=callgrind --toggle-collect='*measured*' \
//!         target/release/examples/imagenet_p_profile IMAGE [NAME…]
//!
//! Names: perturbation folders (`rotate`, `gaussian_noise_2`); none = the whole set (every
//! perturbation, noise difficulties 1–3).

use imgcorrupt::corruptions::imagenet_p::Perturbation;
use imgcorrupt::dataset::sequences::{frames_of, load_source};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: imagenet_p_profile IMAGE [NAME…]");
    let names: Vec<String> = args.collect();
    let img = load_source(std::path::Path::new(&path), 1 << 28).expect("readable image");
    run(&img, &names);
    measured(&img, &names);
}

#[inline(never)]
fn measured(img: &imgcorrupt::corruptions::imagenet_p::Rgb, names: &[String]) {
    run(img, names)
}

fn run(img: &imgcorrupt::corruptions::imagenet_p::Rgb, names: &[String]) {
    for p in Perturbation::ALL {
        let ds: &[u8] = if p.is_noise() { &[1, 2, 3] } else { &[1] };
        for &d in ds {
            if names.is_empty() || names.iter().any(|n| *n == p.folder(d)) {
                let f = frames_of(img, "profile", p, d, 0);
                std::hint::black_box(f);
            }
        }
    }
}
