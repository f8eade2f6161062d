"""The MoCoGAN image discriminator: a 2D patch discriminator that judges single frames."""

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


@keras.saving.register_keras_serializable(package="vidgen_tf")
class MoCoGANImageDiscriminator(keras.Model):
    """MoCoGAN image discriminator D_I: frame -> a 4x4 map of real/fake patch logits.

    Follows the PatchImageDiscriminator of MoCoGAN (Tulyakov et al. 2018): stride-2 Conv2D
    (kernel 4) + LeakyReLU(0.2) blocks that halve height and width and double the filters,
    BatchNorm after every block but the first, and a last stride-2 conv to one logit per
    patch (no bias, as in the paper). It sees frames one at a time, so it judges content
    (appearance) and leaves motion to the video discriminator.

    Args:
        size: int, default 64. Frame height and width: 4 x a power of two.
        base_filters: int, default 64. Filters of the first layer ("ndf").
        channels: int, default 3. Input channels.
        minibatch_std: bool, default False. Append the batch's feature spread before the
            last conv (ProGAN's minibatch standard deviation), against mode collapse.
        spectral_norm: bool, default False. Spectral normalization of every conv (Miyato et
            al. 2018; `SpectralConv2D`) in place of BatchNorm: a 1-Lipschitz discriminator
            that cannot win outright.
        spectral_norm_impl: "forward" (default) or "keras". "keras" is the
            `keras.layers.SpectralNormalization` wrapper that models saved before vidgen_tf
            0.1.1 used; `from_config` picks it for them, so their files still load and resume.
        head: "patch" (default, the paper's) or "global". "patch" gives one logit per 4x4
            patch. On sparse frames (a small object on a plain background, like the built-in
            shapes) most patches see only background, which real and generated frames share,
            so they cannot tell the two apart and the generator is not punished for a missing
            or misshapen object. "global" widens the last stride-2 conv to 8x the first
            layer's filters and adds a 4x4 "valid" conv: one logit per frame, from all of it.
        conditions: sequence of "label" and "text", default (). A projection discriminator
            (Miyato & Koyama 2018): the last conv also gives features whose inner product
            with the frame's condition code (its own `ConditionEncoder`) joins the logit, so
            a frame that does not match its condition ("red", "circle") is judged fake.
        condition_dim: int, default 32. Code length per condition.
        num_classes: int, default 0. Classes of the "label" condition.
        vocab_size: int, default 0. Token ids of the "text" condition, padding included.
        aux_heads: bool, default False. Auxiliary classifiers of each frame's condition (as
            the video discriminator's): class logits for "label", word logits for "text".
            A frame shows what a clip's motion cannot: the shape and colour asked for. They
            are blind to position (a 1x1 conv on the last block's features, averaged over the
            frame), so they judge appearance only: where a shape is in one frame must not
            stand for where it goes (clips start near the wall they move away from).
        aux_hidden: int >= 0, default 0. With `aux_heads`, a hidden 1x1 conv of this many
            channels (LeakyReLU 0.2) before the classifiers' 1x1 conv, so each position of
            the map can detect a local pattern (a square's corner) before the average; 0: the
            classifiers are one linear 1x1 conv. Still blind to position. With a hidden layer
            the classifiers are not spectrally normalized (that bounds their logits).

    Call:
        images: float `(batch, size, size, channels)`, channels-last, in [-1, 1].
        conditions: dict of the condition inputs ("label", "prompt_tokens"), one per image;
            required when the discriminator is conditional.
        aux: bool, default False. Return the auxiliary classifiers' logits too.
        Returns float32 logits `(batch, 4, 4, 1)` with head "patch", `(batch, 1, 1, 1)` with
        head "global" (higher means "real"). With `aux`, a dict of them ("logits") and, with
        `aux_heads`, "class_logits" `(batch, num_classes)` and "word_logits"
        `(batch, vocab_size)`, position-blind (see `aux_heads`).

    Example:
        >>> d = MoCoGANImageDiscriminator(size=16, base_filters=8)
        >>> tuple(d(keras.random.uniform((2, 16, 16, 3), -1, 1)).shape)
        (2, 4, 4, 1)
    """

    def __init__(self, size: int = 64, base_filters: int = 64, channels: int = 3,
                 minibatch_std: bool = False, spectral_norm: bool = False,
                 spectral_norm_impl: str = "forward", head: str = "patch", conditions=(),
                 condition_dim: int = 32, num_classes: int = 0, vocab_size: int = 0,
                 aux_heads: bool = False, aux_hidden: int = 0, **kwargs):
        super().__init__(**kwargs)
        check_head(head)
        conditions = check_conditions(conditions, "MoCoGANImageDiscriminator",
                                      allowed=("label", "text"))
        # Config
        self.size = size
        self.base_filters = base_filters
        self.channels = channels
        self.minibatch_std = minibatch_std
        self.spectral_norm = spectral_norm
        self.spectral_norm_impl = spectral_norm_impl
        self.head = head
        self.conditions = conditions
        self.condition_dim = condition_dim
        self.num_classes = num_classes
        self.vocab_size = vocab_size
        self.aux_heads = bool(aux_heads) and bool(conditions)
        if aux_hidden < 0:
            raise ValueError("aux_hidden must be >= 0 for MoCoGANImageDiscriminator; received "
                             f"aux_hidden={aux_hidden}")
        self.aux_hidden = int(aux_hidden)
        self.aux_classes = num_classes if self.aux_heads and "label" in conditions else 0
        self.aux_words = vocab_size if self.aux_heads and "text" in conditions else 0
        doublings = spatial_doublings(size, "mocogan")
        self.condition_encoder = ConditionEncoder(
            conditions, condition_dim, num_classes=num_classes, vocab_size=vocab_size,
            name="condition_encoder") if conditions else None
        outputs = 1 + (self.condition_encoder.output_dim if conditions else 0)

        # Layers
        def conv(*args, **kwargs):
            return make_conv(2, spectral_norm, spectral_norm_impl, *args, **kwargs)

        self.blocks = []
        for i in range(doublings - 1):
            norm = None if i == 0 or spectral_norm else layers.BatchNormalization(
                synchronized=True, name=f"down{i}_norm")
            self.blocks.append((conv(base_filters * 2**i, 4, strides=2, padding="same",
                                     use_bias=(i == 0), name=f"down{i}"), norm))
        # With a hidden layer the classifiers are plain convs: spectral normalization bounds
        # their logits, and a frame classifier of the linear kind, spectrally normalized,
        # stayed above the base rates' loss (1.58 against 1.43 after 3000 steps).
        aux_conv = layers.Conv2D if self.aux_hidden else conv
        self.to_aux = aux_conv(self.aux_classes + self.aux_words, 1, dtype="float32",
                               name="aux_logits") if self.aux_heads else None
        self.aux_local = layers.Conv2D(self.aux_hidden, 1, name="aux_hidden") if (
            self.aux_heads and self.aux_hidden) else None
        self.spread = MinibatchStd(name="minibatch_std") if minibatch_std else None
        if spectral_norm and spectral_norm_impl == "keras":
            if conditions:
                raise ValueError('spectral_norm_impl="keras" (files saved before 0.1.1) takes '
                                 f"no conditions; received conditions={list(conditions)}")
            # Files saved before 0.1.1 also track the unwrapped logits conv: rebuild that layout.
            self.to_logits = layers.Conv2D(1, 4, strides=2, padding="same", use_bias=False,
                                           dtype="float32", name="logits")
            self.to_logits = layers.SpectralNormalization(self.to_logits, name="logits_sn")
        elif head == "global":
            self.to_features = conv(base_filters * 2**(doublings - 1), 4, strides=2,
                                    padding="same", use_bias=True, name="features")
            self.to_logits = conv(outputs, 4, padding="valid", dtype="float32", name="logits")
        else:
            self.to_logits = conv(outputs, 4, strides=2, padding="same", use_bias=False,
                                  dtype="float32", name="logits")

    def build(self, input_shape=None):
        conditions = None
        if self.conditions:
            conditions = {"label": ops.zeros((1,), "int32"),
                          "prompt_tokens": ops.ones((1, 2), "int32")}
        self.call(ops.zeros((1, self.size, self.size, self.channels)), conditions, aux=True)
        self.built = True

    def call(self, images, conditions=None, training=False, aux=False):
        code = None
        if self.condition_encoder is not None:
            code = self.condition_encoder.encode(conditions, "MoCoGANImageDiscriminator")
        x = images
        for conv, norm in self.blocks:
            x = conv(x, training=training)
            if norm is not None:
                x = norm(x, training=training)
            x = ops.leaky_relu(x, 0.2)
        features = x
        if self.spread is not None:
            x = self.spread(x)
        if self.head == "global":
            x = ops.leaky_relu(self.to_features(x, training=training), 0.2)
        logits = projection_logits(self.to_logits(x, training=training), code)
        if not aux:
            return logits
        outputs = {"logits": logits}
        if self.to_aux is not None:
            if self.aux_local is not None:
                features = ops.leaky_relu(self.aux_local(features, training=training), 0.2)
            scores = ops.mean(self.to_aux(features, training=training), axis=(1, 2))
            if self.aux_classes:
                outputs["class_logits"] = scores[:, :self.aux_classes]
            if self.aux_words:
                outputs["word_logits"] = scores[:, self.aux_classes:]
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, base_filters=self.base_filters, channels=self.channels,
                      minibatch_std=self.minibatch_std, spectral_norm=self.spectral_norm,
                      spectral_norm_impl=self.spectral_norm_impl, head=self.head,
                      conditions=list(self.conditions), condition_dim=self.condition_dim,
                      num_classes=self.num_classes, vocab_size=self.vocab_size,
                      aux_heads=self.aux_heads, aux_hidden=self.aux_hidden)
        return config

    @classmethod
    def from_config(cls, config):
        # Saved before spectral_norm_impl existed: those files hold the Keras wrapper's layout.
        config = {"spectral_norm_impl": "keras", **config}
        return cls(**config)
