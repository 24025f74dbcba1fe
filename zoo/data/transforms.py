"""Image augmentation on numpy arrays, with torchvision.transforms semantics.

Every transform takes one image (C, H, W) or a batch (N, C, H, W) and returns a new array.
Random draws come from the library's seeded generator (`autograd.random.manual_seed` makes
them reproducible). On a batch each image gets its own draw, exactly as if the transform ran
inside a dataset's `__getitem__` for each sample (torchvision would share one draw per call).

Resizing is bilinear with half-pixel centres (`align_corners=False`); with `antialias=True`
(torchvision's default) a shrink widens the triangle filter to the scale factor, like PIL.
Colour transforms expect float images in [0, 1] and clamp their output to that range.
"""
import math
import numbers

import numpy as np

from autograd.random import generator

_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # ITU-R 601-2 luma, as torchvision's rgb_to_grayscale


def _images(name, x):
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected an image (C, H, W) or a batch (N, C, H, W), "
                         f"got shape {x.shape}")
    return x


def _float_images(name, x):
    x = _images(name, x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name}: expected a float image in [0, 1], got dtype {x.dtype}; "
                        "convert with x.astype(np.float32) / 255 first")
    return x


def _pair(name, size):
    if isinstance(size, numbers.Integral):
        size = (int(size), int(size))
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"{name}: size must be a positive int or (height, width), got {size}")
    return size


def _resize_weights(n_in, n_out, antialias, dtype):
    # Row i holds the weights of the input pixels for output pixel i, whose centre lies at
    # scale * (i + 0.5) in input coordinates. The triangle filter has half-width 1 input pixel,
    # or `scale` when shrinking with antialias; the rows are renormalised, which at the borders
    # equals PyTorch's clamping of the source coordinate.
    scale = n_in / n_out
    stretch = scale if antialias and scale > 1.0 else 1.0
    centres = scale * (np.arange(n_out) + 0.5)
    distance = np.abs(np.arange(n_in)[None, :] + 0.5 - centres[:, None]) / stretch
    weights = np.maximum(0.0, 1.0 - distance)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(dtype)


def resize(x, size, antialias=True):
    """Bilinear resize of (..., H, W) to `size` = (h, w); integer images are rounded back."""
    h, w = _pair("resize", size)
    x = np.asarray(x)
    compute = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
    rows = _resize_weights(x.shape[-2], h, antialias, compute)
    cols = _resize_weights(x.shape[-1], w, antialias, compute)
    out = rows @ x.astype(compute, copy=False) @ cols.T
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(x.dtype, copy=False)


def rgb_to_grayscale(x):
    """Luma (..., 1, H, W) of RGB images (..., 3, H, W)."""
    r, g, b = x[..., 0:1, :, :], x[..., 1:2, :, :], x[..., 2:3, :, :]
    return (_GRAY_WEIGHTS[0] * r + _GRAY_WEIGHTS[1] * g + _GRAY_WEIGHTS[2] * b).astype(x.dtype)


def rgb_to_hsv(x):
    """HSV (..., 3, H, W), every channel in [0, 1], of RGB images (..., 3, H, W) in [0, 1]."""
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    maxc, minc = x.max(axis=-3), x.min(axis=-3)
    grey = maxc == minc
    chroma = maxc - minc
    # Grey pixels have no hue and no saturation; dividing by 1 there keeps them at 0.
    s = chroma / np.where(grey, 1.0, maxc)
    divisor = np.where(grey, 1.0, chroma)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.fmod(h / 6.0 + 1.0, 1.0)
    return np.stack([h, s, maxc], axis=-3).astype(x.dtype, copy=False)


def hsv_to_rgb(x):
    """RGB (..., 3, H, W) in [0, 1] of HSV images (..., 3, H, W)."""
    h, s, v = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int64) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # (r, g, b) in each of the six hue sectors of 60 degrees.
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    sectors = [sector == k for k in range(6)]
    rgb = [np.select(sectors, [row[c] for row in table]) for c in range(3)]
    return np.stack(rgb, axis=-3).astype(x.dtype, copy=False)


def _blend(x, other, factor):
    return np.clip(factor * x + (1.0 - factor) * other, 0.0, 1.0).astype(x.dtype, copy=False)


