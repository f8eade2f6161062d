"""Named configurations of the 3D DCGAN: model keyword arguments plus the training batch size."""

DCGAN3D_PRESETS = {
    # 64x64x16 with DCGAN's filter widths (ngf = ndf = 64).
    "default_64": {"frames": 16, "size": 64, "z_dim": 100, "base_filters": 64, "batch_size": 16},
    # Small and fast: 0.33 s per step on a 2-core CPU. On the built-in shapes, 3000 steps
    # (18 minutes) give coloured blobs that move but change colour as they go (README, "The
    # other families").
    "small_32": {"frames": 16, "size": 32, "z_dim": 64, "base_filters": 32, "batch_size": 16},
    # For tests and smoke runs.
    "tiny": {"frames": 8, "size": 16, "z_dim": 8, "base_filters": 8, "batch_size": 4},
}
