//! MP4 (ISO BMFF, ISO/IEC 14496-12/-15) for ImageNet-P's H.264 sequences: the smallest file a
//! player or `torchvision.io`/ffmpeg reads — `ftyp`, one `mdat` with the samples, and a `moov`
//! with one video track (`avc1` sample entry with its `avcC`, one chunk, `stts`/`stss`/`stsc`/
//! `stsz`/`stco`). Written by hand (a few hundred bytes of boxes) instead of a muxer crate.
//!
//! [`mux`] and [`demux`] are plain Rust and always built; the H.264 encoder and decoder
//! ([`h264`], OpenH264 built from source by the `openh264` crate) need the `mp4` feature.
//! [`demux`] reads back what [`mux`] writes (and files of the same simple shape); it is not a
//! general MP4 reader.

#[cfg(feature = "mp4")]
pub mod h264;

/// One encoded frame in AVC (length-prefixed) form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// NAL units, each with a 4-byte big-endian length prefix.
    pub data: Vec<u8>,
    /// An IDR frame (random access point).
    pub sync: bool,
}

/// The stream-level parameters of one H.264 track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Ticks per second.
    pub timescale: u32,
    /// Ticks per frame.
    pub frame_ticks: u32,
    /// The sequence parameter set (one NAL unit, no start code).
    pub sps: Vec<u8>,
    /// The picture parameter set (one NAL unit, no start code).
    pub pps: Vec<u8>,
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A full box: version 0 and `flags`.
fn full(kind: &[u8; 4], flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = flags.to_be_bytes().to_vec(); // version 0 in the top byte
    b.extend_from_slice(body);
    boxed(kind, &b)
}

/// The identity transform of `mvhd`/`tkhd` (16.16 and 2.30 fixed point).
const MATRIX: [u32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];

fn be32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_be_bytes()).collect()
}

