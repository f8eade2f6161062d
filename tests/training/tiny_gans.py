"""Tiny GANs of every family and one batch with injected noise, for the subprocess scripts that
compare weight updates (distribution, mixed precision)."""

from __future__ import annotations

import numpy as np


def tiny_gan(family: str):
    """A trainer at 8 frames of 16x16 with 8 base filters."""
    from vidgen_tf.models.dcgan3d import VideoDCGAN
    from vidgen_tf.models.mocogan import MoCoGAN
    from vidgen_tf.models.vgan import VGAN

    if family == "mocogan":
        return MoCoGAN(frames=8, size=16, content_dim=8, motion_dim=4, noise_dim=4,
                       base_filters=8)
    return {"dcgan3d": VideoDCGAN, "vgan": VGAN}[family](frames=8, size=16, z_dim=8,
                                                        base_filters=8)


def tiny_batch(family: str, samples: int) -> dict:
    """`samples` real clips plus the noise (and MoCoGAN's frame picks) the trainer would draw,
    injected so that two runs see the same draws for the same samples."""
    rng = np.random.default_rng(0)
    element = {"video": rng.uniform(-1, 1, (samples, 8, 16, 16, 3)).astype("float32")}
    if family == "mocogan":
        element["noise"] = {"content": rng.normal(size=(samples, 8)).astype("float32"),
                            "motion": rng.normal(size=(samples, 8, 4)).astype("float32")}
        element["frame_picks"] = rng.integers(8, size=(samples, 2)).astype("int32")
    else:
        element["noise"] = {"z": rng.normal(size=(samples, 8)).astype("float32")}
    return element
