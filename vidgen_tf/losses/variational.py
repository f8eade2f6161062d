"""The pieces of a variational loss: the Gaussian KL divergence, the reparameterised draw and
the KL weight's warm-up (for the video VAE and SVG families)."""

from __future__ import annotations

from keras import ops


def gaussian_kl(mean_q, logvar_q, mean_p=0.0, logvar_p=0.0):
    """KL(N(mean_q, exp(logvar_q)) || N(mean_p, exp(logvar_p))) per element, in float32:

        0.5 * (logvar_p - logvar_q + (exp(logvar_q) + (mean_q - mean_p)^2) / exp(logvar_p) - 1)

    Sum it over the latent dimensions for the KL of a diagonal Gaussian. The defaults of
    the prior's arguments give the KL to N(0, 1), a VAE's prior; SVG-LP passes its learned
    prior's mean and log-variance.
    """
    mean_q, logvar_q = ops.cast(mean_q, "float32"), ops.cast(logvar_q, "float32")
    mean_p, logvar_p = ops.cast(mean_p, "float32"), ops.cast(logvar_p, "float32")
    return 0.5 * (logvar_p - logvar_q
                  + (ops.exp(logvar_q) + ops.square(mean_q - mean_p)) * ops.exp(-logvar_p)
                  - 1.0)


def reparameterize(mean, logvar, noise):
    """mean + exp(logvar / 2) * noise: a draw of N(mean, exp(logvar)) that gradients pass
    through. `noise` is standard normal, drawn by the caller (stateless draws in training,
    numpy in the runtime), so no graph holds a random op."""
    return mean + ops.exp(0.5 * logvar) * ops.cast(noise, mean.dtype)


def kl_weight(step, beta: float = 1.0, warmup_steps: int = 0):
    """The KL term's weight at training step `step`: `beta`, reached linearly over the first
    `warmup_steps` steps (KL annealing, Bowman et al. 2016); `beta` from the start when
    `warmup_steps` is 0."""
    if warmup_steps < 0 or beta < 0:
        raise ValueError(f"beta and warmup_steps must be >= 0; received beta={beta}, "
                         f"warmup_steps={warmup_steps}")
    if warmup_steps == 0:
        return ops.convert_to_tensor(beta, "float32")
    progress = ops.minimum(ops.cast(step, "float32") / float(warmup_steps), 1.0)
    return beta * progress
