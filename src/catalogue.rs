//! The catalogue: every corruption imgcorrupt knows, in the order of `imagecorruptions`,
//! with its benchmark subset and family.
//!
//! This is the one table a newcomer needs: [`CATALOGUE`] maps each name to the file that
//! implements it, `src/corruptions/<family>/<name>.rs` (its `Params` table and its function).
//! A new suite of operators is a folder under `src/corruptions/`, its rows here (and variants
//! of [`Corruption`]) and a preset file under `corruptions/`.

use std::fmt;
use std::str::FromStr;

use crate::corruptions::params::{self, AnyParams};
use crate::corruptions::{self, Job};
use crate::error::Error;

/// One of the 19 corruptions of ImageNet-C / `imagecorruptions`, in catalogue order, the
/// [`Stylize`](Corruption::Stylize) shift operator (outside the benchmarks), or one of the 15
/// ImageNet-C-bar / CIFAR-10-C-bar operators ([`Subset::CBar`], after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Corruption {
    /// Additive Gaussian noise.
    GaussianNoise,
    /// Poisson (photon) noise.
    ShotNoise,
    /// Salt-and-pepper noise, drawn per channel.
    ImpulseNoise,
    /// Convolution with an anti-aliased disk.
    DefocusBlur,
    /// Gaussian blur, local pixel shuffling, Gaussian blur.
    GlassBlur,
    /// One-sided line blur at a random angle.
    MotionBlur,
    /// Average of centre zooms.
    ZoomBlur,
    /// Motion-blurred snow layer.
    Snow,
    /// Frost texture overlay.
    Frost,
    /// Plasma-fractal fog.
    Fog,
    /// HSV value shift.
    Brightness,
    /// Contrast reduction around the per-channel mean.
    Contrast,
    /// Smooth random displacement field.
    ElasticTransform,
    /// Box downscale, nearest upscale.
    Pixelate,
    /// Lossy JPEG round trip.
    JpegCompression,
    /// Multiplicative Gaussian noise (held-out validation set).
    SpeckleNoise,
    /// Gaussian blur (held-out validation set).
    GaussianBlur,
    /// Water or mud splashes (held-out validation set).
    Spatter,
    /// HSV saturation change (held-out validation set).
    Saturate,
    /// Style transfer from a folder of style images (Stylized-ImageNet / Stylized-COCO shift,
    /// ALGORITHMS.md §9.2). Not one of the 19 -C corruptions: never selected by `common`, `validation`
    /// or `all`, and it needs a style source ([`crate::Settings::with_stylizer`]).
    Stylize,
    // ---- ImageNet-C-bar / CIFAR-10-C-bar (issue 16, src/corruptions/c_bar/) ----
    /// Caustic pattern used as a refracting lens (ImageNet-C-bar).
    CausticRefraction,
    /// The image seen through one star burst, white elsewhere (ImageNet-C-bar, CIFAR-10-C-bar).
    InverseSparkles,
    /// Five white star bursts (ImageNet-C-bar, CIFAR-10-C-bar).
    Sparkles,
    /// Turbulent Perlin noise blended over the image (ImageNet-C-bar).
    PerlinNoise,
    /// Pixels kept where a blue-noise field exceeds a threshold (ImageNet-C-bar, CIFAR-10-C-bar).
    BlueNoiseSample,
    /// Domain-warped trigonometric plasma blended in (ImageNet-C-bar).
    PlasmaNoise,
    /// Random cells of a rotated checkerboard greyed out (ImageNet-C-bar, CIFAR-10-C-bar).
    CheckerboardCutout,
    /// Wobbly saw-tooth rings added (ImageNet-C-bar).
    CocentricSineWaves,
    /// One random plane wave added to every channel (ImageNet-C-bar).
    SingleFrequencyGreyscale,
    /// Additive 1/f²-spectrum noise (ImageNet-C-bar, CIFAR-10-C-bar).
    BrownishNoise,
    /// Grid of pinched, twirled disks (CIFAR-10-C-bar).
    PinchAndTwirl,
    /// Sine displacement of both axes (CIFAR-10-C-bar).
    Ripple,
    /// Weighted average of rotations (CIFAR-10-C-bar).
    CircularMotionBlur,
    /// Anti-aliased grey lines (CIFAR-10-C-bar).
    Lines,
    /// Channels magnified by different factors (CIFAR-10-C-bar; the reference's spelling).
    TransverseChromaticAbberation,

    // ---- LAION-C (issue 16, src/corruptions/laion_c/): Subset::Shift, family `laion-c` ----
    /// Image rebuilt from the nearest-colour tiles of a training-image bank (LAION-C).
    Mosaic,
    /// Training-image tiles pasted at random (LAION-C).
    Stickers,
    /// glitch-this band shifts, channel offset and scan lines (LAION-C).
    Glitched,
    /// Image redrawn as bent vertical lines (LAION-C).
    VerticalLines,
    /// Random solid shapes (LAION-C).
    GeometricShapes,
    /// Checkerboard of brightness offsets (LAION-C).
    LuminanceCheckerboard,
}

