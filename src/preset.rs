//! Parameter tables ("presets") as data.
//!
//! The severity tables live in `corruptions/*.toml` and are embedded at build time, so the
//! numbers a benchmark uses are reviewable in one place and a user can swap them (`--preset
//! FILE`) without recompiling. A file must give every table and key (errors name the missing
//! or malformed key), unless it says `extends = "<built-in>"` in its `[preset]` table, in which
//! case what it leaves out is taken from that built-in preset.
//!
//! Values are range-checked on load, the error naming the key and severity: every number must
//! be finite, and sizes are bounded so that no corruption can overflow an allocation (blur σs
//! and radii ≤ [`MAX_BLUR_PIXELS`], `snow.zoom` ≤ [`MAX_SNOW_ZOOM`], at most
//! [`MAX_ZOOM_FACTORS`] `zoom_blur` factors).

use serde::Deserialize;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

/// Five values, one per severity 1..=5.
pub type Row<T> = [T; 5];

/// Most zoom factors a `zoom_blur` severity may have (`ceil((stop − 1) / step)`; the built-in
/// preset has at most 12). Checked when a preset is loaded.
pub const MAX_ZOOM_FACTORS: usize = 1000;

/// Largest blur σ or radius, in pixels, a preset may set (the built-in preset's largest is 20):
/// kernel sizes grow with it (a Gaussian of σ 1000 already has 8001 taps), and unbounded values
/// overflowed allocations. Checked when a preset is loaded.
pub const MAX_BLUR_PIXELS: f64 = 1000.0;

/// Largest `snow.zoom` (the built-in preset's largest is 4.5): the zoomed snow layer has about
/// max(image side, zoom)² values, so unbounded zooms overflowed allocations.
pub const MAX_SNOW_ZOOM: f64 = 100.0;

/// Built-in presets: (name, TOML text).
const BUILTIN: &[(&str, &str)] = &[(
    "imagecorruptions",
    include_str!("../corruptions/imagecorruptions.toml"),
)];

/// Names of the built-in presets.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(n, _)| *n)
}

/// A complete set of parameter tables for the 19 corruptions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // field names are the corruption names; each type documents itself
pub struct Preset {
    /// Name and description of the preset.
    pub preset: PresetInfo,
    pub gaussian_noise: SigmaTable,
    pub shot_noise: ShotNoise,
    pub impulse_noise: ImpulseNoise,
    pub defocus_blur: DefocusBlur,
    pub glass_blur: GlassBlur,
    pub motion_blur: MotionBlur,
    pub zoom_blur: ZoomBlur,
    pub snow: Snow,
    pub frost: Frost,
    pub fog: Fog,
    pub brightness: Brightness,
    pub contrast: Contrast,
    pub elastic_transform: ElasticTransform,
    pub pixelate: Pixelate,
    pub jpeg_compression: JpegCompression,
    pub speckle_noise: SigmaTable,
    pub gaussian_blur: SigmaTable,
    pub spatter: Spatter,
    pub saturate: Saturate,
    /// `stylize` (not a -C corruption; optional in preset files, defaulting to the built-in α
    /// row so that preset files written before it existed still load).
    #[serde(default)]
    pub stylize: Stylize,
}

/// The `[preset]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetInfo {
    /// Short name, recorded in manifests.
    pub name: String,
    /// One-line description.
    #[serde(default)]
    pub description: String,
    /// Built-in preset that fills what this one leaves out.
    #[serde(default)]
    pub extends: Option<String>,
}

/// A table with a single per-severity σ (gaussian_noise, speckle_noise, gaussian_blur).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmaTable {
    /// Standard deviation per severity (in `[0, 1]` pixel units for noise, pixels for blur).
    pub sigma: Row<f64>,
}

/// shot_noise: Poisson(x·photons)/photons.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShotNoise {
    /// Photon count scale.
    pub photons: Row<f64>,
}

/// impulse_noise: salt-and-pepper amount.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpulseNoise {
    /// Probability that a channel value is replaced.
    pub amount: Row<f64>,
}

/// defocus_blur: anti-aliased disk.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefocusBlur {
    /// Disk radius in pixels.
    pub radius: Row<f64>,
    /// σ of the anti-aliasing Gaussian.
    pub alias_sigma: Row<f64>,
}

