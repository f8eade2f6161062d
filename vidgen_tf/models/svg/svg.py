"""SVG: SVG-LP, stochastic video generation with a learned prior (Denton & Fergus 2018),
trained by `model.fit` and exported as encoder, step and decoder graphs for the runtime's
`latent_rollout` sampler."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from vidgen_tf.losses.variational import gaussian_kl, reparameterize
from vidgen_tf.models.svg.networks import SVGNetwork, skip_names
from vidgen_tf.training.prediction_trainer import PredictionTrainer


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SVG(PredictionTrainer):
    """SVG-LP as in Denton & Fergus 2018 ("Stochastic Video Generation with a Learned
    Prior"), on clips of `context + horizon` frames.

    Every frame is encoded to `h` (with skips) in one batched call. Then for t = 1 ..
    T - 1: the posterior LSTM reads the encoding of frame t and gives q(z_t), the learned
    prior LSTM reads that of frame t - 1 and gives p(z_t), z_t is drawn from q by
    reparameterisation (stateless noise keyed by the step), and the frame predictor LSTM
    maps [h_{t-1}, z_t] to `h_pred`. The decoder turns every `h_pred` into frame t, with the
    skips of frame t - 1 within the context and of the last context frame after it (at
    inference the context's last frame gives the skips of every predicted frame). Teacher
    forcing throughout, as the paper trains.

    The loss is the paper's, per step: the mean squared error of the frame plus `beta`
    times KL(q || p) summed over the latent, averaged over steps and clips (the paper sums
    over steps; Adam does not see the factor). It logs "reconstruction_loss" (MSE per value
    in [-1, 1] units) and "kl" (nats per step, averaged over clips).

    Args:
        predictor: SVGNetwork (built from the other arguments when None).
        context, horizon: frames given and predicted (the paper's n_past, n_future).
        size, channels, base_filters, g_dim, z_dim, rnn_size, predictor_layers,
            prior_layers, posterior_layers: the networks' (used only when built here).
        beta: float >= 0, default 1e-4. Weight of the KL term.
        conditions: () or ("actions",): with actions, every frame of the data has an action
            (the "actions" key, `actions[t]` moving frame t to t + 1, as `shapes_actions`),
            and the frame predictor takes the one-hot action of each step (DVG-style). An
            action-conditioned SVG starts from one given frame (`context` 1).
        action_names: the names of the actions (their order gives the ids); needed with
            actions.
        learning_rate: float > 0, default 2e-3 (the paper's Adam).
        seed, decay_steps: as `PredictionTrainer`'s.

    Example:
        >>> svg = SVG(context=2, horizon=2, size=16, base_filters=4, g_dim=8, z_dim=2,
        ...           rnn_size=8)
        >>> svg.compile()
        >>> history = svg.fit(keras.random.uniform((4, 4, 16, 16, 1), -1, 1), batch_size=2,
        ...                   epochs=1, verbose=0)
    """

    objective_names = ("svg_loss",)
    recurrent = True  # rolls out: any horizon up to the runtime's bound

    def __init__(self, predictor: SVGNetwork | None = None, *, context: int = 5,
                 horizon: int = 10, size: int = 64, channels: int = 1,
                 base_filters: int = 64, g_dim: int = 128, z_dim: int = 10,
                 rnn_size: int = 256, predictor_layers: int = 2, prior_layers: int = 1,
                 posterior_layers: int = 1, beta: float = 1e-4, learning_rate: float = 2e-3,
                 conditions=(), action_names=None, seed: int = 0,
                 decay_steps: int | None = None, **kwargs):
        conditions = tuple(conditions or ())
        if conditions not in ((), ("actions",)):
            raise ValueError(f"SVG takes the condition actions or none; received conditions="
                             f"{list(conditions)!r}")
        action_names = [str(name) for name in action_names or ()]
        if conditions and (len(action_names) < 2 or len(set(action_names)) != len(action_names)):
            raise ValueError(f"an action-conditioned SVG needs at least 2 distinct action_names; "
                             f"received action_names={action_names!r}")
        if conditions and context != 1:
            raise ValueError(f"an action-conditioned SVG starts from one frame (context=1, "
                             f"then an action per predicted frame); received context={context}")
        if isinstance(predictor, dict):
            predictor = keras.saving.deserialize_keras_object(predictor)
        predictor = predictor or SVGNetwork(
            size=size, channels=channels, base_filters=base_filters, g_dim=g_dim, z_dim=z_dim,
            rnn_size=rnn_size, predictor_layers=predictor_layers, prior_layers=prior_layers,
            posterior_layers=posterior_layers, num_actions=len(action_names) if conditions
            else 0)
        if predictor.step.num_actions != (len(action_names) if conditions else 0):
            raise ValueError(f"the predictor takes {predictor.step.num_actions} actions but "
                             f"action_names holds {len(action_names) if conditions else 0}")
        self.conditions, self.action_names = conditions, action_names
        super().__init__(predictor, context=context, horizon=horizon,
                         learning_rate=learning_rate, seed=seed, decay_steps=decay_steps,
                         **kwargs)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
            raise ValueError(f"beta must be a number >= 0 for SVG; received beta={beta!r}")
        self.beta = float(beta)
        self.add_trackers("svg_loss", "kl")

    # ------------------------------------------------------------------ training

    def forecast(self, video, step):
        raise NotImplementedError("SVG trains with its own train_step")

    @property
    def data_keys(self) -> tuple[str, ...]:
        return ("video", "actions") if self.conditions else ("video",)

    def losses_of(self, video, noise, actions=None, training=True) -> dict:
        """The step's terms for clips `video` `(batch, T, size, size, channels)`, standard
        normal `noise` `(batch, T - 1, z_dim)` and (with actions) int `actions` `(batch, T)`:
        "svg_loss" (minimised), "reconstruction_loss", "kl", and "predicted" (frames 1 .. T -
        1, float32)."""
        net = self.predictor
        if self.conditions:
            one_hot = ops.one_hot(ops.cast(actions, "int32"), len(self.action_names))
        video = ops.cast(video, "float32")
        batch, frames = ops.shape(video)[0], video.shape[1]
        flat = ops.reshape(video, (-1, *video.shape[2:]))
        encoded = net.encoder({"frame": flat}, training=training)
        h = ops.reshape(encoded["h"], (batch, frames, net.g_dim))
        states = net.step.zero_states(batch)
        h_preds, kls = [], []
        for t in range(1, frames):
            q_mean, q_logvar, q_states = net.step.gaussian("posterior", h[:, t], states)
            p_mean, p_logvar, p_states = net.step.gaussian("prior", h[:, t - 1], states)
            z = reparameterize(q_mean, q_logvar, noise[:, t - 1])
            h_pred, f_states = net.step.predict_h(
                h[:, t - 1], z, states, one_hot[:, t - 1] if self.conditions else None)
            states = {**f_states, **p_states, **q_states}
            h_preds.append(h_pred)
            kls.append(ops.sum(gaussian_kl(q_mean, q_logvar, p_mean, p_logvar), axis=-1))
        # Frame t is decoded with the skips of frame min(t - 1, context - 1).
        sources = [min(t - 1, self.context - 1) for t in range(1, frames)]
        skips = {}
        for name in skip_names(net.encoder.levels):
            per_frame = ops.reshape(encoded[name], (batch, frames, *encoded[name].shape[1:]))
            chosen = ops.take(per_frame, np.asarray(sources, "int32"), axis=1)
            skips[name] = ops.reshape(chosen, (-1, *chosen.shape[2:]))
        decoded = net.decoder({"h_pred": ops.reshape(ops.stack(h_preds, axis=1),
                                                     (-1, net.g_dim)), **skips},
                              training=training)["frame"]
        predicted = ops.reshape(decoded, (batch, frames - 1, *video.shape[2:]))
        mse = ops.mean(ops.square(predicted - video[:, 1:]))
        kl = ops.mean(ops.stack(kls, axis=1))
        return {"svg_loss": mse + self.beta * kl, "reconstruction_loss": mse, "kl": kl,
                "predicted": predicted}

    def train_step(self, data):
        video = self.real_videos(data)
        actions = None
        if self.conditions:
            if not isinstance(data, dict) or "actions" not in data:
                raise ValueError("an action-conditioned SVG trains on batches with an "
                                 "\"actions\" key (one action per frame, e.g. shapes_actions)")
            actions = data["actions"]
        if video.shape[1] is not None and video.shape[1] != self.frames:
            raise ValueError(f"SVG trains on clips of context + horizon = {self.frames} "
                             f"frames; received clips of {video.shape[1]}")
        step = self.predictor_optimizer.iterations
        noise = tf.random.stateless_normal(
            (ops.shape(video)[0], self.frames - 1, self.predictor.z_dim),
            self.keyed_seed("posterior", step))
        with tf.GradientTape() as tape:
            terms = self.losses_of(video, noise, actions)
            scaled = self.for_gradients(terms["svg_loss"], self.predictor_optimizer)
        self.apply_gradients(tape, scaled, self.predictor, self.predictor_optimizer)
        terms.pop("predicted")
        return self.record(**terms)

    def compile(self, loss: str = "mse", **optimizers):
        """The reconstruction term is the paper's MSE ("mse", the only loss)."""
        if loss != "mse":
            raise ValueError(f"SVG's loss is mse (the paper's reconstruction term, plus beta "
                             f"KL); received loss={loss!r}")
        super().compile(loss=loss, **optimizers)

    # ------------------------------------------------------------------ export, sampling

    def predict_frames(self, context, horizon: int, training=False, actions=None):
        """`horizon` frames after `context` (following `actions`, one per predicted frame,
        for an action-conditioned model), with the latents drawn from the prior by the
        runtime's sampler (noise from seed 0)."""
        return ops.convert_to_tensor(self.predict(np.asarray(context), horizon,
                                                  actions=actions))

    def export_spec(self, network=None, class_names=None):
        """Three graphs for the `latent_rollout` sampler: "step" (the three LSTMs),
        "encoder" and "decoder"; inputs "context" and "noise" (one standard normal latent
        per predicted frame)."""
        from vidgen_tf.export.predictor_spec import latent_rollout_export_spec

        return latent_rollout_export_spec(network or self.predictor, self.context,
                                          self.horizon, self.action_names)

    def predict(self, context: np.ndarray, horizon: int | None = None, batch_size: int = 16,
                seed: int = 0, actions=None) -> np.ndarray:
        """Predictions for float contexts `(num, >= context, size, size, channels)` in
        [-1, 1] (and, with actions, int `actions` `(num, horizon)`, one per predicted frame)
        through the export's numpy sampler with the Keras networks as its graphs: what the
        export predicts from the same input and seed."""
        from vidgen_tf.noise import sample_noise
        from vidgen_tf.runtime.samplers import get_sampler

        spec = self.export_spec()
        sampler = get_sampler({"sampler": spec.sampler},
                              {name: g.keras_call for name, g in spec.graphs.items()})
        context = np.asarray(context, np.float32)[:, -self.context:]
        horizon = horizon or self.horizon
        noise = sample_noise({"noise": spec.inputs["noise"]}, len(context), seed,
                             frames=horizon)["noise"]
        feeds = {"context": context, "noise": noise}
        if self.conditions:
            if actions is None:
                raise ValueError("an action-conditioned SVG predicts from actions too: give "
                                 f"actions=, one of {self.action_names} per predicted frame")
            feeds["actions"] = np.broadcast_to(np.asarray(actions, np.int32),
                                               (len(context), horizon))
        parts = [sampler({k: v[i:i + batch_size] for k, v in feeds.items()}, frames=horizon)
                 for i in range(0, len(context), batch_size)]
        return np.concatenate(parts, axis=0)

    def get_config(self):
        config = super().get_config()
        net = self.predictor
        step = net.step
        config.update(predictor=keras.saving.serialize_keras_object(net), size=net.size,
                      channels=net.channels, base_filters=net.base_filters, g_dim=step.g_dim,
                      z_dim=step.z_dim, rnn_size=step.rnn_size,
                      predictor_layers=step.predictor_layers, prior_layers=step.prior_layers,
                      posterior_layers=step.posterior_layers, beta=self.beta,
                      conditions=list(self.conditions), action_names=self.action_names)
        return config