/// Which benchmark subset a corruption belongs to (`imagecorruptions.get_corruption_names`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subset {
    /// The 15 corruptions that make up mCE / mPC.
    Common,
    /// The 4 held-out corruptions for model selection when training with corruptions.
    Validation,
    /// Operators outside the -C benchmarks (distribution shifts such as `stylize`): only ever
    /// selected by name or family, never by `common`, `validation` or `all`.
    Shift,
    // ---- issue 16, C-bar ----
    /// ImageNet-C-bar / CIFAR-10-C-bar (Mintun et al. 2021): selected by `c-bar` or
    /// `cifar-c-bar` (or by name), never by `common`, `validation` or `all`.
    CBar,
}

/// The family a corruption belongs to (the ImageNet-C archive groups).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// Pixel-wise random noise.
    Noise,
    /// Blurs.
    Blur,
    /// Weather effects.
    Weather,
    /// Digital artefacts and colour changes.
    Digital,
    /// Style transfer (ALGORITHMS.md §9.2).
    Stylization,
    // ---- issue 16, C-bar ----
    /// ImageNet-C-bar / CIFAR-10-C-bar operators (ALGORITHMS.md §11).
    CBar,
    /// The six LAION-C distortions (ALGORITHMS.md §12).
    LaionC,
}

/// One catalogue row: a name, its grouping and its implementation.
///
/// The implementation is a pair of functions made for the row by the `row!` macro from the
/// corruption's file (`corruptions/<family>/<name>.rs`): `parse` reads and checks the
/// corruption's table of a preset (its `Params`), `apply` runs the corruption with that table.
/// The preset stores the parsed tables type-erased, one per row, so that adding an operator is
/// a new file plus a row here, with nothing to edit in the preset loader.
#[non_exhaustive]
pub struct Entry {
    /// The corruption.
    pub corruption: Corruption,
    /// The `imagecorruptions` name (snake case); also the file and the TOML table name.
    pub name: &'static str,
    /// Benchmark subset.
    pub subset: Subset,
    /// Family.
    pub family: Family,
    /// Parses this row's table of a preset's TOML text.
    pub(crate) parse: ParseFn,
    /// Runs the corruption with the table `parse` returned.
    pub(crate) apply: ApplyFn,
    /// Issue 16: the table at a continuous severity ([`params::Params::at_severity`]);
    /// `None` when the corruption does not interpolate.
    pub(crate) interpolate: InterpolateFn,
}

/// A row's table at a continuous severity (see [`params::interpolate_table`]).
pub(crate) type InterpolateFn = fn(&AnyParams, f64) -> Option<Box<AnyParams>>;

/// Parses one row's table out of a preset document (see [`params::parse_table`]).
pub(crate) type ParseFn = fn(&params::Document<'_>, &'static str) -> Result<Box<AnyParams>, String>;

