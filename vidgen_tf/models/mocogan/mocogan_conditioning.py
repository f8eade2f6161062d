"""MoCoGAN's conditioning: the matching-aware discriminator loss, the auxiliary loss of the
image discriminator, the batch's condition inputs, and the checks of the constructor's
numeric arguments."""

from __future__ import annotations

import tensorflow as tf
from keras import ops

from vidgen_tf.layers.condition_encoder import INPUT_NAMES
from vidgen_tf.losses import category_loss, words_loss


def check_arguments(*, image_batch_size, noise_sigma, generator_learning_rate,
                    discriminator_learning_rate, generator_ema, r1_weight, category_weight,
                    first_frame_weight, mismatch_weight) -> None:
    """Raise a ValueError naming the first of MoCoGAN's numeric arguments out of range."""
    if image_batch_size < 1:
        raise ValueError(f"image_batch_size must be >= 1 for MoCoGAN; received "
                         f"image_batch_size={image_batch_size}")
    if noise_sigma < 0:
        raise ValueError(f"noise_sigma must be >= 0 for MoCoGAN; received "
                         f"noise_sigma={noise_sigma}")
    if min(generator_learning_rate, discriminator_learning_rate) <= 0:
        raise ValueError(
            "learning rates must be > 0 for MoCoGAN; received generator_learning_rate="
            f"{generator_learning_rate}, discriminator_learning_rate="
            f"{discriminator_learning_rate}")
    if not 0 <= generator_ema < 1:
        raise ValueError("generator_ema must be in [0, 1) for MoCoGAN (0 disables the "
                         f"moving average); received generator_ema={generator_ema}")
    if r1_weight < 0:
        raise ValueError(f"r1_weight must be >= 0 for MoCoGAN; received r1_weight={r1_weight}")
    if category_weight < 0:
        raise ValueError(f"category_weight must be >= 0 for MoCoGAN; received "
                         f"category_weight={category_weight}")
    if first_frame_weight < 0:
        raise ValueError(f"first_frame_weight must be >= 0 for MoCoGAN; received "
                         f"first_frame_weight={first_frame_weight}")
    if not 0 <= mismatch_weight < 1:
        raise ValueError(f"mismatch_weight must be in [0, 1) for MoCoGAN; received "
                         f"mismatch_weight={mismatch_weight}")


class ConditionalGAN:
    """The conditioning half of MoCoGAN's `train_step` (a mixin of `MoCoGAN`)."""

    def _matching_aware(self, d_loss_fn, real_logits, fake_logits, mismatched_logits):
        """The discriminator loss; with a judged condition and `mismatch_weight` w, real clips
        with another clip's condition join the fake side: real + (1 - w) fake + w mismatched."""
        loss = d_loss_fn(real_logits, fake_logits)
        if not self.mismatch_weight or not any(c in self.conditions for c in ("label", "text")):
            return loss
        w = self.mismatch_weight
        return (1 - w) * loss + w * d_loss_fn(real_logits, mismatched_logits())

    def _given_conditions(self, data) -> dict:
        """The batch's condition inputs the generator takes ({} when unconditional)."""
        if not self.conditions:
            return {}
        inputs = data[0] if isinstance(data, tuple) else data
        names = [INPUT_NAMES[c] for c in self.conditions]
        if not isinstance(inputs, dict) or not set(names) <= inputs.keys():
            got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(f"MoCoGAN conditioned on {', '.join(self.conditions)} trains on "
                             f"dicts with {', '.join(repr(n) for n in names)} entries beside "
                             f'"video"; received {got}')
        return {name: inputs[name] for name in names}

    def _aux_loss(self, outputs: dict, conditions: dict):
        """The image discriminator's auxiliary loss on frames with `conditions`: category
        cross-entropy of the label, words loss of the prompt."""
        loss = 0.0
        if "class_logits" in outputs:
            loss += category_loss(conditions["label"], outputs["class_logits"])
        if "word_logits" in outputs:
            loss += words_loss(conditions["prompt_tokens"], outputs["word_logits"],
                               self.image_discriminator.vocab_size)
        return loss

    def _real_labels(self, data):
        """Class ids of the real clips: the "label" entry of a dict, or `y` of `fit(x, y)`."""
        inputs = data[0] if isinstance(data, tuple) else data
        if isinstance(inputs, dict) and "label" in inputs:
            return inputs["label"]
        if isinstance(data, tuple) and len(data) > 1 and data[1] is not None:
            return data[1]
        raise ValueError(
            f"MoCoGAN with num_classes={self.num_classes} trains on labelled clips: pass dicts "
            'with a "label" entry (e.g. load_dataset(..., labels=True)) or fit(x=videos, '
            f"y=labels); received {type(inputs).__name__} data without labels")


def rows(conditions: dict, ids) -> dict | None:
    """The conditions of the clips `ids` (one row per sampled frame), or None if there are none."""
    if not conditions:
        return None
    return {name: ops.take(value, ids, axis=0) for name, value in conditions.items()}


def mismatched(conditions: dict, word_seed=None) -> dict:
    """Each row gets the next row's condition (rolled by one along the batch).

    With `word_seed` (a stateless seed), a prompt differs from its own in one word only: one
    position where the two prompts hold different words is drawn per row, and only that word
    is taken from the next row's prompt ("a red circle moves left" with "a blue square moves
    up" becomes "a red square moves left", "a blue circle moves left" or "a red circle moves
    up"). A whole other caption almost always differs in colour, which a discriminator reads
    most easily; a one-word mismatch makes it check every word. Rows whose prompts share no
    differing position take the whole next prompt."""
    rolled = {name: tf.roll(value, 1, axis=0) for name, value in conditions.items()}
    if word_seed is not None and "prompt_tokens" in conditions:
        rolled["prompt_tokens"] = swap_one_word(conditions["prompt_tokens"],
                                                rolled["prompt_tokens"], word_seed)
    return rolled


def swap_one_word(tokens, other, seed):
    """`tokens` `(batch, n)` with one word replaced by `other`'s at a position, drawn with
    `seed`, where both hold words (ids > 0) and they differ; `other` where there is none."""
    tokens, other = tf.cast(tokens, tf.int32), tf.cast(other, tf.int32)
    differ = (tokens != other) & (tokens > 0) & (other > 0)
    scores = tf.random.stateless_uniform(tf.shape(tokens), seed) + tf.cast(differ, tf.float32)
    pick = tf.one_hot(tf.argmax(scores, axis=1), tf.shape(tokens)[1], on_value=True,
                      off_value=False) & differ
    swapped = tf.where(pick, other, tokens)
    return tf.where(tf.reduce_any(differ, axis=1, keepdims=True), swapped, other)
