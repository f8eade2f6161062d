"""Inception-I3D (Kinetics-400 RGB) in Keras, layer for layer as the DeepMind reference."""

from __future__ import annotations

import keras
from keras import layers, ops

# Frame size the Kinetics I3D was trained at; its final 2x7x7 average pool assumes it.
I3D_SIZE = 224
# Fewest frames the reference graph accepts: three stride-2 time reductions (SAME padding)
# must leave at least the 2 frames of the final VALID average pool: ceil(ceil(ceil(T/2)/2)/2) >= 2.
I3D_MIN_FRAMES = 9

# Output channels of each inception block, in the reference's order:
# (branch 0 1x1, branch 1 1x1, branch 1 3x3, branch 2 1x1, branch 2 3x3, branch 3 pool-1x1).
MIXED_CHANNELS = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32),
    "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64),
    "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64),
    "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128),
    "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}


def _unit3d(x, scope: str, filters: int, kernel, strides=(1, 1, 1), dtype=None):
    """Conv3D (SAME, no bias) + BatchNorm (offset only, eps 1e-3) + ReLU: the reference Unit3D.

    Layer names are the checkpoint scope with "/" written as "." (Keras forbids "/"), so
    `Mixed_3b.Branch_1.Conv3d_0b_3x3.Conv_0` holds `params/Mixed_3b/Branch_1/.../Conv_0/kernel`.
    """
    x = layers.Conv3D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      name=f"{scope}.Conv_0", dtype=dtype)(x)
    # Sonnet's BatchNorm: offset but no scale, epsilon 1e-3, moving statistics at inference.
    x = layers.BatchNormalization(epsilon=1e-3, center=True, scale=False,
                                  name=f"{scope}.BatchNorm_0", dtype=dtype)(x)
    return layers.ReLU(name=f"{scope}.relu", dtype=dtype)(x)


def _max_pool(x, name: str, size, strides, dtype=None):
    # TF "SAME" max pooling: padded cells never win, exactly as tf.nn.max_pool3d.
    return layers.MaxPooling3D(size, strides=strides, padding="same", name=name, dtype=dtype)(x)


def _inception_block(x, name: str, channels, dtype=None):
    b0, b1a, b1b, b2a, b2b, b3 = channels
    branch_0 = _unit3d(x, f"{name}.Branch_0.Conv3d_0a_1x1", b0, 1, dtype=dtype)
    branch_1 = _unit3d(x, f"{name}.Branch_1.Conv3d_0a_1x1", b1a, 1, dtype=dtype)
    branch_1 = _unit3d(branch_1, f"{name}.Branch_1.Conv3d_0b_3x3", b1b, 3, dtype=dtype)
    branch_2 = _unit3d(x, f"{name}.Branch_2.Conv3d_0a_1x1", b2a, 1, dtype=dtype)
    branch_2 = _unit3d(branch_2, f"{name}.Branch_2.Conv3d_0b_3x3", b2b, 3, dtype=dtype)
    branch_3 = _max_pool(x, f"{name}.Branch_3.MaxPool3d_0a_3x3", 3, 1, dtype=dtype)
    branch_3 = _unit3d(branch_3, f"{name}.Branch_3.Conv3d_0b_1x1", b3, 1, dtype=dtype)
    return layers.Concatenate(axis=-1, name=f"{name}.concat", dtype=dtype)(
        [branch_0, branch_1, branch_2, branch_3])


@keras.saving.register_keras_serializable(package="vidgen_tf")
class InceptionI3D(keras.Model):
    """Inception-v1 inflated to 3D (I3D), returning logits averaged over time.

    Follows "Quo Vadis, Action Recognition? A New Model and the Kinetics Dataset"
    (Carreira & Zisserman, CVPR 2017) and its reference code (deepmind/kinetics-i3d):
    TF "SAME" padding for every convolution and max pool, BatchNorm with an offset and no
    scale (epsilon 1e-3), inception blocks Mixed_3b..Mixed_5c, then a 2x7x7 VALID average
    pool, a 1x1x1 convolution to the class logits, and the mean over the remaining time
    steps. This is the "RGB/inception_i3d/Mean" tensor the FVD reference embeds videos with.
    Load the Kinetics-400 weights with `vidgen_tf.metrics.i3d_weights.load_i3d_weights`.

    Args:
        num_classes: int, default 400 (Kinetics-400).
        dtype: dtype policy of every layer but the logits head, e.g. "mixed_bfloat16"
            (default None: the global policy). The logits are always float32.

    Input: float video in [-1, 1], channels-last `(batch, frames, 224, 224, 3)` with
    frames >= 9. Output: float32 logits `(batch, num_classes)`.

    Example:
        >>> model = InceptionI3D()
        >>> tuple(model.output_shape)
        (None, 400)
    """

    def __init__(self, num_classes: int = 400, dtype=None, **kwargs):
        inputs = keras.Input((None, I3D_SIZE, I3D_SIZE, 3), name="video")
        x = _unit3d(inputs, "Conv3d_1a_7x7", 64, 7, strides=2, dtype=dtype)
        x = _max_pool(x, "MaxPool3d_2a_3x3", (1, 3, 3), (1, 2, 2), dtype=dtype)
        x = _unit3d(x, "Conv3d_2b_1x1", 64, 1, dtype=dtype)
        x = _unit3d(x, "Conv3d_2c_3x3", 192, 3, dtype=dtype)
        x = _max_pool(x, "MaxPool3d_3a_3x3", (1, 3, 3), (1, 2, 2), dtype=dtype)
        x = _inception_block(x, "Mixed_3b", MIXED_CHANNELS["Mixed_3b"], dtype)
        x = _inception_block(x, "Mixed_3c", MIXED_CHANNELS["Mixed_3c"], dtype)
        x = _max_pool(x, "MaxPool3d_4a_3x3", 3, 2, dtype=dtype)
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = _inception_block(x, name, MIXED_CHANNELS[name], dtype)
        x = _max_pool(x, "MaxPool3d_5a_2x2", 2, 2, dtype=dtype)
        x = _inception_block(x, "Mixed_5b", MIXED_CHANNELS["Mixed_5b"], dtype)
        x = _inception_block(x, "Mixed_5c", MIXED_CHANNELS["Mixed_5c"], dtype)
        # Logits head in float32: it is cheap, and the features feed a float64 covariance.
        x = layers.AveragePooling3D((2, 7, 7), strides=1, padding="valid",
                                    name="Logits.AvgPool3d_0a_7x7", dtype="float32")(x)
        x = layers.Conv3D(num_classes, 1, use_bias=True, name="Logits.Conv3d_0c_1x1.Conv_0",
                          dtype="float32")(x)
        # (batch, time, 1, 1, classes): squeeze space, then average the logits over time.
        logits = ops.mean(x, axis=(1, 2, 3))
        super().__init__(inputs=inputs, outputs=logits, **{"name": "inception_i3d", **kwargs})

        # Config
        self.num_classes = num_classes
        self.policy_name = None if dtype is None else keras.DTypePolicy(dtype).name

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "dtype": self.policy_name, "name": self.name,
                "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)
