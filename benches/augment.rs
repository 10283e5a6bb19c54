//! Criterion benchmarks of the training augmentations (single thread): Gaussian noise training
//! (σ = 0.5, every sample noised) on one 224×224×3 image, 8-bit HWC and f32 CHW, plus the
//! multi-σ and speckle presets. Run with
//! `cargo bench --bench augment -- --warm-up-time 1 --measurement-time 2`.
//! Throughput is reported in images per second ("elem/s").
//!
//! Two groups run the same code: `augment_224x224x3` measures wall-clock time (criterion's
//! default), `augment_224x224x3_cpu` the CPU time of the benchmark thread
//! (`CLOCK_THREAD_CPUTIME_ID`), which is what "images/s per core" means and is much less
//! disturbed when other processes compete for the cores.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imgcorrupt::augment::{
    hwc_u8_to_chw_f32, Augment, GaussianNoiseTraining, Record, SampleKey, Shape,
    SpeckleNoiseTraining,
};
use std::time::Duration;

fn photo() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/photos/chelsea_224x224.png"
    );
    image::open(path)
        .expect("fixture photo")
        .to_rgb8()
        .into_raw()
}

/// Thread CPU time, from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` (Linux; std links libc).
struct ThreadCpuTime;

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

fn thread_cpu_now() -> Duration {
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is valid on Linux.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu_now() - start
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

fn bench<M: Measurement + 'static>(c: &mut Criterion<M>, group_name: &str) {
    let shape = Shape::new(224, 224, 3);
    let src = photo();
    let mut src_f32 = vec![0f32; shape.len()];
    hwc_u8_to_chw_f32(&src, &mut src_f32, shape).unwrap();
    let policies: Vec<(&str, Box<dyn Augment>)> = vec![
        (
            "gnt_single_0.5",
            Box::new(
                GaussianNoiseTraining::single(0.5)
                    .with_p_clean(0.0)
                    .allow_benchmark_corruptions(),
            ),
        ),
        (
            "gnt_multi",
            Box::new(
                GaussianNoiseTraining::multi()
                    .with_p_clean(0.0)
                    .allow_benchmark_corruptions(),
            ),
        ),
        (
            "speckle",
            Box::new(SpeckleNoiseTraining::new().with_p_clean(0.0)),
        ),
    ];
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(1));
    let mut record = Record::default();
    for (name, policy) in &policies {
        let mut img = src.clone();
        let mut index = 0u64;
        group.bench_function(format!("{name}/u8_hwc"), |b| {
            b.iter(|| {
                // The noise is applied in place on top of the previous iteration's output:
                // the cost does not depend on the pixel values.
                index += 1;
                policy
                    .apply_u8_into(&mut img, shape, SampleKey::new(0, 0, index), &mut record)
                    .unwrap();
            })
        });
        let mut img = src_f32.clone();
        let mut index = 0u64;
        group.bench_function(format!("{name}/f32_chw"), |b| {
            b.iter(|| {
                index += 1;
                policy
                    .apply_f32_into(&mut img, shape, SampleKey::new(0, 0, index), &mut record)
                    .unwrap();
            })
        });
    }
    group.finish();
}

fn wall(c: &mut Criterion) {
    bench(c, "augment_224x224x3");
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    bench(c, "augment_224x224x3_cpu");
}

criterion_group! {
    name = wall_clock;
    config = Criterion::default().sample_size(20);
    targets = wall
}
criterion_group! {
    name = thread_cpu;
    config = Criterion::default().sample_size(20).with_measurement(ThreadCpuTime);
    targets = cpu
}
criterion_main!(wall_clock, thread_cpu);
