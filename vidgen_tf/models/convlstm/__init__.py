"""ConvLSTM frame prediction (Shi et al. 2015): the step network and its trainer."""

from vidgen_tf.models.convlstm.convlstm import ConvLSTM
from vidgen_tf.models.convlstm.convlstm_step import ConvLSTMStep

__all__ = ["ConvLSTM", "ConvLSTMStep"]
