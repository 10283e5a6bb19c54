//! The library's error type. Every variant carries enough context (a name, a key, a path) for
//! the message alone to tell a user what to fix.

use std::path::PathBuf;

/// Errors returned by the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A corruption name that is not in the catalogue.
    #[error("unknown corruption `{name}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownCorruption {
        /// The name as given.
        name: String,
        /// The closest catalogue name, if any is close.
        suggestion: Option<&'static str>,
    },
    /// Severity outside 1..=5.
    #[error("severity {0} is out of range: use 1, 2, 3, 4 or 5")]
    InvalidSeverity(i64),
    /// An image the operation cannot accept (size, layout, buffer length).
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// A preset (parameter table) that is malformed or incomplete.
    #[error("preset {source_name}: {message}")]
    Preset {
        /// Where the preset came from (file path or built-in name).
        source_name: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A seed the chosen RNG mode cannot take (numpy seeds must fit in 32 bits).
    #[error("invalid seed: {0}")]
    InvalidSeed(String),
    /// Any other invalid argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// An I/O error on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An image decoding/encoding error on a named file.
    #[error("{}: {message}", path.display())]
    Codec {
        /// The file.
        path: PathBuf,
        /// The reason.
        message: String,
    },
    /// A weight file of the AdaIN backend with a missing tensor or a tensor of the wrong shape.
    #[error("{}: tensor `{tensor}`: expected shape {expected}, found {found}", path.display())]
    Weights {
        /// The weight file.
        path: PathBuf,
        /// The tensor name (`nn.Sequential` index + `.weight`/`.bias`).
        tensor: String,
        /// The expected shape (for reduced-width networks: the shape implied by the width factor).
        expected: String,
        /// The shape found, or `missing`.
        found: String,
    },
    /// A weight file that is not a readable PyTorch `.pth` or `.safetensors` file.
    #[error("{}: {message}", path.display())]
    WeightFile {
        /// The weight file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
