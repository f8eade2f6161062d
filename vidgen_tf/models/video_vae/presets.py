"""Named configurations of the video VAE: model keyword arguments plus the training batch size."""

VIDEO_VAE_PRESETS = {
    # The built-in shapes at 32x32x16 (the shipped GANs' size): a 64-d latent, the KL weight
    # warmed up over the first 2000 steps. Shipped as export/vae_shapes (41 epochs of 500 steps).
    "shapes_32": {"frames": 16, "size": 32, "z_dim": 64, "base_filters": 32, "sigma": 0.1,
                  "beta": 1.0, "kl_warmup_steps": 2000, "learning_rate": 5e-4,
                  "batch_size": 16, "loss": "gaussian"},
    # For tests and smoke runs.
    "tiny": {"frames": 8, "size": 16, "z_dim": 8, "base_filters": 8, "batch_size": 4,
             "loss": "gaussian"},
}
