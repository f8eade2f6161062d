"""GAN losses as pure generator/discriminator pairs, and a registry to pick a pair by name."""

from __future__ import annotations

from collections.abc import Callable

from vidgen_tf.losses.adversarial import (
    bce_discriminator_loss,
    bce_generator_loss,
    category_loss,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    mask_sparsity_loss,
    r1_penalty,
    wgan_discriminator_loss,
    wgan_generator_loss,
    words_loss,
)

# name -> (generator_loss(fake_logits), discriminator_loss(real_logits, fake_logits)).
# "wgan_gp" gives the Wasserstein pair; the trainer adds `gradient_penalty` to the critic loss.
GAN_LOSSES: dict[str, tuple[Callable, Callable]] = {
    "bce": (bce_generator_loss, bce_discriminator_loss),
    "hinge": (hinge_generator_loss, hinge_discriminator_loss),
    "wgan_gp": (wgan_generator_loss, wgan_discriminator_loss),
}


def get_gan_loss(name: str) -> tuple[Callable, Callable]:
    """Return the (generator_loss, discriminator_loss) pair registered under `name`.

    Args:
        name: a key of `GAN_LOSSES`: "bce", "hinge" or "wgan_gp".

    Returns:
        `(generator_loss, discriminator_loss)`; see `vidgen_tf.losses.adversarial`.

    Example:
        >>> generator_loss, discriminator_loss = get_gan_loss("hinge")
        >>> generator_loss.__name__
        'hinge_generator_loss'
    """
    if not isinstance(name, str) or name not in GAN_LOSSES:
        raise ValueError(
            f"unknown GAN loss {name!r}; choose one of: {', '.join(sorted(GAN_LOSSES))}"
        )
    return GAN_LOSSES[name]


__all__ = [
    "GAN_LOSSES",
    "bce_discriminator_loss",
    "bce_generator_loss",
    "category_loss",
    "get_gan_loss",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "mask_sparsity_loss",
    "r1_penalty",
    "wgan_discriminator_loss",
    "wgan_generator_loss",
    "words_loss",
]
