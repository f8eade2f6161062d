"""GANTrainer: the thin GAN base on top of `VideoTrainer`: the adversarial loss (a constructor
or compile argument; a preset can carry it), named generator noise and the discriminator step."""

from __future__ import annotations

import contextlib

import tensorflow as tf
from keras import ops

from vidgen_tf.losses import get_gan_loss, gradient_penalty
from vidgen_tf.training.trainer import (  # noqa: F401  (re-exported for the families)
    DEFAULT_BETAS,
    DEFAULT_LEARNING_RATE,
    VideoTrainer,
    default_adam,
    in_multi_worker_mode,
    replica_count,
    replica_id,
)


def sampling_generator(model):
    """Context manager giving the network to sample or export from: a trainer's
    `averaged_network` ("generator", or a predictor's "predictor"; its moving average when it
    keeps one), else the model's `generator`, else the model itself (a bare generator)."""
    network = getattr(model, "averaged_network", "generator")
    if isinstance(model, VideoTrainer) and hasattr(model, network):
        return model.averaged(network)
    return contextlib.nullcontext(getattr(model, "generator", model))


class GANTrainer(VideoTrainer):
    """Base class of the GAN trainers (see `VideoTrainer` for what every trainer shares).

    Adds the adversarial loss, chosen by name in `compile(loss=...)` ("bce", "hinge" or
    "wgan_gp"), `sample_noise` for a generator's named noise, and the single-discriminator step
    `train_discriminator`.
    """

    objective_names: tuple[str, ...] = ("d_loss", "g_loss")

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.loss = "bce"

    def compile(self, loss: str = "bce", **optimizers):
        """Choose the adversarial loss by name and one optimizer per network.

        Args:
            loss: "bce" (non-saturating), "hinge" or "wgan_gp".
            **optimizers: `<network>_optimizer=keras.optimizers.Optimizer`; missing ones
                default to Adam(2e-4, betas (0.5, 0.999)). Extra keyword arguments that are
                not optimizers go to `keras.Model.compile` (e.g. `jit_compile`).
        """
        get_gan_loss(loss)  # fail early with the valid names
        super().compile(**optimizers)
        self.loss = loss

    def get_compile_config(self):
        return {"loss": self.loss, **super().get_compile_config()}

    @property
    def channels(self) -> int:
        """Channels of the generated frames (3 for RGB)."""
        return self.generator.channels

    def compile_from_config(self, config):
        self.compile(loss=config.get("loss", "bce"), **self._optimizers_from_config(config))

    def averaged_generator(self):
        """`averaged("generator")`: the generator with its moving-average weights, if kept."""
        return self.averaged("generator")

    # ------------------------------------------------------------------ noise

    def sample_noise(self, spec: dict, batch, salt: int, step) -> dict:
        """Draw every named input of a generator's `noise_spec` for `batch` samples.

        Stateless normal/uniform draws seeded by (seed, step, replica, salt, input index):
        different on every replica and step, identical when a resumed run replays a step.
        """
        step = tf.cast(step, tf.int64)
        noise = {}
        for index, (name, item) in enumerate(sorted(spec.items())):
            if item.get("distribution", "normal") == "categorical":
                continue
            mix = (step * 1009 + tf.cast(replica_id(), tf.int64)) * 97 + salt * 13 + index
            seed = tf.stack([tf.constant(self.seed, tf.int64), mix])
            shape = tf.concat([[batch], tf.constant(item["shape"], tf.int32)], axis=0)
            if item.get("distribution", "normal") == "uniform":
                noise[name] = tf.random.stateless_uniform(shape, seed, -1.0, 1.0)
            else:
                noise[name] = tf.random.stateless_normal(shape, seed)
        return noise

    @staticmethod
    def injected_noise(data) -> dict | None:
        """The generator inputs a batch carries under "noise" (tests inject them), or None."""
        inputs = data[0] if isinstance(data, tuple) else data
        return inputs.get("noise") if isinstance(inputs, dict) else None

    def train_discriminator(self, real, noise, d_loss_fn, step):
        """One step of `self.discriminator` (single-discriminator families): real clips up,
        clips generated from `noise` down, plus the gradient penalty with loss "wgan_gp".

        Returns (d_loss, real_logits, fake_logits).
        """
        with tf.GradientTape() as tape:
            fake = self.generator(noise, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = d_loss_fn(real_logits, fake_logits)
            if self.loss == "wgan_gp":
                alpha = tf.random.stateless_uniform(
                    [ops.shape(real)[0], 1, 1, 1, 1],
                    tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64) * 7 + 3]))
                d_loss += self.gp_weight * gradient_penalty(
                    lambda x: self.discriminator(x, training=True), real, fake, alpha)
            scaled_loss = self.for_gradients(d_loss, self.discriminator_optimizer)
        self.apply_gradients(tape, scaled_loss, self.discriminator, self.discriminator_optimizer)
        return d_loss, real_logits, fake_logits
