"""TD-VAE's networks (Gregor et al. 2019): a per-frame convolutional encoder, the belief LSTM,
the D-blocks of the belief, smoothing and transition distributions, and a convolutional
Bernoulli decoder. `TDVAENetwork` holds them as one Keras model, the trainer's `predictor`;
its `call` is one step of the jumpy rollout, with the noise and every state as inputs."""

from __future__ import annotations

import math

import keras
from keras import layers, ops

LEAK = 0.2
# Every D-block's log-variance is kept in this range: exp(-10) to exp(5) in variance.
LOGVAR_RANGE = (-10.0, 5.0)
# Every D-block starts with this log-variance (a standard deviation of 0.08).
INITIAL_LOGVAR = -5.0


def check_positive(owner: str, **values) -> None:
    """A ValueError naming the first value that is not an integer >= 1."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1 for {owner}; received "
                             f"{name}={value!r}")


def levels_of(size: int, owner: str) -> int:
    """Stride-2 blocks that take a `size` x `size` frame down to 4 x 4."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 8 or size & (size - 1):
        raise ValueError(f"size must be a power of two >= 8 for {owner}; received size={size!r}")
    return int(math.log2(size)) - 2


@keras.saving.register_keras_serializable(package="vidgen_tf")
class TDVAEEncoder(keras.Model):
    """One frame -> its encoding, the belief LSTM's input: stride-2 4x4 convolutions with
    LeakyReLU(0.2), doubling the width from `base_filters` down to 4x4, then a dense layer,
    LayerNorm and tanh to `hidden`. The LayerNorm gives the encoding unit scale from the
    start: without it the frames of a batch differed by about 1% of the encoding at
    initialisation (Moving MNIST, 64x64), too little for the latent to carry them through
    unit noise. It normalises each frame alone, so an encoding never depends on the batch.

    Args:
        size: int, default 32. Frame height and width (a power of two >= 8).
        channels: int, default 1.
        base_filters: int, default 16. Filters of the first convolution.
        hidden: int, default 128. Width of the encoding.

    `call({"frame": (batch, size, size, channels)})` (channels-last, in [-1, 1]) returns
    {"h": float32 `(batch, hidden)`}.
    """

    def __init__(self, size: int = 32, channels: int = 1, base_filters: int = 16,
                 hidden: int = 128, **kwargs):
        super().__init__(**kwargs)
        check_positive("TDVAEEncoder", channels=channels, base_filters=base_filters,
                       hidden=hidden)
        self.levels = levels_of(size, "TDVAEEncoder")
        self.size, self.channels = size, channels
        self.base_filters, self.hidden = base_filters, hidden
        self.convs = [layers.Conv2D(base_filters * 2**i, 4, strides=2, padding="same")
                      for i in range(self.levels)]
        self.flatten = layers.Flatten()
        self.to_h = layers.Dense(hidden)
        self.h_norm = layers.LayerNormalization()

    def build(self, input_shape=None):
        self.call({"frame": ops.zeros((1, self.size, self.size, self.channels))})
        self.built = True

    def call(self, inputs, training=False):
        x = inputs["frame"] if isinstance(inputs, dict) else inputs
        for conv in self.convs:
            x = ops.leaky_relu(conv(x), LEAK)
        h = ops.tanh(self.h_norm(self.to_h(self.flatten(x))))
        return {"h": ops.cast(h, "float32")}

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "base_filters": self.base_filters, "hidden": self.hidden}


