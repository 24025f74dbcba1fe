"""Registry entries of the convolutions: every option (stride, each padding form, dilation,
groups incl. depthwise, bias or none, unbatched, strided and empty-batch input, no input
gradient as in a first layer), on tiny shapes (N2 C3 7x7, k3) so the gradcheck is quick."""
from autograd import ops
from autograd.opinfo.core import OpInfo, Sample, strided, values


def _torch_padded(torch, x, padding, spatial, kernel, stride, dilation):
    """PyTorch's F.pad for the padding forms its conv does not take: TensorFlow SAME with a
    stride (out = ceil(size / stride), the odd pixel after) and explicit (before, after)."""
    if padding == "same" and max(stride) > 1:
        pairs = []
        for a in range(spatial):
            size = x.shape[-spatial + a]
            out = -(-size // stride[a])
            total = max((out - 1) * stride[a] + (kernel[a] - 1) * dilation[a] + 1 - size, 0)
            pairs.append((total // 2, total - total // 2))
    elif isinstance(padding, tuple) and isinstance(padding[0], tuple):
        pairs = list(padding)
    else:
        return x, padding
    flat = [p for pair in reversed(pairs) for p in pair]
    return torch.nn.functional.pad(x, flat), 0


def _torch_conv(spatial):
    def ref(torch, x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        n = spatial
        s = stride if isinstance(stride, tuple) else (stride,) * n
        d = dilation if isinstance(dilation, tuple) else (dilation,) * n
        x, padding = _torch_padded(torch, x, padding, n, w.shape[2:], s, d)
        conv = torch.nn.functional.conv1d if n == 1 else torch.nn.functional.conv2d
        return conv(x, w, b, stride, padding, dilation, groups)
    return ref


def conv2d_samples(rng):
    x = values(rng, (2, 3, 7, 7))
    w = values(rng, (4, 3, 3, 3))
    b = values(rng, (4,))
    yield Sample((x, w, b), wrt=(0, 1, 2), label="basic")
    yield Sample((x, w), wrt=(0, 1), label="no-bias")
    yield Sample((x, w, b), wrt=(1, 2), label="first-layer")
    yield Sample((x, w, b), {"stride": 2, "padding": 1}, wrt=(0, 1, 2), label="stride2-pad1")
    yield Sample((x, values(rng, (4, 3, 2, 3)), b),
                 {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1)}, wrt=(0, 1, 2),
                 label="tuples-dilation")
    yield Sample((x, w, b), {"padding": "same"}, wrt=(0, 1, 2), label="same")
    yield Sample((x, values(rng, (4, 3, 4, 2)), b), {"padding": "same", "dilation": (1, 2)},
                 wrt=(0, 1, 2), label="same-even-kernel")
    yield Sample((x, w, b), {"padding": "same", "stride": 2}, wrt=(0, 1, 2),
                 label="same-stride2")
    yield Sample((values(rng, (2, 3, 8, 6)), values(rng, (4, 3, 4, 3)), b),
                 {"padding": "same", "stride": (3, 2)}, wrt=(0, 1, 2), label="same-stride-even")
    yield Sample((x, w, b), {"padding": "valid"}, wrt=(0, 1, 2), label="valid")
    yield Sample((x, w, b), {"padding": ((1, 0), (0, 2))}, wrt=(0, 1, 2),
                 label="asymmetric-pairs")
    yield Sample((values(rng, (2, 4, 6, 6)), values(rng, (6, 2, 3, 3)), values(rng, (6,))),
                 {"groups": 2, "padding": 1}, wrt=(0, 1, 2), label="groups2")
    yield Sample((values(rng, (2, 3, 6, 6)), values(rng, (6, 1, 3, 3)), values(rng, (6,))),
                 {"groups": 3, "stride": 2, "padding": 1}, wrt=(0, 1, 2), label="depthwise")
    yield Sample((values(rng, (2, 3, 6, 6)), values(rng, (6, 1, 3, 3)), values(rng, (6,))),
                 {"groups": 3, "padding": (1, 2), "dilation": (1, 2)}, wrt=(0, 1, 2),
                 label="depthwise-unit-stride")
    yield Sample((x, values(rng, (5, 3, 1, 1)), values(rng, (5,))), wrt=(0, 1, 2),
                 label="1x1")
    yield Sample((values(rng, (3, 6, 5)), w, b), {"padding": 1}, wrt=(0, 1, 2),
                 label="unbatched")
    yield Sample((strided(values(rng, (2, 3, 6, 7))), w, b), wrt=(0, 1, 2), label="strided")
    yield Sample((values(rng, (0, 3, 7, 7)), w, b), wrt=(0, 1, 2), label="empty-batch")


def conv1d_samples(rng):
    x = values(rng, (2, 3, 9))
    w = values(rng, (4, 3, 3))
    b = values(rng, (4,))
    yield Sample((x, w, b), wrt=(0, 1, 2), label="basic")
    yield Sample((x, w), {"stride": 2, "padding": 1, "dilation": 2}, wrt=(0, 1),
                 label="stride-pad-dilation")
    yield Sample((x, values(rng, (4, 3, 4)), b), {"padding": "same"}, wrt=(0, 1, 2),
                 label="same-even-kernel")
    yield Sample((x, w, b), {"padding": "same", "stride": 2}, wrt=(0, 1, 2),
                 label="same-stride2")
    yield Sample((x, w, b), {"padding": ((2, 0),)}, wrt=(0, 1, 2), label="asymmetric-pair")
    yield Sample((values(rng, (2, 4, 8)), values(rng, (4, 1, 3)), b), {"groups": 4},
                 wrt=(0, 1, 2), label="depthwise")
    yield Sample((values(rng, (3, 8)), w, b), wrt=(0, 1, 2), label="unbatched")
    yield Sample((x, w, b), wrt=(1, 2), label="first-layer")


def conv_transpose2d_samples(rng):
    x = values(rng, (2, 4, 4, 4))
    w = values(rng, (4, 3, 3, 3))
    b = values(rng, (3,))
    yield Sample((x, w, b), wrt=(0, 1, 2), label="basic")
    yield Sample((x, w), {"stride": 2, "padding": 1, "output_padding": 1}, wrt=(0, 1),
                 label="stride2-outpad1")
    yield Sample((x, values(rng, (4, 2, 2, 3)), values(rng, (4,))),
                 {"stride": (2, 3), "padding": (0, 1), "output_padding": (1, 2), "groups": 2},
                 wrt=(0, 1, 2), label="tuples-groups2")
    yield Sample((x, w, b), {"dilation": 2, "padding": 1}, wrt=(0, 1, 2), label="dilation2")
    yield Sample((x, values(rng, (4, 3, 4, 4)), b), {"stride": 2, "padding": 1},
                 wrt=(0, 1, 2), label="fcn-upsample-x2")
    yield Sample((values(rng, (4, 3, 3)), w, b), {"stride": 2}, wrt=(0, 1, 2),
                 label="unbatched")
    yield Sample((x, w, b), wrt=(1, 2), label="no-input-grad")


def conv_transpose1d_samples(rng):
    x = values(rng, (2, 4, 5))
    w = values(rng, (4, 3, 3))
    b = values(rng, (3,))
    yield Sample((x, w, b), wrt=(0, 1, 2), label="basic")
    yield Sample((x, w, b), {"stride": 2, "padding": 1, "output_padding": 1, "dilation": 1},
                 wrt=(0, 1, 2), label="stride2-outpad1")
    yield Sample((x, values(rng, (4, 1, 3))), {"groups": 2}, wrt=(0, 1), label="groups2")


OPS = [
    OpInfo("conv2d", ops.conv2d, (ops.Conv2d,), conv2d_samples, _torch_conv(2)),
    OpInfo("conv1d", ops.conv1d, (ops.Conv1d,), conv1d_samples, _torch_conv(1)),
    OpInfo("conv_transpose2d", ops.conv_transpose2d, (ops.ConvTranspose2d,),
           conv_transpose2d_samples, "torch.nn.functional.conv_transpose2d"),
    OpInfo("conv_transpose1d", ops.conv_transpose1d, (ops.ConvTranspose1d,),
           conv_transpose1d_samples, "torch.nn.functional.conv_transpose1d"),
]
