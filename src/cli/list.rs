//! `imgcorrupt list`: the catalogue, one line per corruption, then the operators outside the
//! -C benchmarks in their own group; with `--preset NAME`, which tables that preset defines.

use crate::{Preset, Subset, CATALOGUE};

/// Arguments of `list`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Show which corruptions this preset (built-in name or TOML file) defines itself and
    /// which it takes from the preset it extends, with the keys it sets.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
}

/// Print `name subset family` per corruption in catalogue order, then, after a blank line and a `#` heading, the shift operators (`stylize`).
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(name) = &args.preset {
        return preset(name);
    }
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
        .filter(|e| matches!(e.subset, Subset::Common | Subset::Validation))
        .for_each(line);
    println!();
    println!("# distribution shifts (not part of common/validation/all; need extra inputs)");
    CATALOGUE
        .iter()
        .filter(|e| e.subset == Subset::Shift)
        .for_each(line);
    // ---- issue 16, C-bar ----
    println!();
    println!("# ImageNet-C-bar / CIFAR-10-C-bar (-c c-bar, -c cifar-c-bar; presets c-bar, cifar-10-c-bar)");
    for e in CATALOGUE.iter().filter(|e| e.subset == Subset::CBar) {
        let suites: Vec<&str> = [
            ("c-bar", &crate::corruptions::c_bar::IMAGENET_C_BAR[..]),
            (
                "cifar-c-bar",
                &crate::corruptions::c_bar::CIFAR_10_C_BAR[..],
            ),
        ]
        .iter()
        .filter(|(_, names)| names.contains(&e.name))
        .map(|(w, _)| *w)
        .collect();
        println!("{:<32} {}", e.name, suites.join(","));
    }
    Ok(())
}

/// `list --preset NAME`: a heading, then per catalogue row `name  defined: keys` or
/// `name  from <base>`.
fn preset(name: &str) -> anyhow::Result<()> {
    let loaded = Preset::load(name)?; // validates every table
    let text = Preset::source_text(name)?;
    let own: toml::Table = text.parse()?;
    let info = loaded.info();
    println!("# preset {}: {}", info.name, info.description);
    if let Some(base) = &info.extends {
        println!("# extends {base}: tables and keys not listed come from it");
    }
    for e in CATALOGUE.iter() {
        let status = match own.get(e.name).and_then(|t| t.as_table()) {
            Some(t) => format!(
                "defined: {}",
                t.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            ),
            None => match &info.extends {
                Some(base) => format!("from {base}"),
                None => "built-in default".into(),
            },
        };
        println!("{:<18} {status}", e.name);
    }
    Ok(())
}
