"""The MoCoGAN video discriminator: a 3D patch discriminator with an optional category head."""

from __future__ import annotations

import keras
from keras import layers, ops

from vidgen_tf.layers.condition_encoder import (
    ConditionEncoder,
    check_conditions,
    projection_logits,
)
from vidgen_tf.layers.conv_plan import check_head, spatial_doublings
from vidgen_tf.layers.minibatch_std import MinibatchStd
from vidgen_tf.layers.spectral_conv import make_conv

# Each Conv3D has temporal kernel 4 and no temporal padding, as in the paper.
_FRAMES_LOST_PER_LAYER = 3


@keras.saving.register_keras_serializable(package="vidgen_tf")
class MoCoGANVideoDiscriminator(keras.Model):
    """MoCoGAN video discriminator D_V: clip -> patch logits (+ class logits if conditional).

    Follows the PatchVideoDiscriminator of MoCoGAN (Tulyakov et al. 2018): Conv3D (kernel 4,
    strides (1, 2, 2), spatial padding 1, no temporal padding) + LeakyReLU(0.2) blocks,
    BatchNorm after every block but the first, and a last conv to the patch logits. Each
    layer halves height and width and trims 3 frames, so at 64x64x16 the output is 4x4x4.
    When `num_classes > 0` the last conv has `1 + num_classes` outputs, as in the paper's
    CategoricalVideoDiscriminator: channel 0 is the patch logit, and the rest, averaged over
    all patches, are the class logits that the InfoGAN-style category loss trains.

    Args:
        frames: int, default 16. Input frames; at least 3 x (layers) + 1, where layers is
            log2(size / 4) (13 at size 64, 7 at size 16).
        size: int, default 64. Input height and width: 4 x a power of two.
        base_filters: int, default 64. Filters of the first layer ("ndf").
        num_classes: int, default 0. Classes of the category head; 0 means no head.
        channels: int, default 3. Input channels.
        minibatch_std: bool, default False. Append the batch's feature spread before the
            last conv (ProGAN's minibatch standard deviation), against mode collapse.
        spectral_norm: bool, default False. Spectral normalization of every conv (Miyato et
            al. 2018; `SpectralConv3D`) in place of BatchNorm: a 1-Lipschitz discriminator
            that cannot win outright.
        spectral_norm_impl: "forward" (default) or "keras". "keras" is the
            `keras.layers.SpectralNormalization` wrapper that models saved before vidgen_tf
            0.1.1 used; `from_config` picks it for them, so their files still load and resume.
        head: "patch" (default, the paper's) or "global". "global" widens the last conv to
            8x the first layer's filters and adds a "valid" conv over the whole remaining
            volume: one logit (and one set of class logits) per clip, from all of it, for
            sparse clips whose background patches real and generated clips share (see
            `MoCoGANImageDiscriminator`).
        conditions: sequence of "label" and "text", default (). A projection discriminator:
            the logit gains the inner product of learned features with the clip's condition
            code, so a clip that does not match its label or caption (a circle "moving left"
            that moves up) is judged fake. Used instead of the category head.
        condition_dim: int, default 32. Code length per condition.
        condition_classes: int, default 0. Classes of the "label" condition.
        vocab_size: int, default 0. Token ids of the "text" condition, padding included.
        word_head: bool, default False. An auxiliary classifier of the caption's words
            (`vocab_size` logits, one per word, averaged over all patches): the text twin of
            the category head, trained by `vidgen_tf.losses.words_loss`.

    Call:
        video: float `(batch, frames, size, size, channels)`, channels-last, in [-1, 1].
        conditions: dict of condition inputs ("label", "prompt_tokens"), one per clip;
            required when the discriminator is conditional.
        Returns a dict:
            "logits": float32 patch logits `(batch, frames - 3 * layers, 4, 4, 1)` with head
                "patch", `(batch, 1, 1, 1, 1)` with head "global" (higher means "real");
            "class_logits": float32 `(batch, num_classes)`, only when num_classes > 0;
            "word_logits": float32 `(batch, vocab_size)`, only with `word_head`.

    Example:
        >>> d = MoCoGANVideoDiscriminator(frames=8, size=16, base_filters=8, num_classes=6)
        >>> out = d(keras.random.uniform((2, 8, 16, 16, 3), -1, 1))
        >>> tuple(out["logits"].shape), tuple(out["class_logits"].shape)
        ((2, 2, 4, 4, 1), (2, 6))
    """

    def __init__(self, frames: int = 16, size: int = 64, base_filters: int = 64,
                 num_classes: int = 0, channels: int = 3, minibatch_std: bool = False,
                 spectral_norm: bool = False, spectral_norm_impl: str = "forward",
                 head: str = "patch", conditions=(), condition_dim: int = 32,
                 condition_classes: int = 0, vocab_size: int = 0, word_head: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        check_head(head)
        conditions = check_conditions(conditions, "MoCoGANVideoDiscriminator",
                                      allowed=("label", "text"))
        doublings = spatial_doublings(size, "mocogan")
        min_frames = _FRAMES_LOST_PER_LAYER * doublings + 1
        if frames < min_frames:
            raise ValueError(
                f"frames must be >= {min_frames} for MoCoGAN at size={size} (each of its "
                f"{doublings} Conv3D layers trims {_FRAMES_LOST_PER_LAYER} frames); "
                f"received frames={frames}")
        if num_classes < 0:
            raise ValueError("num_classes must be >= 0 (0 for no category head); "
                             f"received num_classes={num_classes}")
        # Config
        self.frames = frames
        self.size = size
        self.base_filters = base_filters
        self.num_classes = num_classes
        self.channels = channels
        self.minibatch_std = minibatch_std
        self.spectral_norm = spectral_norm
        self.spectral_norm_impl = spectral_norm_impl
        self.head = head
        self.conditions = conditions
        self.condition_dim = condition_dim
        self.condition_classes = condition_classes
        self.vocab_size = vocab_size
        self.word_head = word_head
        if word_head and vocab_size < 2:
            raise ValueError(f"word_head needs vocab_size >= 2; received vocab_size={vocab_size}")

        # Layers
        self.condition_encoder = ConditionEncoder(
            conditions, condition_dim, num_classes=condition_classes, vocab_size=vocab_size,
            name="condition_encoder") if conditions else None
        outputs = (1 + num_classes + (vocab_size if word_head else 0)
                   + (self.condition_encoder.output_dim if conditions else 0))

        # Explicit spatial padding of 1 with "valid" convs pads height and width only.
        def conv(filters, name, **kwargs):
            return make_conv(3, spectral_norm, spectral_norm_impl, filters, 4,
                             strides=(1, 2, 2), padding="valid", name=name, **kwargs)

        self.pad = layers.ZeroPadding3D(((0, 0), (1, 1), (1, 1)), name="pad")
        self.blocks = []
        for i in range(doublings - 1):
            norm = None if i == 0 or spectral_norm else layers.BatchNormalization(
                synchronized=True, name=f"down{i}_norm")
            self.blocks.append((conv(base_filters * 2**i, f"down{i}", use_bias=(i == 0)), norm))
        self.spread = MinibatchStd(name="minibatch_std") if minibatch_std else None
        if head == "global":
            self.to_features = conv(base_filters * 2**(doublings - 1), "features",
                                    use_bias=True)
            remaining = (frames - _FRAMES_LOST_PER_LAYER * doublings, 4, 4)
            self.to_logits = make_conv(3, spectral_norm, spectral_norm_impl, outputs,
                                       remaining, padding="valid", name="logits",
                                       dtype="float32")
        else:
            self.to_logits = conv(outputs, "logits", use_bias=False, dtype="float32")

    def build(self, input_shape=None):
        conditions = None
        if self.conditions:
            conditions = {"label": ops.zeros((1,), "int32"),
                          "prompt_tokens": ops.ones((1, 2), "int32")}
        self.call(ops.zeros((1, self.frames, self.size, self.size, self.channels)), conditions)
        self.built = True

    def call(self, video, conditions=None, training=False):
        code = None
        if self.condition_encoder is not None:
            code = self.condition_encoder.encode(conditions, "MoCoGANVideoDiscriminator")
        x = video
        for conv, norm in self.blocks:
            x = conv(self.pad(x), training=training)
            if norm is not None:
                x = norm(x, training=training)
            x = ops.leaky_relu(x, 0.2)
        if self.spread is not None:
            x = self.spread(x)
        if self.head == "global":
            x = ops.leaky_relu(self.to_features(self.pad(x), training=training), 0.2)
            x = self.to_logits(x, training=training)
        else:
            x = self.to_logits(self.pad(x), training=training)
        # Channels: the logit, class logits, word logits, projection features.
        classes = 1 + self.num_classes
        words = classes + (self.vocab_size if self.word_head else 0)
        outputs = {"logits": projection_logits(
            ops.concatenate([x[..., :1], x[..., words:]], axis=-1), code)}
        if self.num_classes:
            outputs["class_logits"] = ops.mean(x[..., 1:classes], axis=(1, 2, 3))
        if self.word_head:
            outputs["word_logits"] = ops.mean(x[..., classes:words], axis=(1, 2, 3))
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, size=self.size, base_filters=self.base_filters,
                      num_classes=self.num_classes, channels=self.channels,
                      minibatch_std=self.minibatch_std, spectral_norm=self.spectral_norm,
                      spectral_norm_impl=self.spectral_norm_impl, head=self.head,
                      conditions=list(self.conditions), condition_dim=self.condition_dim,
                      condition_classes=self.condition_classes, vocab_size=self.vocab_size,
                      word_head=self.word_head)
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before spectral_norm_impl existed: those files hold the Keras wrapper's layout.
        config = {"spectral_norm_impl": "keras", **config}
        return cls(**config)
