"""SVG-LP's networks (Denton & Fergus 2018): a per-frame DCGAN encoder and a decoder with skip
connections, and one time step of its three LSTMs (frame predictor, learned prior,
posterior). `SVGNetwork` holds the three as one Keras model, the trainer's `predictor`."""

from __future__ import annotations

import math

import keras
from keras import layers, ops

LEAK = 0.2


def check_positive(owner: str, **values) -> None:
    """A ValueError naming the first value that is not an integer >= 1."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1 for {owner}; received "
                             f"{name}={value!r}")


def levels_of(size: int, owner: str) -> int:
    """Stride-2 blocks that take a `size` x `size` frame down to 4 x 4."""
    if not isinstance(size, int) or size < 8 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 8 for {owner}; received size={size!r}")
    return int(math.log2(size)) - 2


def skip_names(levels: int) -> list[str]:
    return [f"skip_{i}" for i in range(levels)]


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SVGEncoder(keras.Model):
    """The DCGAN frame encoder of SVG: stride-2 4x4 convolutions with BatchNorm and
    LeakyReLU(0.2), doubling the width from `base_filters` down to 4x4, then a 4x4 valid
    convolution, BatchNorm and tanh to `g_dim`.

    `call({"frame": (batch, size, size, channels)})` returns "h" `(batch, g_dim)` and each
    block's output, "skip_0" (the largest) ... for the decoder's skip connections.
    """

    def __init__(self, size: int = 64, channels: int = 1, base_filters: int = 64,
                 g_dim: int = 128, **kwargs):
        super().__init__(**kwargs)
        check_positive("SVGEncoder", channels=channels, base_filters=base_filters, g_dim=g_dim)
        self.levels = levels_of(size, "SVGEncoder")
        self.size, self.channels = size, channels
        self.base_filters, self.g_dim = base_filters, g_dim
        self.convs = [layers.Conv2D(base_filters * 2**i, 4, strides=2, padding="same")
                      for i in range(self.levels)]
        self.norms = [layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
                      for _ in range(self.levels)]
        self.to_h = layers.Conv2D(g_dim, 4, padding="valid")
        self.h_norm = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)

    def build(self, input_shape=None):
        self.call({"frame": ops.zeros((1, self.size, self.size, self.channels))})
        self.built = True

    def call(self, inputs, training=False):
        x = inputs["frame"] if isinstance(inputs, dict) else inputs
        skips = {}
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = ops.leaky_relu(norm(conv(x), training=training), LEAK)
            skips[f"skip_{i}"] = x
        h = ops.tanh(self.h_norm(self.to_h(x), training=training))
        return {"h": ops.cast(ops.reshape(h, (-1, self.g_dim)), "float32"), **skips}

    def skip_shapes(self) -> dict[str, list[int]]:
        return {f"skip_{i}": [self.size // 2**(i + 1)] * 2 + [self.base_filters * 2**i]
                for i in range(self.levels)}

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "base_filters": self.base_filters, "g_dim": self.g_dim}


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SVGDecoder(keras.Model):
    """The DCGAN decoder of SVG with skips: a 4x4 transposed convolution of `h` to 4x4, then
    per level the concatenation with the encoder's block output of that size, a stride-2
    transposed convolution, BatchNorm and LeakyReLU(0.2), up to the frame; the last layer
    ends in tanh for frames in [-1, 1] (the paper's sigmoid, for [0, 1]).

    `call({"h_pred": (batch, g_dim), "skip_0", ...})` returns "frame", float32.
    """

    def __init__(self, size: int = 64, channels: int = 1, base_filters: int = 64,
                 g_dim: int = 128, **kwargs):
        super().__init__(**kwargs)
        check_positive("SVGDecoder", channels=channels, base_filters=base_filters, g_dim=g_dim)
        self.levels = levels_of(size, "SVGDecoder")
        self.size, self.channels = size, channels
        self.base_filters, self.g_dim = base_filters, g_dim
        top = base_filters * 2**(self.levels - 1)
        self.from_h = layers.Conv2DTranspose(top, 4, padding="valid")
        self.h_norm = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
        self.convs = [layers.Conv2DTranspose(base_filters * 2**(i - 1), 4, strides=2,
                                             padding="same")
                      for i in range(self.levels - 1, 0, -1)]
        self.norms = [layers.BatchNormalization(epsilon=1e-5, momentum=0.9)
                      for _ in range(self.levels - 1)]
        self.to_frame = layers.Conv2DTranspose(channels, 4, strides=2, padding="same")

    def build(self, input_shape=None):
        shapes = SVGEncoder(self.size, self.channels, self.base_filters,
                            self.g_dim).skip_shapes()
        self.call({"h_pred": ops.zeros((1, self.g_dim)),
                   **{name: ops.zeros((1, *shape)) for name, shape in shapes.items()}})
        self.built = True

    def call(self, inputs, training=False):
        h = ops.reshape(inputs["h_pred"], (-1, 1, 1, self.g_dim))
        x = ops.leaky_relu(self.h_norm(self.from_h(h), training=training), LEAK)
        for level, conv, norm in zip(range(self.levels - 1, 0, -1), self.convs, self.norms,
                                     strict=True):
            skip = ops.cast(inputs[f"skip_{level}"], x.dtype)
            x = ops.leaky_relu(norm(conv(ops.concatenate([x, skip], axis=-1)),
                                    training=training), LEAK)
        skip = ops.cast(inputs["skip_0"], x.dtype)
        frame = ops.tanh(self.to_frame(ops.concatenate([x, skip], axis=-1)))
        return {"frame": ops.cast(frame, "float32")}

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "base_filters": self.base_filters, "g_dim": self.g_dim}


class LSTMStack(layers.Layer):
    """SVG's `lstm` module, one step: a linear embedding, `layers` LSTM cells of `units`
    (gates from one dense layer of [input, h]; c' = sigmoid(f) c + sigmoid(i) tanh(g),
    h' = sigmoid(o) tanh(c'), computed in float32), then the heads. States are float32."""

    def __init__(self, units: int, num_layers: int, prefix: str, **kwargs):
        super().__init__(**kwargs)
        self.units, self.num_layers, self.prefix = units, num_layers, prefix
        self.embed = layers.Dense(units)
        self.gates = [layers.Dense(4 * units) for _ in range(num_layers)]

    def state_names(self) -> list[str]:
        return [f"{self.prefix}_{kind}{i}" for i in range(self.num_layers) for kind in "hc"]

    def cells(self, x, states: dict) -> tuple:
        """The top cell's h and the new states after one step on `x`."""
        x = self.embed(x)
        new = {}
        for i, gate in enumerate(self.gates):
            # float32 whatever the policy (mixed precision casts a model's inputs)
            h = ops.cast(states[f"{self.prefix}_h{i}"], "float32")
            c = ops.cast(states[f"{self.prefix}_c{i}"], "float32")
            z = ops.cast(gate(ops.concatenate([x, ops.cast(h, x.dtype)], axis=-1)), "float32")
            i_gate, f_gate, g_gate, o_gate = ops.split(z, 4, axis=-1)
            c = ops.sigmoid(f_gate) * c + ops.sigmoid(i_gate) * ops.tanh(g_gate)
            h = ops.sigmoid(o_gate) * ops.tanh(c)
            new[f"{self.prefix}_h{i}"], new[f"{self.prefix}_c{i}"] = h, c
            x = ops.cast(h, self.compute_dtype)
        return x, new


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SVGStep(keras.Model):
    """One time step of SVG-LP's three LSTMs.

    - posterior q(z_t | x_1..t): an LSTM of `posterior_layers` over the encoding of the
      frame to predict, `h_target`, to a diagonal Gaussian;
    - learned prior p(z_t | x_1..t-1): an LSTM of `prior_layers` over the encoding of the
      frame it sees, `h`;
    - frame predictor: an LSTM of `predictor_layers` over [h, z_t] (and, with
      `num_actions`, the one-hot action that moves the frame seen to the next, as DVG-style
      action-conditioned models take it), with a linear layer and tanh to `h_pred`, the
      encoding the decoder turns into the next frame.

    The noise stays outside: z_t = mean + exp(logvar / 2) eps. `call` takes "h",
    "h_target", "eps" `(batch, z_dim)` (standard normal), "posterior" `(batch, 1)` (1: z from the
    posterior's mean, as the runtime conditions on context frames; 0: drawn from the prior),
    with `num_actions` "action" `(batch, num_actions)` (one-hot), and the states
    (`state_spec()`), and returns "h_pred" and the new states. The trainer calls the parts
    itself (`gaussian`, `predict_h`).
    """

    def __init__(self, g_dim: int = 128, z_dim: int = 10, rnn_size: int = 256,
                 predictor_layers: int = 2, prior_layers: int = 1, posterior_layers: int = 1,
                 num_actions: int = 0, **kwargs):
        super().__init__(**kwargs)
        check_positive("SVGStep", g_dim=g_dim, z_dim=z_dim, rnn_size=rnn_size,
                       predictor_layers=predictor_layers, prior_layers=prior_layers,
                       posterior_layers=posterior_layers)
        if isinstance(num_actions, bool) or not isinstance(num_actions, int) or num_actions < 0:
            raise ValueError(f"num_actions must be an integer >= 0 for SVGStep; received "
                             f"num_actions={num_actions!r}")
        self.num_actions = num_actions
        self.g_dim, self.z_dim, self.rnn_size = g_dim, z_dim, rnn_size
        self.predictor_layers, self.prior_layers = predictor_layers, prior_layers
        self.posterior_layers = posterior_layers
        self.predictor_lstm = LSTMStack(rnn_size, predictor_layers, "predictor")
        self.prior_lstm = LSTMStack(rnn_size, prior_layers, "prior")
        self.posterior_lstm = LSTMStack(rnn_size, posterior_layers, "posterior")
        self.h_out = layers.Dense(g_dim)
        self.prior_mean = layers.Dense(z_dim, dtype="float32")
        self.prior_logvar = layers.Dense(z_dim, dtype="float32")
        self.posterior_mean = layers.Dense(z_dim, dtype="float32")
        self.posterior_logvar = layers.Dense(z_dim, dtype="float32")

    def state_spec(self) -> dict[str, tuple[int]]:
        names = [*self.predictor_lstm.state_names(), *self.prior_lstm.state_names(),
                 *self.posterior_lstm.state_names()]
        return {name: (self.rnn_size,) for name in names}

    def zero_states(self, batch) -> dict:
        return {name: ops.zeros((batch, self.rnn_size), "float32") for name in self.state_spec()}

    def input_sizes(self) -> dict[str, int]:
        """The widths of `call`'s inputs besides the states."""
        sizes = {"h": self.g_dim, "h_target": self.g_dim, "eps": self.z_dim, "posterior": 1}
        return {**sizes, "action": self.num_actions} if self.num_actions else sizes

    def build(self, input_shape=None):
        self.call({**{name: ops.zeros((1, width)) for name, width in self.input_sizes().items()},
                   **self.zero_states(1)})
        self.built = True

    def gaussian(self, which: str, h, states: dict) -> tuple:
        """(mean, logvar, new states) of the prior or posterior LSTM on encoding `h`."""
        if which == "prior":
            lstm, mean_head, logvar_head = self.prior_lstm, self.prior_mean, self.prior_logvar
        else:
            lstm, mean_head = self.posterior_lstm, self.posterior_mean
            logvar_head = self.posterior_logvar
        top, new = lstm.cells(h, states)
        return mean_head(top), logvar_head(top), new

    def predict_h(self, h, z, states: dict, action=None) -> tuple:
        """(h_pred, new states) of the frame predictor on encoding `h`, latent `z` and (with
        `num_actions`) the one-hot `action`."""
        parts = [h, z] if not self.num_actions else [h, z, action]
        top, new = self.predictor_lstm.cells(
            ops.concatenate([ops.cast(x, self.compute_dtype) for x in parts], axis=-1), states)
        return ops.cast(ops.tanh(self.h_out(top)), "float32"), new

    def call(self, inputs, training=False):
        states = {name: inputs[name] for name in self.state_spec()}
        q_mean, _, q_states = self.gaussian("posterior", inputs["h_target"], states)
        p_mean, p_logvar, p_states = self.gaussian("prior", inputs["h"], states)
        from_prior = p_mean + ops.exp(0.5 * p_logvar) * ops.cast(inputs["eps"], "float32")
        use_posterior = ops.cast(inputs["posterior"], "float32")
        z = use_posterior * q_mean + (1.0 - use_posterior) * from_prior
        h_pred, f_states = self.predict_h(inputs["h"], z, states, inputs.get("action"))
        return {"h_pred": h_pred, **f_states, **p_states, **q_states}

    def get_config(self):
        return {**super().get_config(), "g_dim": self.g_dim, "z_dim": self.z_dim,
                "num_actions": self.num_actions,
                "rnn_size": self.rnn_size, "predictor_layers": self.predictor_layers,
                "prior_layers": self.prior_layers, "posterior_layers": self.posterior_layers}


