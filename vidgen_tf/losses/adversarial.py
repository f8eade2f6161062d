"""GAN objectives as pure functions of discriminator logits, in symmetric G/D pairs.

Every loss takes logits (never probabilities) of any shape, for example `(batch,)` scores or
patch maps `(batch, frames, height, width, 1)`, and returns a scalar: the mean over all elements.
Half-precision inputs (mixed precision) are computed in float32.

Under `tf.distribute` these are per-replica means; gradients are summed across replicas, so
the trainer divides by the number of replicas (see FACTS.md). The losses themselves never do.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

_HALF_DTYPES = ("float16", "bfloat16")

# Keeps sqrt differentiable where the critic's gradient is exactly zero.
_GP_EPSILON = 1e-12


def _as_float(x):
    """Return `x` as a tensor, upcasting half precision to float32 so means do not lose bits."""
    x = ops.convert_to_tensor(x)
    if keras.backend.standardize_dtype(x.dtype) in _HALF_DTYPES:
        x = ops.cast(x, "float32")
    return x


# Non-saturating binary cross-entropy (Goodfellow et al. 2014)


def bce_generator_loss(fake_logits):
    """Non-saturating generator loss: mean(softplus(-fake)) = mean(-log sigmoid(fake)).

    Args:
        fake_logits: discriminator logits on generated samples, any shape.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> round(float(bce_generator_loss(np.zeros(4, "float32"))), 4)  # log 2
        0.6931
    """
    return ops.mean(ops.softplus(-_as_float(fake_logits)))


def bce_discriminator_loss(real_logits, fake_logits):
    """Discriminator loss: mean(softplus(-real)) + mean(softplus(fake)).

    That is -mean(log sigmoid(real)) - mean(log(1 - sigmoid(fake))), computed stably.

    Args:
        real_logits: discriminator logits on real samples, any shape.
        fake_logits: discriminator logits on generated samples, any shape.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> round(float(bce_discriminator_loss(np.zeros(2, "float32"), np.zeros(2, "float32"))), 4)
        1.3863
    """
    real_term = ops.mean(ops.softplus(-_as_float(real_logits)))
    fake_term = ops.mean(ops.softplus(_as_float(fake_logits)))
    return real_term + fake_term


# Hinge (Lim & Ye 2017; Miyato et al. 2018)


def hinge_generator_loss(fake_logits):
    """Hinge generator loss: -mean(fake).

    Args:
        fake_logits: discriminator logits on generated samples, any shape.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(hinge_generator_loss(np.array([1.0, 3.0], "float32")))
        -2.0
    """
    return -ops.mean(_as_float(fake_logits))


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge discriminator loss: mean(relu(1 - real)) + mean(relu(1 + fake)).

    Args:
        real_logits: discriminator logits on real samples, any shape.
        fake_logits: discriminator logits on generated samples, any shape.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> real, fake = np.array([2.0, 0.5], "float32"), np.array([-2.0, 0.5], "float32")
        >>> float(hinge_discriminator_loss(real, fake))  # 0.25 + 0.75
        1.0
    """
    real_term = ops.mean(ops.relu(1.0 - _as_float(real_logits)))
    fake_term = ops.mean(ops.relu(1.0 + _as_float(fake_logits)))
    return real_term + fake_term


# Wasserstein (Arjovsky et al. 2017); pair with `gradient_penalty` for WGAN-GP


def wgan_generator_loss(fake_logits):
    """Wasserstein generator loss: -mean(fake).

    Args:
        fake_logits: critic scores on generated samples, any shape.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(wgan_generator_loss(np.array([1.0, 3.0], "float32")))
        -2.0
    """
    return -ops.mean(_as_float(fake_logits))


def wgan_discriminator_loss(real_logits, fake_logits):
    """Wasserstein critic loss: mean(fake) - mean(real).

    Add `gradient_penalty` (times its weight, 10 in the paper) for WGAN-GP.

    Args:
        real_logits: critic scores on real samples, any shape.
        fake_logits: critic scores on generated samples, any shape.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(wgan_discriminator_loss(np.array([3.0, 5.0], "float32"),
        ...                               np.array([-1.0, 1.0], "float32")))
        -4.0
    """
    return ops.mean(_as_float(fake_logits)) - ops.mean(_as_float(real_logits))


def gradient_penalty(critic_fn: Callable, real, fake, alpha):
    """WGAN-GP penalty (Gulrajani et al. 2017): mean((||grad_x critic(x)||_2 - 1)^2).

    Here x = alpha * real + (1 - alpha) * fake, and the norm is taken per sample over all
    non-batch axes. The caller samples `alpha` (uniform in [0, 1] in the paper), so this
    function holds no randomness. It needs the TensorFlow backend (it uses `tf.GradientTape`).

    Args:
        critic_fn: callable mapping a batch like `real` to logits of any shape; the gradient
            is taken of the sum of its output.
        real: real samples, e.g. video (batch, frames, height, width, channels), channels-last.
        fake: generated samples, same shape as `real`.
        alpha: interpolation weights broadcastable to `real`, e.g. (batch, 1, 1, 1, 1).

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> x = np.ones((2, 2, 2, 2, 1), "float32")
        >>> critic = lambda v: ops.sum(v, axis=(1, 2, 3, 4)) / 2.0  # grad norm sqrt(8)/2
        >>> alpha = np.full((2, 1, 1, 1, 1), 0.3, "float32")
        >>> round(float(gradient_penalty(critic, x, -x, alpha)), 4)  # (sqrt(2) - 1)^2
        0.1716
    """
    tf = _tensorflow("gradient_penalty")
    real = tf.convert_to_tensor(real)
    fake = tf.cast(tf.convert_to_tensor(fake), real.dtype)
    alpha = tf.cast(tf.convert_to_tensor(alpha), real.dtype)
    interpolated = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = critic_fn(interpolated)
        total = tf.reduce_sum(tf.cast(scores, "float32"))
    grads = tape.gradient(total, interpolated)
    if grads is None:
        raise ValueError(
            "critic_fn must return logits that depend on its input; received an output with no "
            "gradient path to the interpolated samples"
        )
    grads = _as_float(grads)
    flat = tf.reshape(grads, (tf.shape(grads)[0], -1))
    norms = tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1) + _GP_EPSILON)
    return tf.reduce_mean(tf.square(norms - 1.0))


