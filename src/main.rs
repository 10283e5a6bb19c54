//! `imgcorrupt` command-line tool. Each subcommand lives in its own module under `src/cli/`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
