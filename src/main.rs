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
    std::process::exit(imgcorrupt::cli::main());
}
