"""SimVP presets: the network's and the trainer's keyword arguments, plus the training keys
(`batch_size`, `loss`)."""

from __future__ import annotations

# OpenSTL configs/mmnist/simvp/SimVP_gSTA.py: hid_S 64, hid_T 512, N_S 4, N_T 8, 3x3
# encoder/decoder kernels, batch 16, learning rate 1e-3 (its one-cycle schedule is not
# reproduced: Adam at a constant rate). 46.8 M parameters here, as OpenSTL lists for it.
_MMNIST = {"context": 10, "horizon": 10, "size": 64, "channels": 1, "learning_rate": 1e-3,
           "batch_size": 16, "loss": "mse"}

SIMVP_PRESETS: dict[str, dict] = {
    # For a 2-core CPU: half the widths and half the translator (6.5 M parameters).
    "cpu_mmnist": {**_MMNIST, "hid_s": 32, "hid_t": 256, "n_s": 4, "n_t": 4, "mlp_ratio": 8.0},
    "openstl_mmnist": {**_MMNIST, "hid_s": 64, "hid_t": 512, "n_s": 4, "n_t": 8,
                       "mlp_ratio": 8.0},
    # Real footage in colour: a quarter of OpenSTL's widths, and the residual path, so that
    # training starts from copying the last frame and learns the change.
    "cpu_real": {**_MMNIST, "channels": 3, "hid_s": 16, "hid_t": 128, "n_s": 4, "n_t": 4,
                 "mlp_ratio": 4.0, "residual": True},
    # For tests and smoke runs.
    "tiny": {"context": 4, "horizon": 4, "size": 16, "channels": 1, "hid_s": 8, "hid_t": 16,
             "n_s": 2, "n_t": 2, "mlp_ratio": 2.0, "learning_rate": 1e-3, "batch_size": 2,
             "loss": "mse"},
}
