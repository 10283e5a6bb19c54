//! The header ↔ pipeline round trip: what a manifest header records about the pipeline
//! ([`encoders`], [`frost_source`], [`style_header`]), and the pipeline rebuilt from a header
//! ([`pipeline_of`], for `verify --input`). Both directions are in one file so that a field
//! written here is read back here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::manifest::{Header, StyleHeader, TileBankHeader};
use crate::codecs::IMAGE_VERSION;
use crate::dataset::execute::{self, Pipeline};
use crate::dataset::{ChannelOrder, Geometry};
use crate::digest::sha256_file;
use crate::error::{Error, Result};
use crate::io::WebpMode;
use crate::{Preset, RngMode, Stylizer};

/// What the manifest records as the frost source: `procedural`, or `textures:<dir>` for the
/// reference's photographs ([`pipeline_of`] reloads them from there).
pub fn frost_source(p: &Pipeline) -> String {
    match &p.frost {
        None => "procedural".into(),
        Some(t) => format!("textures:{}", t.dir.display()),
    }
}

/// Encoder names, versions and settings per output format.
pub fn encoders(p: &Pipeline) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let jpeg = if p.jpeg_444 {
        format!(
            "image {IMAGE_VERSION} JpegEncoder: quality {}, 4:4:4 (no chroma subsampling)",
            p.quality
        )
    } else {
        format!(
            "imgcorrupt libjpeg-turbo-compatible baseline encoder: quality {}, 4:2:0, islow DCT, optimal Huffman tables",
            p.quality
        )
    };
    m.insert("jpeg".into(), jpeg);
    m.insert(
        "png".into(),
        format!("image {IMAGE_VERSION} PngEncoder: default compression, adaptive filter"),
    );
    m.insert("webp".into(), p.webp.describe());
    m.insert("bmp".into(), format!("image {IMAGE_VERSION} BmpEncoder"));
    m.insert("tiff".into(), format!("image {IMAGE_VERSION} TiffEncoder"));
    m
}

/// The manifest's description of a stylizer (`source`: `dir:<path>` or `file:<path>`;
/// `vgg`/`decoder`: weight paths of the adain backend), hashing the weight files.
pub fn style_header(
    st: &Stylizer,
    source: String,
    vgg: Option<&Path>,
    decoder: Option<&Path>,
) -> Result<StyleHeader> {
    // Absolute paths, as for the style source: `verify --input` reloads the weights from
    // wherever it is run.
    let weights = |p: Option<&Path>| -> Result<Option<String>> {
        p.map(|p| {
            let io = |source| Error::Io {
                path: p.to_path_buf(),
                source,
            };
            let abs = std::fs::canonicalize(p).map_err(io)?;
            sha256_file(&abs)
                .map(|h| format!("{} sha256:{h}", abs.display()))
                .map_err(io)
        })
        .transpose()
    };
    let adain = st.backend().kind() == crate::StyleBackendKind::Adain;
    Ok(StyleHeader {
        source,
        count: st.len(),
        list_sha256: st.list_digest(),
        choice: "v1: styles sorted by relative path; index = floor(derive_seed(run_seed, [source relative path, \"stylize\"]) * count / 2^64); same style for every severity".into(),
        backend: st.backend().kind().name().into(),
        style_size: st.style_size(),
        alpha: st
            .alpha()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "preset".into()),
        vgg: if adain { weights(vgg)? } else { None },
        decoder: if adain { weights(decoder)? } else { None },
    })
}

/// The manifest's description of a tile bank.
pub fn tile_bank_header(bank: &crate::TileBank, sizes: &[usize]) -> TileBankHeader {
    TileBankHeader {
        source: bank.dir.display().to_string(),
        images: bank.len,
        sha256: bank.digest.clone(),
        sizes: sizes.to_vec(),
    }
}

/// Reload the tile bank a manifest header describes (for `verify`); an error says so when
/// the bank's files changed.
fn load_tile_bank(h: Option<&TileBankHeader>) -> Result<Option<Arc<crate::TileBank>>> {
    let Some(h) = h else {
        return Ok(None);
    };
    let bank = crate::TileBank::load(Path::new(&h.source), &h.sizes)?;
    if bank.digest != h.sha256 {
        return Err(Error::InvalidArgument(format!(
            "tile bank {} has changed since generation ({} image(s) now, {} then; SHA-256 differs): cannot regenerate mosaic/stickers outputs",
            h.source, bank.len, h.images
        )));
    }
    Ok(Some(Arc::new(bank)))
}

