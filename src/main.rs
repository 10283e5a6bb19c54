//! `imgcorrupt` command-line tool. The command line lives in the library (`imgcorrupt::cli`,
//! feature `cli`, each subcommand in its own module under `src/cli/`) so that the Python
//! wheel's `imgcorrupt` command runs the very same code.

fn main() {
    // Rust ignores SIGPIPE, so a closed stdout (`imgcorrupt status OUT | head -1`) turns every
    // later `println!` into a panic ("failed printing to stdout: Broken pipe"). Unix tools die
    // quietly of SIGPIPE instead; restore that default before any output. (The Python wheel's
    // `imgcorrupt` command does the same in `imgcorrupt/_cli.py`.)
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // glibc hands freed blocks of 128 KiB and up straight back to the kernel (mmap threshold)
    // and trims the heap top past 128 KiB, so every 150 KB frame or output buffer of a run
    // page-faults its memory in again: ~30 % of an ImageNet-P set's wall time and thousands of
    // faults per `generate` worker (BENCHMARKS.md, stop 27). A batch tool reuses the same sizes
    // over and over, so keep freed memory in the heap: serve blocks up to 32 MiB (glibc's
    // largest allowed threshold) from it and trim only past 256 MiB of free top. Larger
    // images still get their own mappings. The binary only: the Python module leaves its
    // host interpreter's allocator alone.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called once at start-up before any allocation-heavy work or thread; mallopt only
    // changes glibc's thresholds and reports failure by returning 0, which is harmless.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
    std::process::exit(imgcorrupt::cli::main());
}
