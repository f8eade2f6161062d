"""SimVP: the one-pass frame predictor (Gao et al. 2022; gSTA, Tan et al. 2022), trained by
`fit` on the MSE of all predicted frames."""

from __future__ import annotations

import keras

from vidgen_tf.models.simvp.simvp_network import SimVPNetwork
from vidgen_tf.training.prediction_trainer import PredictionTrainer


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SimVP(PredictionTrainer):
    """Predicts the next `horizon` frames of a clip from its first `context` in one pass of
    `SimVPNetwork`; the loss compares every predicted frame with the real one. The export is
    that one graph, driven by the runtime's `single_pass` sampler, so it predicts exactly the
    trained horizon.

    Args:
        predictor: SimVPNetwork or None (built from the arguments below).
        context, horizon, size, channels, hid_s, hid_t, n_s, n_t, mlp_ratio, residual: the
            network's
            (used only when it is built here); see `SimVPNetwork`.
        learning_rate: float, default 1e-3. Adam's.
        seed: int, default 0.

    Example:
        >>> model = SimVP(context=4, horizon=4, size=16, hid_s=8, hid_t=16, n_s=2, n_t=2)
        >>> model.compile()
        >>> model.predict_frames(keras.ops.zeros((1, 4, 16, 16, 1)), 4).shape
        TensorShape([1, 4, 16, 16, 1])
    """

    def __init__(self, predictor: SimVPNetwork | None = None, *, context: int = 10,
                 horizon: int = 10, size: int = 64, channels: int = 1, hid_s: int = 64,
                 hid_t: int = 512, n_s: int = 4, n_t: int = 8, mlp_ratio: float = 8.0,
                 residual: bool = False, learning_rate: float = 1e-3, seed: int = 0,
                 decay_steps: int | None = None, **kwargs):
        if isinstance(predictor, dict):
            predictor = keras.saving.deserialize_keras_object(predictor)
        predictor = predictor or SimVPNetwork(context=context, horizon=horizon, size=size,
                                              channels=channels, hid_s=hid_s, hid_t=hid_t,
                                              n_s=n_s, n_t=n_t, mlp_ratio=mlp_ratio,
                                              residual=residual)
        super().__init__(predictor, context=predictor.context, horizon=predictor.horizon,
                         learning_rate=learning_rate, seed=seed, decay_steps=decay_steps,
                         **kwargs)

    def forecast(self, video, step):
        context = video[:, :self.context]
        return (self.predictor({"context": context}, training=True),
                video[:, self.context:], {})

    def predict_frames(self, context, horizon: int, training=False):
        if horizon != self.horizon:
            raise ValueError(f"SimVP predicts the {self.horizon} frames it was trained for in "
                             f"one pass; received horizon={horizon}")
        return self.predictor({"context": keras.ops.cast(context, "float32")},
                              training=training)

    def get_config(self):
        config = super().get_config()
        p = self.predictor
        config.update(predictor=keras.saving.serialize_keras_object(p), size=p.size,
                      channels=p.channels, hid_s=p.hid_s, hid_t=p.hid_t, n_s=p.n_s, n_t=p.n_t,
                      mlp_ratio=p.mlp_ratio, residual=p.residual)
        return config
