//! H.264 through OpenH264 (Cisco, BSD-2-Clause), compiled from the C++ sources vendored in the
//! `openh264-sys2` crate with `cc` (no nasm: without it the crate builds the plain C++ paths;
//! no system library). Feature `mp4`.
//!
//! Frames are converted RGB → YUV 4:2:0 (BT.601, the `openh264` crate's converter) and encoded
//! single-threaded (deterministic bytes) at a fixed quantiser, one IDR frame then P frames. make_imagenet_p.py used x264 `-crf 20 -preset veryslow`; OpenH264 is a
//! baseline-profile encoder, so the files are larger for the same quality and the bytes are
//! of course not the release's.

use openh264::decoder::Decoder;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, QpRange,
    RateControlMode, UsageType,
};
use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};
use openh264::OpenH264API;

use super::{annex_b_units, Sample, Track};

/// Default quantiser: near-transparent at 224² (PSNR ≈ 40 dB on photos).
pub const DEFAULT_QP: u8 = 20;

/// Encode `frames` (RGB8, `width × height`, both even) as an MP4 file at `fps` frames per
/// second with quantiser `qp` (0–51, lower is better).
pub fn encode_mp4(
    frames: &[Vec<u8>],
    width: usize,
    height: usize,
    fps: u32,
    qp: u8,
) -> Result<Vec<u8>, String> {
    if !width.is_multiple_of(2) || !height.is_multiple_of(2) || width == 0 || height == 0 {
        return Err(format!(
            "H.264 4:2:0 needs even sizes, got {width}×{height}"
        ));
    }
    let qp = qp.min(51);
    // A fixed quantiser: OpenH264's quality mode clamped to [qp, qp] (its RC-off mode ignores
    // the range). Frame skipping is allowed only because the bitrate is far above anything a
    // 224² frame needs (OpenH264 warns on stderr when skipping is off); a frame without a
    // picture is still an error below.
    let config = EncoderConfig::new()
        .usage_type(UsageType::CameraVideoRealTime)
        .rate_control_mode(RateControlMode::Quality)
        .qp(QpRange::new(qp, qp))
        .bitrate(BitRate::from_bps(200_000_000))
        .max_frame_rate(FrameRate::from_hz(fps.max(1) as f32))
        .skip_frames(true)
        .num_threads(1)
        .complexity(Complexity::High)
        .scene_change_detect(false)
        .intra_frame_period(IntraFramePeriod::from_num_frames(0));
    let mut enc = Encoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| format!("OpenH264 encoder: {e}"))?;
    let (mut sps, mut pps) = (None, None);
    let mut samples = Vec::with_capacity(frames.len());
    let mut yuv = YUVBuffer::new(width, height);
    for (i, f) in frames.iter().enumerate() {
        if f.len() != width * height * 3 {
            return Err(format!(
                "frame {i}: {} bytes for {width}×{height} RGB",
                f.len()
            ));
        }
        yuv.read_rgb8(RgbSliceU8::new(f, (width, height)));
        let bs = enc
            .encode(&yuv)
            .map_err(|e| format!("frame {i}: OpenH264: {e}"))?;
        let sync = matches!(bs.frame_type(), FrameType::IDR);
        let mut data = Vec::new();
        for unit in annex_b_units(&bs.to_vec()) {
            match unit[0] & 0x1f {
                7 => sps = Some(unit.to_vec()),
                8 => pps = Some(unit.to_vec()),
                _ => {
                    data.extend_from_slice(&(unit.len() as u32).to_be_bytes());
                    data.extend_from_slice(unit);
                }
            }
        }
        if data.is_empty() {
            return Err(format!("frame {i}: the encoder produced no picture"));
        }
        samples.push(Sample { data, sync });
    }
    let (Some(sps), Some(pps)) = (sps, pps) else {
        return Err("the encoder wrote no SPS/PPS".into());
    };
    let track = Track {
        width: width as u16,
        height: height as u16,
        timescale: fps.max(1),
        frame_ticks: 1,
        sps,
        pps,
    };
    Ok(super::mux(&track, &samples))
}