/// glass_blur.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlassBlur {
    /// Gaussian σ before and after shuffling.
    pub sigma: Row<f64>,
    /// Maximal displacement δ.
    pub max_delta: Row<u32>,
    /// Number of shuffling sweeps.
    pub iterations: Row<u32>,
}

/// motion_blur.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotionBlur {
    /// Kernel radius (width = 2·radius + 1).
    pub radius: Row<f64>,
    /// σ of the one-sided Gaussian weights.
    pub sigma: Row<f64>,
}

/// zoom_blur: factors `np.arange(1, stop, step)`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoomBlur {
    /// Exclusive stop of the factor range.
    pub stop: Row<f64>,
    /// Step of the factor range.
    pub step: Row<f64>,
}

/// snow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snow {
    /// Mean of the snow layer normal draw.
    pub mean: Row<f64>,
    /// Standard deviation of the snow layer normal draw.
    pub std: Row<f64>,
    /// Zoom factor of the layer.
    pub zoom: Row<f64>,
    /// Values below are set to 0.
    pub threshold: Row<f64>,
    /// Motion-blur radius.
    pub blur_radius: Row<f64>,
    /// Motion-blur σ.
    pub blur_sigma: Row<f64>,
    /// Weight of the original image in the greyscale lift.
    pub blend: Row<f64>,
}

/// frost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frost {
    /// Weight of the image.
    pub image_weight: Row<f64>,
    /// Weight of the frost texture.
    pub frost_weight: Row<f64>,
}

/// fog.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fog {
    /// Fog strength a.
    pub strength: Row<f64>,
    /// Plasma fractal wibble decay d.
    pub decay: Row<f64>,
}

/// brightness.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Brightness {
    /// Added to HSV value.
    pub delta: Row<f64>,
}

/// contrast.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contrast {
    /// Factor applied around the per-channel mean.
    pub factor: Row<f64>,
}

/// elastic_transform (imagecorruptions variant).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticTransform {
    /// Displacement scale α.
    pub alpha: Row<f64>,
    /// Smoothing σ as a fraction of (H, W).
    pub sigma_scale: f64,
    /// Uniform noise amplitude as a fraction of H.
    pub amplitude_scale: f64,
}

/// pixelate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pixelate {
    /// Downscale factor.
    pub scale: Row<f64>,
}

/// jpeg_compression.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JpegCompression {
    /// JPEG quality 1..=100.
    pub quality: Row<u8>,
}

/// The two spatter branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpatterKind {
    /// Water drops (edges, distance transform).
    Water,
    /// Mud splashes.
    Mud,
}

/// spatter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spatter {
    /// Mean of the liquid layer normal draw.
    pub mean: Row<f64>,
    /// Standard deviation of the liquid layer normal draw.
    pub std: Row<f64>,
    /// Gaussian σ for the liquid layer.
    pub blur_sigma: Row<f64>,
    /// Liquid threshold.
    pub threshold: Row<f64>,
    /// Water intensity or mud σ.
    pub intensity: Row<f64>,
    /// Branch per severity.
    pub kind: Row<SpatterKind>,
}

/// saturate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saturate {
    /// Multiplier of HSV saturation.
    pub multiplier: Row<f64>,
    /// Added to HSV saturation.
    pub offset: Row<f64>,
}

/// stylize (spec §9.2): strength per severity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stylize {
    /// Strength α in [0, 1]: `out = α·stylized + (1 − α)·content` (statistics backend, in
    /// pixel space) or `feat = α·AdaIN + (1 − α)·content` (adain backend, in feature space).
    /// Stylized-ImageNet uses α = 1 (severity 5).
    pub alpha: Row<f64>,
}

impl Default for Stylize {
    fn default() -> Self {
        Stylize {
            alpha: [0.2, 0.4, 0.6, 0.8, 1.0],
        }
    }
}

