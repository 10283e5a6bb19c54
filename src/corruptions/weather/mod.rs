//! Weather family: snow, frost, fog, brightness, spatter (ALGORITHMS.md §4.8–4.11, §4.18).
//! brightness is a weather corruption in ImageNet-C's grouping, so it lives here although it is a
//! plain colour transform.

pub mod brightness;
pub mod fog;
pub mod frost;
pub mod snow;
pub mod spatter;