/// Runs one row's corruption with its type-erased table.
pub(crate) type ApplyFn = fn(&mut Job<'_>, &AnyParams) -> crate::error::Result<()>;

/// A catalogue row for the corruption `corruptions::$family::$name` (file, function and
/// `Params` struct all named after it).
macro_rules! row {
    ($c:ident, $family:ident :: $name:ident, $subset:ident, $family_enum:ident) => {
        Entry {
            corruption: Corruption::$c,
            name: stringify!($name),
            subset: Subset::$subset,
            family: Family::$family_enum,
            parse: params::parse_table::<corruptions::$family::$name::Params>,
            apply: |job, table| corruptions::$family::$name::$name(job, params::downcast(table)),
            interpolate: params::interpolate_table::<corruptions::$family::$name::Params>,
        }
    };
}

/// Number of -C corruptions (the first rows of [`CATALOGUE`]).
pub const NUM_CORRUPTIONS: usize = 19;

/// Number of catalogue rows: the corruptions, the shift operators (`stylize`, LAION-C) and
/// the 15 C-bar operators.
pub const NUM_OPERATORS: usize = 41;

/// All corruptions in `imagecorruptions` order (index = `corruption_number`), followed by the
/// operators outside the -C benchmarks ([`Subset::Shift`]: `stylize`).
pub static CATALOGUE: [Entry; NUM_OPERATORS] = [
    row!(GaussianNoise, noise::gaussian_noise, Common, Noise),
    row!(ShotNoise, noise::shot_noise, Common, Noise),
    row!(ImpulseNoise, noise::impulse_noise, Common, Noise),
    row!(DefocusBlur, blur::defocus_blur, Common, Blur),
    row!(GlassBlur, blur::glass_blur, Common, Blur),
    row!(MotionBlur, blur::motion_blur, Common, Blur),
    row!(ZoomBlur, blur::zoom_blur, Common, Blur),
    row!(Snow, weather::snow, Common, Weather),
    row!(Frost, weather::frost, Common, Weather),
    row!(Fog, weather::fog, Common, Weather),
    row!(Brightness, weather::brightness, Common, Weather),
    row!(Contrast, digital::contrast, Common, Digital),
    row!(
        ElasticTransform,
        digital::elastic_transform,
        Common,
        Digital
    ),
    row!(Pixelate, digital::pixelate, Common, Digital),
    row!(JpegCompression, digital::jpeg_compression, Common, Digital),
    row!(SpeckleNoise, noise::speckle_noise, Validation, Noise),
    row!(GaussianBlur, blur::gaussian_blur, Validation, Blur),
    row!(Spatter, weather::spatter, Validation, Weather),
    row!(Saturate, digital::saturate, Validation, Digital),
    row!(Stylize, stylization::stylize, Shift, Stylization),
    // ---- issue 16: ImageNet-C-bar (first 10), then CIFAR-10-C-bar's 5 more ----
    row!(CausticRefraction, c_bar::caustic_refraction, CBar, CBar),
    row!(InverseSparkles, c_bar::inverse_sparkles, CBar, CBar),
    row!(Sparkles, c_bar::sparkles, CBar, CBar),
    row!(PerlinNoise, c_bar::perlin_noise, CBar, CBar),
    row!(BlueNoiseSample, c_bar::blue_noise_sample, CBar, CBar),
    row!(PlasmaNoise, c_bar::plasma_noise, CBar, CBar),
    row!(CheckerboardCutout, c_bar::checkerboard_cutout, CBar, CBar),
    row!(CocentricSineWaves, c_bar::cocentric_sine_waves, CBar, CBar),
    row!(
        SingleFrequencyGreyscale,
        c_bar::single_frequency_greyscale,
        CBar,
        CBar
    ),
    row!(BrownishNoise, c_bar::brownish_noise, CBar, CBar),
    row!(PinchAndTwirl, c_bar::pinch_and_twirl, CBar, CBar),
    row!(Ripple, c_bar::ripple, CBar, CBar),
    row!(CircularMotionBlur, c_bar::circular_motion_blur, CBar, CBar),
    row!(Lines, c_bar::lines, CBar, CBar),
    row!(
        TransverseChromaticAbberation,
        c_bar::transverse_chromatic_abberation,
        CBar,
        CBar
    ),
    // ---- LAION-C (issue 16) ----
    row!(Mosaic, laion_c::mosaic, Shift, LaionC),
    row!(Stickers, laion_c::stickers, Shift, LaionC),
    row!(Glitched, laion_c::glitched, Shift, LaionC),
    row!(VerticalLines, laion_c::vertical_lines, Shift, LaionC),
    row!(GeometricShapes, laion_c::geometric_shapes, Shift, LaionC),
    row!(
        LuminanceCheckerboard,
        laion_c::luminance_checkerboard,
        Shift,
        LaionC
    ),
];

impl Corruption {
    /// The 19 -C corruptions in catalogue order (not the [`Subset::Shift`] operators such as
    /// [`Corruption::Stylize`]; see [`Corruption::every`]).
    pub fn all() -> impl Iterator<Item = Corruption> {
        CATALOGUE[..NUM_CORRUPTIONS].iter().map(|e| e.corruption)
    }

    /// Every catalogue row: the 19 corruptions, then the shift operators (`stylize`).
    pub fn every() -> impl Iterator<Item = Corruption> {
        CATALOGUE.iter().map(|e| e.corruption)
    }

    /// Whether this is one of the 19 -C corruptions (false for `stylize`).
    pub fn is_benchmark_corruption(self) -> bool {
        self.subset() != Subset::Shift
    }

    /// Index in the catalogue (`imagecorruptions`' `corruption_number`).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The catalogue row of this corruption.
    pub fn entry(self) -> &'static Entry {
        &CATALOGUE[self.index()]
    }

    /// The snake-case name used by `imagecorruptions` and on the command line.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// Benchmark subset.
    pub fn subset(self) -> Subset {
        self.entry().subset
    }

    /// Family.
    pub fn family(self) -> Family {
        self.entry().family
    }

    /// Look a corruption up by name (ASCII case-insensitive, `-` accepted for `_`, surrounding
    /// whitespace ignored); the error suggests the closest known name.
    pub fn from_name(name: &str) -> Result<Corruption, Error> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
        CATALOGUE
            .iter()
            .find(|e| e.name == wanted)
            .map(|e| e.corruption)
            .ok_or_else(|| Error::UnknownCorruption {
                name: name.to_string(),
                suggestion: closest_name(&wanted),
            })
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Corruption {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Corruption::from_name(s)
    }
}

