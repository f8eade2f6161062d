"""ConvLSTM: the frame predictor of Shi et al. 2015, trained by `fit` with scheduled sampling."""

from __future__ import annotations

import keras

from vidgen_tf.models.convlstm.convlstm_step import ConvLSTMStep
from vidgen_tf.training.prediction_trainer import RecurrentPredictionTrainer


@keras.saving.register_keras_serializable(package="vidgen_tf")
class ConvLSTM(RecurrentPredictionTrainer):
    """Predicts the next frames of a clip with a stacked ConvLSTM (`ConvLSTMStep`), unrolled
    over the clip with scheduled sampling (`RecurrentPredictionTrainer`).

    Args:
        predictor: ConvLSTMStep or None (built from the arguments below).
        size, channels, patch_size, hidden, kernel_size: the step network's (used only when
            it is built here); see `ConvLSTMStep`.
        context, horizon: frames given and predicted (default 10 and 10, Moving MNIST's).
        learning_rate: float, default 1e-3. Adam's.
        scheduled_sampling, sampling_stop_iter, sampling_changing_rate,
        reverse_scheduled_sampling, r_sampling_step_1, r_sampling_step_2, r_exp_alpha,
        decouple_beta, seed: see `RecurrentPredictionTrainer`.

    Example:
        >>> model = ConvLSTM(size=16, patch_size=4, hidden=(8,), kernel_size=3, context=2,
        ...                  horizon=2)
        >>> model.compile()
        >>> model.predict_frames(keras.ops.zeros((1, 2, 16, 16, 1)), 3).shape
        TensorShape([1, 3, 16, 16, 1])
    """

    def __init__(self, predictor: ConvLSTMStep | None = None, *, size: int = 64,
                 channels: int = 1, patch_size: int = 4, hidden=(128, 128, 128, 128),
                 kernel_size: int = 5, context: int = 10, horizon: int = 10,
                 learning_rate: float = 1e-3, scheduled_sampling: bool = True,
                 sampling_stop_iter: int = 50000, sampling_changing_rate: float = 2e-5,
                 reverse_scheduled_sampling: bool = False, r_sampling_step_1: int = 25000,
                 r_sampling_step_2: int = 50000, r_exp_alpha: float = 5000.0,
                 decouple_beta: float = 0.0, seed: int = 0, decay_steps: int | None = None,
                 **kwargs):
        if isinstance(predictor, dict):
            predictor = keras.saving.deserialize_keras_object(predictor)
        predictor = predictor or ConvLSTMStep(size=size, channels=channels,
                                              patch_size=patch_size, hidden=hidden,
                                              kernel_size=kernel_size)
        super().__init__(predictor, context=context, horizon=horizon,
                         learning_rate=learning_rate, scheduled_sampling=scheduled_sampling,
                         sampling_stop_iter=sampling_stop_iter,
                         sampling_changing_rate=sampling_changing_rate,
                         reverse_scheduled_sampling=reverse_scheduled_sampling,
                         r_sampling_step_1=r_sampling_step_1,
                         r_sampling_step_2=r_sampling_step_2, r_exp_alpha=r_exp_alpha,
                         decouple_beta=decouple_beta, seed=seed, decay_steps=decay_steps, **kwargs)

    def get_config(self):
        config = super().get_config()
        p = self.predictor
        config.update(predictor=keras.saving.serialize_keras_object(p), size=p.size,
                      channels=p.channels, patch_size=p.patch_size, hidden=list(p.hidden),
                      kernel_size=p.kernel_size)
        return config
