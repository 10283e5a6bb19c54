//! The codecs, in one home: every file format imgcorrupt reads or writes to the byte.
//!
//! * [`jpeg`]: the Pillow/libjpeg-turbo-exact JPEG decoder, the lossy round trip the
//!   `jpeg_compression` corruption runs (colour conversion, 4:2:0 sampling, islow DCT and
//!   quantisation, with AVX2 twins), and the file writer that entropy-codes the same
//!   coefficients into the very file PIL writes;
//! * [`webp`]: lossy WebP through libwebp, byte-identical to Pillow's;
//! * [`mp4`]: the MP4 muxer of ImageNet-P's sequences, and (feature `mp4`) their H.264 codec;
//! * whole files in memory (this module's functions): format from an extension, decoding with
//!   limits (JPEGs through [`jpeg`], the rest through the `image` crate), reduction to 8 bits,
//!   encoding.
//!
//! Nothing here touches the file system: [`crate::io`] is the public facade that reads and
//! (atomically) writes files with these codecs. The module is public only so that tests and
//! examples can reach the decoder itself; use [`crate::io`].

pub mod jpeg;
pub mod mp4;
pub mod webp;

mod image_file;

pub use image_file::{
    decode_image, encode, encode_jpeg_444, encode_rgb, to_8bit, OutputFormat, DEFAULT_MAX_PIXELS,
    IMAGE_VERSION, SOURCE_DECODER,
};
