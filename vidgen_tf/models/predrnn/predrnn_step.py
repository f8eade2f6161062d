"""PredRNNStep: one time step of stacked spatiotemporal LSTMs (PredRNN, Wang et al. 2017;
PredRNN-V2's memory decoupling, Wang et al. 2022); the trainer and the runtime's rollout
sampler unroll it."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from vidgen_tf.models.convlstm.convlstm_step import check_step_arguments


@keras.saving.register_keras_serializable(package="vidgen_tf")
class PredRNNStep(keras.Model):
    """One step of PredRNN's stack of ST-LSTM cells, as OpenSTL trains it on Moving MNIST.

    The frame is cut into patch_size x patch_size patches stacked as channels. Each layer
    keeps a temporal memory c (its own, along time) and passes the spatiotemporal memory m up
    the stack; the top layer's m goes to the bottom layer at the next step (the zigzag). Per
    layer, with x the input (the layer below's h), convolutions of x, h and m give:
    c' = sigmoid(f + 1) c + sigmoid(i) tanh(g) (delta_c the second term), m' = sigmoid(f' + 1)
    m + sigmoid(i') tanh(g') (delta_m), o = sigmoid(o_x + o_h + conv([c', m'])), h' =
    o tanh(1x1 conv([c', m'])). A 1x1 convolution of the top h' gives the next frame. As in
    OpenSTL, no convolution has a bias: at its setting both have 23,838,720 weights.

    With `decouple_loss` (PredRNN-V2), a step in training also returns "decouple_loss"
    `(batch,)`: the mean over layers and channels of |cos| between delta_c and delta_m, each
    passed through a shared 1x1 convolution and compared over the spatial positions; the
    trainer adds it with `decouple_beta`, pushing the two memories to hold different things.

    Args:
        size: int, default 64. Frame height and width.
        channels: int, default 1. 1 (grey) or 3 (RGB).
        patch_size: int, default 4. Patch side; divides `size`.
        hidden: sequence of int, default (128, 128, 128, 128). Channels per layer, all equal
            (m passes between layers).
        kernel_size: int, default 5. Odd side of the convolutions.
        decouple_loss: bool, default False. Return PredRNN-V2's decoupling loss in training.

    `call({"frame": (batch, size, size, channels), "h0", "c0", ..., "m"})`, channels-last,
    frames in [-1, 1], states as `state_spec()` gives them (zeros to start), returns the next
    frame under "frame" (float32, linear) and the new states under their names (float32).

    Example:
        >>> step = PredRNNStep(size=16, patch_size=4, hidden=(8, 8), kernel_size=3)
        >>> sorted(step.state_spec())
        ['c0', 'c1', 'h0', 'h1', 'm']
    """

    def __init__(self, size: int = 64, channels: int = 1, patch_size: int = 4,
                 hidden=(128, 128, 128, 128), kernel_size: int = 5, decouple_loss: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        hidden = tuple(int(h) for h in hidden)
        check_step_arguments("PredRNNStep", size, channels, patch_size, hidden, kernel_size)
        if len(set(hidden)) != 1:
            raise ValueError("hidden must give every layer the same width for PredRNNStep (the "
                             f"spatiotemporal memory passes between them); received "
                             f"hidden={list(hidden)}")
        # Config
        self.size, self.channels, self.patch_size = size, channels, patch_size
        self.hidden, self.kernel_size = hidden, kernel_size
        self.decouple_loss = bool(decouple_loss)
        # Layers
        n, k = hidden[0], kernel_size
        self.conv_x = [keras.layers.Conv2D(7 * n, k, padding="same", use_bias=False,
                                         name=f"conv_x_{i}")
                       for i in range(len(hidden))]
        self.conv_h = [keras.layers.Conv2D(4 * n, k, padding="same", use_bias=False,
                                         name=f"conv_h_{i}")
                       for i in range(len(hidden))]
        self.conv_m = [keras.layers.Conv2D(3 * n, k, padding="same", use_bias=False,
                                         name=f"conv_m_{i}")
                       for i in range(len(hidden))]
        self.conv_o = [keras.layers.Conv2D(n, k, padding="same", use_bias=False,
                                         name=f"conv_o_{i}")
                       for i in range(len(hidden))]
        self.conv_last = [keras.layers.Conv2D(n, 1, use_bias=False, name=f"conv_last_{i}")
                          for i in range(len(hidden))]
        self.adapter = keras.layers.Conv2D(n, 1, use_bias=False, name="adapter")
        self.to_frame = keras.layers.Conv2D(patch_size * patch_size * channels, 1,
                                            use_bias=False, dtype="float32", name="to_frame")

    @property
    def input_dtype(self) -> str:
        # Keras would cast every floating input (the frame and the states) to the compute
        # dtype, so under mixed_bfloat16 the memories would round to bfloat16 at each step.
        # They enter as float32; the convolutions cast to the compute dtype themselves.
        return "float32"

    @property
    def grid(self) -> int:
        return self.size // self.patch_size

    def state_spec(self) -> dict[str, tuple[int, int, int]]:
        spec = {}
        for i, n in enumerate(self.hidden):
            spec[f"h{i}"] = (self.grid, self.grid, n)
            spec[f"c{i}"] = (self.grid, self.grid, n)
        spec["m"] = (self.grid, self.grid, self.hidden[0])
        return spec

    def build(self, input_shape=None):
        g, n = self.grid, self.hidden[0]
        below = self.patch_size * self.patch_size * self.channels
        for i in range(len(self.hidden)):
            self.conv_x[i].build((None, g, g, below))
            self.conv_h[i].build((None, g, g, n))
            self.conv_m[i].build((None, g, g, n))
            self.conv_o[i].build((None, g, g, 2 * n))
            self.conv_last[i].build((None, g, g, 2 * n))
            below = n
        self.adapter.build((None, g, g, n))
        self.to_frame.build((None, g, g, n))
        self.built = True

    def call(self, inputs, training=False):
        x = tf.nn.space_to_depth(inputs["frame"], self.patch_size)
        # The states arrive in float32 (input_dtype); the memories stay float32.
        m = ops.cast(inputs["m"], "float32")
        out, decouple = {}, []
        for i in range(len(self.hidden)):
            c = ops.cast(inputs[f"c{i}"], "float32")
            xs = ops.split(ops.cast(self.conv_x[i](x), "float32"), 7, axis=-1)
            hs = ops.split(ops.cast(self.conv_h[i](inputs[f"h{i}"]), "float32"), 4, axis=-1)
            ms = ops.split(ops.cast(self.conv_m[i](m), "float32"), 3, axis=-1)
            delta_c = ops.sigmoid(xs[0] + hs[0]) * ops.tanh(xs[2] + hs[2])
            c = ops.sigmoid(xs[1] + hs[1] + 1.0) * c + delta_c
            delta_m = ops.sigmoid(xs[3] + ms[0]) * ops.tanh(xs[5] + ms[2])
            m = ops.sigmoid(xs[4] + ms[1] + 1.0) * m + delta_m
            memory = ops.concatenate([c, m], axis=-1)
            gate_o = ops.sigmoid(xs[6] + hs[3] + ops.cast(self.conv_o[i](memory), "float32"))
            x = gate_o * ops.tanh(ops.cast(self.conv_last[i](memory), "float32"))
            out[f"h{i}"], out[f"c{i}"] = x, c
            if self.decouple_loss and training:
                decouple.append(self._decoupling(delta_c, delta_m))
        out["m"] = m
        out["frame"] = tf.nn.depth_to_space(self.to_frame(x), self.patch_size)
        if decouple:
            out["decouple_loss"] = ops.mean(ops.stack(decouple, axis=0), axis=0)
        return out

    def _decoupling(self, delta_c, delta_m):
        """(batch,) mean over channels of |cos| between the adapted increments, compared
        over the spatial positions (OpenSTL's PredRNNv2)."""
        batch = ops.shape(delta_c)[0]
        a = ops.reshape(ops.cast(self.adapter(delta_c), "float32"), (batch, -1, self.hidden[0]))
        b = ops.reshape(ops.cast(self.adapter(delta_m), "float32"), (batch, -1, self.hidden[0]))
        a = a / ops.maximum(ops.norm(a, axis=1, keepdims=True), 1e-12)
        b = b / ops.maximum(ops.norm(b, axis=1, keepdims=True), 1e-12)
        return ops.mean(ops.abs(ops.sum(a * b, axis=1)), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, channels=self.channels, patch_size=self.patch_size,
                      hidden=list(self.hidden), kernel_size=self.kernel_size,
                      decouple_loss=self.decouple_loss)
        return config
