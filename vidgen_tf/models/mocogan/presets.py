"""MoCoGAN presets: model keyword arguments plus the training batch size (clips per step).

`batch_size` is the video-discriminator batch; `image_batch_size` frames sampled from those
clips go to the image discriminator. The paper's optimizer, Adam(lr 2e-4, betas (0.5, 0.999),
weight decay 1e-5) per network, and the BCE loss are the trainer's defaults.
"""

from __future__ import annotations

# Tulyakov et al. 2018, section 4 and the authors' code: image batch 10, video batch 3,
# 16 frames of 64x64, content 50, motion 10 (GRU fed 10-d noise), ngf = ndf = 64;
# 6 action classes when conditional.
_PAPER = {"frames": 16, "size": 64, "content_dim": 50, "motion_dim": 10, "noise_dim": 10,
          "num_classes": 0, "base_filters": 64, "image_batch_size": 10, "category_weight": 1.0,
          "batch_size": 3}

# What every good result here used (the shipped shapes exports): hinge loss, spectral
# normalization and a minibatch standard deviation channel in both discriminators, one logit
# per frame and per clip, and samples from a moving average of the generator.
_RECOMMENDED = {"minibatch_std": True, "spectral_norm": True, "discriminator_head": "global",
                "generator_ema": 0.999, "generator_ema_warmup": True, "loss": "hinge"}

MOCOGAN_PRESETS: dict[str, dict] = {
    # The default of a new run: the recipe above at 64x64x16, at a quarter of the paper's
    # width (ngf = ndf = 16) for the steps a CPU can afford; --size and --frames change the
    # clip. At ngf = ndf = 32 a step on real footage took 4 s against 1.3 s (two runs sharing
    # 2 cores), and its video discriminator went NaN at step 17 in mixed_bfloat16.
    "recommended": {**_PAPER, **_RECOMMENDED, "base_filters": 16, "image_batch_size": 32,
                    "batch_size": 16},
    "paper_64": dict(_PAPER),
    "paper_64_conditional": {**_PAPER, "num_classes": 6},
    # The previous demo model (until export/mocogan_shapes was retrained with shapes_32),
    # trained with --loss hinge: the paper's
    # architecture at a quarter of the width (ngf = ndf = 16: 0.2 M generator weights, under
    # 1 MB), a larger batch, and SNGAN-style discriminators (spectral normalization instead of
    # BatchNorm) with a minibatch standard deviation channel. With the paper's BatchNorm
    # discriminators and BCE, three runs here collapsed to one blob within 1000 steps
    # (ngf = ndf = 32 and batch 8; ngf = ndf = 16, batch 16 and input noise 0.2; the same
    # plus minibatch standard deviation). That model was trained with Keras'
    # SpectralNormalization wrapper; new runs get vidgen_tf's SpectralConv (see its docstring).
    "shapes_64": {**_PAPER, "base_filters": 16, "image_batch_size": 32, "batch_size": 16,
                  "minibatch_std": True, "spectral_norm": True},
    # shapes_64 with the discriminators learning 3x faster than the generator (TTUR). With
    # equal rates the image discriminator's hinge loss rose from 0.6 to 2.0 (chance) within
    # 2400 steps while samples were still blobs, at ndf = 16 and at ndf = 32 alike.
    "shapes_64_ttur": {**_PAPER, "base_filters": 16, "image_batch_size": 32, "batch_size": 16,
                       "minibatch_std": True, "spectral_norm": True,
                       "discriminator_learning_rate": 6e-4},
    # The shipped demo model (export/mocogan_shapes), trained with --loss hinge: 32x32,
    # where an hour of CPU buys 3x the steps of shapes_64 (0.106 s against 0.322 s per
    # bfloat16 step here). Discriminators with one logit per frame and per clip ("global"
    # head): with patch logits most patches of a shapes frame are plain background, which
    # real and generated frames share, so nothing punished a missing or misshapen shape.
    # Samples and the export use the moving average of the generator's weights.
    # Trained with the hinge loss, which the preset now carries.
    "shapes_32": {**_PAPER, "size": 32, "base_filters": 16, "image_batch_size": 32,
                  "batch_size": 16, "minibatch_std": True, "spectral_norm": True,
                  "discriminator_head": "global", "generator_ema": 0.999, "loss": "hinge"},
    # Text-conditioned shapes, the shipped export/mocogan_shapes_text: shapes_32 without the
    # image discriminator's word classifiers, and the word losses 4x heavier. From one frame
    # the direction words can only be guessed from where the shape is, and with those
    # classifiers the generator placed shapes against their motion. At weight 1 the shape
    # word was drawn in 67.5% of clips (squares came out as circles); at 4, 95.6%
    # (docs/conditional.md). Trained under the name shapes_32_text_w4 (the same settings).
    "shapes_32_text": {**_PAPER, "size": 32, "base_filters": 16, "image_batch_size": 32,
                       "batch_size": 16, "minibatch_std": True, "spectral_norm": True,
                       "discriminator_head": "global", "generator_ema": 0.999,
                       "loss": "hinge", "image_aux_heads": False, "category_weight": 4.0},
    # `vidgen demo`: recognisable shapes within two minutes of a 2-core CPU (1000 steps).
    # The shapes_32 recipe made fast: learning rates 2.5x higher, Adam's beta_1 at 0 (as in
    # SNGAN and StyleGAN) and a short moving average. After 800 steps (same seed,
    # runs/exp), shapes_32 itself gave faint identical blobs, the 2.5x rates coloured blobs,
    # and these settings separate shapes in their own colours (docs/training.md).
    "demo_32": {**_PAPER, "size": 32, "base_filters": 16, "image_batch_size": 32,
                "batch_size": 16, "minibatch_std": True, "spectral_norm": True,
                "discriminator_head": "global", "generator_ema": 0.99,
                "generator_ema_warmup": True, "loss": "hinge",
                "generator_learning_rate": 5e-4, "discriminator_learning_rate": 1e-3,
                "adam_betas": (0.0, 0.99)},
    # For tests and smoke runs.
    "tiny": {"frames": 8, "size": 16, "content_dim": 8, "motion_dim": 4, "noise_dim": 4,
             "num_classes": 0, "base_filters": 8, "image_batch_size": 4, "category_weight": 1.0,
             "batch_size": 2},
}
