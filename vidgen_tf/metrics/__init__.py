"""Video metrics: FVD with the Kinetics-400 I3D and its real-vs-real reference, per-frame SSIM,
PSNR and MSE, and per-clip checks of generated `shapes` clips.

Importing this package never imports TensorFlow; the names below load on first use.
"""

_LAZY = {
    "InceptionI3D": "vidgen_tf.metrics.i3d",
    "fetch_i3d_weights": "vidgen_tf.metrics.i3d_weights",
    "load_i3d": "vidgen_tf.metrics.fvd",
    "i3d_logits": "vidgen_tf.metrics.fvd",
    "frechet_distance": "vidgen_tf.metrics.fvd",
    "frechet_video_distance": "vidgen_tf.metrics.fvd",
    "fvd_reference": "vidgen_tf.metrics.fvd_reference",
    "FrameMetrics": "vidgen_tf.metrics.frames",
    "frame_metrics": "vidgen_tf.metrics.frames",
    "ssim_per_frame": "vidgen_tf.metrics.frames",
    "psnr_per_frame": "vidgen_tf.metrics.frames",
    "mse_per_frame": "vidgen_tf.metrics.frames",
    "clip_statistics": "vidgen_tf.metrics.shapes",
    "looks_like_shapes": "vidgen_tf.metrics.shapes",
}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vidgen_tf.metrics' has no attribute {name!r}")
