"""PredRNN frame prediction (Wang et al. 2017, 2022): the step network and its trainer."""

from vidgen_tf.models.predrnn.predrnn import PredRNN
from vidgen_tf.models.predrnn.predrnn_step import PredRNNStep

__all__ = ["PredRNN", "PredRNNStep"]
