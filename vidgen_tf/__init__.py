"""vidgen_tf: train video generation models with Keras and ship them through ONNX.

Importing this package never imports TensorFlow: subpackages that need it import
it themselves, and the names below are resolved lazily on first use.
"""

import os

__version__ = "0.1.20"

# TensorFlow turns its oneDNN CPU kernels on by default only on CPUs with AVX-512 VNNI, BF16
# or AMX. On AVX2-only CPUs it falls back to Eigen kernels, whose transposed and 3D
# convolutions made a MoCoGAN training iteration 1.8x slower here (README, "Training speed").
# Takes effect when TensorFlow is imported after vidgen_tf; an explicit setting is kept.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

_LAZY = {
    "read_video": "vidgen_tf.data.video_io",
    "write_video": "vidgen_tf.data.video_io",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vidgen_tf' has no attribute {name!r}")