/// Rebuild the stylizer a manifest header describes (for `verify`); an error says what
/// changed when the style set no longer matches.
fn load_stylizer(h: Option<&StyleHeader>) -> Result<Option<Arc<Stylizer>>> {
    let Some(h) = h else {
        return Ok(None);
    };
    let st = if let Some(dir) = h.source.strip_prefix("dir:") {
        Stylizer::from_dir(Path::new(dir))?
    } else if let Some(file) = h.source.strip_prefix("file:") {
        Stylizer::from_file(Path::new(file))?
    } else {
        return Err(Error::InvalidArgument(format!(
            "manifest header stylize.source `{}`: expected dir:<path> or file:<path>",
            h.source
        )));
    };
    if st.len() != h.count || st.list_digest() != h.list_sha256 {
        return Err(Error::InvalidArgument(format!(
            "style set {} has changed since generation ({} style(s) now, {} then; list SHA-256 differs): cannot regenerate stylize outputs",
            h.source,
            st.len(),
            h.count
        )));
    }
    let path_of = |w: &Option<String>| {
        w.as_deref()
            .map(|s| PathBuf::from(s.rsplit_once(" sha256:").map(|(p, _)| p).unwrap_or(s)))
    };
    // Weights changed since generation would make every adain output a mismatch: say so
    // once, naming the file, instead.
    for w in [&h.vgg, &h.decoder].into_iter().flatten() {
        if let Some((p, want)) = w.rsplit_once(" sha256:") {
            let now = sha256_file(Path::new(p)).map_err(|source| Error::Io {
                path: PathBuf::from(p),
                source,
            })?;
            if now != want {
                return Err(Error::InvalidArgument(format!(
                    "weight file {p} has changed since generation (SHA-256 {now}, was {want}): cannot regenerate stylize outputs"
                )));
            }
        }
    }
    let kind: crate::StyleBackendKind = h
        .backend
        .parse()
        .map_err(|e: String| Error::InvalidArgument(format!("manifest header: {e}")))?;
    let backend = crate::StyleBackend::load(
        kind,
        path_of(&h.vgg).as_deref(),
        path_of(&h.decoder).as_deref(),
    )?;
    let alpha =
        match h.alpha.as_str() {
            "preset" => None,
            a => Some(a.parse::<f32>().map_err(|_| {
                Error::InvalidArgument(format!("manifest header stylize.alpha `{a}`"))
            })?),
        };
    Ok(Some(Arc::new(
        st.with_backend(backend)
            .with_style_size(h.style_size)
            .with_alpha(alpha)?,
    )))
}

fn parse<T: std::str::FromStr<Err = String>>(v: &str, what: &str) -> Result<T> {
    v.parse()
        .map_err(|e| Error::InvalidArgument(format!("manifest header {what}: {e}")))
}

/// JPEG quality from the recorded encoder settings ("… quality 85, …").
fn quality_of(encoders: &BTreeMap<String, String>) -> u8 {
    encoders
        .get("jpeg")
        .and_then(|s| s.split("quality ").nth(1))
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(85)
}

/// The pipeline that made the outputs of a manifest with `header`: the preset (which must
/// not have changed: its SHA-256 is checked), RNG mode, seed, geometry, channel order,
/// encoders, frost source and stylizer as recorded; `max_pixels` is the decoder limit of
/// this run.
pub fn pipeline_of(header: &Header, max_pixels: u64) -> Result<Pipeline> {
    let preset_text = Preset::source_text(&header.preset_source)?;
    if Preset::digest_of(&preset_text) != header.preset_sha256 {
        return Err(Error::InvalidArgument(format!(
            "preset `{}` has changed since generation (SHA-256 differs): cannot regenerate",
            header.preset_source
        )));
    }
    Ok(Pipeline {
        schedule: None,
        rng: parse::<RngMode>(&header.rng, "rng")?,
        preset: Arc::new(Preset::load(&header.preset_source)?),
        seed: header.seed,
        geometry: parse::<Geometry>(&header.geometry, "geometry")?,
        channel_order: parse::<ChannelOrder>(&header.channel_order, "channel_order")?,
        quality: quality_of(&header.encoders),
        webp: header
            .encoders
            .get("webp")
            .map_or(WebpMode::Lossless, |d| WebpMode::parse(d)),
        max_pixels,
        frost: match header
            .frost_source
            .as_deref()
            .and_then(|s| s.strip_prefix("textures:"))
        {
            None => None,
            Some(dir) => Some(execute::load_frost(Path::new(dir))?),
        },
        stylizer: load_stylizer(header.stylize.as_ref())?,
        tile_bank: load_tile_bank(header.tile_bank.as_ref())?,
        jpeg_444: header
            .encoders
            .get("jpeg")
            .is_some_and(|d| d.contains("4:4:4")),
    })
}
