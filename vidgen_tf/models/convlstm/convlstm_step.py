"""ConvLSTMStep: one time step of a stacked ConvLSTM (Shi et al. 2015), the frame predictor's
network; the trainer and the runtime's rollout sampler unroll it."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def check_step_arguments(owner: str, size, channels, patch_size, hidden, kernel_size) -> None:
    """A ValueError naming the first argument of a step network out of range."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3 for {owner}; received channels={channels}")
    if patch_size < 1 or size % patch_size:
        raise ValueError(f"size must be a multiple of patch_size for {owner}; received "
                         f"size={size}, patch_size={patch_size}")
    if not hidden or any(h < 1 for h in hidden):
        raise ValueError(f"hidden must list one positive width per layer for {owner}; received "
                         f"hidden={list(hidden)}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd and >= 1 for {owner}; received "
                         f"kernel_size={kernel_size}")


@keras.saving.register_keras_serializable(package="vidgen_tf")
class ConvLSTMStep(keras.Model):
    """One step of the encoding-forecasting ConvLSTM stack, as OpenSTL trains it on Moving
    MNIST (Shi et al. 2015, "Convolutional LSTM Network: A Machine Learning Approach for
    Precipitation Nowcasting").

    The frame is cut into patch_size x patch_size patches stacked as channels
    (`tf.nn.space_to_depth`), which the cells see at size / patch_size. Layer l takes the
    layer below's hidden state (layer 0 the patched frame) and its own state (h, c): one
    convolution of [input, h] gives the gates i, f, g, o; c' = sigmoid(f + 1) c +
    sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c'). A 1x1 convolution of the top h' gives the
    next frame's patches (`tf.nn.depth_to_space`). OpenSTL's cell computes the same without
    biases and without the forget bias of 1 (it defines one, and two convolutions, that its
    forward pass never uses); here the gate convolutions have biases and the forget gate
    starts open, the usual LSTM practice.

    Args:
        size: int, default 64. Frame height and width.
        channels: int, default 1. 1 (grey) or 3 (RGB).
        patch_size: int, default 4. Patch side; divides `size`.
        hidden: sequence of int, default (128, 128, 128, 128). Hidden channels per layer.
        kernel_size: int, default 5. Odd side of the gate convolutions.

    `call({"frame": (batch, size, size, channels), "h0", "c0", ...})`, channels-last, frames in
    [-1, 1] and states as `state_spec()` gives them (zeros to start), returns the next frame
    under "frame" (float32, linear) and the new states under their names (float32).

    Example:
        >>> step = ConvLSTMStep(size=16, patch_size=4, hidden=(8, 8), kernel_size=3)
        >>> step.state_spec()["h0"]
        (4, 4, 8)
    """

    def __init__(self, size: int = 64, channels: int = 1, patch_size: int = 4,
                 hidden=(128, 128, 128, 128), kernel_size: int = 5, **kwargs):
        super().__init__(**kwargs)
        hidden = tuple(int(h) for h in hidden)
        check_step_arguments("ConvLSTMStep", size, channels, patch_size, hidden, kernel_size)
        # Config
        self.size, self.channels, self.patch_size = size, channels, patch_size
        self.hidden, self.kernel_size = hidden, kernel_size
        # Layers
        self.gates = [keras.layers.Conv2D(4 * h, kernel_size, padding="same", name=f"gates_{i}")
                      for i, h in enumerate(hidden)]
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
        for i, h in enumerate(self.hidden):
            spec[f"h{i}"] = (self.grid, self.grid, h)
            spec[f"c{i}"] = (self.grid, self.grid, h)
        return spec

    def build(self, input_shape=None):
        below = self.patch_size * self.patch_size * self.channels
        for conv, h in zip(self.gates, self.hidden, strict=True):
            conv.build((None, self.grid, self.grid, below + h))
            below = h
        self.to_frame.build((None, self.grid, self.grid, self.hidden[-1]))
        self.built = True

    def call(self, inputs, training=False):
        x = tf.nn.space_to_depth(inputs["frame"], self.patch_size)
        out = {}
        for i, conv in enumerate(self.gates):
            # The states arrive in float32 (input_dtype); the cell state stays float32.
            h, c = inputs[f"h{i}"], ops.cast(inputs[f"c{i}"], "float32")
            gates = conv(ops.concatenate([ops.cast(x, conv.compute_dtype),
                                          ops.cast(h, conv.compute_dtype)], axis=-1))
            gate_i, gate_f, gate_g, gate_o = ops.split(ops.cast(gates, "float32"), 4, axis=-1)
            c = ops.sigmoid(gate_f + 1.0) * c + ops.sigmoid(gate_i) * ops.tanh(gate_g)
            x = ops.sigmoid(gate_o) * ops.tanh(c)
            out[f"h{i}"], out[f"c{i}"] = x, c
        out["frame"] = tf.nn.depth_to_space(self.to_frame(x), self.patch_size)
        return out

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, channels=self.channels, patch_size=self.patch_size,
                      hidden=list(self.hidden), kernel_size=self.kernel_size)
        return config
