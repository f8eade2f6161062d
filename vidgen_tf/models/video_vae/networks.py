"""The video VAE's networks: a 3D-convolutional encoder to a diagonal Gaussian posterior, and
the 3D DCGAN generator as its decoder."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from vidgen_tf.layers.conv_plan import spatial_doublings, temporal_strides
from vidgen_tf.models.dcgan3d.video_dcgan_generator import VideoDCGANGenerator

# The encoder's log-variance is kept in this range: exp(-12) to exp(6) in variance.
LOGVAR_RANGE = (-12.0, 6.0)
# Decay per training step of the prior's moving averages: about the last 100 batches count.
TRACK_DECAY = 0.99


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VideoVAEEncoder(keras.Model):
    """Video -> the mean and log-variance of the posterior q(z | video), a diagonal Gaussian.

    The mirror of the decoder: stride-2 Conv3D + LeakyReLU(0.2) blocks that halve height and
    width (and time where the decoder doubles it), doubling the filters, then a dense float32
    layer to `2 * z_dim` numbers. No normalisation layer, so a clip's posterior never depends
    on the other clips of its batch.

    Args:
        frames: int, default 16. Input frames.
        size: int, default 64. Input height and width (4 x a power of two).
        z_dim: int, default 128. Latent size.
        base_filters: int, default 32. Filters of the first layer.
        channels: int, default 3. Input channels.

    Call:
        video: float `(batch, frames, size, size, channels)` in [-1, 1].
        Returns `{"mean", "logvar"}`, float32 `(batch, z_dim)` each; the log-variance is
        clipped to `LOGVAR_RANGE`.

    Example:
        >>> e = VideoVAEEncoder(frames=8, size=16, z_dim=4, base_filters=8)
        >>> tuple(e(keras.random.uniform((2, 8, 16, 16, 3), -1, 1))["mean"].shape)
        (2, 4)
    """

    def __init__(self, frames: int = 16, size: int = 64, z_dim: int = 128,
                 base_filters: int = 32, channels: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.frames, self.size, self.z_dim = frames, size, z_dim
        self.base_filters, self.channels = base_filters, channels
        doublings = spatial_doublings(size, "video_vae")
        _, strides = temporal_strides(frames, doublings, "video_vae")
        self.blocks = [layers.Conv3D(base_filters * 2**i, 4, strides=(stride, 2, 2),
                                     padding="same", name=f"down{i}")
                       for i, stride in enumerate(reversed(strides))]
        self.flatten = layers.Flatten(name="flatten")
        self.to_posterior = layers.Dense(2 * z_dim, dtype="float32", name="posterior")

    def build(self, input_shape=None):
        self.call(ops.zeros((1, self.frames, self.size, self.size, self.channels)))
        self.built = True

    def call(self, video, training=False):
        x = video
        for conv in self.blocks:
            x = ops.leaky_relu(conv(x), 0.2)
        stats = self.to_posterior(self.flatten(x))
        mean, logvar = stats[:, :self.z_dim], stats[:, self.z_dim:]
        return {"mean": mean, "logvar": ops.clip(logvar, *LOGVAR_RANGE)}

    def get_config(self):
        config = super().get_config()
        config.update(frames=self.frames, size=self.size, z_dim=self.z_dim,
                      base_filters=self.base_filters, channels=self.channels)
        return config


@keras.saving.register_keras_serializable(package="vidgen_tf")
class VideoVAEDecoder(VideoDCGANGenerator):
    """The video VAE's decoder, z -> video: `VideoDCGANGenerator`'s network (a dense
    projection, Conv3DTranspose + BatchNorm + ReLU blocks, a float32 tanh). Exported as the
    VAE's generator: a prior draw z ~ N(0, I) in, a clip out."""

    family = "video_vae"


