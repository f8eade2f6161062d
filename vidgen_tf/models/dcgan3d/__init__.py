"""3D DCGAN: the basic video GAN (generator, discriminator, trainer)."""

from vidgen_tf.models.dcgan3d.video_dcgan import VideoDCGAN
from vidgen_tf.models.dcgan3d.video_dcgan_discriminator import VideoDCGANDiscriminator
from vidgen_tf.models.dcgan3d.video_dcgan_generator import VideoDCGANGenerator

__all__ = ["VideoDCGAN", "VideoDCGANDiscriminator", "VideoDCGANGenerator"]
