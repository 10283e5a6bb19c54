//! `imgcorrupt` command-line tool. The command line lives in the library (`imgcorrupt::cli`,
//! feature `cli`, each subcommand in its own module under `src/cli/`) so that the Python
//! wheel's `imgcorrupt` command runs the very same code.

fn main() {
    std::process::exit(imgcorrupt::cli::main());
}