def adjust_brightness(x, factor):
    """Scale the intensities of float images (..., C, H, W) by `factor` (0 gives black)."""
    return _blend(x, 0.0, factor)


def adjust_contrast(x, factor):
    """Blend float images (..., C, H, W) with the mean of their luma (0 gives flat grey)."""
    luma = rgb_to_grayscale(x) if x.shape[-3] == 3 else x
    return _blend(x, luma.mean(axis=(-3, -2, -1), keepdims=True), factor)


def adjust_saturation(x, factor):
    """Blend RGB images (..., 3, H, W) with their luma (0 gives greyscale); 1 channel: no-op."""
    if x.shape[-3] == 1:
        return x.copy()  # a grey image has no saturation to change, as in PIL and torchvision
    _need_rgb("adjust_saturation", x)
    return _blend(x, rgb_to_grayscale(x), factor)


def adjust_hue(x, shift):
    """Rotate the hue of RGB images (..., 3, H, W) by `shift` turns in [-0.5, 0.5]."""
    if not -0.5 <= shift <= 0.5:
        raise ValueError(f"adjust_hue: shift must be in [-0.5, 0.5], got {shift}")
    if x.shape[-3] == 1:
        return x.copy()
    _need_rgb("adjust_hue", x)
    hsv = rgb_to_hsv(x)
    hsv[..., 0, :, :] = np.mod(hsv[..., 0, :, :] + shift, 1.0)
    return hsv_to_rgb(hsv)


def _need_rgb(name, x):
    if x.shape[-3] != 3:
        raise ValueError(f"{name}: expected 1 or 3 channels, got shape {x.shape}")


class Transform:
    """Base class: `__call__` checks the input and, for a batch, calls `apply` per image."""

    def apply(self, image, rng):
        """Transform one image (C, H, W) drawing from `rng`; subclasses define it."""
        raise NotImplementedError

    def __call__(self, x):
        x = _images(type(self).__name__, x)
        rng = generator()
        if x.ndim == 3:
            return self.apply(x, rng)
        if len(x) == 0:
            raise ValueError(f"{type(self).__name__}: got an empty batch, shape {x.shape}")
        return np.stack([self.apply(image, rng) for image in x])

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class RandomHorizontalFlip(Transform):
    """Mirror left-right (reverse W) with probability `p`."""

    def __init__(self, p=0.5):
        self.p = _probability("RandomHorizontalFlip", p)

    def apply(self, image, rng):
        return image[..., ::-1].copy() if rng.random() < self.p else image.copy()


class RandomVerticalFlip(Transform):
    """Mirror top-bottom (reverse H) with probability `p`."""

    def __init__(self, p=0.5):
        self.p = _probability("RandomVerticalFlip", p)

    def apply(self, image, rng):
        return image[..., ::-1, :].copy() if rng.random() < self.p else image.copy()


