"""SVG-LP presets: the trainer's keyword arguments plus the training keys (`batch_size`,
`loss`)."""

from __future__ import annotations

# The official SVG-LP on SM-MNIST (github edenton/svg, train_svg_lp.py): 5 -> 10 frames of
# 64x64x1, DCGAN encoder and decoder of width 64, g_dim 128, z_dim 10, LSTMs of 256 (a
# predictor of 2 layers, prior and posterior of 1), beta 1e-4, Adam 2e-3, batch 100.
# The paper's beta weighs the KL against the MSE of frames in [0, 1]; `SVG` takes the MSE of
# frames in [-1, 1], 4 times larger, so the paper's balance is beta 4e-4 here.
_PAPER = {"context": 5, "horizon": 10, "size": 64, "channels": 1, "base_filters": 64,
          "g_dim": 128, "z_dim": 10, "rnn_size": 256, "predictor_layers": 2,
          "prior_layers": 1, "posterior_layers": 1, "beta": 4e-4, "learning_rate": 2e-3,
          "batch_size": 100, "loss": "mse"}

SVG_PRESETS: dict[str, dict] = {
    # The paper's networks with a batch a 2-core CPU steps through in about a second.
    "cpu_smmnist": {**_PAPER, "batch_size": 16},
    "paper_smmnist": _PAPER,
    # Half the convolution widths (a quarter of their work): what fits 3 CPU hours, and what
    # export/svg_smmnist trained with. (At beta 1e-4, a quarter of the paper's KL weight, its
    # best-of-10 MSE on SM-MNIST got worse with training, 140.28 after 61 epochs and 144.98
    # after 110, as its samples sharpened; at 4e-4 it was 133.06 after 45.)
    "cpu_smmnist_half": {**_PAPER, "base_filters": 32, "batch_size": 16},
    # Action-conditioned (with --condition actions on shapes_actions): the first frame and
    # an action per frame -> 15 frames of 32x32 colour, at half the convolution widths and a
    # quarter of the paper's KL weight (what export/svg_shapes_actions trained with).
    "shapes_actions": {**_PAPER, "context": 1, "horizon": 15, "size": 32, "channels": 3,
                       "base_filters": 32, "z_dim": 8, "batch_size": 16, "beta": 1e-4},
    # For tests and smoke runs.
    "tiny": {"context": 2, "horizon": 3, "size": 16, "channels": 1, "base_filters": 4,
             "g_dim": 8, "z_dim": 2, "rnn_size": 8, "predictor_layers": 1, "batch_size": 2,
             "learning_rate": 2e-3, "loss": "mse"},
}