impl Subset {
    /// Lower-case name as printed by `imgcorrupt list`.
    pub fn name(self) -> &'static str {
        match self {
            Subset::Common => "common",
            Subset::Validation => "validation",
            Subset::Shift => "shift",
            Subset::CBar => "c-bar",
        }
    }
}

impl fmt::Display for Subset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Family {
    /// Lower-case name as printed by `imgcorrupt list`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Noise => "noise",
            Family::Blur => "blur",
            Family::Weather => "weather",
            Family::Digital => "digital",
            Family::Stylization => "stylization",
            Family::CBar => "c-bar",
            Family::LaionC => "laion-c",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The words of [`select`] that name subsets (`benchmark` = `common`; `extra`, `holdout` =
/// `validation`; `all` = both): they select only the 19 -C corruptions, never `stylize`.
pub const SUBSET_WORDS: [&str; 6] = [
    "all",
    "common",
    "benchmark",
    "validation",
    "extra",
    "holdout",
];

// ---- issue 16, C-bar ----
/// The words of [`select`] that name the C-bar suites (`_` accepted for `-`): `c-bar` and
/// `imagenet-c-bar` the 10 ImageNet-C-bar operators, `cifar-c-bar` and `cifar-10-c-bar` the 10
/// of CIFAR-10-C-bar ([`corruptions::c_bar::IMAGENET_C_BAR`], [`corruptions::c_bar::CIFAR_10_C_BAR`]).
pub const C_BAR_WORDS: [&str; 4] = ["c-bar", "imagenet-c-bar", "cifar-c-bar", "cifar-10-c-bar"];

/// The operators a C-bar suite word of [`select`] names, in the suite's CSV order.
fn c_bar_suite(word: &str) -> Option<&'static [&'static str]> {
    match word {
        "c-bar" | "imagenet-c-bar" => Some(&corruptions::c_bar::IMAGENET_C_BAR),
        "cifar-c-bar" | "cifar-10-c-bar" => Some(&corruptions::c_bar::CIFAR_10_C_BAR),
        _ => None,
    }
}

/// The words of [`select`] that name families ([`Family::name`]).
pub const FAMILY_WORDS: [&str; 6] = [
    "noise",
    "blur",
    "weather",
    "digital",
    "stylization",
    "laion-c",
];

/// Resolve a comma-separated selection of names, subsets (`common`, `validation`, `all`),
/// families (`noise`, `blur`, `weather`, `digital`, `stylization`) and suites (`c-bar`,
/// `cifar-c-bar`: [`C_BAR_WORDS`]) into corruptions, in catalogue order and without
/// duplicates. `stylize` and the C-bar operators are only selected by name, family or suite:
/// the subsets name the 19 -C corruptions.
pub fn select(spec: &str) -> Result<Vec<Corruption>, Error> {
    let mut chosen = [false; NUM_OPERATORS];
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        if let Some(names) = c_bar_suite(&lower.replace('_', "-")) {
            for name in names {
                chosen[Corruption::from_name(name)?.index()] = true;
            }
            continue;
        }
        let matches: Vec<Corruption> = match lower.as_str() {
            "all" => Corruption::all().collect(),
            "common" | "benchmark" => Corruption::all()
                .filter(|c| c.subset() == Subset::Common)
                .collect(),
            "validation" | "extra" | "holdout" => Corruption::all()
                .filter(|c| c.subset() == Subset::Validation)
                .collect(),
            "noise" | "blur" | "weather" | "digital" | "stylization" | "laion-c" => {
                Corruption::every()
                    .filter(|c| c.family().name() == lower)
                    .collect()
            }
            _ => vec![Corruption::from_name(part).map_err(|e| match e {
                // a selection also takes subsets and families: suggest those too (`commn`)
                Error::UnknownCorruption { name, .. } => Error::UnknownCorruption {
                    suggestion: closest_word(&lower),
                    name,
                },
                other => other,
            })?],
        };
        for c in matches {
            chosen[c.index()] = true;
        }
    }
    let out: Vec<Corruption> = Corruption::every().filter(|c| chosen[c.index()]).collect();
    if out.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "no corruption selected by `{spec}`"
        )));
    }
    Ok(out)
}

