//! What every corruption's parameter struct shares: the [`Params`] trait, the per-severity
//! [`Row`], the range checks, and the one generic function that reads a corruption's table out
//! of a preset file.
//!
//! Each corruption file declares `pub struct Params` (the TOML table of the same name in
//! `corruptions/*.toml`) next to the function that uses it, so that adding a corruption never
//! means editing the preset loader: [`crate::preset::Preset`] asks every catalogue row to parse
//! its own table through [`parse_table`].

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// Five values, one per severity 1..=5.
pub type Row<T> = [T; 5];

/// Largest blur σ or radius, in pixels, a preset may set (the built-in preset's largest is 20):
/// kernel sizes grow with it (a Gaussian of σ 1000 already has 8001 taps), and unbounded values
/// overflowed allocations. Checked when a preset is loaded.
pub const MAX_BLUR_PIXELS: f64 = 1000.0;

/// A corruption's parameter table: deserialised from its TOML table, then range-checked.
pub trait Params: DeserializeOwned + fmt::Debug + Send + Sync + 'static {
    /// Range checks that serde cannot express. The message names the key as `table.field`
    /// and the severity, so that a user can find the value in the file.
    fn validate(&self) -> Result<(), String>;

    /// The table used when a preset file leaves this one out; `None` (the default) makes the
    /// table required. Only operators added after preset files existed (`stylize`) have one,
    /// so that older files keep loading.
    fn when_missing() -> Option<Self> {
        None
    }

    /// Issue 16, continuous severity: this table at severity `s` (0 < s ≤ 5, not an integer
    /// in 1..=5), every row holding the value [`lerp_row`] interpolates, so that any level
    /// reads it. `None` (the default): the corruption's parameters do not interpolate (an
    /// integer row, a discrete choice) and a fractional severity is refused.
    fn at_severity(&self, _s: f64) -> Option<Self> {
        None
    }
}

/// CCC-style linear interpolation of a severity row at a continuous severity `s`: between
/// `row[k-1]` and `row[k]` for `k ≤ s ≤ k+1`, and between `identity` (the value that leaves the
/// image unchanged, severity 0) and `row[0]` for `0 < s < 1`; `None` below 1 when the key has
/// no identity value. The result fills all five entries.
pub fn lerp_row(row: &Row<f64>, s: f64, identity: Option<f64>) -> Option<Row<f64>> {
    let v = if s < 1.0 {
        identity? * (1.0 - s) + row[0] * s
    } else {
        let lo = (s.floor() as usize).clamp(1, 5);
        let hi = (lo + 1).min(5);
        let t = s - lo as f64;
        row[lo - 1] * (1.0 - t) + row[hi - 1] * t
    };
    Some([v; 5])
}

/// [`lerp_row`] for a key with no identity of its own: below severity 1 it keeps its severity-1
/// value (the keys that vanish at 0, e.g. a strength, carry the identity; this one only
/// shapes the effect, e.g. fog's decay or zoom_blur's step).
pub fn lerp_hold(row: &Row<f64>, s: f64) -> Row<f64> {
    lerp_row(row, s, Some(row[0])).expect("an identity value is given")
}

/// [`Params::at_severity`] of a catalogue row's erased table (the `row!` macro's
/// `interpolate`).
pub fn interpolate_table<P: Params>(table: &AnyParams, s: f64) -> Option<Box<AnyParams>> {
    let p = downcast::<P>(table).at_severity(s)?;
    p.validate().ok()?;
    Some(Box::new(p))
}

/// A parsed table with its type erased, as [`crate::preset::Preset`] stores it (one per
/// catalogue row; the row's apply function knows the concrete type).
pub type AnyParams = dyn Any + Send + Sync;

/// A preset document: its TOML text, parsed once into tables.
///
/// Every row deserialises its table from the parsed value (one parse for the whole preset,
/// not one per row); only when that fails is the text deserialised again with [`pick`], whose
/// errors carry the line, column and snippet of the user's file.
pub struct Document<'a> {
    text: &'a str,
    tables: toml::Table,
}

