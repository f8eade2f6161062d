"""SimVP frame prediction (Gao et al. 2022; gSTA, Tan et al. 2022): the network and its
trainer."""

from vidgen_tf.models.simvp.simvp import SimVP
from vidgen_tf.models.simvp.simvp_network import SimVPNetwork

__all__ = ["SimVP", "SimVPNetwork"]
