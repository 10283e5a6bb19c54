"""The module-level helpers of ``imagecorruptions.corruptions`` (1.1.2) that code outside the
package imports or patches (imgaug's ``imgcorruptlike`` assigns ``clipped_zoom``; scripts
import ``plasma_fractal``, ``disk``, ``_motion_blur`` …), in NumPy only, written from their
specification (docs/ALGORITHMS.md §3, primitives P2, P4, P5, P6). The Rust corruptions do not
call these: they are here so that such code finds them, with the reference's signatures,
dtypes and global-RNG draws."""

import math

import numpy as np

__all__ = [
    "disk",
    "clipped_zoom",
    "plasma_fractal",
    "next_power_of_2",
    "getOptimalKernelWidth1D",
    "gauss_function",
    "getMotionBlurKernel",
    "shift",
    "_motion_blur",
]


def _reflect101(n, size):
    """Indices of a length-``n`` axis padded by ``size`` on both sides, BORDER_REFLECT_101."""
    idx = np.arange(-size, n + size)
    if n == 1:
        return np.zeros_like(idx)
    period = 2 * (n - 1)
    idx = np.mod(idx, period)
    return np.where(idx >= n, period - idx, idx)


def _gaussian_taps(k, sigma):
    """OpenCV's ``getGaussianKernel(k, sigma, CV_32F)`` for sigma > 0: exp(-(i - (k-1)/2)^2 /
    (2 sigma^2)), normalised, in float32."""
    x = np.arange(k, dtype=np.float64) - (k - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return (g / g.sum()).astype(np.float32)


def disk(radius, alias_blur=0.1, dtype=np.float32):
    """The anti-aliased disk kernel of defocus_blur (P2): a binary disk on a grid of -8..8
    (radius <= 8, blur size 3) or -radius..radius (blur size 5), divided by its sum, then a
    separable Gaussian blur (sigma ``alias_blur``) with reflect-101 borders, not renormalised."""
    if radius <= 8:
        grid, k = np.arange(-8, 8 + 1), 3
    else:
        grid, k = np.arange(-radius, radius + 1), 5
    X, Y = np.meshgrid(grid, grid)
    d = np.array((X ** 2 + Y ** 2) <= radius ** 2, dtype=dtype)
    d /= np.sum(d)
    g = _gaussian_taps(k, alias_blur).astype(d.dtype)
    half = k // 2
    n = d.shape[0]
    rows = d[_reflect101(n, half)]
    tmp = sum(g[i] * rows[i:i + n] for i in range(k))
    cols = tmp[:, _reflect101(n, half)]
    return sum(g[i] * cols[:, i:i + n] for i in range(k)).astype(d.dtype)


def _zoom_axis(a, axis, n_out):
    """Linear resampling of ``a`` along ``axis`` to ``n_out`` samples at corner-aligned
    positions ``o * (n_in - 1) / (n_out - 1)`` (scipy.ndimage.zoom, order 1), in float64."""
    n_in = a.shape[axis]
    if n_out == 1 or n_in == 1:
        pos = np.zeros(n_out)
    else:
        pos = np.arange(n_out) * ((n_in - 1) / (n_out - 1))
    lo = np.floor(pos).astype(np.intp)
    lo = np.clip(lo, 0, n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    shape = [1] * a.ndim
    shape[axis] = n_out
    frac = frac.reshape(shape)
    a = a.astype(np.float64)
    return np.take(a, lo, axis=axis) * (1.0 - frac) + np.take(a, hi, axis=axis) * frac


def clipped_zoom(img, zoom_factor):
    """Centre crop of ``ceil(H / z) x ceil(W / z)`` zoomed back by ``z`` with linear
    interpolation (P5); returned untrimmed (callers take ``[:H, :W]``), in ``img``'s dtype."""
    img = np.asarray(img)
    h, w = img.shape[:2]
    ch0 = int(np.ceil(h / float(zoom_factor)))
    ch1 = int(np.ceil(w / float(zoom_factor)))
    top0, top1 = (h - ch0) // 2, (w - ch1) // 2
    crop = img[top0:top0 + ch0, top1:top1 + ch1]
    out = _zoom_axis(crop, 0, int(round(ch0 * zoom_factor)))
    out = _zoom_axis(out, 1, int(round(ch1 * zoom_factor)))
    return out.astype(img.dtype)


def next_power_of_2(x):
    """The smallest power of two >= x (1 for x <= 1)."""
    return 1 if x <= 1 else 1 << (int(math.ceil(x)) - 1).bit_length()


def plasma_fractal(mapsize=256, wibbledecay=3):
    """Diamond-square height map on a torus (P6), values in [0, 1], float64, drawing
    ``mapsize**2 - 1`` uniforms from NumPy's global generator in the reference's order."""
    assert mapsize & (mapsize - 1) == 0
    a = np.empty((mapsize, mapsize), dtype=np.float64)
    a[0, 0] = 0
    step, wib = mapsize, 100.0

    def wibbled(s):
        return s / 4 + wib * np.random.uniform(-wib, wib, s.shape)

    while step >= 2:
        h = step // 2
        c = a[0:mapsize:step, 0:mapsize:step]
        s = c + np.roll(c, -1, axis=0)
        s = s + np.roll(s, -1, axis=1)
        a[h:mapsize:step, h:mapsize:step] = wibbled(s)
        d = a[h:mapsize:step, h:mapsize:step]
        u = a[0:mapsize:step, 0:mapsize:step]
        left = (d + np.roll(d, 1, axis=0)) + (u + np.roll(u, -1, axis=1))
        a[0:mapsize:step, h:mapsize:step] = wibbled(left)
        top = (d + np.roll(d, 1, axis=1)) + (u + np.roll(u, -1, axis=0))
        a[h:mapsize:step, 0:mapsize:step] = wibbled(top)
        step //= 2
        wib /= wibbledecay
    a -= a.min()
    return a / a.max()


def getOptimalKernelWidth1D(radius, sigma):
    """Width of the motion-blur kernel: ``2 * radius + 1`` (``sigma`` unused, as there)."""
    return radius * 2 + 1


def gauss_function(x, mean, sigma):
    """The zero-mean normal density at ``x``. ``mean`` is accepted and ignored, as in the
    reference 1.1.2 (its only caller passes 0; checked against it in the pinned round)."""
    return np.exp(-(x ** 2) / (2 * sigma ** 2)) / (np.sqrt(2 * np.pi) * sigma)


def getMotionBlurKernel(width, sigma):
    """One-sided half-Gaussian weights ``exp(-i^2 / (2 sigma^2))``, i = 0..width-1, summing to 1."""
    k = gauss_function(np.arange(width), 0, sigma)
    return k / np.sum(k)


def shift(image, dx, dy):
    """``image`` moved by ``dx`` columns and ``dy`` rows, the uncovered band filled with the
    nearest edge row/column: ``out[r, c] = image[clamp(r - dy), clamp(c - dx)]``."""
    image = np.asarray(image)
    h, w = image.shape[:2]
    rows = np.clip(np.arange(h) - int(dy), 0, h - 1)
    cols = np.clip(np.arange(w) - int(dx), 0, w - 1)
    return image[rows][:, cols]


def _motion_blur(x, radius, sigma, angle):
    """Line motion blur (P4): ``2 radius + 1`` half-Gaussian taps along ``angle`` degrees, tap
    ``i`` at offset ``(ceil(i sin - 0.5), ceil(i cos - 0.5))`` with edge replication; taps
    beyond the image are dropped (no renormalisation). float64."""
    x = np.asarray(x)
    width = getOptimalKernelWidth1D(radius, sigma)
    kernel = getMotionBlurKernel(width, sigma)
    p = (width * np.sin(np.deg2rad(angle)), width * np.cos(np.deg2rad(angle)))
    hyp = float(np.hypot(p[0], p[1]))
    out = np.zeros(x.shape, dtype=np.float64)
    for i in range(width):
        dy = -math.ceil(i * p[0] / hyp - 0.5)
        dx = -math.ceil(i * p[1] / hyp - 0.5)
        if abs(dy) >= x.shape[0] or abs(dx) >= x.shape[1]:
            break
        out = out + kernel[i] * shift(x, dx, dy)
    return out
