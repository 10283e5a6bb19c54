//! `imgcorrupt list`: the catalogue, one line per corruption.

use imgcorrupt::CATALOGUE;

/// Arguments of `list`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Print `name subset family` per corruption in catalogue order (unimplemented ones marked).
pub fn run(_args: Args) -> anyhow::Result<()> {
    for e in CATALOGUE.iter() {
        let status = if e.corruption.is_implemented() {
            ""
        } else {
            "(not implemented yet)"
        };
        let line = format!(
            "{:<18} {:<10} {:<8} {status}",
            e.name,
            e.subset.name(),
            e.family.name()
        );
        println!("{}", line.trim_end());
    }
    Ok(())
}
