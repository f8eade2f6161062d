"""ConditionEncoder: a class label, a tokenized prompt and a first frame -> one code vector."""

from __future__ import annotations

import keras
from keras import layers, ops

from vidgen_tf.layers.conv_plan import spatial_doublings

# The conditions a model can take, in the order their codes are concatenated, and the name of
# each one's network input (the manifest's input name, the data key after tokenization).
CONDITIONS: tuple[str, ...] = ("label", "text", "first_frame")
INPUT_NAMES: dict[str, str] = {"label": "label", "text": "prompt_tokens",
                               "first_frame": "first_frame"}


def check_conditions(conditions, family: str, allowed=CONDITIONS) -> tuple[str, ...]:
    """`conditions` as a tuple in canonical order; ValueError naming the allowed ones."""
    conditions = tuple(conditions or ())
    unknown = [c for c in conditions if c not in allowed]
    if unknown:
        raise ValueError(f"{family} takes the conditions {', '.join(allowed)}; received "
                         f"{', '.join(map(repr, unknown))}")
    if len(set(conditions)) != len(conditions):
        raise ValueError(f"conditions must not repeat; received {list(conditions)}")
    return tuple(c for c in CONDITIONS if c in conditions)


@keras.saving.register_keras_serializable(package="vidgen_tf")
class ConditionEncoder(layers.Layer):
    """Encodes each condition to `dim` numbers and concatenates them: `(batch, dim * n)`.

    - label: a learned embedding per class (the projection discriminator's class embedding,
      Miyato & Koyama 2018; in a generator, the same as a one-hot code through a dense layer).
    - text: a bag of words: the mean of the prompt's word embeddings (padding masked out),
      then a dense layer with LeakyReLU. Captions of the shapes data name independent
      attributes ("a red circle moves left"), and a sum of word vectors composes them, so
      captions never seen in training still map to sensible codes.
    - first_frame: a small strided Conv2D stack (LeakyReLU, no normalization) and a dense
      layer, the image encoder of image-to-video models.

    Args:
        conditions: sequence of "label", "text", "first_frame" (any subset, any order).
        dim: int, default 32. Code length per condition.
        num_classes: int. Classes of "label".
        vocab_size: int. Token ids of "text", padding (id 0) included.
        size: int. Height and width of "first_frame" (4 x a power of two).
        channels: int, default 3. Channels of "first_frame".
        image_filters: int, default 16. Filters of the first image-encoder layer.

    Call:
        inputs: dict with "label" int `(batch,)`, "prompt_tokens" int `(batch, tokens)` and
            "first_frame" float `(batch, size, size, channels)` in [-1, 1], channels-last, as
            the conditions require (other keys are ignored).
        Returns float `(batch, dim * len(conditions))`.

    Example:
        >>> enc = ConditionEncoder(["text"], dim=4, vocab_size=6)
        >>> tuple(enc({"prompt_tokens": ops.ones((2, 5), "int32")}).shape)
        (2, 4)
    """

    def __init__(self, conditions=(), dim: int = 32, num_classes: int = 0, vocab_size: int = 0,
                 size: int = 0, channels: int = 3, image_filters: int = 16, **kwargs):
        super().__init__(**kwargs)
        self.conditions = check_conditions(conditions, "ConditionEncoder")
        if dim < 1:
            raise ValueError(f"dim must be >= 1; received dim={dim}")
        if "label" in self.conditions and num_classes < 1:
            raise ValueError("the label condition needs num_classes >= 1; received "
                             f"num_classes={num_classes}")
        if "text" in self.conditions and vocab_size < 2:
            raise ValueError("the text condition needs vocab_size >= 2 (padding and a word); "
                             f"received vocab_size={vocab_size}")
        # Config
        self.dim = dim
        self.num_classes = num_classes
        self.vocab_size = vocab_size
        self.size = size
        self.channels = channels
        self.image_filters = image_filters

        # Layers
        if "label" in self.conditions:
            self.label_embedding = layers.Embedding(num_classes, dim, name="label_embedding")
        if "text" in self.conditions:
            self.word_embedding = layers.Embedding(vocab_size, dim, name="word_embedding")
            self.text_dense = layers.Dense(dim, name="text_dense")
        if "first_frame" in self.conditions:
            doublings = spatial_doublings(size, "ConditionEncoder")
            self.image_convs = [
                layers.Conv2D(image_filters * 2**i, 4, strides=2, padding="same",
                              name=f"image_down{i}") for i in range(doublings)]
            self.image_dense = layers.Dense(dim, name="image_dense")

    @property
    def output_dim(self) -> int:
        return self.dim * len(self.conditions)

    def encode(self, conditions, owner: str):
        """The code of `conditions` for the network `owner` (a ValueError naming what it is
        conditioned on when they are missing)."""
        if conditions is None:
            raise ValueError(f"this {owner} is conditioned on {', '.join(self.conditions)}: "
                             "pass conditions=")
        return self(conditions)

    def build(self, input_shape=None):
        inputs = {"label": ops.zeros((1,), "int32"), "prompt_tokens": ops.ones((1, 2), "int32"),
                  "first_frame": ops.zeros((1, self.size or 8, self.size or 8, self.channels))}
        self.call(inputs)
        self.built = True

    def call(self, inputs):
        missing = [INPUT_NAMES[c] for c in self.conditions if INPUT_NAMES[c] not in inputs]
        if missing:
            raise ValueError(f"ConditionEncoder for {', '.join(self.conditions)} needs the "
                             f"inputs {', '.join(missing)}; received keys {sorted(inputs)}")
        codes = []
        if "label" in self.conditions:
            codes.append(self.label_embedding(ops.cast(inputs["label"], "int32")))
        if "text" in self.conditions:
            tokens = ops.cast(inputs["prompt_tokens"], "int32")
            vectors = self.word_embedding(tokens)  # (B, tokens, dim)
            mask = ops.cast(ops.not_equal(tokens, 0), vectors.dtype)[..., None]
            mean = ops.sum(vectors * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
            codes.append(ops.leaky_relu(self.text_dense(mean), 0.2))
        if "first_frame" in self.conditions:
            x = ops.cast(inputs["first_frame"], self.compute_dtype)
            for conv in self.image_convs:
                x = ops.leaky_relu(conv(x), 0.2)
            flat = x.shape[1] * x.shape[2] * x.shape[3]
            codes.append(self.image_dense(ops.reshape(x, (-1, flat))))
        return ops.concatenate([ops.cast(c, self.compute_dtype) for c in codes], axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(conditions=list(self.conditions), dim=self.dim,
                      num_classes=self.num_classes, vocab_size=self.vocab_size, size=self.size,
                      channels=self.channels, image_filters=self.image_filters)
        return config


def projection_logits(outputs, code):
    """A projection discriminator's logits (Miyato & Koyama 2018): `outputs[..., :1]` plus the
    inner product of `outputs[..., 1:]` (features, one set per patch) with the condition `code`
    `(batch, features)`, broadcast over the patch axes."""
    if code is None:
        return outputs[..., :1]
    code = ops.cast(code, outputs.dtype)
    code = ops.reshape(code, (-1,) + (1,) * (len(outputs.shape) - 2) + (code.shape[-1],))
    return outputs[..., :1] + ops.sum(outputs[..., 1:] * code, axis=-1, keepdims=True)