/// Decode an MP4 written by [`encode_mp4`] back to RGB8 frames.
pub fn decode_mp4(file: &[u8]) -> Result<(usize, usize, Vec<Vec<u8>>), String> {
    let (track, samples) = super::demux(file)?;
    let (w, h) = (usize::from(track.width), usize::from(track.height));
    let mut dec = Decoder::new().map_err(|e| format!("OpenH264 decoder: {e}"))?;
    let start = |u: &[u8]| [&[0u8, 0, 0, 1][..], u].concat();
    let mut frames = Vec::with_capacity(samples.len());
    let mut head = [start(&track.sps), start(&track.pps)].concat();
    for (i, s) in samples.iter().enumerate() {
        let mut packet = std::mem::take(&mut head);
        let mut b = &s.data[..];
        while b.len() >= 4 {
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
            let unit = b
                .get(4..4 + n)
                .ok_or(format!("sample {i}: bad NAL length"))?;
            packet.extend_from_slice(&start(unit));
            b = &b[4 + n..];
        }
        let yuv = dec
            .decode(&packet)
            .map_err(|e| format!("sample {i}: {e}"))?
            .ok_or(format!("sample {i}: no picture"))?;
        let (dw, dh) = yuv.dimensions();
        if (dw, dh) != (w, h) {
            return Err(format!("sample {i}: {dw}×{dh}, the track says {w}×{h}"));
        }
        let mut rgb = vec![0u8; w * h * 3];
        yuv.write_rgb8(&mut rgb);
        frames.push(rgb);
    }
    Ok((w, h, frames))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn psnr(a: &[u8], b: &[u8]) -> f64 {
        let mse = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum::<f64>()
            / a.len() as f64;
        10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
    }

    /// A smooth moving pattern (what a perturbation sequence looks like to the encoder).
    fn frames(n: usize, w: usize, h: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|t| {
                let mut f = vec![0u8; w * h * 3];
                for y in 0..h {
                    for x in 0..w {
                        let v = (x + 2 * t) as f64 * 0.07;
                        let u = (y + t) as f64 * 0.05;
                        let p = &mut f[(y * w + x) * 3..(y * w + x) * 3 + 3];
                        p[0] = (128.0 + 100.0 * v.sin()) as u8;
                        p[1] = (128.0 + 100.0 * u.cos()) as u8;
                        p[2] = (128.0 + 60.0 * (v + u).sin()) as u8;
                    }
                }
                f
            })
            .collect()
    }

    #[test]
    fn encode_decode_round_trip_keeps_frames_sizes_and_quality() {
        let (w, h) = (64, 48);
        let src = frames(7, w, h);
        let file = encode_mp4(&src, w, h, 1, DEFAULT_QP).unwrap();
        let (dw, dh, out) = decode_mp4(&file).unwrap();
        assert_eq!((dw, dh, out.len()), (w, h, 7));
        for (i, (a, b)) in src.iter().zip(&out).enumerate() {
            let p = psnr(a, b);
            assert!(p > 33.0, "frame {i}: PSNR {p:.1} dB");
        }
        // frame 0 is the only IDR; the sequence is deterministic
        let (_, samples) = super::super::demux(&file).unwrap();
        assert!(samples[0].sync && samples[1..].iter().all(|s| !s.sync));
        assert_eq!(file, encode_mp4(&src, w, h, 1, DEFAULT_QP).unwrap());
        // a coarser quantiser gives a smaller file and a worse picture
        let coarse = encode_mp4(&src, w, h, 1, 40).unwrap();
        assert!(coarse.len() < file.len());
        let (_, _, back) = decode_mp4(&coarse).unwrap();
        assert!(psnr(&src[3], &back[3]) < psnr(&src[3], &out[3]));
    }

    #[test]
    fn odd_sizes_and_short_frames_are_refused() {
        assert!(encode_mp4(&frames(1, 5, 4), 5, 4, 1, 20).is_err());
        assert!(encode_mp4(&[vec![0; 10]], 4, 4, 1, 20).is_err());
    }
}
