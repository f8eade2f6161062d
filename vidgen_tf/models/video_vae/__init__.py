"""The video VAE: a variational autoencoder of whole clips that generates from its prior."""

from vidgen_tf.models.video_vae.networks import VideoVAEDecoder, VideoVAEEncoder
from vidgen_tf.models.video_vae.video_vae import VideoVAE

__all__ = ["VideoVAE", "VideoVAEDecoder", "VideoVAEEncoder"]
