"""VGAN: two-stream video GAN, foreground + mask over a static background (Vondrick 2016)."""

from vidgen_tf.models.vgan.presets import VGAN_PRESETS
from vidgen_tf.models.vgan.vgan import VGAN
from vidgen_tf.models.vgan.vgan_discriminator import VGANDiscriminator
from vidgen_tf.models.vgan.vgan_generator import VGANGenerator

__all__ = ["VGAN", "VGAN_PRESETS", "VGANDiscriminator", "VGANGenerator"]
