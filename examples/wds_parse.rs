//! Tar parsing throughput of the webdataset reader (no decoding): streams every shard given
//! and groups members into samples, as `generate` does, and prints MB/s.
//!
//! `cargo run --release --example wds_parse -- shard1.tar [shard2.tar …]`
//! (used by scripts/bench_webdataset.sh; BENCHMARKS.md "Webdataset").

use std::time::Instant;

use imgcorrupt::dataset::webdataset::discover::{self, Entry, Shard};

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: wds_parse SHARD.tar…");
        std::process::exit(2);
    }
    let (mut bytes, mut samples, mut members) = (0u64, 0usize, 0usize);
    let t = Instant::now();
    for p in &paths {
        let shard = Shard {
            name: p.clone(),
            path: p.into(),
        };
        let mut s = discover::open(&shard).expect("open");
        while let Some(e) = s.next().expect("a well-formed shard") {
            match e {
                Entry::Sample { members: m, .. } => {
                    samples += 1;
                    members += m.len();
                }
                Entry::Other(_) => members += 1,
                Entry::Bad { .. } => {}
            }
        }
        bytes += s.offset();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} shard(s), {:.1} MB, {samples} samples, {members} members in {secs:.3} s: {:.0} MB/s",
        paths.len(),
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
}