impl Preset {
    /// The default preset (`imagecorruptions`), parsed once.
    pub fn default_arc() -> Arc<Preset> {
        static DEFAULT: OnceLock<Arc<Preset>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Arc::new(Preset::builtin("imagecorruptions").expect("built-in preset is valid"))
            })
            .clone()
    }

    /// A built-in preset by name.
    pub fn builtin(name: &str) -> Result<Preset> {
        let text = builtin_text(name)?;
        Preset::from_toml_str(text, name)
    }

    /// A built-in preset name, or else a path to a TOML file.
    pub fn load(name_or_path: &str) -> Result<Preset> {
        if builtin_text(name_or_path).is_ok() && !Path::new(name_or_path).exists() {
            return Preset::builtin(name_or_path);
        }
        if let Some(e) = neither_builtin_nor_file(name_or_path) {
            return Err(e);
        }
        Preset::from_file(Path::new(name_or_path))
    }

    /// The exact TOML text [`Preset::load`] would parse for `name_or_path` (the built-in text
    /// or the file's contents), so that manifests can record a content hash of the tables used.
    pub fn source_text(name_or_path: &str) -> Result<String> {
        if let Ok(text) = builtin_text(name_or_path) {
            if !Path::new(name_or_path).exists() {
                return Ok(text.to_string());
            }
        }
        if let Some(e) = neither_builtin_nor_file(name_or_path) {
            return Err(e);
        }
        std::fs::read_to_string(name_or_path).map_err(|source| Error::Io {
            path: name_or_path.into(),
            source,
        })
    }

    /// Load a preset file.
    pub fn from_file(path: &Path) -> Result<Preset> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Preset::from_toml_str(&text, &path.display().to_string())
    }

    /// Parse preset TOML; `source_name` is used in error messages.
    pub fn from_toml_str(text: &str, source_name: &str) -> Result<Preset> {
        let err = |message: String| Error::Preset {
            source_name: source_name.to_string(),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(e.to_string()))?;
        let extends = table
            .get("preset")
            .and_then(|p| p.get("extends"))
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err("key `preset.extends` must be a string".into()))
            })
            .transpose()?;
        let preset: Preset = match extends {
            None => toml::from_str(text).map_err(|e| err(e.to_string()))?,
            Some(base_name) => {
                let base_text = builtin_text(&base_name).map_err(|_| {
                    err(format!(
                        "key `preset.extends`: unknown built-in preset `{base_name}` (known: {})",
                        builtin_names().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                let mut merged: toml::Table = base_text.parse().expect("built-in preset parses");
                merge_tables(&mut merged, table);
                let merged_text = toml::to_string(&merged).map_err(|e| err(e.to_string()))?;
                toml::from_str(&merged_text).map_err(|e| err(e.to_string()))?
            }
        };
        preset.validate().map_err(err)?;
        Ok(preset)
    }

    /// Range checks that serde cannot express; the message names the key.
    fn validate(&self) -> std::result::Result<(), String> {
        fn each(
            key: &str,
            row: &Row<f64>,
            ok: impl Fn(f64) -> bool,
            what: &str,
        ) -> std::result::Result<(), String> {
            for (i, v) in row.iter().enumerate() {
                if !v.is_finite() || !ok(*v) {
                    return Err(format!(
                        "key `{key}` severity {}: value {v} must be {what}",
                        i + 1
                    ));
                }
            }
            Ok(())
        }
        let nonneg = |v: f64| v >= 0.0;
        let pos = |v: f64| v > 0.0;
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        let any = |_: f64| true; // `each` still requires finite values
        let blur = |v: f64| (0.0..=MAX_BLUR_PIXELS).contains(&v);
        let blur_pos = |v: f64| v > 0.0 && v <= MAX_BLUR_PIXELS;
        let blur_what = format!("in [0, {MAX_BLUR_PIXELS}] (pixels)");
        let blur_pos_what = format!("in (0, {MAX_BLUR_PIXELS}] (pixels)");
        each(
            "gaussian_noise.sigma",
            &self.gaussian_noise.sigma,
            nonneg,
            "finite and >= 0",
        )?;
        each(
            "shot_noise.photons",
            &self.shot_noise.photons,
            |v| v > 0.0 && v <= 1e6,
            "in (0, 1e6]",
        )?;
        each(
            "impulse_noise.amount",
            &self.impulse_noise.amount,
            unit,
            "in [0, 1]",
        )?;
        each(
            "defocus_blur.radius",
            &self.defocus_blur.radius,
            |v| (0.0..=256.0).contains(&v),
            "in [0, 256]",
        )?;
        each(
            "defocus_blur.alias_sigma",
            &self.defocus_blur.alias_sigma,
            blur_pos,
            &blur_pos_what,
        )?;
        each("glass_blur.sigma", &self.glass_blur.sigma, blur, &blur_what)?;
        each(
            "motion_blur.radius",
            &self.motion_blur.radius,
            blur,
            &blur_what,
        )?;
        each(
            "motion_blur.sigma",
            &self.motion_blur.sigma,
            blur_pos,
            &blur_pos_what,
        )?;
        each("zoom_blur.stop", &self.zoom_blur.stop, |v| v >= 1.0, ">= 1")?;
        each("zoom_blur.step", &self.zoom_blur.step, |v| v > 0.0, "> 0")?;
        // Every factor is one full-image zoom: a tiny step would mean billions of them (a
        // `capacity overflow` panic or an endless run), not a stronger blur.
        for (i, (stop, step)) in self
            .zoom_blur
            .stop
            .iter()
            .zip(&self.zoom_blur.step)
            .enumerate()
        {
            let n = ((stop - 1.0) / step).ceil();
            if n > MAX_ZOOM_FACTORS as f64 {
                return Err(format!(
                    "keys `zoom_blur.stop`/`zoom_blur.step` severity {}: arange(1, {stop}, {step}) \
                     gives {n} zoom factors, more than the limit of {MAX_ZOOM_FACTORS}",
                    i + 1
                ));
            }
        }
        each("snow.mean", &self.snow.mean, any, "finite")?;
        each("snow.std", &self.snow.std, nonneg, ">= 0")?;
        // The zoomed layer has about max(image side, zoom)² values.
        each(
            "snow.zoom",
            &self.snow.zoom,
            |v| (1.0..=MAX_SNOW_ZOOM).contains(&v),
            &format!("in [1, {MAX_SNOW_ZOOM}]"),
        )?;
        each("snow.threshold", &self.snow.threshold, any, "finite")?;
        each("snow.blur_radius", &self.snow.blur_radius, blur, &blur_what)?;
        each("snow.blur_sigma", &self.snow.blur_sigma, blur, &blur_what)?;
        each("snow.blend", &self.snow.blend, any, "finite")?;
        each(
            "frost.image_weight",
            &self.frost.image_weight,
            any,
            "finite",
        )?;
        each(
            "frost.frost_weight",
            &self.frost.frost_weight,
            any,
            "finite",
        )?;
        each("fog.strength", &self.fog.strength, any, "finite")?;
        each("fog.decay", &self.fog.decay, pos, "> 0")?;
        each(
            "brightness.delta",
            &self.brightness.delta,
            |v| (-1.0..=1.0).contains(&v),
            "in [-1, 1]",
        )?;
        each("contrast.factor", &self.contrast.factor, nonneg, ">= 0")?;
        each(
            "elastic_transform.alpha",
            &self.elastic_transform.alpha,
            any,
            "finite",
        )?;
        // Fractions of the image size.
        for (key, v) in [
            ("sigma_scale", self.elastic_transform.sigma_scale),
            ("amplitude_scale", self.elastic_transform.amplitude_scale),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!(
                    "key `elastic_transform.{key}`: value {v} must be in [0, 1] (a fraction of the image size)"
                ));
            }
        }
        each(
            "pixelate.scale",
            &self.pixelate.scale,
            |v| v > 0.0 && v <= 1.0,
            "in (0, 1]",
        )?;
        each(
            "speckle_noise.sigma",
            &self.speckle_noise.sigma,
            nonneg,
            ">= 0",
        )?;
        each(
            "gaussian_blur.sigma",
            &self.gaussian_blur.sigma,
            blur,
            &blur_what,
        )?;
        each("spatter.mean", &self.spatter.mean, any, "finite")?;
        each("spatter.std", &self.spatter.std, nonneg, ">= 0")?;
        each(
            "spatter.blur_sigma",
            &self.spatter.blur_sigma,
            blur,
            &blur_what,
        )?;
        each("spatter.threshold", &self.spatter.threshold, any, "finite")?;
        each("spatter.intensity", &self.spatter.intensity, any, "finite")?;
        each(
            "saturate.multiplier",
            &self.saturate.multiplier,
            nonneg,
            ">= 0",
        )?;
        each("saturate.offset", &self.saturate.offset, any, "finite")?;
        each("stylize.alpha", &self.stylize.alpha, unit, "in [0, 1]")?;
        for (i, q) in self.jpeg_compression.quality.iter().enumerate() {
            if !(1..=100).contains(q) {
                return Err(format!(
                    "key `jpeg_compression.quality` severity {}: value {q} must be in 1..=100",
                    i + 1
                ));
            }
        }
        Ok(())
    }
}

