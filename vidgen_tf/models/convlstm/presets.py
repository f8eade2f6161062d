"""ConvLSTM presets: the step network's and the trainer's keyword arguments, plus the training
keys (`batch_size`, `loss`)."""

from __future__ import annotations

# OpenSTL configs/mmnist/ConvLSTM.py: 4 layers of 128, 5x5 gates, patches of 4, scheduled
# sampling from 1 falling by 2e-5 a step until step 50000; OpenSTL's defaults batch 16 and
# learning rate 1e-3 (its one-cycle schedule is not reproduced: Adam at a constant rate).
_MMNIST = {"context": 10, "horizon": 10, "size": 64, "channels": 1, "patch_size": 4,
           "kernel_size": 5, "scheduled_sampling": True, "sampling_stop_iter": 50000,
           "sampling_changing_rate": 2e-5, "learning_rate": 1e-3, "batch_size": 16,
           "loss": "mse"}

CONVLSTM_PRESETS: dict[str, dict] = {
    # A quarter of the compute for a 2-core CPU: 3 layers of 64, and a sampling schedule
    # that reaches 0 within the ~10,000 steps a few CPU hours buy (1e-4 a step).
    "cpu_mmnist": {**_MMNIST, "hidden": (64, 64, 64), "sampling_stop_iter": 10000,
                   "sampling_changing_rate": 1e-4},
    "openstl_mmnist": {**_MMNIST, "hidden": (128, 128, 128, 128)},
    # For tests and smoke runs.
    "tiny": {"context": 4, "horizon": 4, "size": 16, "channels": 1, "patch_size": 4,
             "hidden": (8, 8), "kernel_size": 3, "learning_rate": 1e-3, "batch_size": 2,
             "loss": "mse"},
}
