"""TD-VAE, the Temporal Difference Variational Auto-Encoder (Gregor et al. 2019): the networks
and the trainer."""

from vidgen_tf.models.tdvae.networks import TDVAEDecoder, TDVAEEncoder, TDVAENetwork
from vidgen_tf.models.tdvae.tdvae import TDVAE

__all__ = ["TDVAE", "TDVAEDecoder", "TDVAEEncoder", "TDVAENetwork"]