/// The TOML text of a built-in preset (recorded by hash in `generate` manifests).
pub fn builtin_text(name: &str) -> Result<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| Error::Preset {
            source_name: name.to_string(),
            message: format!(
                "no built-in preset of that name (known: {})",
                builtin_names().collect::<Vec<_>>().join(", ")
            ),
        })
}

/// The error for a preset argument that names no built-in preset and no existing file: it says
/// both, listing the built-in names (a bare "No such file" would not tell that a name was
/// looked up too).
fn neither_builtin_nor_file(name_or_path: &str) -> Option<Error> {
    if Path::new(name_or_path).exists() {
        return None;
    }
    match builtin_text(name_or_path) {
        Ok(_) => None,
        Err(Error::Preset {
            source_name,
            message,
        }) => Some(Error::Preset {
            source_name,
            message: format!("{message}, and no such file"),
        }),
        Err(e) => Some(e),
    }
}

/// Deep merge: keys of `over` replace those of `base`; sub-tables merge recursively.
fn merge_tables(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge_tables(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_has_reference_values() {
        let p = Preset::builtin("imagecorruptions").unwrap();
        assert_eq!(p.gaussian_noise.sigma, [0.08, 0.12, 0.18, 0.26, 0.38]);
        assert_eq!(p.jpeg_compression.quality, [25, 18, 15, 10, 7]);
        assert_eq!(p.spatter.kind[3], SpatterKind::Mud);
        // alpha is 250 * [..] computed in f64 in the reference
        let alpha: Vec<f64> = [0.05, 0.065, 0.085, 0.1, 0.12]
            .iter()
            .map(|a| 250.0 * a)
            .collect();
        assert_eq!(p.elastic_transform.alpha.to_vec(), alpha);
    }

    #[test]
    fn missing_table_is_named() {
        let text = include_str!("../corruptions/imagecorruptions.toml")
            .replace("[saturate]", "[saturate_typo]");
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.toml") && e.contains("saturate_typo"), "{e}");
        let text =
            include_str!("../corruptions/imagecorruptions.toml").replace("amount = ", "amounts = ");
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("amounts"), "{e}");
    }

    #[test]
    fn wrong_length_and_range_are_named() {
        let text = include_str!("../corruptions/imagecorruptions.toml").replace(
            "sigma = [0.08, 0.12, 0.18, 0.26, 0.38]",
            "sigma = [0.08, 0.12]",
        );
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sigma") && e.contains("length 5"), "{e}");
        let text = include_str!("../corruptions/imagecorruptions.toml").replace(
            "quality = [25, 18, 15, 10, 7]",
            "quality = [25, 18, 0, 10, 7]",
        );
        let e = Preset::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("jpeg_compression.quality") && e.contains("severity 3"),
            "{e}"
        );
    }

    #[test]
    fn extends_fills_the_rest() {
        let text = "[preset]\nname = \"mine\"\nextends = \"imagecorruptions\"\n[gaussian_noise]\nsigma = [0.5, 0.5, 0.5, 0.5, 0.5]\n";
        let p = Preset::from_toml_str(text, "mine.toml").unwrap();
        assert_eq!(p.preset.name, "mine");
        assert_eq!(p.gaussian_noise.sigma, [0.5; 5]);
        assert_eq!(p.contrast.factor, [0.4, 0.3, 0.2, 0.1, 0.05]);
        let e = Preset::from_toml_str("[preset]\nname=\"m\"\nextends=\"nope\"\n", "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("preset.extends"), "{e}");
    }
}