def _probability(name, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: p must be in [0, 1], got {p}")
    return float(p)


class Resize(Transform):
    """Bilinear resize to `size`: (h, w), or an int that the shorter edge is set to (the
    longer one keeps the aspect ratio, rounded down), as torchvision's Resize."""

    def __init__(self, size, antialias=True):
        if isinstance(size, numbers.Integral):
            if size < 1:
                raise ValueError(f"Resize: size must be positive, got {size}")
            self.size = int(size)
        else:
            self.size = _pair("Resize", size)
        self.antialias = bool(antialias)

    def output_size(self, height, width):
        """(h, w) of the result for an input of height x width."""
        if isinstance(self.size, tuple):
            return self.size
        short, long = sorted((height, width))
        new_short, new_long = self.size, int(self.size * long / short)
        return (new_short, new_long) if height <= width else (new_long, new_short)

    def apply(self, image, rng):
        return resize(image, self.output_size(*image.shape[-2:]), self.antialias)


class RandomResizedCrop(Transform):
    """Crop a random region and resize it to `size` (Inception-style augmentation).

    The region covers a fraction of the image area drawn uniformly from `scale`, with an
    aspect ratio (w / h) drawn log-uniformly from `ratio`; after 10 draws that do not fit it
    falls back to the largest central crop whose ratio lies in `ratio` (torchvision's rule).
    """

    def __init__(self, size, scale=(0.1, 1.0), ratio=(0.5, 2.0), antialias=True):
        self.size = _pair("RandomResizedCrop", size)
        self.scale = _interval("RandomResizedCrop", "scale", scale, low=0.0)
        self.ratio = _interval("RandomResizedCrop", "ratio", ratio, low=0.0, open_low=True)
        self.antialias = bool(antialias)

    def get_params(self, height, width, rng=None):
        """A crop (top, left, h, w) for an image of height x width."""
        rng = generator() if rng is None else rng
        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                top = int(rng.integers(0, height - h + 1))
                left = int(rng.integers(0, width - w + 1))
                return top, left, h, w
        in_ratio = width / height
        if in_ratio < self.ratio[0]:
            w, h = width, int(round(width / self.ratio[0]))
        elif in_ratio > self.ratio[1]:
            w, h = int(round(height * self.ratio[1])), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def apply(self, image, rng):
        top, left, h, w = self.get_params(*image.shape[-2:], rng=rng)
        return resize(image[..., top:top + h, left:left + w], self.size, self.antialias)


def _interval(name, what, value, low, open_low=False):
    lo, hi = (float(v) for v in value)
    if lo > hi or lo < low or (open_low and lo == low):
        raise ValueError(f"{name}: {what} must be (min, max) with {low} "
                         f"{'<' if open_low else '<='} min <= max, got {value}")
    return lo, hi


class ColorJitter(Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    A number v gives factors drawn uniformly from [max(0, 1 - v), 1 + v] (brightness,
    contrast, saturation) or a hue shift from [-v, v] (v <= 0.5, in turns of the colour
    wheel); a pair gives the range itself. Saturation and hue leave 1-channel images alone.
    """

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
        self.brightness = _factor_range("brightness", brightness)
        self.contrast = _factor_range("contrast", contrast)
        self.saturation = _factor_range("saturation", saturation)
        self.hue = _factor_range("hue", hue, centre=0.0, bound=0.5)

    def apply(self, image, rng):
        image = _float_images("ColorJitter", image)
        order = rng.permutation(4)
        ranges = (self.brightness, self.contrast, self.saturation, self.hue)
        factors = [None if r is None else rng.uniform(*r) for r in ranges]
        adjust = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        out = image.copy()
        for k in order:
            if factors[k] is not None:
                out = adjust[k](out, factors[k])
        return out


def _factor_range(what, value, centre=1.0, bound=None):
    if isinstance(value, numbers.Real):
        if value < 0:
            raise ValueError(f"ColorJitter: {what} must be >= 0, got {value}")
        lo, hi = centre - value, centre + value
        if bound is None:
            lo = max(lo, 0.0)
    else:
        lo, hi = (float(v) for v in value)
    limit = (-bound, bound) if bound is not None else (0.0, math.inf)
    if not limit[0] <= lo <= hi <= limit[1]:
        raise ValueError(f"ColorJitter: {what} range must lie in {list(limit)}, got {value}")
    # A range that only holds the neutral value is skipped, so it draws nothing.
    return None if lo == hi == centre else (lo, hi)


class Normalize(Transform):
    """(x - mean) / std per channel; `mean` and `std` hold one value per channel (or one)."""

    def __init__(self, mean, std):
        self.mean = tuple(float(m) for m in np.atleast_1d(mean))
        self.std = tuple(float(s) for s in np.atleast_1d(std))
        if any(s == 0.0 for s in self.std):
            raise ValueError(f"Normalize: std must be non-zero, got {self.std}")

    def __call__(self, x):
        # Deterministic and elementwise: a batch needs no per-image loop.
        x = _float_images("Normalize", x)
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels) or len(self.std) not in (1, channels):
            raise ValueError(f"Normalize: {len(self.mean)} means and {len(self.std)} stds "
                             f"for {channels} channels (shape {x.shape})")
        mean = np.asarray(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std

    def apply(self, image, rng):
        return self(image)


class Compose(Transform):
    """Apply `transforms` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def apply(self, image, rng):
        return self(image)

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"
