"""The 3D DCGAN video generator: a dense projection, then Conv3DTranspose blocks, then tanh."""

from __future__ import annotations

import keras
from keras import layers, ops

from vidgen_tf.layers.conv_plan import spatial_doublings, temporal_strides


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VideoDCGANGenerator(keras.Model):
    """3D DCGAN generator: noise `z` -> video, the seed documents' basic video GAN.

    Follows the DCGAN recipe (Radford et al. 2016) lifted to 3D, as in the foreground stream
    of VGAN (Vondrick et al. 2016): project `z` to a small `(t0, 4, 4)` volume, then double
    height and width (and time, on the last layers) with stride-2 Conv3DTranspose + BatchNorm
    + ReLU, halving the filters each time, and end in a float32 tanh.

    Args:
        frames: int, default 16. Output frames; any value >= 1 (time doubles on as many
            layers as `frames` allows).
        size: int, default 64. Output height and width: 4 x a power of two (8, 16, 32, 64...).
        z_dim: int, default 100. Length of the noise vector.
        base_filters: int, default 64. Filters of the last hidden layer ("ngf"); earlier
            layers have 2x, 4x, ... as many.
        channels: int, default 3. Output channels.

    Call:
        inputs: a dict `{"z": float (batch, z_dim)}` (or the tensor itself). All randomness
            comes in through `z`: the graph has no random op.
        Returns float32 video `(batch, frames, size, size, channels)`, channels-last, in
        [-1, 1].

    Example:
        >>> g = VideoDCGANGenerator(frames=8, size=16, z_dim=8, base_filters=8)
        >>> tuple(g({"z": keras.random.normal((2, 8))}).shape)
        (2, 8, 16, 16, 3)
    """

    family = "dcgan3d"

    def __init__(self, frames: int = 16, size: int = 64, z_dim: int = 100,
                 base_filters: int = 64, channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        # Config
        self.frames = frames
        self.size = size
        self.z_dim = z_dim
        self.base_filters = base_filters
        self.channels = channels
        doublings = spatial_doublings(size, self.family)
        self.start_frames, strides = temporal_strides(frames, doublings, self.family)
        top_filters = base_filters * 2 ** (doublings - 1)

        # Layers
        self.project = layers.Dense(self.start_frames * 4 * 4 * top_filters, use_bias=False,
                                    name="project")
        self.project_norm = layers.BatchNormalization(synchronized=True, name="project_norm")
        self.project_shape = (self.start_frames, 4, 4, top_filters)
        self.blocks = []
        for i, stride in enumerate(strides[:-1]):
            filters = top_filters // 2 ** (i + 1)
            self.blocks.append((
                layers.Conv3DTranspose(filters, 4, strides=(stride, 2, 2), padding="same",
                                       use_bias=False, name=f"up{i}"),
                layers.BatchNormalization(synchronized=True, name=f"up{i}_norm"),
            ))
        self.to_video = layers.Conv3DTranspose(channels, 4, strides=(strides[-1], 2, 2),
                                               padding="same", name="to_video")
        self.output_activation = layers.Activation("tanh", dtype="float32", name="tanh")

    def noise_spec(self) -> dict:
        """Each named input: per-sample shape, dtype and how to sample it."""
        return {"z": {"shape": (self.z_dim,), "dtype": "float32", "distribution": "normal"}}

    def build(self, input_shape=None):
        self.call({"z": ops.zeros((1, self.z_dim))})
        self.built = True

    def call(self, inputs, training=False):
        z = inputs["z"] if isinstance(inputs, dict) else inputs
        x = self.project(z)
        x = ops.reshape(x, (-1, *self.project_shape))
        x = ops.relu(self.project_norm(x, training=training))
        for conv, norm in self.blocks:
            x = ops.relu(norm(conv(x), training=training))
        return self.output_activation(self.to_video(x))

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, size=self.size, z_dim=self.z_dim,
                      base_filters=self.base_filters, channels=self.channels)
        return config
