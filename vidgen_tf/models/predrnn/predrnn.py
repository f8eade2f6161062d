"""PredRNN: the frame predictor of Wang et al. 2017 (and PredRNN-V2, 2022), trained by `fit`
with scheduled or reverse scheduled sampling."""

from __future__ import annotations

import keras

from vidgen_tf.models.convlstm.convlstm import ConvLSTM
from vidgen_tf.models.predrnn.predrnn_step import PredRNNStep


@keras.saving.register_keras_serializable(package="vidgen_tf")
class PredRNN(ConvLSTM):
    """Predicts the next frames of a clip with stacked ST-LSTM cells (`PredRNNStep`), unrolled
    over the clip (`RecurrentPredictionTrainer`). It shares ConvLSTM's arguments and adds
    `decouple_loss` (PredRNN-V2's memory decoupling, weighted by `decouple_beta`; with
    `reverse_scheduled_sampling` this is PredRNN-V2).

    Example:
        >>> model = PredRNN(size=16, patch_size=4, hidden=(8, 8), kernel_size=3, context=2,
        ...                 horizon=2)
        >>> model.compile()
        >>> model.predict_frames(keras.ops.zeros((1, 2, 16, 16, 1)), 3).shape
        TensorShape([1, 3, 16, 16, 1])
    """

    def __init__(self, predictor: PredRNNStep | None = None, *, size: int = 64,
                 channels: int = 1, patch_size: int = 4, hidden=(128, 128, 128, 128),
                 kernel_size: int = 5, decouple_loss: bool = False, context: int = 10,
                 horizon: int = 10, learning_rate: float = 1e-3, scheduled_sampling: bool = True,
                 sampling_stop_iter: int = 50000, sampling_changing_rate: float = 2e-5,
                 reverse_scheduled_sampling: bool = False, r_sampling_step_1: int = 25000,
                 r_sampling_step_2: int = 50000, r_exp_alpha: float = 5000.0,
                 decouple_beta: float = 0.0, seed: int = 0, decay_steps: int | None = None,
                 **kwargs):
        if isinstance(predictor, dict):
            predictor = keras.saving.deserialize_keras_object(predictor)
        predictor = predictor or PredRNNStep(size=size, channels=channels,
                                             patch_size=patch_size, hidden=hidden,
                                             kernel_size=kernel_size,
                                             decouple_loss=decouple_loss)
        super().__init__(predictor, context=context, horizon=horizon,
                         learning_rate=learning_rate, scheduled_sampling=scheduled_sampling,
                         sampling_stop_iter=sampling_stop_iter,
                         sampling_changing_rate=sampling_changing_rate,
                         reverse_scheduled_sampling=reverse_scheduled_sampling,
                         r_sampling_step_1=r_sampling_step_1,
                         r_sampling_step_2=r_sampling_step_2, r_exp_alpha=r_exp_alpha,
                         decouple_beta=decouple_beta, seed=seed, decay_steps=decay_steps, **kwargs)

    def get_config(self):
        return {**super().get_config(), "decouple_loss": self.predictor.decouple_loss}