impl<'a> Document<'a> {
    /// Parses `text`; the error is TOML's, with its position.
    pub fn parse(text: &'a str) -> Result<Document<'a>, String> {
        let tables = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        Ok(Document { text, tables })
    }

    /// A document whose tables are already parsed from `text` (`text` must be their source).
    pub fn from_parts(text: &'a str, tables: toml::Table) -> Document<'a> {
        Document { text, tables }
    }

    /// The top-level table `table` as `T`, `None` if absent.
    pub fn pick<T: DeserializeOwned>(&self, table: &'static str) -> Result<Option<T>, String> {
        let Some(value) = self.tables.get(table) else {
            return Ok(None);
        };
        match value.clone().try_into::<T>() {
            Ok(t) => Ok(Some(t)),
            // Redo it on the text for an error that points into the file.
            Err(e) => match pick::<T>(self.text, table)? {
                Some(t) => Ok(Some(t)),
                None => Err(e.to_string()),
            },
        }
    }
}

/// Reads the table `table` of the preset document and checks it; an absent table is
/// [`Params::when_missing`] or an error naming it.
pub fn parse_table<P: Params>(
    doc: &Document<'_>,
    table: &'static str,
) -> Result<Box<AnyParams>, String> {
    let params = match doc.pick::<P>(table)? {
        Some(p) => p,
        None => P::when_missing().ok_or_else(|| format!("missing table `[{table}]`"))?,
    };
    params.validate()?;
    Ok(Box::new(params))
}

/// Deserialises the top-level table `table` of a TOML document, `None` if it is absent.
///
/// The whole text is deserialised with a visitor that keeps only that table (skipping the
/// others), rather than picking it out of a parsed `toml::Table`: that way serde's errors keep
/// their line, column and source snippet in the user's file.
fn pick<T: DeserializeOwned>(text: &str, table: &'static str) -> Result<Option<T>, String> {
    Pick::<T> {
        table,
        _p: PhantomData,
    }
    .deserialize(toml::Deserializer::new(text))
    .map_err(|e| e.to_string())
}

/// The erased table of a catalogue row back as its concrete type. Only the row that parsed it
/// calls this, with the type it parsed, so a mismatch is a bug in the catalogue macro.
#[inline]
pub fn downcast<P: Params>(p: &AnyParams) -> &P {
    p.downcast_ref::<P>()
        .expect("catalogue row applied with another row's parameter table")
}

/// Serde seed that walks the top-level tables of a preset and deserialises only `table`.
struct Pick<P> {
    table: &'static str,
    _p: PhantomData<P>,
}

impl<'de, P: DeserializeOwned> DeserializeSeed<'de> for Pick<P> {
    type Value = Option<P>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<P>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, P: DeserializeOwned> Visitor<'de> for Pick<P> {
    type Value = Option<P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a preset document with a `[{}]` table", self.table)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<P>, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == self.table {
                found = Some(map.next_value::<P>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Checks every value of a row: finite and accepted by `ok`; the error names `key` (as
/// `table.field`), the severity and `what` the value must be.
pub(crate) fn check_row(
    key: &str,
    row: &Row<f64>,
    ok: impl Fn(f64) -> bool,
    what: &str,
) -> Result<(), String> {
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

/// Any finite value (for [`check_row`], which rejects non-finite values itself).
pub(crate) fn finite(_: f64) -> bool {
    true
}

/// Non-negative.
pub(crate) fn nonneg(v: f64) -> bool {
    v >= 0.0
}

/// A blur σ or radius that may be 0, up to [`MAX_BLUR_PIXELS`].
pub(crate) fn blur_pixels(v: f64) -> bool {
    (0.0..=MAX_BLUR_PIXELS).contains(&v)
}

/// What [`blur_pixels`] accepts, for the error message.
pub(crate) fn blur_pixels_what() -> String {
    format!("in [0, {MAX_BLUR_PIXELS}] (pixels)")
}

/// A positive blur σ up to [`MAX_BLUR_PIXELS`].
pub(crate) fn blur_pixels_pos(v: f64) -> bool {
    v > 0.0 && v <= MAX_BLUR_PIXELS
}

/// What [`blur_pixels_pos`] accepts, for the error message.
pub(crate) fn blur_pixels_pos_what() -> String {
    format!("in (0, {MAX_BLUR_PIXELS}] (pixels)")
}
