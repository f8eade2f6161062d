"""MoCoGAN: motion/content video GAN with image and video discriminators (Tulyakov 2018)."""

from vidgen_tf.models.mocogan.mocogan import MoCoGAN
from vidgen_tf.models.mocogan.mocogan_generator import MoCoGANGenerator
from vidgen_tf.models.mocogan.mocogan_image_discriminator import MoCoGANImageDiscriminator
from vidgen_tf.models.mocogan.mocogan_video_discriminator import MoCoGANVideoDiscriminator
from vidgen_tf.models.mocogan.presets import MOCOGAN_PRESETS

__all__ = ["MOCOGAN_PRESETS", "MoCoGAN", "MoCoGANGenerator", "MoCoGANImageDiscriminator",
           "MoCoGANVideoDiscriminator"]
