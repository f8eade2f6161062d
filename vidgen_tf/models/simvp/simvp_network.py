"""SimVPNetwork: SimVP's convolutional encoder, gSTA translator and decoder (Gao et al. 2022;
Tan et al. 2022): all future frames in one pass."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops


def strided_layers(n_s: int) -> list[bool]:
    """Which of the encoder's n_s layers halve the size: every second one, from the second
    (OpenSTL's `sampling_generator`)."""
    return [i % 2 == 1 for i in range(n_s)]


class _ConvSC(layers.Layer):
    """3x3 convolution (strided to halve, or to 4x channels then pixel shuffle to double),
    GroupNorm with 2 groups, SiLU."""

    def __init__(self, filters: int, kernel: int, down: bool = False, up: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.up = up
        self.conv = layers.Conv2D(filters * 4 if up else filters, kernel, strides=2 if down else 1,
                                  padding="same")
        self.norm = layers.GroupNormalization(groups=2, epsilon=1e-5)

    def call(self, x):
        x = self.conv(x)
        if self.up:
            x = tf.nn.depth_to_space(x, 2)
        return ops.silu(self.norm(x))


class _GASubBlock(layers.Layer):
    """gSTA block: gated large-kernel attention (depthwise 5x5, depthwise 7x7 dilated 3, 1x1
    to value and gate) and a depthwise-conv MLP, each after BatchNorm, with layer scale 1e-2
    and a residual."""

    def __init__(self, dim: int, mlp_ratio: float, **kwargs):
        super().__init__(**kwargs)
        self.norm1 = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
        self.proj_1 = layers.Conv2D(dim, 1)
        self.conv0 = layers.DepthwiseConv2D(5, padding="same")
        self.conv_spatial = layers.DepthwiseConv2D(7, padding="same", dilation_rate=3)
        self.conv1 = layers.Conv2D(2 * dim, 1)
        self.proj_2 = layers.Conv2D(dim, 1)
        self.norm2 = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
        hidden = int(dim * mlp_ratio)
        self.fc1 = layers.Conv2D(hidden, 1)
        self.dwconv = layers.DepthwiseConv2D(3, padding="same")
        self.fc2 = layers.Conv2D(dim, 1)
        self.dim = dim

    def build(self, input_shape):
        self.scale_1 = self.add_weight(shape=(self.dim,), initializer=keras.initializers.Constant(
            1e-2), name="layer_scale_1")
        self.scale_2 = self.add_weight(shape=(self.dim,), initializer=keras.initializers.Constant(
            1e-2), name="layer_scale_2")

    def call(self, x, training=False):
        y = self.norm1(x, training=training)
        shortcut = y
        y = ops.gelu(self.proj_1(y), approximate=True)
        attention = self.conv1(self.conv_spatial(self.conv0(y)))
        value, gate = ops.split(attention, 2, axis=-1)
        y = self.proj_2(ops.sigmoid(gate) * value) + shortcut
        x = x + ops.cast(self.scale_1, y.dtype) * y
        y = self.norm2(x, training=training)
        y = self.fc2(ops.gelu(self.dwconv(self.fc1(y)), approximate=True))
        return x + ops.cast(self.scale_2, y.dtype) * y


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SimVPNetwork(keras.Model):
    """SimVP: predicts all future frames in one pass, with no recurrence.

    Follows Gao et al. 2022 ("SimVP: Simpler yet Better Video Prediction") with the gSTA
    translator of SimVP v2 (Tan et al. 2022), as OpenSTL builds it for Moving MNIST: each
    context frame is encoded by `n_s` ConvSC blocks (convolution, GroupNorm, SiLU; every
    second one halves the size); the translator sees the frames stacked as channels and
    mixes them with `n_t` gSTA blocks (the first and last also map between context x hid_s and
    hid_t channels); the decoder mirrors the encoder (pixel shuffle to double), adds the first
    encoder block's output as a skip, and a 1x1 convolution gives the frame. One pass maps
    `context` frames to `context` frames; a longer horizon chains passes on the last
    predictions, a shorter one keeps the first frames.

    Args:
        context: int, default 10. Frames given.
        horizon: int, default 10. Frames predicted.
        size: int, default 64. Frame height and width; divisible by 2 ** (n_s // 2).
        channels: int, default 1. 1 (grey) or 3 (RGB).
        hid_s: int, default 64. Encoder and decoder channels.
        hid_t: int, default 512. Translator channels.
        n_s: int, default 4. Encoder (and decoder) blocks.
        n_t: int, default 8. Translator blocks, >= 2.
        mlp_ratio: float, default 8. Widening of the translator's MLPs.
        residual: bool, default False. Each predicted frame is the last given frame plus the
            network's output, whose readout starts at zero: the network learns the change,
            and training starts from copying the last frame. For real video, where little
            changes from frame to frame; OpenSTL's SimVP has no such path.

    `call({"context": (batch, context, size, size, channels)})`, channels-last in [-1, 1],
    returns float32 `(batch, horizon, size, size, channels)` (linear).

    Example:
        >>> net = SimVPNetwork(context=4, horizon=4, size=16, hid_s=8, hid_t=16, n_s=2, n_t=2)
        >>> net({"context": np.zeros((1, 4, 16, 16, 1), "float32")}).shape
        TensorShape([1, 4, 16, 16, 1])
    """

    def __init__(self, context: int = 10, horizon: int = 10, size: int = 64, channels: int = 1,
                 hid_s: int = 64, hid_t: int = 512, n_s: int = 4, n_t: int = 8,
                 mlp_ratio: float = 8.0, residual: bool = False, **kwargs):
        super().__init__(**kwargs)
        for name, value, low in (("context", context, 1), ("horizon", horizon, 1),
                                 ("hid_s", hid_s, 2), ("hid_t", hid_t, 2), ("n_s", n_s, 1),
                                 ("n_t", n_t, 2)):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low} for SimVPNetwork; "
                                 f"received {name}={value!r}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3 for SimVPNetwork; received "
                             f"channels={channels}")
        factor = 2 ** sum(strided_layers(n_s))
        if size % factor:
            raise ValueError(f"size must be a multiple of {factor} (2 ** (n_s // 2)) for "
                             f"SimVPNetwork with n_s={n_s}; received size={size}")
        if hid_s % 2 or hid_t % 2:
            raise ValueError(f"hid_s and hid_t must be even (GroupNorm of 2 groups, gates "
                             f"split in 2) for SimVPNetwork; received {hid_s} and {hid_t}")
        # Config
        self.context, self.horizon, self.size, self.channels = context, horizon, size, channels
        self.hid_s, self.hid_t, self.n_s, self.n_t = hid_s, hid_t, n_s, n_t
        self.mlp_ratio, self.residual = float(mlp_ratio), bool(residual)
        # Layers
        strides = strided_layers(n_s)
        self.encoder = [_ConvSC(hid_s, 3, down=s, name=f"enc_{i}") for i, s in enumerate(strides)]
        wide = context * hid_s
        self.blocks = [_GASubBlock(wide if i == 0 else hid_t, self.mlp_ratio, name=f"gsta_{i}")
                       for i in range(n_t)]
        self.into_translator = layers.Conv2D(hid_t, 1, name="into_translator")
        self.out_of_translator = layers.Conv2D(wide, 1, name="out_of_translator")
        self.decoder = [_ConvSC(hid_s, 3, up=s, name=f"dec_{i}")
                        for i, s in enumerate(reversed(strides))]
        self.readout = layers.Conv2D(channels, 1, dtype="float32", name="readout",
                                     **({"kernel_initializer": "zeros"} if residual else {}))

    def build(self, input_shape=None):
        if not self.built:
            self._one_pass(ops.zeros((1, self.context, self.size, self.size, self.channels)))
        self.built = True

    def _one_pass(self, frames, training=False):
        batch, t = ops.shape(frames)[0], self.context
        x = ops.reshape(frames, (-1, self.size, self.size, self.channels))
        skip = x = self.encoder[0](x)
        for block in self.encoder[1:]:
            x = block(x)
        small = x.shape[1]
        # Frames stacked as channels: (batch, h, w, t * hid_s).
        x = ops.reshape(x, (batch, t, small, small, self.hid_s))
        x = ops.reshape(ops.transpose(x, (0, 2, 3, 1, 4)), (batch, small, small, t * self.hid_s))
        x = self.blocks[0](x, training=training)
        x = self.into_translator(x)
        for block in self.blocks[1:]:
            x = block(x, training=training)
        x = self.out_of_translator(x)
        x = ops.transpose(ops.reshape(x, (batch, small, small, t, self.hid_s)), (0, 3, 1, 2, 4))
        x = ops.reshape(x, (-1, small, small, self.hid_s))
        for block in self.decoder[:-1]:
            x = block(x)
        x = self.readout(self.decoder[-1](x + ops.cast(skip, x.dtype)))
        return ops.reshape(x, (batch, t, self.size, self.size, self.channels))

    def call(self, inputs, training=False):
        frames = ops.cast(inputs["context"], self.compute_dtype)
        predicted = []
        while sum(p.shape[1] for p in predicted) < self.horizon:
            out = self._one_pass(frames, training=training)
            if self.residual:  # the change from the last given frame
                out = out + ops.cast(frames[:, -1:], out.dtype)
            predicted.append(out)
            frames = ops.cast(out, self.compute_dtype)
        return ops.concatenate(predicted, axis=1)[:, :self.horizon]

    def get_config(self):
        config = super().get_config()
        config.update(context=self.context, horizon=self.horizon, size=self.size,
                      channels=self.channels, hid_s=self.hid_s, hid_t=self.hid_t, n_s=self.n_s,
                      n_t=self.n_t, mlp_ratio=self.mlp_ratio, residual=self.residual)
        return config
