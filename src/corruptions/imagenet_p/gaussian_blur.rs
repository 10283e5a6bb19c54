//! ImageNet-P `gaussian_blur` (validation): the crop blurred by scikit-image `gaussian` with
//! σ = `0.25 + 0.035·i` (truncate 6, nearest at the border: scikit-image's default,
//! through the SciPy-exact kernel of ImageNet-C's gaussian_blur, `kernels::gaussian`), stored as
//! `np.uint8(255·blur)` (truncated).

use super::{Rgb, SIDE};
use crate::kernels::gaussian::{gaussian_filter, Mode};

/// The 31 frames.
pub fn frames(img: &Rgb) -> Vec<Vec<u8>> {
    let x: Vec<f64> = img
        .center_crop()
        .iter()
        .map(|&v| f64::from(v) / 255.0)
        .collect();
    (0..31)
        .map(|i| {
            let mut y = x.clone();
            let s = 0.25 + 0.035 * i as f64;
            gaussian_filter(&mut y, SIDE, SIDE, 3, s, s, 6.0, Mode::Nearest);
            y.iter().map(|&v| (255.0 * v) as u8).collect()
        })
        .collect()
}
