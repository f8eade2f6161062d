"""TDVAE: the Temporal Difference Variational Auto-Encoder (Gregor et al. 2019), trained by
`model.fit` on pairs of time points of each clip, rolled out jumpily from its belief, and
exported as encoder, step and decoder graphs for the runtime's `latent_rollout` sampler.

The export reuses `latent_rollout` (SVG-LP's sampler) rather than a sampler of its own: the
step graph ignores the sampler's "h_target", and from the first predicted frame on it also
ignores the encoding of the frame it was fed back (TD-VAE rolls out in latent space), so the
sampler's re-encoding of each predicted frame is wasted work but changes nothing. Each step
jumps one frame: an export predicts consecutive frames; `jumpy_rollout` jumps further.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from vidgen_tf.losses.variational import gaussian_kl, kl_weight, reparameterize
from vidgen_tf.models.tdvae.networks import TDVAENetwork, check_positive
from vidgen_tf.training.prediction_trainer import PredictionTrainer
from vidgen_tf.training.trainer import VideoTrainer

LIKELIHOODS = ("bernoulli",)


def gaussian_log_density(x, mean, logvar):
    """log N(x; mean, exp(logvar)) per element, in float32:
    -0.5 (log(2 pi) + logvar + (x - mean)^2 / exp(logvar)). Sum it over the latent."""
    x, mean, logvar = (ops.cast(v, "float32") for v in (x, mean, logvar))
    return -0.5 * (math.log(2.0 * math.pi) + logvar + ops.square(x - mean) * ops.exp(-logvar))


def bernoulli_nll(frames, logits):
    """-log P_D(x | z) per frame, in nats: the Bernoulli of p = sigmoid(logits) evaluated at
    y = (x + 1) / 2 for frames x in [-1, 1], summed over every value of the frame:
    softplus(logits) - y logits (binary cross-entropy; for non-binary y it is a
    cross-entropy, not a density)."""
    y = (ops.cast(frames, "float32") + 1.0) / 2.0
    logits = ops.cast(logits, "float32")
    values = ops.softplus(logits) - y * logits
    return ops.sum(values, axis=tuple(range(1, values.ndim)))


@keras.saving.register_keras_serializable(package="vidgen_tf")
class TDVAE(PredictionTrainer):
    """TD-VAE as in Gregor et al. 2019 ("Temporal Difference Variational Auto-Encoder",
    ICLR 2019, sections 3-4), on clips of `context + horizon` frames, with one stochastic
    layer (the paper uses two) and a Bernoulli decoder of (x + 1) / 2.

    Every frame is encoded and the belief LSTM runs over the clip: b_t. Then, for each of
    `pairs_per_clip` pairs per clip, a jump dt is drawn uniformly from 1..max_jump and
    t1 uniformly from 0..T - 1 - dt, t2 = t1 + dt (stateless draws keyed by the step), and

        z2 ~ P_B(z | b_t2),     z1 ~ q_S(z1 | z2, b_t1, b_t2)     (reparameterised)
        loss = KL(q_S(z1 | ...) || P_B(z1 | b_t1))                       "kl"
               + log P_B(z2 | b_t2) - log P_T(z2 | z1, dt)               "transition_kl"
               - log P_D(x_t2 | z2)                                      "nll"

    the negative of the paper's L_TD-VAE bound (its eq. 8 with the KL in closed form). The
    transition term is a one-sample estimate of KL(P_B(z2 | b_t2) || P_T(z2 | z1)). It logs
    "neg_elbo" (their sum: nats per frame x_t2, averaged over pairs), "kl", "transition_kl",
    "nll", and "reconstruction_loss" (the mean squared error of the decoded mean frame, in
    [-1, 1] units). It minimises "tdvae_loss": nll + w (kl + transition_kl) per value of a
    frame, where w rises from 0 to `beta` over `kl_warmup_steps` (w = 1 is the bound).

    Prediction filters the context into a belief, draws z from P_B, then repeatedly draws
    z <- P_T(z | z, dt) and decodes the mean frame of P_D(x | z), never decoding or
    re-encoding the frames in between (`jumpy_rollout`; `predict` with dt = 1).

    Args:
        predictor: TDVAENetwork (built from the network arguments when None).
        context, horizon: frames given and predicted; a training clip has both.
        size, channels, base_filters, hidden, belief_size, z_dim, block_size: the
            networks' (used only when built here; see `TDVAENetwork`).
        max_jump: int >= 1, default 4 (the paper's moving-digit experiment). The longest
            jump dt, at most context + horizon - 1.
        pairs_per_clip: int >= 1, default 1. Pairs (t1, t2) drawn per clip and step: more
            cost only decoder passes, the encoder and belief run once per clip.
        beta: float >= 0, default 1. Final weight of the two KL terms.
        kl_warmup_steps: int >= 0, default 0. Steps of the linear warm-up of that weight.
        content: bool, default False. Whether the decoder also takes the encoding of an
            observed frame (`TDVAENetwork`'s `content`): the frame s at or before t1, s drawn
            uniformly from 0..t1 with each pair, so the decoder meets contents 1..T - 1
            frames old and must take the place from z. A rollout gives it the last context
            frame. The bound is then on x_t2 given z2 and frames up to t1, still a bound on
            the frame given the past.
        learning_rate: float > 0, default 5e-4. Adam's rate.
        seed, decay_steps: as `PredictionTrainer`'s.

    Example:
        >>> tdvae = TDVAE(context=2, horizon=2, size=16, base_filters=4, hidden=8,
        ...               belief_size=8, z_dim=2, block_size=8, max_jump=2)
        >>> tdvae.compile()
        >>> history = tdvae.fit(keras.random.uniform((4, 4, 16, 16, 1), -1, 1),
        ...                     batch_size=2, epochs=1, verbose=0)
    """

    objective_names = ("tdvae_loss",)
    recurrent = True  # rolls out: any horizon up to the runtime's bound

    def __init__(self, predictor: TDVAENetwork | None = None, *, context: int = 5,
                 horizon: int = 15, size: int = 32, channels: int = 1, base_filters: int = 16,
                 hidden: int = 128, belief_size: int = 50, z_dim: int = 8,
                 block_size: int = 50, max_jump: int = 4, pairs_per_clip: int = 1,
                 beta: float = 1.0, kl_warmup_steps: int = 0, content: bool = False,
                 learning_rate: float = 5e-4, seed: int = 0, decay_steps: int | None = None,
                 **kwargs):
        if isinstance(predictor, dict):
            predictor = keras.saving.deserialize_keras_object(predictor)
        check_positive("TDVAE", max_jump=max_jump, pairs_per_clip=pairs_per_clip)
        predictor = predictor or TDVAENetwork(
            size=size, channels=channels, base_filters=base_filters, hidden=hidden,
            belief_size=belief_size, z_dim=z_dim, block_size=block_size, max_jump=max_jump,
            content=content)
        super().__init__(predictor, context=context, horizon=horizon,
                         learning_rate=learning_rate, seed=seed, decay_steps=decay_steps,
                         **kwargs)
        if predictor.max_jump != max_jump:
            raise ValueError(f"max_jump must match the predictor's for TDVAE; received "
                             f"max_jump={max_jump}, predictor.max_jump={predictor.max_jump}")
        if max_jump > self.frames - 1:
            raise ValueError(f"max_jump must be at most context + horizon - 1 = "
                             f"{self.frames - 1} for TDVAE (a jump within a training clip); "
                             f"received max_jump={max_jump}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
            raise ValueError(f"beta must be a number >= 0 for TDVAE; received beta={beta!r}")
        if isinstance(kl_warmup_steps, bool) or not isinstance(kl_warmup_steps, int) or (
                kl_warmup_steps < 0):
            raise ValueError(f"kl_warmup_steps must be an integer >= 0 for TDVAE; received "
                             f"kl_warmup_steps={kl_warmup_steps!r}")
        self.max_jump, self.pairs_per_clip = int(max_jump), int(pairs_per_clip)
        self.beta, self.kl_warmup_steps = float(beta), int(kl_warmup_steps)
        self.loss = "bernoulli"
        self.add_trackers("tdvae_loss", "neg_elbo", "nll", "kl", "transition_kl")

    # ------------------------------------------------------------------ training

    def forecast(self, video, step):
        raise NotImplementedError("TDVAE trains with its own train_step")

    def draw_pairs(self, batch, step) -> tuple:
        """(t1, dt), int32 `(batch, pairs_per_clip)` each: dt uniform in 1..max_jump, t1
        uniform in 0..T - 1 - dt, from stateless draws keyed by `step`."""
        draws = tf.random.stateless_uniform((2, batch, self.pairs_per_clip),
                                            self.keyed_seed("pairs", step))
        jump = 1 + ops.minimum(ops.cast(draws[0] * self.max_jump, "int32"), self.max_jump - 1)
        room = self.frames - jump  # t1 in 0 .. room - 1
        t1 = ops.minimum(ops.cast(draws[1] * ops.cast(room, "float32"), "int32"), room - 1)
        return t1, jump

    def draw_sources(self, t1, step):
        """s, int32 like `t1`: the frame whose encoding the decoder takes as content, uniform
        in 0..t1, from a stateless draw keyed by `step` (only for a network with content)."""
        draw = tf.random.stateless_uniform(ops.shape(t1), self.keyed_seed("content", step))
        choices = ops.cast(t1, "float32") + 1.0
        return ops.minimum(ops.cast(draw * choices, "int32"), ops.cast(t1, "int32"))

    def losses_of(self, video, t1, jump, noise_z2, noise_z1, step=0, training=True,
                  source=None) -> dict:
        """The step's terms for clips `video` `(batch, T, size, size, channels)`, pairs `t1`
        and `jump` int `(batch, pairs)` and standard normal `noise_z2`, `noise_z1`
        `(batch, pairs, z_dim)`, and for a network with content the frames `source` int
        `(batch, pairs)` whose encodings it takes: "tdvae_loss" (minimised), "neg_elbo",
        "nll", "kl", "transition_kl", "reconstruction_loss" (see the class docstring),
        float32 scalars, and "predicted", the decoded mean of x_t2 `(batch, pairs, size,
        size, channels)`."""
        video = ops.cast(video, "float32")
        batch, pairs = ops.shape(video)[0], ops.shape(t1)[1]
        terms = self.pair_terms(video, t1, jump, noise_z2, noise_z1, training=training,
                                source=source)
        nll, kl, transition_kl = terms["nll"], terms["kl"], terms["transition_kl"]
        weight = kl_weight(step, self.beta, self.kl_warmup_steps)
        values = math.prod(video.shape[2:])
        frame = terms["frame"]
        return {"tdvae_loss": ops.mean(nll + weight * (kl + transition_kl)) / values,
                "neg_elbo": ops.mean(nll + kl + transition_kl), "nll": ops.mean(nll),
                "kl": ops.mean(kl), "transition_kl": ops.mean(transition_kl),
                "reconstruction_loss": ops.mean(ops.square(frame - terms["x2"])),
                "predicted": ops.reshape(frame, (batch, pairs, *video.shape[2:]))}

    def pair_terms(self, video, t1, jump, noise_z2, noise_z1, training=False,
                   source=None) -> dict:
        """The bound's terms per pair, flattened to `(batch * pairs,)`: "nll", "kl" and
        "transition_kl" (see the class docstring), with "x2", the frames x_t2, and "frame",
        the decoded mean of each, `(batch * pairs, size, size, channels)`. Arguments as
        `losses_of`'s."""
        net = self.predictor
        video = ops.cast(video, "float32")
        batch, pairs = ops.shape(video)[0], ops.shape(t1)[1]
        t1, jump = ops.cast(t1, "int32"), ops.cast(jump, "int32")
        t2 = t1 + jump
        encoded = net.encode(video, training=training)
        beliefs = net.beliefs(video, training=training, encoded=encoded)
        content = None
        if net.content:
            if source is None:
                raise ValueError("a TDVAE with content needs `source`, the frames whose "
                                 "encodings the decoder takes")
            content = ops.take_along_axis(encoded, ops.cast(source, "int32")[..., None],
                                          axis=1)
            content = ops.reshape(content, (-1, net.hidden))
        flat = (-1, net.belief_size)
        b1 = ops.reshape(ops.take_along_axis(beliefs, t1[..., None], axis=1), flat)
        b2 = ops.reshape(ops.take_along_axis(beliefs, t2[..., None], axis=1), flat)
        x2 = ops.take_along_axis(video, ops.reshape(t2, (batch, pairs, 1, 1, 1)), axis=1)
        x2 = ops.reshape(x2, (-1, *video.shape[2:]))
        noise_z2 = ops.reshape(ops.cast(noise_z2, "float32"), (-1, net.z_dim))
        noise_z1 = ops.reshape(ops.cast(noise_z1, "float32"), (-1, net.z_dim))

        # The state at t2 from the belief there, then at t1 from the smoothing posterior.
        mean_b2, logvar_b2 = net.p_belief(b2)
        z2 = reparameterize(mean_b2, logvar_b2, noise_z2)
        mean_q1, logvar_q1 = net.q_smoothing(z2, b1, b2)
        z1 = reparameterize(mean_q1, logvar_q1, noise_z1)
        # The terms of the bound: what the belief at t1 knew, the jump, the frame at t2.
        mean_b1, logvar_b1 = net.p_belief(b1)
        mean_t2, logvar_t2 = net.p_transition(z1, ops.reshape(jump, (-1,)))
        decoded = net.decode(z2, content, training=training)
        return {"kl": ops.sum(gaussian_kl(mean_q1, logvar_q1, mean_b1, logvar_b1), axis=-1),
                "transition_kl": ops.sum(gaussian_log_density(z2, mean_b2, logvar_b2)
                                         - gaussian_log_density(z2, mean_t2, logvar_t2),
                                         axis=-1),
                "nll": bernoulli_nll(x2, decoded["logits"]), "x2": x2,
                "frame": decoded["frame"]}

    def train_step(self, data):
        video = self.real_videos(data)
        if video.shape[1] is not None and video.shape[1] != self.frames:
            raise ValueError(f"TDVAE trains on clips of context + horizon = {self.frames} "
                             f"frames; received clips of {video.shape[1]}")
        step = self.predictor_optimizer.iterations
        batch = ops.shape(video)[0]
        t1, jump = self.draw_pairs(batch, step)
        source = self.draw_sources(t1, step) if self.predictor.content else None
        shape = (batch, self.pairs_per_clip, self.predictor.z_dim)
        noise_z2 = tf.random.stateless_normal(shape, self.keyed_seed("belief_z2", step))
        noise_z1 = tf.random.stateless_normal(shape, self.keyed_seed("smoothing_z1", step))
        with tf.GradientTape() as tape:
            # One sampled pair (t1, t2) per clip: the TD-VAE bound on x_t2.
            terms = self.losses_of(video, t1, jump, noise_z2, noise_z1, step, source=source)
            scaled = self.for_gradients(terms["tdvae_loss"], self.predictor_optimizer)
        self.apply_gradients(tape, scaled, self.predictor, self.predictor_optimizer)
        terms.pop("predicted")
        return self.record(**terms)

    def held_out_bound(self, video, rng: np.random.Generator) -> dict:
        """The bound on clips `video` `(batch, context + horizon, size, size, channels)` in
        [-1, 1], for `vidgen evaluate elbo`: one pair per clip and jump dt in 1..max_jump,
        t1 uniform in 0..T - 1 - dt and the two noises standard normal, all from `rng`.
        Returns float means over clips, in nats per frame x_t2: "neg_elbo", "nll", "kl" (both
        KL terms) and "neg_elbo_per_jump", a list over dt = 1..max_jump."""
        video = np.asarray(video, np.float32)
        batch, z_dim = len(video), self.predictor.z_dim
        jump = np.tile(np.arange(1, self.max_jump + 1, dtype=np.int32), (batch, 1))
        t1 = rng.integers(0, self.frames - jump).astype(np.int32)
        noise = rng.standard_normal((2, batch, self.max_jump, z_dim)).astype(np.float32)
        source = rng.integers(0, t1 + 1).astype(np.int32) if self.predictor.content else None
        terms = self.pair_terms(video, t1, jump, noise[0], noise[1], source=source)
        nll = np.asarray(terms["nll"], np.float64).reshape(batch, -1)
        kl = np.asarray(terms["kl"] + terms["transition_kl"], np.float64).reshape(batch, -1)
        return {"neg_elbo": float((nll + kl).mean()), "nll": float(nll.mean()),
                "kl": float(kl.mean()), "neg_elbo_per_jump": list((nll + kl).mean(axis=0))}

    def compile(self, loss: str = "bernoulli", **optimizers):
        """`loss` names the decoder's likelihood; the only one is "bernoulli"."""
        if loss not in LIKELIHOODS:
            raise ValueError(f"TDVAE's loss is bernoulli (the bound with a Bernoulli decoder "
                             f"of (x + 1) / 2); received loss={loss!r}")
        VideoTrainer.compile(self, **optimizers)
        self.loss = loss

    # ------------------------------------------------------------------ rollouts, export

    def jumpy_rollout(self, context: np.ndarray, jumps, seed: int = 0) -> np.ndarray:
        """Frames at the jumps `jumps` (ints in 1..max_jump) after the last context frame:
        float32 `(num, len(jumps), size, size, channels)` in [-1, 1], frame k at time
        C - 1 + jumps[0] + ... + jumps[k] (C = the last `self.context` frames of `context`,
        `(num, >= context, size, size, channels)` in [-1, 1], channels-last).

        The belief filters the context; z is drawn from P_B(z | b); then for each jump
        z <- a draw of P_T(z | z, dt) and the frame is the mean of P_D(x | z). The noise is
        what `predict` draws from `seed` (standard normal `(num, len(jumps), 2 z_dim)`: the
        first half of row 0 for P_B, the second half of row k for jump k), so
        `jumpy_rollout(c, [1] * H, s)` is `predict(c, H, seed=s)`.
        """
        from vidgen_tf.noise import sample_noise

        jumps = [int(j) for j in jumps]
        if not jumps or any(not 1 <= j <= self.max_jump for j in jumps):
            raise ValueError(f"jumps must be a non-empty list of integers in 1..{self.max_jump} "
                             f"(max_jump) for TDVAE; received jumps={jumps}")
        context = self.checked_context(context)
        net = self.predictor
        noise = sample_noise({"noise": self.export_spec().inputs["noise"]}, len(context), seed,
                             frames=len(jumps))["noise"]
        encoded = net.encode(context)
        belief = net.beliefs(context, encoded=encoded)[:, -1]
        mean, logvar = net.p_belief(belief)
        z = reparameterize(mean, logvar, noise[:, 0, :net.z_dim])
        frames = []
        for k, jump in enumerate(jumps):
            mean, logvar = net.p_transition(z, jump)
            z = reparameterize(mean, logvar, noise[:, k, net.z_dim:])
            frames.append(np.asarray(net.decode(z, encoded[:, -1])["frame"], np.float32))
        return np.stack(frames, axis=1)

    def checked_context(self, context) -> np.ndarray:
        """The last `self.context` frames of `context`, float32; a ValueError if too short."""
        context = np.asarray(context, np.float32)
        if context.ndim != 5 or context.shape[1] < self.context:
            raise ValueError(f"context must be (num, >= {self.context}, size, size, channels) "
                             f"for TDVAE; received shape {context.shape}")
        return context[:, -self.context:]

    def predict_frames(self, context, horizon: int, training=False):
        """`horizon` consecutive frames after `context`, through the runtime's sampler
        (noise from seed 0)."""
        return ops.convert_to_tensor(self.predict(np.asarray(context), horizon))

    def export_spec(self, network=None, class_names=None):
        """Three graphs for the `latent_rollout` sampler (see the module docstring):
        "encoder" (a frame -> "h"), "step" (`TDVAENetwork.call`: the belief until the
        rollout starts, then one jump of P_T) and "decoder" (z, named "h_pred" -> "frame");
        inputs "context" and "noise" (standard normal, 2 z_dim per predicted frame)."""
        from vidgen_tf.export.predictor_spec import CONTEXT_PREPROCESS
        from vidgen_tf.export.spec import ExportSpec, GraphSpec
        from vidgen_tf.runtime.manifest import MAX_FRAMES_FACTOR

        net = network or self.predictor
        frame = [net.size, net.size, net.channels]
        noise_width = 2 * net.z_dim
        inputs = {"context": {"role": "context", "shape": [self.context, *frame],
                              "dtype": "float32", "range": [-1.0, 1.0],
                              "preprocess": CONTEXT_PREPROCESS},
                  "noise": {"role": "noise", "shape": ["frames", noise_width],
                            "dtype": "float32", "distribution": "normal"}}
        states = {name: list(shape) for name, shape in net.state_spec().items()}
        vector = {"h": [net.hidden], "eps": [noise_width], "posterior": [1], **states}
        step_graph = GraphSpec(
            net, sorted(vector),
            {"h_pred": ["batch", net.z_dim],
             **{f"next_{n}": ["batch", *s] for n, s in states.items()}},
            input_specs={name: {"shape": shape, "dtype": "float32"}
                         for name, shape in vector.items()},
            output_keys={f"next_{n}": n for n in states})
        encoder_graph = GraphSpec(net.encoder, ["frame"], {"h": ["batch", net.hidden]},
                                  input_specs={"frame": {"shape": frame, "dtype": "float32"}})
        skips = ["h"] if net.content else []
        decoder_graph = GraphSpec(
            net.decoder, ["h_pred", *skips], {"frame": ["batch", *frame]},
            input_specs={"h_pred": {"shape": [net.z_dim], "dtype": "float32"},
                         **{name: {"shape": [net.hidden], "dtype": "float32"}
                            for name in skips}})
        dims = {"frames": {"default": self.horizon, "min": 1,
                           "max": MAX_FRAMES_FACTOR * self.horizon}}
        return ExportSpec(inputs=inputs, dims=dims,
                          graphs={"step": step_graph, "encoder": encoder_graph,
                                  "decoder": decoder_graph},
                          sampler={"name": "latent_rollout",
                                   "params": {"context": self.context, "horizon": self.horizon,
                                              "states": states, "z_dim": noise_width,
                                              "skips": skips, "graph": "decoder",
                                              "output": "frame"}})

    def predict(self, context: np.ndarray, horizon: int | None = None, batch_size: int = 16,
                seed: int = 0) -> np.ndarray:
        """`horizon` consecutive predicted frames for float contexts `(num, >= context,
        size, size, channels)` in [-1, 1], through the export's numpy sampler with the Keras
        networks as its graphs: what the export predicts from the same input and seed."""
        from vidgen_tf.noise import sample_noise
        from vidgen_tf.runtime.samplers import get_sampler

        spec = self.export_spec()
        sampler = get_sampler({"sampler": spec.sampler},
                              {name: g.keras_call for name, g in spec.graphs.items()})
        context = self.checked_context(context)
        horizon = horizon or self.horizon
        noise = sample_noise({"noise": spec.inputs["noise"]}, len(context), seed,
                             frames=horizon)["noise"]
        parts = [sampler({"context": context[i:i + batch_size],
                          "noise": noise[i:i + batch_size]}, frames=horizon)
                 for i in range(0, len(context), batch_size)]
        return np.concatenate(parts, axis=0)

    def get_config(self):
        config = super().get_config()
        net = self.predictor
        config.update(predictor=keras.saving.serialize_keras_object(net), size=net.size,
                      channels=net.channels, base_filters=net.base_filters, hidden=net.hidden,
                      belief_size=net.belief_size, z_dim=net.z_dim, block_size=net.block_size,
                      max_jump=self.max_jump, pairs_per_clip=self.pairs_per_clip,
                      content=net.content,
                      beta=self.beta, kl_warmup_steps=self.kl_warmup_steps)
        return config
