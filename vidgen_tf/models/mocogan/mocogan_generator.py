"""The MoCoGAN generator: a GRU walks the motion space, a 2D DCGAN renders every frame."""

from __future__ import annotations

import keras
from keras import layers, ops

from vidgen_tf.layers.condition_encoder import INPUT_NAMES, ConditionEncoder, check_conditions
from vidgen_tf.layers.conv_plan import spatial_doublings
from vidgen_tf.layers.resize_conv import check_upsample, make_upsampling


def _tiny():
    """The warp heads' initial weights (a new initializer per layer)."""
    return keras.initializers.RandomNormal(stddev=1e-5)


@keras.saving.register_keras_serializable(package="vidgen_tf")
class MoCoGANGenerator(keras.Model):
    """MoCoGAN generator: content, motion (and label) noise -> video of any length.

    Follows MoCoGAN (Tulyakov et al. 2018): a clip is a path in latent space. The content
    code is fixed over the clip; a GRU turns per-frame noise into motion codes; each frame
    `z_t = [content, motion_t, one_hot(label)]` goes through a 2D DCGAN image generator
    (a dense projection to 4x4, then layers that double the frame, stride-2 Conv2DTranspose
    or `upsample="resize"`, + BatchNorm + ReLU, then tanh). Frames are rendered all at once
    by folding time into the batch.

    The number of frames comes from the time axis of the "motion" input, not from `frames`:
    the GRU is causal, so a longer motion input extends a clip without changing its start.
    The GRU starts from a zero state (the paper draws it from noise; here the first motion
    noise step plays that role) and never uses cuDNN, so the graph exports to ONNX.

    Args:
        frames: int, default 16. Training clip length: the length `noise_spec` asks for.
        size: int, default 64. Frame height and width: 4 x a power of two (8, 16, 32, 64...).
        content_dim: int, default 50. Length of the content code.
        motion_dim: int, default 10. GRU units: length of each motion code.
        noise_dim: int, default 10. Length of the per-frame noise fed to the GRU.
        num_classes: int, default 0. Action classes for the conditional model (6 in the
            paper); 0 means unconditional.
        base_filters: int, default 64. Filters of the last hidden layer ("ngf"); earlier
            layers have 2x, 4x, ... as many.
        channels: int, default 3. Output channels.
        conditions: sequence of "label", "text", "first_frame", default (). What the clip is
            conditioned on. Each is encoded (`ConditionEncoder`) to `condition_dim` numbers;
            the code joins both the GRU's input at every step (so the motion depends on it:
            "moves left") and every frame's `z_t` (so the appearance does). With "label",
            `num_classes` sizes its embedding and the paper's one-hot code is not used.
        condition_dim: int, default 32. Code length per condition.
        vocab_size: int, default 0. Token ids of the "text" condition, padding included.
        first_frame_warp: bool, default True. With "first_frame": every frame is the given
            first frame moved by a generated flow (see `render`), so the shape and colour of
            the start carry through the clip; the image generator stops at its coarse map
            (8x8 from 16x16 frames up), which the flow is read from. False: the first frame
            reaches the frames only through its `condition_dim` code (models saved before
            0.1.15 load as False).
        flow_smoothness: float >= 0, default 1. With the warp, the weight of the flow's total
            variation (mean absolute difference of neighbouring flow vectors of the coarse
            map, in pixels), added to the generator's loss in training (`add_loss`). A
            uniform flow moves a shape without bending it and costs nothing; a flow that
            varies over a shape smears it.
        upsample: "transpose" (default, the paper's) or "resize". How each layer doubles the
            frame: a stride-2 4x4 Conv2DTranspose, or nearest-neighbour upsampling and a 3x3
            conv (`ResizeConv2D`), which makes no checkerboard (Odena et al. 2016). On real
            footage "resize" scored better at equal CPU time (docs/training.md); models saved
            before it existed load as "transpose".

    Call:
        inputs: a dict of noise, all randomness of the model (the graph has no random op):
            "content": float `(batch, content_dim)`, constant over the clip;
            "motion": float `(batch, any_frames, noise_dim)`, one noise vector per frame;
            "label": int32 `(batch,)` in [0, num_classes), only when num_classes > 0;
            "prompt_tokens": int32 `(batch, tokens)`, 0-padded word ids ("text" condition);
            "first_frame": float `(batch, size, size, channels)` in [-1, 1] ("first_frame").
        Returns float32 video `(batch, any_frames, size, size, channels)`, channels-last, in
        [-1, 1].

    Example:
        >>> g = MoCoGANGenerator(frames=8, size=16, content_dim=8, base_filters=8)
        >>> video = g({"content": keras.random.normal((2, 8)),
        ...            "motion": keras.random.normal((2, 12, 10))})
        >>> tuple(video.shape)
        (2, 12, 16, 16, 3)
    """

    family = "mocogan"

    def __init__(self, frames: int = 16, size: int = 64, content_dim: int = 50,
                 motion_dim: int = 10, noise_dim: int = 10, num_classes: int = 0,
                 base_filters: int = 64, channels: int = 3, conditions=(),
                 condition_dim: int = 32, vocab_size: int = 0, first_frame_warp: bool = True,
                 flow_smoothness: float = 1.0, upsample: str = "transpose", **kwargs):
        super().__init__(**kwargs)
        conditions = check_conditions(conditions, "MoCoGAN")
        if num_classes and conditions and "label" not in conditions:
            raise ValueError("num_classes sizes the label condition; with conditions "
                             f"{list(conditions)} it must be 0; received num_classes={num_classes}")
        if frames < 1:
            raise ValueError(f"frames must be >= 1 for MoCoGAN; received frames={frames}")
        if num_classes < 0:
            raise ValueError("num_classes must be >= 0 (0 for an unconditional model); "
                             f"received num_classes={num_classes}")
        # Config
        self.frames = frames
        self.size = size
        self.content_dim = content_dim
        self.motion_dim = motion_dim
        self.noise_dim = noise_dim
        self.num_classes = num_classes
        self.base_filters = base_filters
        self.channels = channels
        self.conditions = conditions
        self.condition_dim = condition_dim
        self.vocab_size = vocab_size
        if flow_smoothness < 0:
            raise ValueError("flow_smoothness must be >= 0 for MoCoGAN; received "
                             f"flow_smoothness={flow_smoothness}")
        self.first_frame_warp = bool(first_frame_warp)
        self.flow_smoothness = flow_smoothness
        self.upsample = check_upsample(upsample, "MoCoGAN")
        doublings = spatial_doublings(size, "mocogan")
        top_filters = base_filters * 2 ** (doublings - 1)

        # Layers: the condition encoder, the motion GRU, then the image generator shared by
        # every frame.
        self.condition_encoder = ConditionEncoder(
            conditions, condition_dim, num_classes=num_classes, vocab_size=vocab_size, size=size,
            channels=channels, name="condition_encoder") if conditions else None
        self.motion_gru = layers.GRU(motion_dim, return_sequences=True, use_cudnn=False,
                                     name="motion_gru")
        self.project = layers.Dense(4 * 4 * top_filters, use_bias=False, name="project")
        self.project_norm = layers.BatchNormalization(synchronized=True, name="project_norm")
        self.project_shape = (4, 4, top_filters)
        warp = "first_frame" in conditions and self.first_frame_warp
        self.blocks = []
        for i in range(min(doublings - 1, 1) if warp else doublings - 1):
            self.blocks.append((
                make_upsampling(upsample, top_filters // 2 ** (i + 1), use_bias=False,
                                name=f"up{i}"),
                layers.BatchNormalization(synchronized=True, name=f"up{i}_norm"),
            ))
        self.to_frame = self.output_activation = self.warp_head = self.warp_shift = None
        if not warp:
            self.to_frame = make_upsampling(upsample, channels, name="to_frame")
            self.output_activation = layers.Activation("tanh", dtype="float32", name="tanh")
        else:
            # A flow per pixel of the coarse map, upsampled: a coarse field moves whole
            # objects instead of smearing them. With a blend towards a rendered frame, the
            # generator painted a bright cloud over the warp instead of moving it (a run of
            # 4 epochs). Both heads start near zero: an almost still copy of the first frame
            # (flows of about 1e-3 pixel), with weights just large enough that the first
            # step's gradient reaches every layer before them.
            self.warp_head = layers.Conv2D(2, 3, padding="same", kernel_initializer=_tiny(),
                                           name="warp_head")
            # A shift of the whole frame, from the coarse map's mean: one vector per frame,
            # which every edge of the picture pulls on (a local flow learns only where the
            # picture has edges, and with `flow_smoothness` alone it stayed still).
            self.warp_shift = layers.Dense(2, kernel_initializer=_tiny(), name="warp_shift")

    @property
    def adds_flow_loss(self) -> bool:
        """Whether a training call adds the warp's flow smoothness loss (`add_loss`)."""
        return self.warp_head is not None and bool(self.flow_smoothness)

    def noise_spec(self) -> dict:
        """Each named input: per-sample shape, dtype and how to sample it."""
        spec = {
            "content": {"shape": (self.content_dim,), "dtype": "float32",
                        "distribution": "normal"},
            # time_axis: the clip length follows this axis, so any number of frames works.
            "motion": {"shape": (self.frames, self.noise_dim), "dtype": "float32",
                       "distribution": "normal", "time_axis": 0},
        }
        if self.num_classes and not self.conditions:
            spec["label"] = {"shape": (), "dtype": "int32", "distribution": "categorical",
                             "num_classes": self.num_classes}
        return spec

    def condition_spec(self) -> dict:
        """Each condition input: per-sample shape, dtype and role (empty: unconditional)."""
        spec = {}
        if "label" in self.conditions:
            spec["label"] = {"role": "label", "shape": (), "dtype": "int32",
                             "num_classes": self.num_classes}
        if "text" in self.conditions:
            spec["prompt_tokens"] = {"role": "text", "shape": ("tokens",), "dtype": "int32",
                                     "vocab_size": self.vocab_size}
        if "first_frame" in self.conditions:
            spec["first_frame"] = {"role": "first_frame",
                                   "shape": (self.size, self.size, self.channels),
                                   "dtype": "float32", "range": [-1.0, 1.0]}
        return spec

    def input_names(self) -> list[str]:
        """Every input of `call`, sorted: noise, then conditions."""
        return sorted({*self.noise_spec(), *self.condition_spec()})

    def build(self, input_shape=None):
        inputs = {"content": ops.zeros((1, self.content_dim)),
                  "motion": ops.zeros((1, self.frames, self.noise_dim))}
        if self.num_classes:
            inputs["label"] = ops.zeros((1,), "int32")
        if "text" in self.conditions:
            inputs["prompt_tokens"] = ops.ones((1, 2), "int32")
        if "first_frame" in self.conditions:
            inputs["first_frame"] = ops.zeros((1, self.size, self.size, self.channels))
        self.call(inputs)
        self.built = True

    def call(self, inputs, training=False):
        if not isinstance(inputs, dict) or not {"content", "motion"} <= inputs.keys():
            raise ValueError('MoCoGANGenerator takes a dict with "content" and "motion" noise; '
                             f"received {type(inputs).__name__} {_keys(inputs)}")
        if self.num_classes and "label" not in inputs:
            raise ValueError(f'MoCoGANGenerator with num_classes={self.num_classes} needs a '
                             f'"label" input; received keys {_keys(inputs)}')
        missing = [INPUT_NAMES[c] for c in self.conditions if INPUT_NAMES[c] not in inputs]
        if missing:
            raise ValueError(f"MoCoGANGenerator conditioned on {', '.join(self.conditions)} "
                             f"needs the inputs {', '.join(missing)}; received keys "
                             f"{_keys(inputs)}")
        noise = inputs["motion"]
        if self.condition_encoder is None:
            motion = self.motion_gru(noise, training=training)  # (B, T, motion_dim)
            return self.render({**inputs, "motion": motion}, training=training)
        code = self.condition_encoder(inputs)  # (B, condition codes)
        per_frame = ops.zeros_like(noise[..., :1])
        steps = ops.concatenate([noise, ops.cast(code, noise.dtype)[:, None, :] + per_frame],
                                axis=-1)
        motion = self.motion_gru(steps, training=training)
        return self.render({**inputs, "motion": motion}, training=training, code=code)

    def onnx_recurrent_inputs(self) -> dict:
        """Export hook: the noise input that goes through a GRU, and that GRU.

        The ONNX export converts `render` and puts this GRU in front of it as one ONNX GRU op
        (tf2onnx would turn the Keras GRU into a much slower generic Loop). A conditional
        generator's GRU reads the condition code too, which is computed inside the graph, so
        there it stays tf2onnx's Loop (the export's parity check covers both).
        """
        if self.conditions:
            return {}
        return {"motion": self.motion_gru}

    def render(self, inputs, training=False, code=None):
        """Video from motion codes: like `call`, but `inputs["motion"]` holds the GRU's output
        `(batch, frames, motion_dim)` instead of its noise (and `code`, the condition code, if
        conditional). Returns channels-last video `(batch, frames, size, size, channels)`."""
        motion = inputs["motion"]
        per_frame = ops.zeros_like(motion[..., :1])  # (B, T, 1): broadcasts codes over time
        codes = [ops.cast(inputs["content"], motion.dtype)[:, None, :] + per_frame, motion]
        if code is not None:
            codes.append(ops.cast(code, motion.dtype)[:, None, :] + per_frame)
        elif self.num_classes:
            one_hot = ops.one_hot(ops.cast(inputs["label"], "int32"), self.num_classes,
                                  dtype=motion.dtype)
            codes.append(one_hot[:, None, :] + per_frame)
        z = ops.concatenate(codes, axis=-1)  # (B, T, content + motion + classes)

        # Every frame is an independent image: fold time into the batch.
        frames = ops.shape(z)[1]
        x = self.project(ops.reshape(z, (-1, z.shape[-1])))
        x = ops.reshape(x, (-1, *self.project_shape))
        x = ops.relu(self.project_norm(x, training=training))
        for conv, norm in self.blocks:
            x = ops.relu(norm(conv(x), training=training))
        if self.warp_head is not None:  # x is the coarse map
            x = self._warp_first_frame(inputs["first_frame"], x, training)
        else:
            x = self.output_activation(self.to_frame(x))
        return ops.reshape(x, (-1, frames, self.size, self.size, self.channels))

    def _warp_first_frame(self, first_frame, coarse, training=False):
        """Each frame as the first frame moved by a flow read from the frame's coarse map.

        `warp_head` reads the coarse feature map of every frame; its output is upsampled
        bilinearly to the frame size. The flow is in pixels, `size / 2 * (tanh(local) +
        tanh(shift))`: a local flow from `warp_head`, less its mean over the frame, plus a
        shift of the whole frame from `warp_shift` (`flow_smoothness` weighs the local part
        only). It samples backwards: frame pixel p reads the first frame at p + flow(p),
        bilinearly, clamped at the border, so a plain background stays plain. All of it is
        float32 and gathers, which export to ONNX as Floor, Clip and Gather.
        """
        size, channels = self.size, self.channels
        head = ops.cast(self.warp_head(coarse), "float32")  # (B*T, c, c, 2)
        shift = ops.tanh(ops.cast(self.warp_shift(ops.mean(coarse, axis=(1, 2))), "float32"))
        if training and self.flow_smoothness:
            coarse_flow = ops.tanh(head) * (size / 2.0)
            variation = (ops.mean(ops.abs(coarse_flow[:, 1:] - coarse_flow[:, :-1]))
                         + ops.mean(ops.abs(coarse_flow[:, :, 1:] - coarse_flow[:, :, :-1])))
            self.add_loss(self.flow_smoothness * variation)
        head = ops.image.resize(head, (size, size), interpolation="bilinear")
        # The local part has no mean over the frame, which is the shift's: two parts that
        # could both move the whole frame drifted to opposite saturated ends and cancelled.
        local = ops.tanh(head)
        local = local - ops.mean(local, axis=(1, 2), keepdims=True)
        flow = (local + shift[:, None, None, :]) * (size / 2.0)
        first = ops.cast(first_frame, "float32")  # (B, size, size, C)
        batch = ops.shape(first)[0]
        grid = ops.cast(ops.arange(size), "float32")
        # (B, T, size, size): sample rows and columns of each frame.
        y = ops.reshape(ops.clip(grid[:, None] + flow[..., 0], 0.0, size - 1.0),
                        (batch, -1, size, size))
        x = ops.reshape(ops.clip(grid[None, :] + flow[..., 1], 0.0, size - 1.0),
                        (batch, -1, size, size))
        y0, x0 = ops.floor(y), ops.floor(x)
        wy, wx = ops.reshape(y - y0, (-1, size, size, 1)), ops.reshape(x - x0, (-1, size, size, 1))
        y0, x0 = ops.cast(y0, "int32"), ops.cast(x0, "int32")
        y1, x1 = ops.minimum(y0 + 1, size - 1), ops.minimum(x0 + 1, size - 1)
        # Pixel (b, y, x) of the first frames is row (b * size + y) * size + x of `pixels`.
        pixels = ops.reshape(first, (-1, channels))
        owner = ops.arange(batch, dtype="int32")[:, None, None, None] * size

        def at(yi, xi):
            return ops.take(pixels, ops.reshape((owner + yi) * size + xi, (-1,)), axis=0)

        shape = (-1, size, size, channels)
        top = ops.reshape(at(y0, x0), shape) * (1 - wx) + ops.reshape(at(y0, x1), shape) * wx
        bottom = ops.reshape(at(y1, x0), shape) * (1 - wx) + ops.reshape(at(y1, x1), shape) * wx
        return top * (1 - wy) + bottom * wy

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, size=self.size, content_dim=self.content_dim,
                      motion_dim=self.motion_dim, noise_dim=self.noise_dim,
                      num_classes=self.num_classes, base_filters=self.base_filters,
                      channels=self.channels, conditions=list(self.conditions),
                      condition_dim=self.condition_dim, vocab_size=self.vocab_size,
                      first_frame_warp=self.first_frame_warp,
                      flow_smoothness=self.flow_smoothness, upsample=self.upsample)
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before first_frame_warp existed: those first-frame models had no warp.
        return cls(**{"first_frame_warp": False, **config})


def _keys(inputs) -> str:
    return sorted(inputs) if isinstance(inputs, dict) else "(not a dict)"
