"""The VGAN video discriminator: the 3D DCGAN discriminator with VGAN's defaults and errors."""

from __future__ import annotations

import keras

from vidgen_tf.layers.conv_plan import spatial_doublings, temporal_strides
from vidgen_tf.models.dcgan3d.video_dcgan_discriminator import VideoDCGANDiscriminator


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VGANDiscriminator(VideoDCGANDiscriminator):
    """VGAN discriminator: video -> one logit per clip (higher means "real").

    Follows Vondrick, Pirsiavash and Torralba 2016: the mirror of the foreground stream,
    stride-2 Conv3D + BatchNorm + LeakyReLU(0.2) blocks (the layers of
    `VideoDCGANDiscriminator`), then a float32 logit. For 32 frames at 64x64 that is
    64-128-256-512 filters down to 2x4x4, as in the paper.

    Args:
        frames: int, default 32. Input frames.
        size: int, default 64. Input height and width (4 x a power of two).
        base_filters: int, default 64. Filters of the first layer.
        norm: str, default "batch". "batch", "layer" (use it with WGAN-GP) or "none".
        channels: int, default 3. Input channels.

    Call:
        video: float `(batch, frames, size, size, channels)`, channels-last, in [-1, 1].
        Returns float32 logits `(batch, 1)`.

    Example:
        >>> d = VGANDiscriminator(frames=8, size=16, base_filters=8)
        >>> tuple(d(keras.random.uniform((2, 8, 16, 16, 3), -1, 1)).shape)
        (2, 1)
    """

    def __init__(self, frames: int = 32, size: int = 64, base_filters: int = 64,
                 norm: str = "batch", channels: int = 3, **kwargs):
        # Check the clip shape first so that errors name VGAN, not the parent family.
        temporal_strides(frames, spatial_doublings(size, "VGAN"), "VGAN")
        super().__init__(frames=frames, size=size, base_filters=base_filters, norm=norm,
                         channels=channels, **kwargs)