/// The file: `ftyp`, `mdat`, `moov` (moov last, so the sample offsets are known when it is
/// written; players read it from the end).
pub fn mux(track: &Track, samples: &[Sample]) -> Vec<u8> {
    let n = samples.len() as u32;
    let duration = n * track.frame_ticks;
    let ftyp = boxed(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41");
    let payload: usize = samples.iter().map(|s| s.data.len()).sum();
    let mdat_data_offset = (ftyp.len() + 8) as u32;

    let mvhd = full(
        b"mvhd",
        0,
        &[
            be32(&[
                0,
                0,
                1000,
                (u64::from(duration) * 1000 / u64::from(track.timescale)) as u32,
            ]),
            be32(&[0x10000]),       // rate 1.0
            vec![0x01, 0x00, 0, 0], // volume 1.0, reserved
            vec![0; 8],             // reserved
            be32(&MATRIX),          //
            vec![0; 24],            // pre_defined
            be32(&[2]),             // next track ID
        ]
        .concat(),
    );
    let tkhd = full(
        b"tkhd",
        3, // enabled, in movie
        &[
            be32(&[0, 0, 1, 0]), // times, track 1, reserved
            be32(&[(u64::from(duration) * 1000 / u64::from(track.timescale)) as u32]),
            vec![0; 8],    // reserved
            vec![0; 4],    // layer, alternate group
            vec![0; 4],    // volume 0 (video), reserved
            be32(&MATRIX), //
            be32(&[u32::from(track.width) << 16, u32::from(track.height) << 16]),
        ]
        .concat(),
    );
    let mdhd = full(
        b"mdhd",
        0,
        &[
            be32(&[0, 0, track.timescale, duration]),
            vec![0x55, 0xc4, 0, 0], // language "und", pre_defined
        ]
        .concat(),
    );
    let hdlr = full(
        b"hdlr",
        0,
        &[
            vec![0; 4],
            b"vide".to_vec(),
            vec![0; 12],
            b"VideoHandler\0".to_vec(),
        ]
        .concat(),
    );
    let vmhd = full(b"vmhd", 1, &[0; 8]);
    let dinf = boxed(
        b"dinf",
        &full(b"dref", 0, &[be32(&[1]), full(b"url ", 1, &[])].concat()),
    );
    let avcc = boxed(
        b"avcC",
        &[
            vec![
                1,
                track.sps.get(1).copied().unwrap_or(66),
                track.sps.get(2).copied().unwrap_or(0),
                track.sps.get(3).copied().unwrap_or(30),
                0xff, // 4-byte NAL lengths
                0xe1, // one SPS
            ],
            (track.sps.len() as u16).to_be_bytes().to_vec(),
            track.sps.clone(),
            vec![1],
            (track.pps.len() as u16).to_be_bytes().to_vec(),
            track.pps.clone(),
        ]
        .concat(),
    );
    let avc1 = boxed(
        b"avc1",
        &[
            vec![0; 6],
            vec![0, 1], // data reference index
            vec![0; 16],
            track.width.to_be_bytes().to_vec(),
            track.height.to_be_bytes().to_vec(),
            be32(&[0x0048_0000, 0x0048_0000, 0]), // 72 dpi, reserved
            vec![0, 1],                           // frame count
            vec![0; 32],                          // compressor name
            vec![0, 0x18, 0xff, 0xff],            // depth 24, pre_defined −1
            avcc,
        ]
        .concat(),
    );
    let stsd = full(b"stsd", 0, &[be32(&[1]), avc1].concat());
    let stts = full(b"stts", 0, &be32(&[1, n, track.frame_ticks]));
    let sync: Vec<u32> = (1..=n).filter(|&i| samples[i as usize - 1].sync).collect();
    let stss = full(
        b"stss",
        0,
        &[be32(&[sync.len() as u32]), be32(&sync)].concat(),
    );
    let stsc = full(b"stsc", 0, &be32(&[1, 1, n, 1]));
    let sizes: Vec<u32> = samples.iter().map(|s| s.data.len() as u32).collect();
    let stsz = full(b"stsz", 0, &[be32(&[0, n]), be32(&sizes)].concat());
    let stco = full(b"stco", 0, &be32(&[1, mdat_data_offset]));
    let stbl = boxed(b"stbl", &[stsd, stts, stss, stsc, stsz, stco].concat());
    let minf = boxed(b"minf", &[vmhd, dinf, stbl].concat());
    let mdia = boxed(b"mdia", &[mdhd, hdlr, minf].concat());
    let trak = boxed(b"trak", &[tkhd, mdia].concat());
    let moov = boxed(b"moov", &[mvhd, trak].concat());

    let mut out = Vec::with_capacity(ftyp.len() + 8 + payload + moov.len());
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&(8 + payload as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    for s in samples {
        out.extend_from_slice(&s.data);
    }
    out.extend_from_slice(&moov);
    out
}

/// One box: its four-character kind and its body.
type Boxed<'a> = ([u8; 4], &'a [u8]);

/// Children of a box body.
fn children(mut b: &[u8]) -> Result<Vec<Boxed<'_>>, String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 8 {
            return Err("truncated box header".into());
        }
        let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        if size < 8 || size > b.len() {
            return Err(format!("bad box size {size}"));
        }
        out.push(([b[4], b[5], b[6], b[7]], &b[8..size]));
        b = &b[size..];
    }
    Ok(out)
}

fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> Result<&'a [u8], String> {
    children(b)?
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, v)| v)
        .ok_or_else(|| format!("no `{}` box", String::from_utf8_lossy(kind)))
}

fn u32_at(b: &[u8], i: usize) -> Result<u32, String> {
    b.get(i..i + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| "truncated table".to_string())
}

