"""MoCoGAN's random draws in `train_step`: stateless per (seed, step, replica, salt), so a
resumed or distributed run draws what an uninterrupted one would."""

from __future__ import annotations

import tensorflow as tf
from keras import ops

from vidgen_tf.losses import gradient_penalty
from vidgen_tf.training.diff_augment import diff_augment
from vidgen_tf.training.gan_trainer import replica_id

# Added to a `_noisy` salt for its augmentation draws, so they differ from its noise draws.
_AUGMENT_SALT = 1000


class MoCoGANDraws:
    """Noise, labels, frame picks, instance noise and gradient-penalty mixes (a mixin of
    `MoCoGAN`)."""

    def _seed(self, salt: int, step) -> tf.Tensor:
        """A stateless seed per (seed, step, replica, salt), mixed like `sample_noise`'s."""
        mix = (tf.cast(step, tf.int64) * 1009 + tf.cast(replica_id(), tf.int64)) * 97 + salt * 13
        return tf.stack([tf.constant(self.seed, tf.int64), mix])

    def _noise(self, injected, batch, salt: int, label_salt: int, step) -> dict:
        """The generator's inputs: injected noise, or fresh draws (labels uniform)."""
        if injected:
            return injected
        noise = self.sample_noise(self.generator.noise_spec(), batch, salt, step)
        if self.num_classes and not self.conditions:
            noise["label"] = tf.random.stateless_uniform(
                [batch], self._seed(label_salt, step), 0, self.num_classes, dtype=tf.int32)
        return noise

    @staticmethod
    def _injected_picks(data):
        """Frame indices `(batch, k)` a batch carries under "frame_picks" (tests inject them
        so that every replica split sees the same frames), or None."""
        inputs = data[0] if isinstance(data, tuple) else data
        return inputs.get("frame_picks") if isinstance(inputs, dict) else None

    def _sample_frames(self, videos, salt: int, step, picks=None):
        """`image_batch_size` random frames `(n, size, size, channels)` of `videos`
        `(batch, frames, size, size, channels)`, channels-last, drawn with replacement; or,
        with injected `picks` `(batch, k)`, frames `picks[i]` of clip i (n = batch * k).
        Returns (frames, the clip index of each frame `(n,)`)."""
        shape = ops.shape(videos)
        if picks is not None:
            picks = tf.cast(picks, tf.int32)
            clips = tf.range(shape[0])[:, None] + tf.zeros_like(picks)
            flat = ops.reshape(clips * shape[1] + picks, (-1,))
        else:
            flat = tf.random.stateless_uniform([self.image_batch_size], self._seed(salt, step),
                                               0, shape[0] * shape[1], dtype=tf.int32)
        frames = ops.take(ops.reshape(videos, (-1, *videos.shape[2:])), flat, axis=0)
        return frames, flat // shape[1]

    def _noisy(self, x, salt: int, step):
        """What a discriminator is shown of `x`: augmented by `diff_augment` (drawn per step
        and replica), plus N(0, noise_sigma^2) noise; or `x` itself."""
        x = diff_augment(x, self._augment_policy, self._seed(salt + _AUGMENT_SALT, step))
        if not self.noise_sigma:
            return x
        noise = tf.random.stateless_normal(ops.shape(x), self._seed(salt, step), dtype=x.dtype)
        return x + ops.cast(self.noise_sigma, x.dtype) * noise

    def _gradient_penalty(self, critic_fn, real, fake, salt: int, step):
        alpha_shape = [ops.shape(real)[0]] + [1] * (len(real.shape) - 1)
        alpha = tf.random.stateless_uniform(alpha_shape, self._seed(salt, step))
        return self.gp_weight * gradient_penalty(critic_fn, real, fake, alpha)
