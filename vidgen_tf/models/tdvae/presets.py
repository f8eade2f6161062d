"""TD-VAE presets: the trainer's keyword arguments plus the training keys (`batch_size`,
`loss`)."""

from __future__ import annotations

TDVAE_PRESETS: dict[str, dict] = {
    # Moving MNIST (the built-in, 2 digits) on a 2-core CPU: 5 -> 15 frames of 64x64x1,
    # jumps of 1..4, 4 pairs per clip, the KL weight warmed up over 2000 steps. At 32x32 the
    # built-in digits move 0.4 pixel per frame (0.1 of the free room), hence 64x64: about
    # 0.25 s per step here (mixed_bfloat16). Not yet trained to a result.
    "cpu_mmnist": {"context": 5, "horizon": 15, "size": 64, "channels": 1, "base_filters": 16,
                   "hidden": 256, "belief_size": 128, "z_dim": 32, "block_size": 128,
                   "max_jump": 4, "pairs_per_clip": 4, "beta": 1.0, "kl_warmup_steps": 2000,
                   "learning_rate": 1e-3, "batch_size": 16, "loss": "bernoulli"},
    # One digit (`--data moving_mnist_1`, TD-VAE's own Moving MNIST setting), with the KL
    # terms at a quarter of their weight (beta 0.25, reached over 1000 steps) so the latent
    # carries the digit's shape as well as its place: at beta 1, 2800 steps kept the place only.
    "cpu_mmnist1": {"context": 5, "horizon": 15, "size": 64, "channels": 1, "base_filters": 16,
                    "hidden": 256, "belief_size": 128, "z_dim": 32, "block_size": 128,
                    "max_jump": 4, "pairs_per_clip": 4, "beta": 0.25, "kl_warmup_steps": 1000,
                    "learning_rate": 1e-3, "batch_size": 16, "loss": "bernoulli"},
    # One digit with a content input to the decoder: the encoding of an observed frame (the
    # last given one in a rollout), so the digit's shape need not pass through the latent,
    # and at the paper's beta 1. After 40 epochs of 200 steps the predictions were read as
    # the digit given in 62.9% of frames, against 27.2% for `cpu_mmnist1` (docs/variational.md).
    "content_mmnist1": {"context": 5, "horizon": 15, "size": 64, "channels": 1,
                        "base_filters": 16, "hidden": 256, "belief_size": 128, "z_dim": 32,
                        "block_size": 128, "max_jump": 4, "pairs_per_clip": 4, "beta": 1.0,
                        "kl_warmup_steps": 1000, "content": True, "learning_rate": 1e-3,
                        "batch_size": 16, "loss": "bernoulli"},
    # For tests and smoke runs.
    "tiny": {"context": 2, "horizon": 3, "size": 16, "channels": 1, "base_filters": 4,
             "hidden": 8, "belief_size": 8, "z_dim": 2, "block_size": 8, "max_jump": 2,
             "batch_size": 2, "learning_rate": 2e-3, "loss": "bernoulli"},
}
