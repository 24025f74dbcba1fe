"""Registry entries of the pooling ops: kernel, stride, padding, dilation, ceil_mode,
return_indices, count_include_pad, divisor_override, norm_type, adaptive sizes (smaller,
larger, None, global), unbatched and strided input, and windows that tile the plane (the
vector rows of 2x2 windows, odd sizes that leave rows and columns outside every window).
Values are distinct almost surely, so the argmax of a max window does not move under the
gradcheck's perturbation."""
from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values


def max_pool2d_samples(rng):
    x = values(rng, (2, 3, 6, 6))
    yield Sample((x, 2), label="k2")
    yield Sample((x, 3), {"stride": 2, "padding": 1}, label="k3-s2-p1")
    yield Sample((x, 3), {"stride": 1}, label="overlapping")
    yield Sample((x, (2, 3)), {"stride": (1, 2), "padding": 1, "dilation": 2},
                 label="tuples-dilation2")
    yield Sample((values(rng, (2, 3, 7, 7)), 2), {"ceil_mode": True}, label="ceil")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "ceil_mode": True}, label="ceil-pad")
    yield Sample((x, 2), {"return_indices": True}, label="indices")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "dilation": 2, "return_indices": True},
                 label="indices-pad-dilation")
    yield Sample((values(rng, (3, 5, 6)), 2), label="unbatched")
    yield Sample((strided(values(rng, (2, 3, 6, 6))), 2), label="strided")
    yield Sample((values(rng, (2, 2, 5, 18)), 2), label="k2-vector-rows")
    yield Sample((values(rng, (2, 2, 9, 11)), 2), {"return_indices": True},
                 label="k2-odd-size-indices")
    yield Sample((values(rng, (2, 2, 7, 8)), (3, 2)), label="tiles-3x2-odd-rows")


def max_pool1d_samples(rng):
    x = values(rng, (2, 3, 9))
    yield Sample((x, 2), label="k2")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "dilation": 2}, label="s2-p1-d2")
    yield Sample((x, 2), {"ceil_mode": True}, label="ceil")
    yield Sample((x, 3), {"stride": 2, "return_indices": True}, label="indices")
    yield Sample((values(rng, (3, 8)), 2), label="unbatched")


def avg_pool2d_samples(rng):
    x = values(rng, (2, 3, 6, 6))
    yield Sample((x, 2), label="k2")
    yield Sample((x, 3), {"stride": 2, "padding": 1}, label="k3-s2-p1")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "count_include_pad": False},
                 label="exclude-pad")
    yield Sample((values(rng, (2, 3, 7, 7)), 2), {"ceil_mode": True}, label="ceil")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "ceil_mode": True,
                          "count_include_pad": False}, label="ceil-pad-exclude")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "ceil_mode": True}, label="ceil-pad")
    yield Sample((x, (2, 3)), {"stride": (2, 1), "divisor_override": 4}, label="divisor")
    yield Sample((values(rng, (3, 5, 6)), 2), label="unbatched")
    yield Sample((strided(values(rng, (2, 3, 6, 6))), 3), {"stride": 1}, label="strided")
    yield Sample((values(rng, (2, 2, 9, 11)), 2), label="k2-vector-rows-odd-size")
    yield Sample((values(rng, (2, 2, 4, 34)), 2), {"divisor_override": 3},
                 label="k2-vector-rows-divisor")
    yield Sample((values(rng, (2, 2, 7, 8)), (3, 2)), label="tiles-3x2-odd-rows")


def avg_pool1d_samples(rng):
    x = values(rng, (2, 3, 9))
    yield Sample((x, 2), label="k2")
    yield Sample((x, 3), {"stride": 2, "padding": 1, "count_include_pad": False},
                 label="exclude-pad")
    yield Sample((x, 2), {"ceil_mode": True}, label="ceil")
    yield Sample((values(rng, (3, 8)), 3), {"stride": 1}, label="unbatched")


