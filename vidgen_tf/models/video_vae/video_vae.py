"""VideoVAE: a variational autoencoder of whole clips (Kingma & Welling 2014, in 3D), trained
by `model.fit`; its decoder generates from the prior and exports like a GAN generator."""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from vidgen_tf.losses.variational import gaussian_kl, kl_weight, reparameterize
from vidgen_tf.models.video_vae.networks import (
    LatentPrior,
    PriorDecoder,
    VideoVAEDecoder,
    VideoVAEEncoder,
)
from vidgen_tf.training.trainer import VideoTrainer


def gaussian_nll(video, mean, sigma: float):
    """-log N(video; mean, sigma^2 I) per clip, in nats: the squared error summed over every
    value of the clip / (2 sigma^2), plus log(sigma sqrt(2 pi)) per value."""
    error = ops.cast(video, "float32") - ops.cast(mean, "float32")
    values = math.prod(error.shape[1:])
    return (0.5 * ops.sum(ops.square(error), axis=tuple(range(1, error.ndim))) / sigma**2
            + values * math.log(sigma * math.sqrt(2.0 * math.pi)))


# Clips whose posterior means the sampling prior is fitted to after training (a 128-d latent's
# covariance from 4096 codes: 32 per parameter row).
PRIOR_CLIPS = 4096


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VideoVAE(VideoTrainer):
    """A VAE of clips: the encoder gives q(z | clip), a diagonal Gaussian; z is drawn from it
    by reparameterisation (noise from stateless draws); the decoder gives the mean of
    p(clip | z), a Gaussian of fixed standard deviation `sigma`; the prior is N(0, I).

    Each step minimises `nll + w * KL(q || prior)` per clip, divided by the clip's values,
    where `w` rises linearly from 0 to `beta` over `kl_warmup_steps` (KL annealing, Bowman
    et al. 2016). It logs "reconstruction_loss" (mean squared error per value, in [-1, 1]
    units), "kl" (nats per clip) and "neg_elbo" (-ELBO per frame, in nats, with w = 1: the
    bound to compare models by). Prior samples, sample grids and exports use the decoder
    alone, named `generator` as a GAN's: z ~ N(0, I) in, a clip out.

    Args:
        encoder: VideoVAEEncoder (built from the other arguments when None).
        generator: VideoVAEDecoder (likewise).
        frames, size, z_dim, base_filters: used only when a network is built here.
        sigma: float > 0, default 0.1. Standard deviation of p(clip | z) in [-1, 1] units.
        beta: float >= 0, default 1. Final weight of the KL term (beta-VAE, Higgins et al.
            2017, below or above 1).
        kl_warmup_steps: int >= 0, default 0. Steps of the linear KL warm-up.
        learning_rate: float > 0, default 5e-4. Adam's rate for both networks.
        seed: int, default 0. Seed of the posterior draws.

    Example:
        >>> vae = VideoVAE(frames=8, size=16, z_dim=8, base_filters=8)
        >>> vae.compile()
        >>> history = vae.fit(keras.random.uniform((4, 8, 16, 16, 3), -1, 1), batch_size=2,
        ...                   epochs=1, verbose=0)
    """

    optimizer_names = ("encoder_optimizer", "generator_optimizer")
    objective_names = ("vae_loss",)

    def __init__(self, encoder: VideoVAEEncoder | None = None,
                 generator: VideoVAEDecoder | None = None, *, frames: int = 16,
                 size: int = 64, z_dim: int = 128, base_filters: int = 32, sigma: float = 0.1,
                 beta: float = 1.0, kl_warmup_steps: int = 0, learning_rate: float = 5e-4,
                 seed: int = 0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        for name, value in (("sigma", sigma), ("learning_rate", learning_rate)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 for VideoVAE; received {name}={value}")
        if not beta >= 0 or kl_warmup_steps < 0:
            raise ValueError(f"beta and kl_warmup_steps must be >= 0 for VideoVAE; received "
                             f"beta={beta}, kl_warmup_steps={kl_warmup_steps}")
        self.generator = generator or VideoVAEDecoder(
            frames=frames, size=size, z_dim=z_dim, base_filters=base_filters)
        g = self.generator
        self.encoder = encoder or VideoVAEEncoder(
            frames=g.frames, size=g.size, z_dim=g.z_dim, base_filters=base_filters,
            channels=g.channels)
        e = self.encoder
        if (e.frames, e.size, e.z_dim, e.channels) != (g.frames, g.size, g.z_dim, g.channels):
            raise ValueError(
                "encoder and decoder must agree on frames, size, z_dim and channels; received "
                f"encoder {(e.frames, e.size, e.z_dim, e.channels)}, decoder "
                f"{(g.frames, g.size, g.z_dim, g.channels)}")
        self.frames, self.size, self.z_dim = g.frames, g.size, g.z_dim
        self.base_filters = base_filters
        self.sigma, self.beta = float(sigma), float(beta)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.learning_rate = float(learning_rate)
        self.add_trackers("vae_loss", "reconstruction_loss", "kl", "neg_elbo")
        self.latent_prior = LatentPrior(self.z_dim, name="latent_prior")

    @property
    def channels(self) -> int:
        return self.generator.channels

    def compile(self, loss: str = "gaussian", **optimizers):
        """One Adam per network (or the `encoder_optimizer` and `generator_optimizer` given).
        `loss` names the likelihood; the only one is "gaussian"."""
        if loss != "gaussian":
            raise ValueError(f"the video VAE's loss is gaussian (the ELBO with a Gaussian "
                             f"decoder); received loss={loss!r}")
        super().compile(**optimizers)

    def get_compile_config(self):
        return {"loss": "gaussian", **super().get_compile_config()}

    def compile_from_config(self, config):
        self.compile(**self._optimizers_from_config(config))

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        return keras.optimizers.Adam(self.learning_rate)

    def export_spec(self, generator=None, class_names=None):
        """The decoder behind the fitted prior (`LatentPrior`), exported as a GAN generator:
        standard normal "z" in, a clip out."""
        from vidgen_tf.export.spec import generator_export_spec

        self.latent_prior.refresh()  # an unfinished run: the moving averages' Gaussian
        return generator_export_spec(PriorDecoder(generator or self.generator,
                                                  self.latent_prior))

    def fit_prior(self, batches, num: int = PRIOR_CLIPS) -> int:
        """Fit the sampling prior to the posterior means of `num` clips from `batches` (an
        iterable of clip batches, or of dicts with "video"); returns the clips used. See
        `LatentPrior`: without it, prior draws mostly decode to faint smears."""
        codes, seen = [], 0
        for batch in batches:
            video = self.real_videos(batch)[:num - seen]
            codes.append(ops.convert_to_numpy(self.encoder(video, training=False)["mean"]))
            seen += len(codes[-1])
            if seen >= num:
                break
        self.latent_prior.fit(np.concatenate(codes).astype("float32"))
        return seen

    def finish_training(self, data) -> str:
        """After `fit`: fit the sampling prior on clips of the training data."""
        used = self.fit_prior(iter(data))
        return f"sampling prior fitted to the posterior means of {used} training clips"

    def build(self, input_shape=None):
        self.encoder.build()
        self.generator.build()
        self.built = True

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def losses_of(self, video, noise, step, training=True) -> dict:
        """The step's terms for clips `video` and standard normal `noise` `(batch, z_dim)`:
        "vae_loss" (minimised), "reconstruction_loss", "kl", "neg_elbo" (see the class
        docstring), each a float32 scalar averaged over the batch."""
        return self._terms_and_codes(video, noise, step, training)[0]

    def _terms_and_codes(self, video, noise, step, training=True) -> tuple[dict, object]:
        """`losses_of`'s terms, and the posterior means `(batch, z_dim)` of the clips."""
        video = ops.cast(video, "float32")
        posterior = self.encoder(video, training=training)
        z = reparameterize(posterior["mean"], posterior["logvar"], noise)
        decoded = ops.cast(self.generator({"z": z}, training=training), "float32")
        nll = gaussian_nll(video, decoded, self.sigma)
        kl = ops.sum(gaussian_kl(posterior["mean"], posterior["logvar"]), axis=-1)
        values = math.prod(video.shape[1:])
        weight = kl_weight(step, self.beta, self.kl_warmup_steps)
        return {"vae_loss": ops.mean(nll + weight * kl) / values,
                "reconstruction_loss": ops.mean(ops.square(video - decoded)),
                "kl": ops.mean(kl), "neg_elbo": ops.mean(nll + kl) / self.frames}, \
            posterior["mean"]

    def train_step(self, data):
        video = self.real_videos(data)
        step = self.generator_optimizer.iterations
        noise = tf.random.stateless_normal((ops.shape(video)[0], self.z_dim),
                                           self.keyed_seed("posterior", step))
        with tf.GradientTape(persistent=True) as tape:
            terms, codes = self._terms_and_codes(video, noise, step)
            scaled = self.for_gradients(terms["vae_loss"], self.generator_optimizer)
        self.apply_gradients(tape, scaled, self.encoder, self.encoder_optimizer)
        self.apply_gradients(tape, scaled, self.generator, self.generator_optimizer)
        del tape
        self.latent_prior.track(ops.stop_gradient(codes))
        return self.record(**terms)

    def get_config(self):
        config = super().get_config()
        config.update(
            encoder=keras.saving.serialize_keras_object(self.encoder),
            generator=keras.saving.serialize_keras_object(self.generator),
            frames=self.frames, size=self.size, z_dim=self.z_dim,
            base_filters=self.base_filters, sigma=self.sigma, beta=self.beta,
            kl_warmup_steps=self.kl_warmup_steps, learning_rate=self.learning_rate,
            seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("encoder", "generator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
