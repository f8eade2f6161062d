"""PredRNN presets: the step network's and the trainer's keyword arguments, plus the training
keys (`batch_size`, `loss`)."""

from __future__ import annotations

# OpenSTL configs/mmnist/PredRNN.py and PredRNNv2.py: 4 layers of 128, 5x5 convolutions,
# patches of 4, no layer norm; PredRNN with scheduled sampling from 1 falling by 2e-5 a step
# until step 50000, PredRNN-V2 with reverse scheduled sampling between steps 25000 and 50000
# (alpha 5000) and decoupling weight 0.1. OpenSTL's defaults batch 16 and learning rate
# 1e-3 (its one-cycle schedule is not reproduced: Adam at a constant rate).
_MMNIST = {"context": 10, "horizon": 10, "size": 64, "channels": 1, "patch_size": 4,
           "kernel_size": 5, "hidden": (128, 128, 128, 128), "scheduled_sampling": True,
           "sampling_stop_iter": 50000, "sampling_changing_rate": 2e-5, "learning_rate": 1e-3,
           "batch_size": 16, "loss": "mse"}

PREDRNN_PRESETS: dict[str, dict] = {
    # For a 2-core CPU: 3 layers of 64, and a sampling schedule that ends within the ~10,000
    # steps a few CPU hours buy.
    "cpu_mmnist": {**_MMNIST, "hidden": (64, 64, 64), "sampling_stop_iter": 10000,
                   "sampling_changing_rate": 1e-4},
    "openstl_mmnist": dict(_MMNIST),
    "openstl_mmnist_v2": {**_MMNIST, "reverse_scheduled_sampling": True,
                          "r_sampling_step_1": 25000, "r_sampling_step_2": 50000,
                          "r_exp_alpha": 5000.0, "decouple_loss": True, "decouple_beta": 0.1},
    # For tests and smoke runs.
    "tiny": {"context": 4, "horizon": 4, "size": 16, "channels": 1, "patch_size": 4,
             "hidden": (8, 8), "kernel_size": 3, "decouple_loss": True, "decouple_beta": 0.1,
             "learning_rate": 1e-3, "batch_size": 2, "loss": "mse"},
}