def lp_pool2d_samples(rng):
    x = values(rng, (2, 3, 6, 6), 0.5, 2.0)
    yield Sample((x, 2, 2), label="p2-k2")
    yield Sample((x, 3, (3, 2)), {"stride": (2, 1)}, label="p3-tuples")
    yield Sample((values(rng, (2, 3, 7, 7), 0.5, 2.0), 2, 2), {"ceil_mode": True},
                 label="ceil")
    yield Sample((x, 1.5, 3), {"stride": 1}, label="p1.5-overlapping")
    yield Sample((values(rng, (3, 6, 6), -2.0, 2.0), 2, 2), label="p2-signed-unbatched")


def lp_pool1d_samples(rng):
    x = values(rng, (2, 3, 9), 0.5, 2.0)
    yield Sample((x, 2, 3), {"stride": 2}, label="p2-k3-s2")
    yield Sample((x, 1, 2), {"ceil_mode": True}, label="p1-ceil")


def adaptive_avg_pool2d_samples(rng):
    x = values(rng, (2, 3, 7, 5))
    yield Sample((x, (3, 2)), label="smaller")
    yield Sample((x, 1), label="global")
    yield Sample((x, (None, 3)), label="none")
    yield Sample((values(rng, (2, 3, 3, 4)), (5, 6)), label="larger")
    yield Sample((values(rng, (3, 6, 6)), 4), label="unbatched")


def adaptive_avg_pool1d_samples(rng):
    x = values(rng, (2, 3, 9))
    yield Sample((x, 4), label="smaller")
    yield Sample((x, 1), label="global")
    yield Sample((values(rng, (3, 4)), 7), label="larger-unbatched")


def adaptive_max_pool2d_samples(rng):
    x = values(rng, (2, 3, 7, 5))
    yield Sample((x, (3, 2)), label="smaller")
    yield Sample((x, 1), label="global")
    yield Sample((x, (4, None)), {"return_indices": True}, label="indices")
    yield Sample((values(rng, (3, 6, 6)), 4), label="unbatched")


def adaptive_max_pool1d_samples(rng):
    x = values(rng, (2, 3, 9))
    yield Sample((x, 4), label="smaller")
    yield Sample((x, 2), {"return_indices": True}, label="indices")


_F = "torch.nn.functional."

OPS = [
    OpInfo("max_pool2d", ops.max_pool2d, (ops.MaxPool2d,), max_pool2d_samples,
           _F + "max_pool2d"),
    OpInfo("max_pool1d", ops.max_pool1d, (ops.MaxPool1d,), max_pool1d_samples,
           _F + "max_pool1d"),
    OpInfo("avg_pool2d", ops.avg_pool2d, (ops.AvgPool2d,), avg_pool2d_samples,
           _F + "avg_pool2d"),
    OpInfo("avg_pool1d", ops.avg_pool1d, (ops.AvgPool1d,), avg_pool1d_samples,
           _F + "avg_pool1d"),
    OpInfo("lp_pool2d", ops.lp_pool2d, (ops.LPPool2d,), lp_pool2d_samples, _F + "lp_pool2d"),
    OpInfo("lp_pool1d", ops.lp_pool1d, (ops.LPPool1d,), lp_pool1d_samples, _F + "lp_pool1d"),
    OpInfo("adaptive_avg_pool2d", ops.adaptive_avg_pool2d, (ops.AdaptiveAvgPool2d,),
           adaptive_avg_pool2d_samples, _F + "adaptive_avg_pool2d"),
    OpInfo("adaptive_avg_pool1d", ops.adaptive_avg_pool1d, (ops.AdaptiveAvgPool1d,),
           adaptive_avg_pool1d_samples, _F + "adaptive_avg_pool1d"),
    OpInfo("adaptive_max_pool2d", ops.adaptive_max_pool2d, (ops.AdaptiveMaxPool2d,),
           adaptive_max_pool2d_samples, _F + "adaptive_max_pool2d"),
    OpInfo("adaptive_max_pool1d", ops.adaptive_max_pool1d, (ops.AdaptiveMaxPool1d,),
           adaptive_max_pool1d_samples, _F + "adaptive_max_pool1d"),
]
