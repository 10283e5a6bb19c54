//! `imgcorrupt list`: the catalogue, one line per corruption, then the operators outside the
//! -C benchmarks in their own group.

use crate::{Subset, CATALOGUE};

/// Arguments of `list`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Print `name subset family` per corruption in catalogue order, then, after a blank line and a `#` heading, the shift operators (`stylize`).
pub fn run(_args: Args) -> anyhow::Result<()> {
    let line = |e: &crate::catalogue::Entry| {
        let line = format!(
            "{:<18} {:<10} {:<11}",
            e.name,
            e.subset.name(),
            e.family.name()
        );
        println!("{}", line.trim_end());
    };
    CATALOGUE
        .iter()
        .filter(|e| e.subset != Subset::Shift)
        .for_each(line);
    println!();
    println!("# distribution shifts (not part of common/validation/all; need extra inputs)");
    CATALOGUE
        .iter()
        .filter(|e| e.subset == Subset::Shift)
        .for_each(line);
    Ok(())
}
