"""VGAN: trains the two-stream generator against a 3D conv discriminator with `model.fit`."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from vidgen_tf.losses import get_gan_loss, mask_sparsity_loss
from vidgen_tf.models.vgan.vgan_discriminator import VGANDiscriminator
from vidgen_tf.models.vgan.vgan_generator import VGANGenerator
from vidgen_tf.training.gan_trainer import GANTrainer


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VGAN(GANTrainer):
    """VGAN (scene dynamics), trained by `fit` with one optimizer per network.

    Follows Vondrick, Pirsiavash and Torralba 2016, "Generating Videos with Scene Dynamics":
    each step trains the discriminator on a real and a generated batch, then the generator
    through it, with an L1 penalty (weight lambda = `mask_weight`) that keeps the foreground
    mask sparse so the static background stream explains what does not move.

    Args:
        generator: VGANGenerator (built from the other arguments when None).
        discriminator: VGANDiscriminator (likewise).
        frames, size, z_dim, base_filters: used only when a network is built here.
        discriminator_norm: str, default "batch". The `norm` of a discriminator built here:
            "batch", "layer", "spectral" (SNGAN; pair it with `compile(loss="hinge")`) or
            "none".
        mask_weight: float >= 0, default 0.1. Weight of the mask sparsity penalty (the
            paper's lambda).
        gp_weight: float, default 10. Weight of the gradient penalty with loss "wgan_gp".
        seed: int, default 0. Seed of the noise drawn in `train_step`.

    `fit` data: batches of real video `(batch, frames, size, size, 3)` in [-1, 1], or dicts
    with a "video" entry (as `vidgen_tf.data.load_dataset` yields). A dict may also carry
    "noise" ({"z": ...}) to inject the generator's noise.

    Example:
        >>> gan = VGAN(frames=8, size=16, z_dim=8, base_filters=8)
        >>> gan.compile(loss="bce")
        >>> history = gan.fit(keras.random.uniform((4, 8, 16, 16, 3), -1, 1), batch_size=2,
        ...                   epochs=1, verbose=0)
    """

    optimizer_names = ("generator_optimizer", "discriminator_optimizer")

    def __init__(self, generator: VGANGenerator | None = None,
                 discriminator: VGANDiscriminator | None = None, *, frames: int = 32,
                 size: int = 64, z_dim: int = 100, base_filters: int = 64,
                 discriminator_norm: str = "batch",
                 mask_weight: float = 0.1, gp_weight: float = 10.0, seed: int = 0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mask_weight < 0:
            raise ValueError(f"mask_weight must be >= 0 for VGAN; received "
                             f"mask_weight={mask_weight}")
        self.generator = generator or VGANGenerator(
            frames=frames, size=size, z_dim=z_dim, base_filters=base_filters)
        self.discriminator = discriminator or VGANDiscriminator(
            frames=self.generator.frames, size=self.generator.size, base_filters=base_filters,
            norm=discriminator_norm)
        if (self.discriminator.frames, self.discriminator.size) != (
                self.generator.frames, self.generator.size):
            raise ValueError(
                "generator and discriminator must agree on frames and size; received "
                f"generator frames={self.generator.frames} size={self.generator.size}, "
                f"discriminator frames={self.discriminator.frames} "
                f"size={self.discriminator.size}")
        self.frames, self.size = self.generator.frames, self.generator.size
        self.z_dim, self.base_filters = self.generator.z_dim, base_filters
        self.discriminator_norm = self.discriminator.norm
        self.mask_weight = mask_weight
        self.gp_weight = gp_weight
        self.add_trackers("d_loss", "g_loss", "mask_l1", "d_real", "d_fake")

    def build(self, input_shape=None):
        self.generator.build()
        self.discriminator.build()
        self.built = True

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def train_step(self, data):
        real = self.real_videos(data)
        batch = ops.shape(real)[0]
        step = self.generator_optimizer.iterations
        injected = self.injected_noise(data)
        g_loss_fn, d_loss_fn = get_gan_loss(self.loss)

        # Train the discriminator: real clips up, generated clips down.
        noise = injected or self.sample_noise(self.generator.noise_spec(), batch, 0, step)
        d_loss, real_logits, fake_logits = self.train_discriminator(real, noise, d_loss_fn, step)

        # Train the generator through the updated discriminator, keeping the mask sparse.
        noise = injected or self.sample_noise(self.generator.noise_spec(), batch, 1, step)
        with tf.GradientTape() as tape:
            fake, mask = self.generator(noise, training=True, return_mask=True)
            mask_l1 = mask_sparsity_loss(mask)
            g_loss = (g_loss_fn(self.discriminator(fake, training=True))
                      + self.mask_weight * mask_l1)
            scaled_loss = self.for_gradients(g_loss, self.generator_optimizer)
        self.apply_gradients(tape, scaled_loss, self.generator, self.generator_optimizer)

        return self.record(d_loss=d_loss, g_loss=g_loss, mask_l1=mask_l1,
                           d_real=ops.mean(real_logits), d_fake=ops.mean(fake_logits))

    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            discriminator=keras.saving.serialize_keras_object(self.discriminator),
            frames=self.frames, size=self.size, z_dim=self.z_dim,
            base_filters=self.base_filters, discriminator_norm=self.discriminator_norm,
            mask_weight=self.mask_weight,
            gp_weight=self.gp_weight, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        return cls(**config)
