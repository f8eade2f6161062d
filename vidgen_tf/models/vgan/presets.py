"""Named configurations of VGAN: model keyword arguments plus the training batch size."""

VGAN_PRESETS = {
    # Vondrick et al. 2016: 32 frames at 64x64, z of 100 dims, 512 filters at the bottom of
    # each stream, mask lambda 0.1, batch 64. Their Adam (lr 0.0002, momentum 0.5) and BCE loss
    # are the trainer's defaults (`default_adam`, `compile(loss="bce")`).
    "paper_64": {"frames": 32, "size": 64, "z_dim": 100, "base_filters": 64,
                 "mask_weight": 0.1, "batch_size": 64},
    # Small and fast, the same size as dcgan3d's small_32: 16 frames at 32x32, 0.39 s per
    # step on a 2-core CPU (README, "The other families").
    "small_32": {"frames": 16, "size": 32, "z_dim": 64, "base_filters": 32,
                 "mask_weight": 0.1, "batch_size": 16},
    # For tests and smoke runs.
    "tiny": {"frames": 8, "size": 16, "z_dim": 8, "base_filters": 8, "mask_weight": 0.1,
             "batch_size": 4},
}