def r1_penalty(critic_fn: Callable, real):
    """R1 penalty (Mescheder et al. 2018): the batch mean of ||grad_x critic(x)||_2^2 at real x.

    It pushes the discriminator's gradient on real data to zero, which makes GAN training
    converge locally without limiting the discriminator's capacity as spectral normalization
    does. The trainer adds `gamma / 2` times this to the discriminator loss. It needs the
    TensorFlow backend (it uses `tf.GradientTape`).

    Args:
        critic_fn: callable mapping a batch like `real` to logits of any shape; the gradient
            is taken of the sum of its output (per sample for a patch discriminator: the
            gradient of every patch logit of one sample lands on that sample).
        real: real samples, e.g. video (batch, frames, height, width, channels).

    Returns:
        Scalar float32 tensor.

    Example:
        >>> import numpy as np
        >>> x = np.ones((2, 3), "float32")
        >>> critic = lambda v: ops.sum(v ** 2, axis=1)  # gradient 2x, squared norm 4 * 3
        >>> round(float(r1_penalty(critic, x)), 4)
        12.0
    """
    tf = _tensorflow("r1_penalty")
    real = tf.convert_to_tensor(real)
    with tf.GradientTape() as tape:
        tape.watch(real)
        total = tf.reduce_sum(tf.cast(critic_fn(real), "float32"))
    grads = tape.gradient(total, real)
    if grads is None:
        raise ValueError("critic_fn must return logits that depend on its input; received an "
                         "output with no gradient path to the real samples")
    flat = tf.reshape(_as_float(grads), (tf.shape(grads)[0], -1))
    return tf.reduce_mean(tf.reduce_sum(tf.square(flat), axis=1))


def _tensorflow(name: str):
    """The tensorflow module, or a clear error when Keras runs on another backend."""
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise RuntimeError(
            f"{name} needs the Keras backend 'tensorflow'; received KERAS_BACKEND={backend!r}")
    import tensorflow as tf

    return tf


# Auxiliary terms


def category_loss(labels, class_logits):
    """Sparse categorical cross-entropy from logits, mean over the batch (MoCoGAN's category head).

    mean(-log softmax(class_logits)[label]).

    Args:
        labels: int class ids, shape (batch,).
        class_logits: unnormalised class scores, shape (batch, num_classes).

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> round(float(category_loss(np.array([0, 2]), np.zeros((2, 4), "float32"))), 4)  # log 4
        1.3863
    """
    per_sample = ops.sparse_categorical_crossentropy(
        ops.convert_to_tensor(labels), _as_float(class_logits), from_logits=True
    )
    return ops.mean(per_sample)


def mask_sparsity_loss(mask):
    """L1 mask penalty of VGAN (Vondrick et al. 2016): mean(abs(mask)); the caller scales it.

    Args:
        mask: foreground mask, e.g. (batch, frames, height, width, 1), channels-last.

    Returns:
        Scalar tensor.

    Example:
        >>> import numpy as np
        >>> float(mask_sparsity_loss(np.array([[0.0, 0.5], [-1.0, 0.5]], "float32")))
        0.5
    """
    return ops.mean(ops.abs(_as_float(mask)))


def words_loss(tokens, word_logits, vocab_size: int):
    """Multi-label cross-entropy of a caption's words, from logits (an auxiliary classifier
    for text: each word of the vocabulary present or absent, as AC-GAN's class for labels).

    sum over the vocabulary of binary cross-entropy(word present, sigmoid(word_logits)),
    divided by the caption length (the token axis), mean over the batch. Padding (id 0)
    never counts as a word.

    Args:
        tokens: int word ids, shape (batch, tokens), 0-padded.
        word_logits: unnormalised word scores, shape (batch, vocab_size).
        vocab_size: ids in use, padding included.

    Returns:
        Scalar tensor.

    Example:
        >>> float(words_loss(ops.convert_to_tensor([[1, 0]]),
        ...                  ops.convert_to_tensor([[0.0, 0.0, 0.0]]), 3))  # doctest: +ELLIPSIS
        0.69...
    """
    tokens = ops.cast(tokens, "int32")
    present = ops.max(ops.one_hot(tokens, vocab_size, dtype="float32"), axis=1)  # (B, vocab)
    present = present[:, 1:]  # padding is not a word
    logits = ops.cast(word_logits, "float32")[:, 1:]
    per_word = ops.maximum(logits, 0.0) - logits * present + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.mean(ops.sum(per_word, axis=-1)) / ops.cast(ops.shape(tokens)[1], "float32")
