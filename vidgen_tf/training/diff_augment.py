"""Differentiable augmentation of what a discriminator sees, for training on little data."""

from __future__ import annotations

import tensorflow as tf

# Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training": the
# policy "color,translation,cutout" is the one the paper recommends for small datasets.
POLICIES = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125  # shift up to 1/8 of the side
CUTOUT_RATIO = 0.5  # erase a square of half the side


def check_policy(policy: str, owner: str) -> tuple[str, ...]:
    """The policy string ("" or comma-separated names of `POLICIES`) as a tuple of names.

    Raises ValueError naming the unknown part and the allowed names."""
    if not isinstance(policy, str):
        raise ValueError(f"diff_augment must be a string of comma-separated names for {owner}; "
                         f"received diff_augment={policy!r}")
    names = tuple(part.strip() for part in policy.split(",") if part.strip())
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"diff_augment takes {', '.join(POLICIES)} (comma-separated) for "
                         f"{owner}; received {policy!r}, where {unknown[0]!r} is unknown")
    return names


def diff_augment(x: tf.Tensor, policy: tuple[str, ...], seed: tf.Tensor) -> tf.Tensor:
    """Augment a batch of frames or clips with the transforms of `policy`, differentiably.

    Follows Zhao et al. 2020 (DiffAugment): the same random transforms are applied to real
    and generated inputs of the discriminator, in the discriminator's and the generator's
    steps alike, so the discriminator cannot memorise a small dataset while the generator
    still learns the un-augmented distribution (the transforms are differentiable and
    leak nothing: each is drawn fresh per step). A clip gets one transform for all of its
    frames, so its motion is untouched.

    - "color": brightness + U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5).
    - "translation": an integer shift of up to 1/8 of each side, filled with zeros.
    - "cutout": zero a square of half the side at a uniform centre (clipped at the edges).

    Args:
        x: float tensor, frames `(batch, height, width, channels)` or clips
            `(batch, frames, height, width, channels)`, channels-last, in [-1, 1].
        policy: names from `POLICIES` (see `check_policy`), applied in that order.
        seed: int tensor of shape (2,), the stateless seed of this call's draws.

    Returns:
        a tensor of `x`'s shape and dtype.

    Example:
        >>> clips = tf.zeros((2, 4, 8, 8, 3))
        >>> diff_augment(clips, ("translation", "cutout"), tf.constant([0, 1])).shape
        TensorShape([2, 4, 8, 8, 3])
    """
    if not policy:
        return x
    if x.shape.rank not in (4, 5):
        raise ValueError("diff_augment takes frames (batch, height, width, channels) or clips "
                         f"(batch, frames, height, width, channels); received shape {x.shape}")
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=6)
    for name in policy:
        if name == "color":
            x = _color(x, seeds[0], seeds[1], seeds[2])
        elif name == "translation":
            x = _translation(x, seeds[3])
        else:
            x = _cutout(x, seeds[4])
    return x


def _per_sample(x: tf.Tensor, seed, low: float, high: float) -> tf.Tensor:
    """One uniform draw per sample of `x`, shaped to broadcast against it."""
    shape = [tf.shape(x)[0]] + [1] * (x.shape.rank - 1)
    return tf.cast(tf.random.stateless_uniform(shape, seed, low, high), x.dtype)


def _color(x, brightness_seed, saturation_seed, contrast_seed):
    x = x + _per_sample(x, brightness_seed, -0.5, 0.5)
    grey = tf.reduce_mean(x, axis=-1, keepdims=True)
    x = (x - grey) * _per_sample(x, saturation_seed, 0.0, 2.0) + grey
    mean = tf.reduce_mean(x, axis=list(range(1, x.shape.rank)), keepdims=True)
    return (x - mean) * _per_sample(x, contrast_seed, 0.5, 1.5) + mean


def _shift_axis(x, shift, axis: int):
    """`x` moved by `shift` `(batch,)` pixels along `axis`, zero-filled."""
    length = tf.shape(x)[axis]
    source = tf.range(length)[None, :] - shift[:, None]  # (batch, length)
    inside = (source >= 0) & (source < length)
    moved = tf.gather(x, tf.clip_by_value(source, 0, length - 1), axis=axis, batch_dims=1)
    mask_shape = [tf.shape(x)[0]] + [1] * (x.shape.rank - 1)
    mask_shape[axis] = length
    return moved * tf.cast(tf.reshape(inside, mask_shape), x.dtype)


def _translation(x, seed):
    height_axis = x.shape.rank - 3
    batch = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    for i, axis in enumerate((height_axis, height_axis + 1)):
        reach = tf.cast(tf.cast(tf.shape(x)[axis], tf.float32) * TRANSLATION_RATIO + 0.5,
                        tf.int32)
        shift = tf.random.stateless_uniform([batch], seeds[i], -reach, reach + 1, tf.int32)
        x = _shift_axis(x, shift, axis)
    return x


def _cutout(x, seed):
    height_axis = x.shape.rank - 3
    batch = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    keep = None
    for i, axis in enumerate((height_axis, height_axis + 1)):
        length = tf.shape(x)[axis]
        half = tf.cast(tf.cast(length, tf.float32) * CUTOUT_RATIO / 2 + 0.5, tf.int32)
        centre = tf.random.stateless_uniform([batch], seeds[i], 0, length, tf.int32)
        offset = tf.range(length)[None, :] - centre[:, None]
        outside = (offset < -half) | (offset >= half)  # (batch, length)
        shape = [batch] + [1] * (x.shape.rank - 1)
        shape[axis] = length
        outside = tf.reshape(outside, shape)
        keep = outside if keep is None else keep | outside
    return x * tf.cast(keep, x.dtype)
