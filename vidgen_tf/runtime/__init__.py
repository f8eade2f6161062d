"""The thin runtime: generate video from a `vidgen export` directory.

It needs only numpy, onnxruntime and PyAV (for writing files), never TensorFlow or Keras:
`pip install "vidgen_tf[runtime]"` is enough.
"""

from vidgen_tf.runtime.manifest import ManifestError, load_manifest
from vidgen_tf.runtime.video_generator import VideoGenerator

__all__ = ["ManifestError", "VideoGenerator", "load_manifest"]
