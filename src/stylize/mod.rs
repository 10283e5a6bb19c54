//! Style transfer (issue 7, spec §9.2): the `stylize` operator and its backends.
#[cfg(feature = "adain")]
pub mod adain;
