"""vidgen_tf: train video generation models with Keras and ship them through ONNX.

Importing this package never imports TensorFlow: subpackages that need it import
it themselves, and the names below are resolved lazily on first use.
"""

__version__ = "0.1.1"

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
