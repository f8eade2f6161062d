"""The VGAN two-stream generator: a 3D foreground with a mask over a static 2D background."""

from __future__ import annotations

import keras
from keras import layers, ops

from vidgen_tf.layers.conv_plan import spatial_doublings, temporal_strides


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VGANGenerator(keras.Model):
    """VGAN generator: noise `z` -> video = mask * foreground + (1 - mask) * background.

    Follows Vondrick, Pirsiavash and Torralba 2016, "Generating Videos with Scene Dynamics".
    Both streams read the same `z`:

    - foreground (3D): project `z` to `(t0, 4, 4)`, then stride-2 Conv3DTranspose + BatchNorm
      + ReLU blocks (time doubles on the last layers), ending in 4 channels: RGB through tanh
      (the moving foreground `f`) and one through sigmoid (the mask `m`);
    - background (2D): project `z` to `(4, 4)`, then stride-2 Conv2DTranspose + BatchNorm +
      ReLU blocks, ending in a tanh image `b` that stays still over time.

    The paper's setting, 32 frames at 64x64, starts the foreground at 2x4x4 with 512 filters.

    Args:
        frames: int, default 32. Output frames; any value >= 1.
        size: int, default 64. Output height and width: 4 x a power of two (8, 16, 32, 64...).
        z_dim: int, default 100. Length of the noise vector.
        base_filters: int, default 64. Filters of the last hidden layer of each stream;
            earlier layers have 2x, 4x, ... as many.
        channels: int, default 3. Output channels of the foreground and background.

    Call:
        inputs: a dict `{"z": float (batch, z_dim)}` (or the tensor itself). All randomness
            comes in through `z`: the graph has no random op.
        return_mask: bool, default False. Also return the mask (for the sparsity penalty).
        Returns float32 video `(batch, frames, size, size, channels)`, channels-last, in
        [-1, 1]; with `return_mask`, the pair `(video, mask)`, mask float32
        `(batch, frames, size, size, 1)` in [0, 1].

    Example:
        >>> g = VGANGenerator(frames=8, size=16, z_dim=8, base_filters=8)
        >>> tuple(g({"z": keras.random.normal((2, 8))}).shape)
        (2, 8, 16, 16, 3)
    """

    family = "VGAN"

    def __init__(self, frames: int = 32, size: int = 64, z_dim: int = 100,
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
        self.top_filters = base_filters * 2 ** (doublings - 1)

        # Layers: foreground stream (3D), whose last layer carries RGB + mask.
        self.fg_project = layers.Dense(self.start_frames * 4 * 4 * self.top_filters,
                                       use_bias=False, name="fg_project")
        self.fg_project_norm = layers.BatchNormalization(synchronized=True, name="fg_project_norm")
        self.fg_blocks = []
        for i, stride in enumerate(strides[:-1]):
            self.fg_blocks.append((
                layers.Conv3DTranspose(self.top_filters // 2 ** (i + 1), 4,
                                       strides=(stride, 2, 2), padding="same", use_bias=False,
                                       name=f"fg_up{i}"),
                layers.BatchNormalization(synchronized=True, name=f"fg_up{i}_norm"),
            ))
        self.fg_to_video = layers.Conv3DTranspose(channels + 1, 4, strides=(strides[-1], 2, 2),
                                                  padding="same", name="fg_to_video")
        self.fg_activation = layers.Activation("tanh", dtype="float32", name="fg_tanh")
        self.mask_activation = layers.Activation("sigmoid", dtype="float32", name="mask_sigmoid")

        # Layers: background stream (2D), one still image per clip.
        self.bg_project = layers.Dense(4 * 4 * self.top_filters, use_bias=False,
                                       name="bg_project")
        self.bg_project_norm = layers.BatchNormalization(synchronized=True, name="bg_project_norm")
        self.bg_blocks = []
        for i in range(doublings - 1):
            self.bg_blocks.append((
                layers.Conv2DTranspose(self.top_filters // 2 ** (i + 1), 4, strides=2,
                                       padding="same", use_bias=False, name=f"bg_up{i}"),
                layers.BatchNormalization(synchronized=True, name=f"bg_up{i}_norm"),
            ))
        self.bg_to_image = layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                                  name="bg_to_image")
        self.bg_activation = layers.Activation("tanh", dtype="float32", name="bg_tanh")

    def noise_spec(self) -> dict:
        """Each named input: per-sample shape, dtype and how to sample it."""
        return {"z": {"shape": (self.z_dim,), "dtype": "float32", "distribution": "normal"}}

    def build(self, input_shape=None):
        self.call({"z": ops.zeros((1, self.z_dim))})
        self.built = True

    def streams(self, inputs, training=False):
        """The three parts before composition: `(foreground, mask, background)`, float32.

        foreground `(batch, frames, size, size, channels)` in [-1, 1], mask
        `(batch, frames, size, size, 1)` in [0, 1], background `(batch, size, size, channels)`
        in [-1, 1] (no time axis: one image per clip), all channels-last.
        """
        z = inputs["z"] if isinstance(inputs, dict) else inputs

        x = self.fg_project(z)
        x = ops.reshape(x, (-1, self.start_frames, 4, 4, self.top_filters))
        x = ops.relu(self.fg_project_norm(x, training=training))
        for conv, norm in self.fg_blocks:
            x = ops.relu(norm(conv(x), training=training))
        x = self.fg_to_video(x)
        foreground = self.fg_activation(x[..., :self.channels])
        mask = self.mask_activation(x[..., self.channels:])

        y = self.bg_project(z)
        y = ops.reshape(y, (-1, 4, 4, self.top_filters))
        y = ops.relu(self.bg_project_norm(y, training=training))
        for conv, norm in self.bg_blocks:
            y = ops.relu(norm(conv(y), training=training))
        background = self.bg_activation(self.bg_to_image(y))
        return foreground, mask, background

    def call(self, inputs, training=False, return_mask=False):
        foreground, mask, background = self.streams(inputs, training=training)
        # The background is one image per clip, repeated over time by broadcasting.
        video = mask * foreground + (1.0 - mask) * ops.expand_dims(background, 1)
        if return_mask:
            return video, mask
        return video

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, size=self.size, z_dim=self.z_dim,
                      base_filters=self.base_filters, channels=self.channels)
        return config
