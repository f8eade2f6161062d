"""ResizeConv2D: 2x nearest-neighbour upsampling, then a 3x3 convolution, without a checkerboard."""

from __future__ import annotations

import keras
from keras import layers

UPSAMPLINGS = ("transpose", "resize")


def check_upsample(upsample: str, owner: str) -> str:
    """`upsample` if it is one of `UPSAMPLINGS`, else a ValueError naming them."""
    if upsample not in UPSAMPLINGS:
        raise ValueError(f"upsample must be one of {', '.join(UPSAMPLINGS)} for {owner}; "
                         f"received upsample={upsample!r}")
    return upsample


def make_upsampling(upsample: str, filters: int, use_bias: bool = True, name: str | None = None):
    """A layer that doubles height and width: a stride-2, 4x4 `Conv2DTranspose` ("transpose",
    DCGAN's) or a `ResizeConv2D` ("resize")."""
    if check_upsample(upsample, "make_upsampling") == "transpose":
        return layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=use_bias,
                                      name=name)
    return ResizeConv2D(filters, use_bias=use_bias, name=name)


@keras.saving.register_keras_serializable(package="vidgen_tf")
class ResizeConv2D(keras.layers.Layer):
    """Double height and width by repeating pixels, then convolve with a 3x3 kernel.

    Follows Odena, Dumoulin & Olah 2016, "Deconvolution and Checkerboard Artifacts": a
    stride-2 transposed convolution whose kernel size is not a multiple of its stride gives
    output pixels unequal numbers of input taps, so even a flat input map comes out as a
    2x2-periodic checkerboard, which the generator must learn to cancel. Nearest-neighbour
    upsampling followed by an ordinary convolution treats every output pixel alike: a flat
    map stays flat away from the border. It costs 9/4 of the transposed conv's multiplies
    (a 3x3 kernel on the doubled map against 4x4 on the input).

    Args:
        filters: int. Output channels.
        use_bias: bool, default True. Whether the convolution has a bias.

    Call:
        x: float `(batch, height, width, channels)`, channels-last.
        Returns `(batch, 2 * height, 2 * width, filters)`.

    Example:
        >>> tuple(ResizeConv2D(8)(keras.ops.zeros((2, 4, 4, 3))).shape)
        (2, 8, 8, 8)
    """

    def __init__(self, filters: int, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        # Config
        self.filters = filters
        self.use_bias = use_bias
        # Layers
        self.upsample = layers.UpSampling2D(2, interpolation="nearest", name="upsample")
        self.conv = layers.Conv2D(filters, 3, padding="same", use_bias=use_bias, name="conv")

    def build(self, input_shape):
        self.conv.build(self.upsample.compute_output_shape(input_shape))
        self.built = True

    def call(self, x):
        return self.conv(self.upsample(x))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(self.upsample.compute_output_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, use_bias=self.use_bias)
        return config
