"""The 3D DCGAN video discriminator: strided Conv3D blocks down to one real/fake logit."""

from __future__ import annotations

import keras
from keras import layers, ops

from vidgen_tf.layers.conv_plan import spatial_doublings, temporal_strides
from vidgen_tf.layers.spectral_conv import SpectralConv3D

NORMS = ("batch", "layer", "spectral", "none")


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VideoDCGANDiscriminator(keras.Model):
    """3D DCGAN discriminator: video -> one logit per clip (higher means "real").

    The mirror of `VideoDCGANGenerator` (Radford et al. 2016 in 3D, as in Vondrick et al.
    2016): stride-2 Conv3D + LeakyReLU(0.2) blocks that halve height and width (and time
    where the generator doubled it), doubling the filters, then a dense float32 logit. With
    `norm="spectral"` every layer is spectrally normalized instead (SNGAN, Miyato et al. 2018),
    the logit included, which is then a conv over the whole remaining volume.

    Args:
        frames: int, default 16. Input frames.
        size: int, default 64. Input height and width (4 x a power of two).
        base_filters: int, default 64. Filters of the first layer ("ndf").
        norm: str, default "batch". Normalisation after every conv but the first: "batch",
            "layer" (use it with WGAN-GP, whose penalty is per sample) or "none"; or
            "spectral": every conv and the logit spectrally normalized (`SpectralConv3D`),
            no normalisation layers.
        channels: int, default 3. Input channels.

    Call:
        video: float `(batch, frames, size, size, channels)`, channels-last, in [-1, 1].
        Returns float32 logits `(batch, 1)`.

    Example:
        >>> d = VideoDCGANDiscriminator(frames=8, size=16, base_filters=8)
        >>> tuple(d(keras.random.uniform((2, 8, 16, 16, 3), -1, 1)).shape)
        (2, 1)
    """

    def __init__(self, frames: int = 16, size: int = 64, base_filters: int = 64,
                 norm: str = "batch", channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {', '.join(NORMS)}; received norm={norm!r}")
        # Config
        self.frames = frames
        self.size = size
        self.base_filters = base_filters
        self.norm = norm
        self.channels = channels
        doublings = spatial_doublings(size, "dcgan3d")
        remaining_frames, strides = temporal_strides(frames, doublings, "dcgan3d")
        spectral = norm == "spectral"

        # Layers: time is halved on the first layers, mirroring the generator's last ones.
        self.blocks = []
        for i, stride in enumerate(reversed(strides)):
            conv = (SpectralConv3D if spectral else layers.Conv3D)(
                base_filters * 2**i, 4, strides=(stride, 2, 2), padding="same",
                use_bias=(i == 0 or norm in ("none", "spectral")), name=f"down{i}")
            if i == 0 or norm in ("none", "spectral"):
                normaliser = None
            elif norm == "batch":
                normaliser = layers.BatchNormalization(synchronized=True, name=f"down{i}_norm")
            else:
                normaliser = layers.LayerNormalization(axis=(-4, -3, -2, -1),
                                                       name=f"down{i}_norm")
            self.blocks.append((conv, normaliser))
        self.flatten = layers.Flatten(name="flatten")
        if spectral:  # the Dense logit as a conv over the whole (frames, 4, 4) volume
            self.to_logit = SpectralConv3D(1, (remaining_frames, 4, 4), padding="valid",
                                           dtype="float32", name="logit")
        else:
            self.to_logit = layers.Dense(1, dtype="float32", name="logit")

    def build(self, input_shape=None):
        self.call(ops.zeros((1, self.frames, self.size, self.size, self.channels)))
        self.built = True

    def call(self, video, training=False):
        x = video
        for conv, normaliser in self.blocks:
            x = conv(x, training=training)  # spectral norm updates its estimate in training
            if normaliser is not None:
                x = normaliser(x, training=training)
            x = ops.leaky_relu(x, 0.2)
        if self.norm == "spectral":
            return self.flatten(self.to_logit(x, training=training))
        return self.to_logit(self.flatten(x))

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, size=self.size, base_filters=self.base_filters,
                      norm=self.norm, channels=self.channels)
        return config