@keras.saving.register_keras_serializable(package="vidgen_tf")
class LatentPrior(keras.layers.Layer):
    """The Gaussian the VAE samples from: z = mean + noise @ scale^T for standard normal
    `noise`, so z ~ N(mean, scale scale^T). The identity (the N(0, I) prior of training) until
    `fit` sets it to the aggregate posterior, as in ex-post density estimation (Ghosh et al.
    2020, "From Variational to Deterministic Autoencoders"): a VAE whose posteriors do not
    fill N(0, I) decodes most prior draws into faint smears, and drawing from a Gaussian fit
    to the training clips' posterior means puts samples where the decoder learned.

    Until that exact fit (after training), `track` keeps moving averages of the training
    batches' posterior means and of their outer products, and `refresh` sets the prior to
    their Gaussian: so the sample grids of every epoch, and an export of a checkpoint of a
    run that was stopped before its end, draw where the decoder learned too.

    Args:
        z_dim: int >= 1. Latent size.

    Example:
        >>> prior = LatentPrior(2)
        >>> prior.fit(np.array([[1.0, 0.0], [3.0, 0.0], [2.0, 1.0], [2.0, -1.0]]))
        >>> [round(float(v), 3) for v in prior.mean.numpy()]
        [2.0, 0.0]
    """

    def __init__(self, z_dim: int, **kwargs):
        kwargs.setdefault("dtype", "float32")  # statistics and the draw stay in float32
        super().__init__(**kwargs)
        self.z_dim = int(z_dim)
        self.mean = self.add_weight(shape=(self.z_dim,), initializer="zeros",
                                    trainable=False, name="mean")
        self.scale = self.add_weight(shape=(self.z_dim, self.z_dim),
                                     initializer="identity", trainable=False, name="scale")
        # Moving averages of the codes and their outer products, with the sum of the weights
        # they were given (to undo the start at zero, as Adam does), and 1 after `fit`.
        track = dict(initializer="zeros", trainable=False, aggregation="mean")
        self.running_mean = self.add_weight(shape=(self.z_dim,), name="running_mean", **track)
        self.running_outer = self.add_weight(shape=(self.z_dim, self.z_dim),
                                             name="running_outer", **track)
        self.running_weight = self.add_weight(shape=(), name="running_weight", **track)
        self.fitted = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                      name="fitted")
        self.built = True  # every weight exists: nothing to build from data

    def call(self, noise):
        noise = ops.cast(noise, "float32")
        return self.mean + ops.matmul(noise, ops.transpose(self.scale))

    def fit(self, codes) -> None:
        """Set the prior to the Gaussian of `codes` `(num, z_dim)`: their mean, and the
        Cholesky factor of their covariance (a small ridge keeps it positive definite)."""
        codes = np.asarray(codes, np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.z_dim or len(codes) <= self.z_dim:
            raise ValueError(f"the prior is fitted on more than z_dim = {self.z_dim} codes of "
                             f"{self.z_dim} values; received an array of shape {codes.shape}")
        self._set(codes.mean(axis=0), np.cov(codes, rowvar=False))
        self.fitted.assign(1.0)

    def _set(self, mean, covariance) -> None:
        ridge = 1e-6 * max(float(np.trace(covariance)) / self.z_dim, 1e-12)
        scale = np.linalg.cholesky(covariance + ridge * np.eye(self.z_dim))
        self.mean.assign(np.asarray(mean, np.float32))
        self.scale.assign(scale.astype("float32"))

    def track(self, codes, decay: float = TRACK_DECAY) -> None:
        """Fold a batch of codes `(batch, z_dim)` into the moving averages (in the graph of a
        training step): each average becomes decay * itself + (1 - decay) * the batch's."""
        codes = ops.cast(codes, "float32")
        batch = ops.cast(ops.shape(codes)[0], "float32")
        for variable, value in (
                (self.running_mean, ops.mean(codes, axis=0)),
                (self.running_outer, ops.matmul(ops.transpose(codes), codes) / batch),
                (self.running_weight, ops.ones(()))):
            variable.assign(decay * variable + (1.0 - decay) * value)

    def refresh(self) -> bool:
        """Before the exact `fit`, set the prior to the Gaussian of the moving averages that
        `track` keeps; returns whether it did (False once fitted, or before any step)."""
        weight = float(self.running_weight.numpy())
        if float(self.fitted.numpy()) or weight <= 0:
            return False
        mean = self.running_mean.numpy().astype(np.float64) / weight
        outer = self.running_outer.numpy().astype(np.float64) / weight
        covariance = outer - np.outer(mean, mean)
        self._set(mean, (covariance + covariance.T) / 2)
        return True

    def load_own_variables(self, store):
        if not len(store.keys()):
            return  # a model saved before the prior existed: it keeps N(0, I)
        if len(store.keys()) == 2:  # saved before the moving averages: mean and scale only
            self.mean.assign(store["0"])
            self.scale.assign(store["1"])
            return
        super().load_own_variables(store)

    def get_config(self):
        config = super().get_config()
        config.update(z_dim=self.z_dim)
        return config


class PriorDecoder(keras.Model):
    """The exported generator of a VAE: standard normal noise "z" through `prior`, then the
    decoder. Carries the decoder's `noise_spec`, frames, size and channels."""

    def __init__(self, decoder, prior: LatentPrior, **kwargs):
        super().__init__(**kwargs)
        self.decoder, self.prior = decoder, prior
        self.frames, self.size = decoder.frames, decoder.size
        self.channels, self.z_dim = decoder.channels, decoder.z_dim

    def noise_spec(self) -> dict:
        return self.decoder.noise_spec()

    def call(self, inputs, training=False):
        return self.decoder({**inputs, "z": self.prior(inputs["z"])}, training=training)
