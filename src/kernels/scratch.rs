//! Per-thread pools of reusable buffers (f64, f32, u64, u32, i32, u16, i16, u8) for the image-sized temporaries of
//! the filters and corruptions (the one pool of the crate: kernels and weather.rs share it).
//!
//! Why: an image-sized `Vec` freshly allocated on every call is typically served by new pages
//! from the OS (large allocations are mmapped or trimmed back on free), and the page faults
//! cost as much as a whole small blur. Buffers taken here come back to the calling thread's
//! pool when dropped, so a training loop reuses the same memory. A pool keeps at most
//! [`MAX_POOLED`] buffers per element type; memory held is bounded by the largest images seen.
//!
//! Contents of a taken buffer are unspecified (callers overwrite every element) unless taken
//! with a `*_zeroed` function.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

/// Buffers kept per thread and element type.
pub const MAX_POOLED: usize = 8;

/// Element types with a pool.
pub trait Pooled: Copy + Default + 'static {
    #[doc(hidden)]
    fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R;
}

macro_rules! pooled {
    ($t:ty, $name:ident) => {
        thread_local! {
            static $name: RefCell<Vec<Vec<$t>>> = const { RefCell::new(Vec::new()) };
        }
        impl Pooled for $t {
            fn with_pool<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R {
                $name.with(|p| f(&mut p.borrow_mut()))
            }
        }
    };
}
pooled!(f64, POOL_F64);
pooled!(f32, POOL_F32);
pooled!(u64, POOL_U64);
pooled!(u32, POOL_U32);
pooled!(i32, POOL_I32);
pooled!(u16, POOL_U16);
pooled!(i16, POOL_I16);
pooled!(u8, POOL_U8);

/// A pooled buffer of `len` elements; returns to the thread's pool on drop.
///
/// The pooled `Vec` keeps its full initialised length (the largest ever used) and the buffer
/// views `len` elements from its first cache-line-aligned one ([`ALIGN`]): a buffer reused for a larger size than its last use is then
/// not written again up to its old size (`Vec::truncate` + `resize` would fill that gap on
/// every such reuse, e.g. a plane-sized buffer taken for an RGB image).
pub struct Buf<T: Pooled> {
    v: Vec<T>,
    /// First element of the view: the first 64-byte aligned one (see [`ALIGN`]).
    off: usize,
    len: usize,
}

/// Alignment of every taken buffer's first element, in bytes: a cache line.
///
/// Why: the SIMD kernels load 32-byte vectors at multiples of 32 bytes from a buffer's start
/// (rows of image-sized planes whose strides are multiples of 32). malloc aligns a block to
/// 16 bytes only, so in a block that starts 16 bytes past a cache line every other such load
/// spans two lines, and which case a process gets depends on the allocator's history: the same
/// gaussian_blur kernel read 8–15 % slower in the Python module than in the CLI (issue 14's
/// "within 5 %" target), and the gap came and went between builds. With the view aligned, the
/// timing depends on the code, not on where malloc put the block.
pub const ALIGN: usize = 64;

impl<T: Pooled> Buf<T> {
    /// Take a buffer of `len` elements with unspecified contents.
    pub fn take(len: usize) -> Buf<T> {
        let size = std::mem::size_of::<T>();
        // room for moving the view up to the next aligned element
        let need = len + ALIGN / size;
        let mut v = T::with_pool(|p| {
            // Prefer the smallest pooled buffer that is large enough (initialised length).
            let best = p
                .iter()
                .enumerate()
                .filter(|(_, b)| b.len() >= need)
                .min_by_key(|(_, b)| b.len())
                .map(|(i, _)| i);
            match best {
                Some(i) => p.swap_remove(i),
                None => p.pop().unwrap_or_default(),
            }
        });
        if v.len() < need {
            v.resize(need, T::default());
        }
        // elements to the next cache line; a type whose alignment is below its size (u64 on
        // 32-bit x86) may have none within reach: then the view starts at the block (correct,
        // just not aligned)
        let off = match v.as_ptr().align_offset(ALIGN) {
            o if o < ALIGN / size => o,
            _ => 0,
        };
        Buf { v, off, len }
    }

    /// Take a buffer of `len` default (zero) elements.
    pub fn zeroed(len: usize) -> Buf<T> {
        let mut b = Buf::take(len);
        b.fill(T::default());
        b
    }
}

impl<T: Pooled> Drop for Buf<T> {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.v);
        T::with_pool(|p| {
            if p.len() < MAX_POOLED {
                p.push(v);
            }
        });
    }
}

impl<T: Pooled> Deref for Buf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.v[self.off..self.off + self.len]
    }
}

impl<T: Pooled> DerefMut for Buf<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.v[self.off..self.off + self.len]
    }
}

impl<'a, T: Pooled> IntoIterator for &'a Buf<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.v[self.off..self.off + self.len].iter()
    }
}

impl<'a, T: Pooled> IntoIterator for &'a mut Buf<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.v[self.off..self.off + self.len].iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_sized() {
        let p = {
            let mut a = Buf::<f64>::zeroed(1000);
            a[999] = 5.0;
            a.as_ptr()
        };
        let b = Buf::<f64>::take(500);
        assert_eq!(b.len(), 500);
        assert_eq!(b.as_ptr(), p, "the pooled allocation is reused");
        let z = Buf::<f32>::zeroed(10);
        assert!(z.iter().all(|&v| v == 0.0));
    }

    /// Every view starts on a cache line, fresh or reused, grown or shrunk, for every pooled
    /// element type (the pointers of fresh `Vec`s are only 8- or 16-byte aligned).
    #[test]
    fn buffers_start_on_a_cache_line() {
        fn check<T: Pooled + PartialEq>() {
            for len in [1usize, 7, 100, 4096, 50_000, 3, 150_001] {
                let mut held: Vec<Buf<T>> = (0..3).map(|k| Buf::<T>::take(len + k)).collect();
                // (a type aligned below its size may not reach a line: see `take`)
                let aligned = std::mem::align_of::<T>() == std::mem::size_of::<T>();
                for (k, b) in held.iter().enumerate() {
                    assert_eq!(b.len(), len + k);
                    assert!(
                        !aligned || (b.as_ptr() as usize).is_multiple_of(ALIGN),
                        "{len} {k}"
                    );
                }
                held.clear();
                let z = Buf::<T>::zeroed(len);
                assert!(!aligned || (z.as_ptr() as usize).is_multiple_of(ALIGN));
                assert!(z.iter().all(|&v| v == T::default()));
            }
        }
        check::<f64>();
        check::<f32>();
        check::<u64>();
        check::<u32>();
        check::<u16>();
        check::<i16>();
        check::<u8>();
    }

    #[test]
    fn u8_buffers_are_pooled_and_zeroed_on_request() {
        let p = {
            let mut a = Buf::<u8>::take(4096);
            a.fill(7);
            a.as_ptr()
        };
        let b = Buf::<u8>::zeroed(4000);
        assert_eq!(b.as_ptr(), p, "the pooled allocation is reused");
        assert!(b.iter().all(|&v| v == 0), "zeroed clears reused contents");
    }
}
