//! ImageNet-P `tilt`: the source seen under a perspective with both tilt angles `i − 15`
//! degrees (`P2 · T · Rx(θ) · Ry(φ) · P1`, focal length the diagonal; OpenCV warpPerspective,
//! bilinear), then cropped. Frame 15 is the clean crop.

use super::warp::Source;
use super::{stream, Rgb, Sink};
use crate::error::Result;

fn matmul<const N: usize, const M: usize, const K: usize>(
    a: [[f64; M]; N],
    b: [[f64; K]; M],
) -> [[f64; K]; N] {
    let mut out = [[0.0; K]; N];
    for i in 0..N {
        for j in 0..K {
            out[i][j] = (0..M).map(|m| a[i][m] * b[m][j]).sum();
        }
    }
    out
}

/// The reference's 3×3 forward matrix for tilt angle `deg` on a `w × h` image.
pub fn matrix(w: f64, h: f64, deg: f64) -> [[f64; 3]; 3] {
    let (phi, theta) = (deg.to_radians(), deg.to_radians());
    let f = (w * w + h * h).sqrt();
    let p1 = [
        [1.0, 0.0, -w / 2.0],
        [0.0, 1.0, -h / 2.0],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 1.0],
    ];
    let rx = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, theta.cos(), -theta.sin(), 0.0],
        [0.0, theta.sin(), theta.cos(), 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let ry = [
        [phi.cos(), 0.0, -phi.sin(), 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [phi.sin(), 0.0, phi.cos(), 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let t = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, f],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let p2 = [
        [f, 0.0, w / 2.0, 0.0],
        [0.0, f, h / 2.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ];
    matmul(matmul(matmul(matmul(p2, t), rx), ry), p1)
}

/// The 31 frames, into `sink`.
pub fn frames(img: &Rgb, sink: &mut Sink) -> Result<()> {
    let src = Source::opencv(img);
    let (w, h) = (img.width as f64, img.height as f64);
    stream(
        31,
        |i, f| src.perspective_crop_into(matrix(w, h, i as f64 - 15.0), f),
        sink,
    )
}