/// The catalogue name closest to `wanted` by edit distance, if any is reasonably close.
fn closest_name(wanted: &str) -> Option<&'static str> {
    let (best, dist) = CATALOGUE
        .iter()
        .map(|e| (e.name, edit_distance(wanted, e.name)))
        .min_by_key(|&(_, d)| d)?;
    // Also accept a prefix/substring match such as "gaussian" → "gaussian_noise".
    if dist <= best.len().max(4) / 2 {
        return Some(best);
    }
    CATALOGUE
        .iter()
        .find(|e| !wanted.is_empty() && e.name.contains(wanted))
        .map(|e| e.name)
}

/// The word of a selection ([`select`]: a catalogue name, subset or family) closest to
/// `wanted` by edit distance, if any is reasonably close (else as [`closest_name`]).
fn closest_word(wanted: &str) -> Option<&'static str> {
    let words = CATALOGUE
        .iter()
        .map(|e| e.name)
        .chain(SUBSET_WORDS)
        .chain(FAMILY_WORDS)
        .chain(C_BAR_WORDS);
    let (best, dist) = words
        .map(|w| (w, edit_distance(wanted, w)))
        .min_by_key(|&(_, d)| d)?;
    if dist <= best.len().max(4) / 2 {
        Some(best)
    } else {
        closest_name(wanted)
    }
}

