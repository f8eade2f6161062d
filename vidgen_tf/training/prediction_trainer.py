"""PredictionTrainer: the shared trainer of the predictor families (context frames in, the
next frames out), with a reconstruction loss; and its recurrent variant, which unrolls a step
network over time with scheduled sampling.

A family is a network plus presets. A single-pass family (SimVP) gives a network that maps
`{"context": (batch, context, size, size, channels)}` to `(batch, horizon, ...)`. A
recurrent family (ConvLSTM, PredRNN) gives a step network: `{"frame", **states}` to the next
frame and the new states (`state_spec()` names them), which `RecurrentPredictionTrainer`
unrolls here in training and the runtime's `rollout` sampler unrolls in numpy.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from vidgen_tf.training.trainer import VideoTrainer

RECONSTRUCTION_LOSSES = ("mse", "l1")
# Where a cosine learning-rate schedule ends, as a fraction of the initial rate.
FINAL_RATE_FRACTION = 0.01


def reconstruction_loss(name: str, predicted, target):
    """Mean squared ("mse") or absolute ("l1") error over every pixel, in float32."""
    error = ops.cast(predicted, "float32") - ops.cast(target, "float32")
    return ops.mean(ops.square(error)) if name == "mse" else ops.mean(ops.abs(error))


def check_lengths(context, horizon, owner: str, min_context: int = 1) -> tuple[int, int]:
    """`context` and `horizon` as ints; a ValueError naming the first one out of range."""
    for name, value, low in (("context", context, min_context), ("horizon", horizon, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low} for {owner}; received "
                             f"{name}={value!r}")
    return int(context), int(horizon)


class PredictionTrainer(VideoTrainer):
    """Trains `self.predictor` to continue clips: the first `context` frames of each clip
    in, its next `horizon` frames as the target, with a reconstruction loss chosen in
    `compile(loss="mse" | "l1")` (MSE, the OpenSTL and PredRNN default).

    Subclasses build the predictor and implement `forecast`. The clips come from the data as
    `(batch, context + horizon, size, size, channels)` in [-1, 1], channels-last.

    Args:
        predictor: the family's network.
        context: int >= 1. Frames given.
        horizon: int >= 1. Frames predicted (and trained on).
        learning_rate: float > 0. Adam's learning rate.
        seed: int, default 0. Seed of the stateless draws (scheduled sampling).
        decay_steps: int >= 1 or None (default). None: Adam at a constant `learning_rate`.
            Otherwise the rate follows a cosine from `learning_rate` down to
            `FINAL_RATE_FRACTION` of it at step `decay_steps` and stays there (`vidgen train
            --lr-schedule cosine` sets it to the run's steps).
    """

    optimizer_names = ("predictor_optimizer",)
    objective_names = ("reconstruction_loss",)
    averaged_network = "predictor"
    task = "prediction"

    def __init__(self, predictor, *, context: int, horizon: int, learning_rate: float,
                 seed: int = 0, decay_steps: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        owner = type(self).__name__
        self.context, self.horizon = check_lengths(context, horizon, owner,
                                                   self.min_context)
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0 for {owner}; received "
                             f"learning_rate={learning_rate}")
        if decay_steps is not None and (isinstance(decay_steps, bool) or not isinstance(
                decay_steps, (int, np.integer)) or decay_steps < 1):
            raise ValueError(f"decay_steps must be None or an integer >= 1 for {owner}; "
                             f"received decay_steps={decay_steps!r}")
        self.learning_rate = learning_rate
        self.decay_steps = None if decay_steps is None else int(decay_steps)
        self.predictor = predictor
        self.loss = "mse"
        self.add_trackers("reconstruction_loss")

    min_context = 1

    @property
    def frames(self) -> int:
        """Frames of a training clip: context + horizon."""
        return self.context + self.horizon

    @property
    def size(self) -> int:
        return self.predictor.size

    @property
    def channels(self) -> int:
        return self.predictor.channels

    def compile(self, loss: str = "mse", **optimizers):
        """Choose the reconstruction loss ("mse" or "l1") and the optimizer (Adam at
        `learning_rate`, cosine-decayed over `decay_steps` if set, unless
        `predictor_optimizer` is given)."""
        if loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"a predictor's loss is one of {', '.join(RECONSTRUCTION_LOSSES)}; "
                             f"received loss={loss!r}")
        super().compile(**optimizers)
        self.loss = loss

    def get_compile_config(self):
        return {"loss": self.loss, **super().get_compile_config()}

    def compile_from_config(self, config):
        self.compile(loss=config.get("loss", "mse"), **self._optimizers_from_config(config))

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        if self.decay_steps is None:
            return keras.optimizers.Adam(self.learning_rate)
        return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
            self.learning_rate, self.decay_steps, alpha=FINAL_RATE_FRACTION))

    def build(self, input_shape=None):
        if not self.predictor.built:
            self.predictor.build()
        self.built = True

    def call(self, inputs, training=False):
        context = inputs["context"] if isinstance(inputs, dict) else inputs
        return self.predict_frames(context, self.horizon, training=training)

    # ------------------------------------------------------------------ training

    def train_step(self, data):
        video = ops.cast(self.real_videos(data), "float32")
        if video.shape[1] is not None and video.shape[1] != self.frames:
            raise ValueError(f"{type(self).__name__} trains on clips of context + horizon = "
                             f"{self.frames} frames; received clips of {video.shape[1]}")
        step = self.predictor_optimizer.iterations
        with tf.GradientTape() as tape:
            # Predict the future from the context; the family decides which predicted
            # frames are compared (e.g. every next frame of a recurrent unroll).
            predicted, target, extra = self.forecast(video, step)
            loss = reconstruction_loss(self.loss, predicted, target)
            total = loss + sum(weight * value for value, weight in extra.values())
            scaled = self.for_gradients(total, self.predictor_optimizer)
        self.apply_gradients(tape, scaled, self.predictor, self.predictor_optimizer)
        return self.record(reconstruction_loss=loss,
                           **{name: value for name, (value, _) in extra.items()})

    def forecast(self, video, step):
        """(predicted frames, their targets, {name: (auxiliary loss, weight)}) for one
        training batch of clips `(batch, context + horizon, size, size, channels)`."""
        raise NotImplementedError

    def predict_frames(self, context, horizon: int, training=False):
        """The next `horizon` frames `(batch, horizon, size, size, channels)` after the
        context `(batch, self.context, size, size, channels)`, float32 in model units."""
        raise NotImplementedError

    # ------------------------------------------------------------------ data, export, samples

    @property
    def data_keys(self) -> tuple[str, ...]:
        return ("video",)

    recurrent = False

    def export_spec(self, network=None, class_names=None):
        """The export: the "context" input, the network's graph and its sampler
        (`vidgen_tf.export.predictor_spec`). `network` replaces `self.predictor` (the
        exporter passes a float32 copy)."""
        from vidgen_tf.export.predictor_spec import predictor_export_spec

        return predictor_export_spec(network or self.predictor, self.context, self.horizon,
                                     self.recurrent)

    def predict(self, context: np.ndarray, horizon: int | None = None, batch_size: int = 16
                ) -> np.ndarray:
        """Predictions for float contexts `(num, >= context, size, size, channels)` in
        [-1, 1] (the last `self.context` frames are used) through the export's numpy sampler
        with the Keras networks as its graphs: what the export predicts from the same input."""
        from vidgen_tf.runtime.samplers import get_sampler

        spec = self.export_spec()
        sampler = get_sampler({"sampler": spec.sampler},
                              {name: g.keras_call for name, g in spec.graphs.items()})
        context = np.asarray(context, np.float32)[:, -self.context:]
        params = {"frames": horizon} if self.recurrent and horizon else {}
        parts = [sampler({"context": context[i:i + batch_size]}, **params)
                 for i in range(0, len(context), batch_size)]
        return np.concatenate(parts, axis=0)

    def get_config(self):
        config = super().get_config()
        config.update(context=self.context, horizon=self.horizon,
                      learning_rate=self.learning_rate, seed=self.seed,
                      decay_steps=self.decay_steps)
        return config


class RecurrentPredictionTrainer(PredictionTrainer):
    """A predictor whose network is one step in time, unrolled here over the clip.

    At each of the `context + horizon - 1` steps the network sees one frame and predicts the
    next; every predicted frame is compared with the real next frame, as OpenSTL trains
    ConvLSTM and PredRNN. The frame it sees is chosen by scheduled sampling (Bengio et al.
    2015): in the context, the real frame (or, with reverse scheduled sampling, PredRNN-V2's
    Wang et al. 2022, the real frame with a probability rising from 0.5 to 1); in the
    horizon, the real frame with a probability falling to 0, else its own last prediction.
    At inference the context is always real and the horizon always its own predictions.
    The export is the step network alone, unrolled by the runtime's `rollout` sampler.

    Args:
        scheduled_sampling: bool, default True. Feed real frames in the horizon with a
            probability that falls from 1 by `sampling_changing_rate` per step until
            `sampling_stop_iter` (then 0). False: always the model's own predictions.
        sampling_stop_iter, sampling_changing_rate: as above (OpenSTL's names).
        reverse_scheduled_sampling: bool, default False. PredRNN-V2's schedule: before
            `r_sampling_step_1` the context frames are real with probability 0.5 and the
            horizon's with 0.5; between the two steps the first rises as
            1 - 0.5 exp(-(t - step_1) / r_exp_alpha) and the second falls linearly to 0;
            after `r_sampling_step_2` 1 and 0. Overrides `scheduled_sampling`.
        decouple_beta: float, default 0. Weight of the step network's "decouple_loss"
            output (PredRNN-V2's memory decoupling), when it gives one.
    """

    def __init__(self, predictor, *, scheduled_sampling: bool = True,
                 sampling_stop_iter: int = 50000, sampling_changing_rate: float = 2e-5,
                 reverse_scheduled_sampling: bool = False, r_sampling_step_1: int = 25000,
                 r_sampling_step_2: int = 50000, r_exp_alpha: float = 5000.0,
                 decouple_beta: float = 0.0, **kwargs):
        super().__init__(predictor, **kwargs)
        owner = type(self).__name__
        if not 0 < r_sampling_step_1 < r_sampling_step_2:
            raise ValueError(f"reverse scheduled sampling needs 0 < r_sampling_step_1 < "
                             f"r_sampling_step_2 for {owner}; received {r_sampling_step_1} and "
                             f"{r_sampling_step_2}")
        for name, value in (("sampling_stop_iter", sampling_stop_iter),
                            ("sampling_changing_rate", sampling_changing_rate),
                            ("r_exp_alpha", r_exp_alpha)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 for {owner}; received {name}={value}")
        if not decouple_beta >= 0:
            raise ValueError(f"decouple_beta must be >= 0 for {owner}; received "
                             f"decouple_beta={decouple_beta}")
        self.scheduled_sampling = bool(scheduled_sampling)
        self.sampling_stop_iter = int(sampling_stop_iter)
        self.sampling_changing_rate = float(sampling_changing_rate)
        self.reverse_scheduled_sampling = bool(reverse_scheduled_sampling)
        self.r_sampling_step_1 = int(r_sampling_step_1)
        self.r_sampling_step_2 = int(r_sampling_step_2)
        self.r_exp_alpha = float(r_exp_alpha)
        self.decouple_beta = float(decouple_beta)
        if self.decouple_beta:
            self.add_trackers("decouple_loss")

    recurrent = True

    def zero_states(self, batch) -> dict:
        return {name: ops.zeros((batch, *shape), "float32")
                for name, shape in self.predictor.state_spec().items()}

    def real_frame_probabilities(self, step):
        """(probability of a real frame in the context, in the horizon) at training step
        `step` (see the class docstring)."""
        t = ops.cast(step, "float32")
        if self.reverse_scheduled_sampling:
            one, two = float(self.r_sampling_step_1), float(self.r_sampling_step_2)
            rising = 1.0 - 0.5 * ops.exp(-(t - one) / self.r_exp_alpha)
            falling = 0.5 - 0.5 * (t - one) / (two - one)
            context = ops.where(t < one, 0.5, ops.where(t < two, rising, 1.0))
            horizon = ops.where(t < one, 0.5, ops.where(t < two, falling, 0.0))
            return context, horizon
        if not self.scheduled_sampling:
            return ops.convert_to_tensor(1.0), ops.convert_to_tensor(0.0)
        horizon = ops.where(t < self.sampling_stop_iter,
                            ops.maximum(1.0 - self.sampling_changing_rate * t, 0.0), 0.0)
        return ops.convert_to_tensor(1.0), horizon

    def forecast(self, video, step):
        batch = ops.shape(video)[0]
        states = self.zero_states(batch)
        p_context, p_horizon = self.real_frame_probabilities(step)
        draws = tf.random.stateless_uniform([self.frames, batch, 1, 1, 1],
                                            self.keyed_seed("scheduled_sampling", step))
        predicted, decouple = [], []
        previous = None
        for t in range(self.frames - 1):
            real = video[:, t]
            if t == 0:
                frame = real
            else:
                p = p_context if t < self.context else p_horizon
                use_real = ops.cast(draws[t] < p, "float32")
                frame = use_real * real + (1.0 - use_real) * previous
            out = self.predictor({"frame": frame, **states}, training=True)
            previous = out["frame"]
            predicted.append(previous)
            states = {name: out[name] for name in states}
            if "decouple_loss" in out:
                decouple.append(ops.mean(out["decouple_loss"]))
        extra = {}
        if self.decouple_beta and decouple:
            extra["decouple_loss"] = (ops.mean(ops.stack(decouple)), self.decouple_beta)
        return ops.stack(predicted, axis=1), video[:, 1:], extra

    def predict_frames(self, context, horizon: int, training=False):
        context = ops.cast(context, "float32")
        states = self.zero_states(ops.shape(context)[0])
        frames = []
        frame = context[:, 0]
        for t in range(self.context + horizon - 1):
            out = self.predictor({"frame": frame, **states}, training=training)
            states = {name: out[name] for name in states}
            if t + 1 < self.context:
                frame = context[:, t + 1]
            else:
                frame = out["frame"]
                frames.append(frame)
        return ops.stack(frames, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(scheduled_sampling=self.scheduled_sampling,
                      sampling_stop_iter=self.sampling_stop_iter,
                      sampling_changing_rate=self.sampling_changing_rate,
                      reverse_scheduled_sampling=self.reverse_scheduled_sampling,
                      r_sampling_step_1=self.r_sampling_step_1,
                      r_sampling_step_2=self.r_sampling_step_2, r_exp_alpha=self.r_exp_alpha,
                      decouple_beta=self.decouple_beta)
        return config