@keras.saving.register_keras_serializable(package="vidgen_tf")
class TDVAEDecoder(keras.Model):
    """P_D(x | z): a latent state -> the per-pixel Bernoulli probabilities of a frame. A dense
    layer and ReLU to 4x4, stride-2 transposed convolutions with LeakyReLU(0.2) halving the
    width up to `size / 2`, and a last transposed convolution to the logits.

    Args:
        size, channels, base_filters: as `TDVAEEncoder`'s (its mirror).
        z_dim: int, default 8. Width of the latent state.
        content: int >= 0, default 0. Width of a content encoding "h" the decoder takes
            beside z (an observed frame's `TDVAEEncoder` output), concatenated to z before
            the first layer; 0 for none, the paper's P_D(x | z).

    `call({"z": (batch, z_dim)})` (and "h" `(batch, content)` when `content` > 0) returns
    "logits" and "frame" `(batch, size, size, channels)`, float32: the logits of p =
    P(pixel on), the Bernoulli of (x + 1) / 2, and its mean in [-1, 1] units,
    frame = 2 p - 1 = tanh(logits / 2). The input may also be named "h_pred", the name the
    `latent_rollout` sampler gives the decoder's input.
    """

    def __init__(self, size: int = 32, channels: int = 1, base_filters: int = 16,
                 z_dim: int = 8, content: int = 0, **kwargs):
        super().__init__(**kwargs)
        check_positive("TDVAEDecoder", channels=channels, base_filters=base_filters,
                       z_dim=z_dim)
        if isinstance(content, bool) or not isinstance(content, int) or content < 0:
            raise ValueError(f"content must be an integer >= 0 for TDVAEDecoder; received "
                             f"content={content!r}")
        self.levels = levels_of(size, "TDVAEDecoder")
        self.size, self.channels = size, channels
        self.base_filters, self.z_dim, self.content = base_filters, z_dim, content
        self.top = base_filters * 2**(self.levels - 1)
        self.from_z = layers.Dense(4 * 4 * self.top)
        self.convs = [layers.Conv2DTranspose(base_filters * 2**(i - 1), 4, strides=2,
                                             padding="same")
                      for i in range(self.levels - 1, 0, -1)]
        self.to_logits = layers.Conv2DTranspose(channels, 4, strides=2, padding="same",
                                                dtype="float32")

    def build(self, input_shape=None):
        self.call({"z": ops.zeros((1, self.z_dim)), "h": ops.zeros((1, self.content))})
        self.built = True

    def call(self, inputs, training=False):
        z = inputs.get("z", inputs.get("h_pred")) if isinstance(inputs, dict) else inputs
        if self.content:
            z = ops.concatenate([ops.cast(z, "float32"), ops.cast(inputs["h"], "float32")],
                                axis=-1)
        x = ops.reshape(ops.relu(self.from_z(z)), (-1, 4, 4, self.top))
        for conv in self.convs:
            x = ops.leaky_relu(conv(x), LEAK)
        logits = ops.cast(self.to_logits(x), "float32")
        return {"logits": logits, "frame": ops.tanh(0.5 * logits)}

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "base_filters": self.base_filters, "z_dim": self.z_dim, "content": self.content}