@keras.saving.register_keras_serializable(package="vidgen_tf")
class SVGNetwork(keras.Model):
    """SVG-LP's networks as one model: `encoder`, `decoder` and `step` (see each).

    Example:
        >>> net = SVGNetwork(size=16, base_filters=4, g_dim=8, z_dim=2, rnn_size=8)
        >>> sorted(net.encoder({"frame": ops.zeros((1, 16, 16, 1))}))
        ['h', 'skip_0', 'skip_1']
    """

    def __init__(self, size: int = 64, channels: int = 1, base_filters: int = 64,
                 g_dim: int = 128, z_dim: int = 10, rnn_size: int = 256,
                 predictor_layers: int = 2, prior_layers: int = 1, posterior_layers: int = 1,
                 num_actions: int = 0, **kwargs):
        super().__init__(**kwargs)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3 for SVGNetwork; received "
                             f"channels={channels!r}")
        self.size, self.channels, self.base_filters = size, channels, base_filters
        self.encoder = SVGEncoder(size, channels, base_filters, g_dim)
        self.decoder = SVGDecoder(size, channels, base_filters, g_dim)
        self.step = SVGStep(g_dim, z_dim, rnn_size, predictor_layers, prior_layers,
                            posterior_layers, num_actions)
        self.g_dim, self.z_dim = g_dim, z_dim

    def build(self, input_shape=None):
        for part in (self.encoder, self.decoder, self.step):
            part.build()
        self.built = True

    def call(self, inputs, training=False):
        return self.encoder(inputs, training=training)

    def state_spec(self) -> dict[str, tuple[int]]:
        return self.step.state_spec()

    def get_config(self):
        s = self.step
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "base_filters": self.base_filters, "g_dim": s.g_dim, "z_dim": s.z_dim,
                "rnn_size": s.rnn_size, "predictor_layers": s.predictor_layers,
                "prior_layers": s.prior_layers, "posterior_layers": s.posterior_layers,
                "num_actions": s.num_actions}