/// Levenshtein distance (small strings only).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_order_matches_index() {
        for (i, e) in CATALOGUE.iter().enumerate() {
            assert_eq!(e.corruption.index(), i, "{}", e.name);
        }
        assert_eq!(Corruption::from_name("saturate").unwrap().index(), 18);
    }

    #[test]
    fn subsets_have_reference_sizes() {
        let common = select("common").unwrap();
        let validation = select("validation").unwrap();
        assert_eq!(common.len(), 15);
        assert_eq!(
            validation.iter().map(|c| c.name()).collect::<Vec<_>>(),
            ["speckle_noise", "gaussian_blur", "spatter", "saturate"]
        );
        assert_eq!(select("all").unwrap().len(), 19);
        assert_eq!(select("noise").unwrap().len(), 4);
    }

    #[test]
    fn family_words_select_their_family() {
        for word in FAMILY_WORDS {
            let sel = select(word).unwrap();
            assert!(sel.iter().all(|c| c.family().name() == word), "{word}");
        }
    }

    #[test]
    fn stylize_is_outside_every_benchmark_selection() {
        for spec in SUBSET_WORDS {
            assert!(
                !select(spec).unwrap().contains(&Corruption::Stylize),
                "{spec}"
            );
        }
        assert_eq!(Corruption::all().count(), NUM_CORRUPTIONS);
        assert!(Corruption::all().all(|c| c.is_benchmark_corruption()));
        assert_eq!(select("stylize").unwrap(), [Corruption::Stylize]);
        assert_eq!(select("stylization").unwrap(), [Corruption::Stylize]);
        assert_eq!(
            select("saturate,stylize").unwrap(),
            [Corruption::Saturate, Corruption::Stylize]
        );
        assert_eq!(Corruption::Stylize.family(), Family::Stylization);
        assert_eq!(Corruption::every().count(), CATALOGUE.len());
    }

    #[test]
    fn c_bar_words_select_their_suites_only() {
        let inet = select("c-bar").unwrap();
        assert_eq!(inet.len(), 10);
        assert_eq!(select("imagenet_c_bar").unwrap(), inet);
        let cifar = select("cifar-c-bar").unwrap();
        assert_eq!(cifar.len(), 10);
        assert_eq!(select("CIFAR-10-C-BAR").unwrap(), cifar);
        assert!(inet.contains(&Corruption::CausticRefraction));
        assert!(!inet.contains(&Corruption::Ripple));
        assert!(cifar.contains(&Corruption::Ripple));
        assert!(!cifar.contains(&Corruption::PerlinNoise));
        assert!(inet
            .iter()
            .chain(&cifar)
            .all(|c| c.subset() == Subset::CBar));
        assert_eq!(select("c-bar,cifar-c-bar").unwrap().len(), 15);
        for spec in SUBSET_WORDS {
            assert!(select(spec)
                .unwrap()
                .iter()
                .all(|c| c.subset() != Subset::CBar));
        }
        assert_eq!(select("lines").unwrap(), [Corruption::Lines]);
        match select("cbar") {
            Err(Error::UnknownCorruption { suggestion, .. }) => {
                assert_eq!(suggestion, Some("c-bar"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_selection_word_suggests_subsets_and_families() {
        for (typo, want) in [
            ("commn", "common"),
            ("weathr", "weather"),
            ("gausian_noise", "gaussian_noise"),
        ] {
            match select(typo) {
                Err(Error::UnknownCorruption { suggestion, .. }) => {
                    assert_eq!(suggestion, Some(want), "{typo}")
                }
                other => panic!("{typo}: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_name_suggests_closest() {
        match Corruption::from_name("gausian_noise") {
            Err(Error::UnknownCorruption { suggestion, .. }) => {
                assert_eq!(suggestion, Some("gaussian_noise"))
            }
            other => panic!("unexpected {other:?}"),
        }
        match Corruption::from_name("jpeg") {
            Err(Error::UnknownCorruption { suggestion, .. }) => {
                assert_eq!(suggestion, Some("jpeg_compression"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn select_dedups_and_keeps_catalogue_order() {
        let s = select("saturate,gaussian_noise,noise").unwrap();
        let names: Vec<_> = s.iter().map(|c| c.name()).collect();
        assert_eq!(
            names,
            [
                "gaussian_noise",
                "shot_noise",
                "impulse_noise",
                "speckle_noise",
                "saturate"
            ]
        );
    }
}