class DBlock(layers.Layer):
    """The paper's D-block (its appendix): a diagonal Gaussian from an input vector,
    t = tanh(W1 x) * sigmoid(W2 x), mean = W3 t, log-variance = W4 t (clipped to
    `LOGVAR_RANGE`), both float32."""

    def __init__(self, units: int, z_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.z_dim = units, z_dim
        self.tanh_part = layers.Dense(units)
        self.gate = layers.Dense(units)
        self.mean = layers.Dense(z_dim, dtype="float32")
        self.logvar = layers.Dense(z_dim, dtype="float32",
                                   bias_initializer=keras.initializers.Constant(INITIAL_LOGVAR))

    def build(self, input_shape):
        for dense in (self.tanh_part, self.gate):
            dense.build(input_shape)
        for dense in (self.mean, self.logvar):
            dense.build((*input_shape[:-1], self.units))
        self.built = True

    def call(self, x):
        t = ops.tanh(self.tanh_part(x)) * ops.sigmoid(self.gate(x))
        return self.mean(t), ops.clip(self.logvar(t), *LOGVAR_RANGE)


@keras.saving.register_keras_serializable(package="vidgen_tf")
class TDVAENetwork(keras.Model):
    """TD-VAE's networks as one model (Gregor et al. 2019, "Temporal Difference Variational
    Auto-Encoder"), with one stochastic layer of latent state (the paper stacks two):

    - `encoder` (`TDVAEEncoder`) and `belief`, an LSTM of `belief_size` over the encodings:
      the belief b_t sums up frames 0..t (the LSTM's output plus `belief_skip`, a linear map
      of frame t's encoding);
    - `belief_to_z`, P_B(z_t | b_t); `smoothing`, q_S(z_t1 | z_t2, b_t1, b_t2) on their
      concatenation; `transition`, P_T(z_t2 | z_t1, dt) on [z_t1, one-hot of dt - 1], whose
      mean is z_t1 plus the block's: D-blocks of `block_size` units to diagonal Gaussians of
      `z_dim`;
    - `decoder` (`TDVAEDecoder`), P_D(x_t | z_t), or with `content`, P_D(x_t | z_t, h_s):
      the decoder also takes the encoding h_s of an observed frame s before t, so the
      latent need not carry what the frames already show (a digit's shape) and can spend
      itself on what changes (its place). The paper's decoder has no such input.

    `call` is one step of the jumpy rollout with jumps of one frame, the export's "step"
    graph for the runtime's `latent_rollout` sampler: all its randomness and state are inputs.
    It takes "h" `(batch, hidden)`, an encoded frame; "eps" `(batch, 2 z_dim)` standard
    normal; "posterior" `(batch, 1)`: 1 while the sampler feeds context frames; and the
    states (`state_spec()`): the belief's "belief_h" and "belief_c", the latent "z" and
    "rolling" (0 until the first prediction, then 1). Until rolling, the belief reads "h";
    at the first prediction step z is drawn from P_B(z | b) with the first half of "eps"
    and the later ones start from the "z" state; then z <- P_T(z | z, dt=1) with the second
    half. It returns "h_pred", that z (the decoder's input), and the new states. Flags are
    mixed arithmetically (f a + (1 - f) b), so the graph has no branch.

    Args:
        size: int, default 32. channels: int, default 1. base_filters: int, default 16.
        hidden: int, default 128. Width of a frame's encoding.
        belief_size: int, default 50. Units of the belief LSTM.
        z_dim: int, default 8. Width of the latent state.
        block_size: int, default 50. Hidden units of each D-block.
        max_jump: int, default 4. The longest jump dt the transition knows.
        content: bool, default False. Whether the decoder takes a content encoding (above).

    Example:
        >>> net = TDVAENetwork(size=16, base_filters=4, hidden=8, belief_size=8, z_dim=2,
        ...                    block_size=8, max_jump=2)
        >>> tuple(net.beliefs(ops.zeros((3, 5, 16, 16, 1))).shape)
        (3, 5, 8)
    """

    def __init__(self, size: int = 32, channels: int = 1, base_filters: int = 16,
                 hidden: int = 128, belief_size: int = 50, z_dim: int = 8,
                 block_size: int = 50, max_jump: int = 4, content: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_positive("TDVAENetwork", hidden=hidden, belief_size=belief_size, z_dim=z_dim,
                       block_size=block_size, max_jump=max_jump)
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3 for TDVAENetwork; received "
                             f"channels={channels!r}")
        # Config
        self.size, self.channels, self.base_filters = size, channels, base_filters
        self.hidden, self.belief_size, self.z_dim = hidden, belief_size, z_dim
        self.block_size, self.max_jump, self.content = block_size, max_jump, bool(content)
        # Layers
        self.encoder = TDVAEEncoder(size, channels, base_filters, hidden)
        self.belief = layers.LSTM(belief_size, return_sequences=True)
        self.belief_skip = layers.Dense(belief_size)
        self.belief_to_z = DBlock(block_size, z_dim)
        self.smoothing = DBlock(block_size, z_dim)
        self.transition = DBlock(block_size, z_dim)
        self.decoder = TDVAEDecoder(size, channels, base_filters, z_dim,
                                    content=hidden if content else 0)

    def state_spec(self) -> dict[str, tuple[int]]:
        return {"belief_h": (self.belief_size,), "belief_c": (self.belief_size,),
                "rolling": (1,), "z": (self.z_dim,)}

    def zero_states(self, batch) -> dict:
        return {name: ops.zeros((batch, *shape), "float32")
                for name, shape in self.state_spec().items()}

    def build(self, input_shape=None):
        self.encoder.build()
        self.decoder.build()
        self.belief.build((None, None, self.hidden))
        self.belief_skip.build((None, self.hidden))
        self.belief_to_z.build((None, self.belief_size))
        self.smoothing.build((None, 2 * self.belief_size + self.z_dim))
        self.transition.build((None, self.z_dim + self.max_jump))
        self.built = True

    # ------------------------------------------------------------------ the distributions

    def encode(self, video, training=False):
        """Every frame's encoding: float32 `(batch, frames, hidden)` for `video` `(batch,
        frames, size, size, channels)`."""
        video = ops.cast(video, self.compute_dtype)
        batch, frames = ops.shape(video)[0], video.shape[1]
        encoded = self.encoder({"frame": ops.reshape(video, (-1, *video.shape[2:]))},
                               training=training)["h"]
        return ops.reshape(encoded, (batch, frames, self.hidden))

    def beliefs(self, video, training=False, encoded=None):
        """b_t for every frame of `video` `(batch, frames, size, size, channels)`:
        float32 `(batch, frames, belief_size)`, the belief after frames 0..t: the LSTM's
        output plus a linear map of frame t's encoding (`belief_of`). `encoded`, when given,
        is `encode(video)`, not computed again."""
        if encoded is None:
            encoded = self.encode(video, training=training)
        return self.belief_of(self.belief(encoded, training=training), encoded)

    def decode(self, z, content=None, training=False) -> dict:
        """P_D's "logits" and mean "frame" for latents `z` `(batch, z_dim)`, with the content
        encodings `content` `(batch, hidden)` when the network has `content` (else ignored)."""
        inputs = {"z": z}
        if self.content:
            inputs["h"] = content
        return self.decoder(inputs, training=training)

    def belief_of(self, lstm_output, encoded):
        """b_t from the LSTM's output after frame t and frame t's encoding: their sum, after
        a linear map of the encoding. The direct path lets the latent carry the frame from
        the first steps on: through the LSTM alone, Moving MNIST training sat at the mean
        frame for 1800 steps (an LSTM's output barely depends on its input at first)."""
        return (ops.cast(lstm_output, "float32")
                + ops.cast(self.belief_skip(ops.cast(encoded, self.compute_dtype)), "float32"))

    def belief_step(self, h, belief_h, belief_c) -> tuple:
        """(belief_h, belief_c) after one more encoded frame `h`, from the given state."""
        out, (new_h, new_c) = self.belief.cell(
            ops.cast(h, self.compute_dtype), [belief_h, belief_c])
        del out
        return ops.cast(new_h, "float32"), ops.cast(new_c, "float32")

    def p_belief(self, belief) -> tuple:
        """(mean, logvar) of P_B(z | b)."""
        return self.belief_to_z(belief)

    def q_smoothing(self, z2, belief1, belief2) -> tuple:
        """(mean, logvar) of q_S(z_t1 | z_t2, b_t1, b_t2)."""
        return self.smoothing(ops.concatenate(
            [ops.cast(belief1, "float32"), ops.cast(belief2, "float32"),
             ops.cast(z2, "float32")], axis=-1))

    def p_transition(self, z1, jump) -> tuple:
        """(mean, logvar) of P_T(z_t2 | z_t1, dt) for jumps dt `(batch,)` in 1..max_jump (or
        one int for the whole batch). The mean is residual, z_t1 + the D-block's mean: what
        does not change over a jump (a digit's identity) costs the transition nothing to
        carry."""
        z1 = ops.cast(z1, "float32")
        if isinstance(jump, int):
            jump = ops.full((ops.shape(z1)[0],), jump, "int32")
        code = ops.one_hot(ops.cast(jump, "int32") - 1, self.max_jump, dtype="float32")
        change, logvar = self.transition(ops.concatenate([z1, code], axis=-1))
        return z1 + change, logvar

    # ------------------------------------------------------------------ one rollout step

    def rollout_step(self, inputs, jump: int = 1) -> dict:
        """One step of the jumpy rollout with jump `jump` (see the class docstring)."""
        eps = ops.cast(inputs["eps"], "float32")
        eps_belief, eps_transition = eps[:, :self.z_dim], eps[:, self.z_dim:]
        rolling = ops.cast(inputs["rolling"], "float32")
        predicting = 1.0 - ops.cast(inputs["posterior"], "float32")
        # No frame is observed once the rollout has started: the belief stays.
        stepped_h, stepped_c = self.belief_step(inputs["h"], inputs["belief_h"],
                                                inputs["belief_c"])
        belief_h = rolling * ops.cast(inputs["belief_h"], "float32") + (1 - rolling) * stepped_h
        belief_c = rolling * ops.cast(inputs["belief_c"], "float32") + (1 - rolling) * stepped_c
        mean_b, logvar_b = self.p_belief(self.belief_of(belief_h, inputs["h"]))
        z_now = rolling * ops.cast(inputs["z"], "float32") + (1 - rolling) * (
            mean_b + ops.exp(0.5 * logvar_b) * eps_belief)
        mean_t, logvar_t = self.p_transition(z_now, jump)
        z_next = mean_t + ops.exp(0.5 * logvar_t) * eps_transition
        return {"h_pred": z_next, "belief_h": belief_h, "belief_c": belief_c,
                "z": predicting * z_next + (1 - predicting) * ops.cast(inputs["z"], "float32"),
                "rolling": rolling + (1 - rolling) * predicting}

    def call(self, inputs, training=False):
        return self.rollout_step(inputs, jump=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels,
                "base_filters": self.base_filters, "hidden": self.hidden,
                "belief_size": self.belief_size, "z_dim": self.z_dim,
                "block_size": self.block_size, "max_jump": self.max_jump,
                "content": self.content}
