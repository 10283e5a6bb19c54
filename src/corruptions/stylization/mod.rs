//! Stylization shift (ALGORITHMS.md §9.2): not a -C corruption; only selected by name or family.

pub mod stylize;
