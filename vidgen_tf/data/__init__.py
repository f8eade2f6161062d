"""Video files <-> arrays (PyAV), tf.data pipelines, and the built-in datasets.

Names are resolved lazily: `read_video`, `write_video`, the built-in datasets and the folder
scan never import TensorFlow; the pipeline functions do, on first use.
"""

import importlib

_LAZY = {
    "read_video": "vidgen_tf.data.video_io",
    "write_video": "vidgen_tf.data.video_io",
    "probe_video": "vidgen_tf.data.video_io",
    "uint8_to_float": "vidgen_tf.data.pixels",
    "float_to_uint8": "vidgen_tf.data.pixels",
    "ShapesDataset": "vidgen_tf.data.shapes",
    "ShapesActions": "vidgen_tf.data.shapes_actions",
    "MovingMNIST": "vidgen_tf.data.moving_mnist",
    "StochasticMovingMNIST": "vidgen_tf.data.moving_mnist",
    "load_mnist": "vidgen_tf.data.mnist",
    "scan_video_folder": "vidgen_tf.data.folder",
    "synthesize_dataset": "vidgen_tf.data.synth",
    "load_dataset": "vidgen_tf.data.pipeline",
    "video_folder_dataset": "vidgen_tf.data.pipeline",
    "tfrecord_dataset": "vidgen_tf.data.pipeline",
    "builtin_dataset": "vidgen_tf.data.pipeline",
    "prepare_tfrecords": "vidgen_tf.data.tfrecord",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vidgen_tf.data' has no attribute {name!r}")