/// Read back a file written by [`mux`]: the track and its samples.
pub fn demux(file: &[u8]) -> Result<(Track, Vec<Sample>), String> {
    let moov = child(file, b"moov")?;
    let trak = child(moov, b"trak")?;
    let mdia = child(trak, b"mdia")?;
    let mdhd = child(mdia, b"mdhd")?;
    let stbl = child(child(mdia, b"minf")?, b"stbl")?;
    let stsd = child(stbl, b"stsd")?;
    let avc1 = child(stsd.get(8..).ok_or("short stsd")?, b"avc1")?;
    if avc1.len() < 78 {
        return Err("short avc1".into());
    }
    let width = u16::from_be_bytes([avc1[24], avc1[25]]);
    let height = u16::from_be_bytes([avc1[26], avc1[27]]);
    let avcc = child(&avc1[78..], b"avcC")?;
    let get = |a: usize, n: usize| avcc.get(a..a + n).ok_or("short avcC".to_string());
    let sps_len = u16::from_be_bytes(get(6, 2)?.try_into().unwrap()) as usize;
    let sps = get(8, sps_len)?.to_vec();
    let p = 8 + sps_len + 1;
    let pps_len = u16::from_be_bytes(get(p, 2)?.try_into().unwrap()) as usize;
    let pps = get(p + 2, pps_len)?.to_vec();
    let timescale = u32_at(mdhd, 12)?;
    let stts = child(stbl, b"stts")?;
    let frame_ticks = u32_at(stts, 12)?;
    let stsz = child(stbl, b"stsz")?;
    let n = u32_at(stsz, 8)? as usize;
    let stss = child(stbl, b"stss")?;
    let nsync = u32_at(stss, 4)? as usize;
    let sync: Vec<u32> = (0..nsync)
        .map(|i| u32_at(stss, 8 + 4 * i))
        .collect::<Result<_, _>>()?;
    let mut off = u32_at(child(stbl, b"stco")?, 8)? as usize;
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let size = u32_at(stsz, 12 + 4 * i)? as usize;
        let data = file
            .get(off..off + size)
            .ok_or("sample outside the file")?
            .to_vec();
        off += size;
        samples.push(Sample {
            data,
            sync: sync.contains(&(i as u32 + 1)),
        });
    }
    Ok((
        Track {
            width,
            height,
            timescale,
            frame_ticks,
            sps,
            pps,
        },
        samples,
    ))
}

/// Split an Annex-B byte stream (`00 00 01` / `00 00 00 01` start codes) into NAL units.
pub fn annex_b_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new(); // (start code position, payload position)
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            let sc = if i > 0 && stream[i - 1] == 0 {
                i - 1
            } else {
                i
            };
            starts.push((sc, i + 3));
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &(_, p))| {
            let end = starts.get(k + 1).map_or(stream.len(), |&(sc, _)| sc);
            &stream[p..end]
        })
        .filter(|u| !u.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track() -> Track {
        Track {
            width: 224,
            height: 224,
            timescale: 1,
            frame_ticks: 1,
            sps: vec![0x67, 0x42, 0xc0, 0x1e, 1, 2, 3],
            pps: vec![0x68, 0xce, 0x3c, 0x80],
        }
    }

    #[test]
    fn mux_then_demux_gives_the_track_and_samples_back() {
        let samples: Vec<Sample> = (0..5u8)
            .map(|i| Sample {
                data: [vec![0, 0, 0, 3], vec![0x65 + i, i, i]].concat(),
                sync: i == 0 || i == 3,
            })
            .collect();
        let file = mux(&track(), &samples);
        assert_eq!(&file[4..8], b"ftyp");
        let (t, s) = demux(&file).unwrap();
        assert_eq!(t, track());
        assert_eq!(s, samples);
        // the chunk offset points at the first sample inside mdat
        let top = children(&file).unwrap();
        assert_eq!(
            top.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [*b"ftyp", *b"mdat", *b"moov"]
        );
        assert!(demux(&file[..file.len() - 9]).is_err());
    }

    #[test]
    fn annex_b_split_handles_both_start_codes() {
        let s = [
            0, 0, 0, 1, 0x67, 9, 0, 0, 1, 0x68, 7, 0, 0, 0, 1, 0x65, 1, 2,
        ];
        assert_eq!(
            annex_b_units(&s),
            vec![&[0x67u8, 9][..], &[0x68, 7][..], &[0x65, 1, 2][..]]
        );
    }
}
