"""The shipped demo model (export/mocogan_shapes, saved_models/mocogan_shapes) loads, matches its
SavedModel, and draws shapes that move smoothly: not noise, not a frozen frame, not empty."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgen_tf.runtime import VideoGenerator
from vidgen_tf.runtime.manifest import file_sha256

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "export" / "mocogan_shapes"
SAVED_MODEL = ROOT / "saved_models" / "mocogan_shapes"


def clip_statistics(video: np.ndarray) -> dict:
    """Per clip of uint8 `(clips, frames, H, W, 3)` shapes on black: the median fraction of lit
    pixels (brightest channel above 96), how far the lit region's centroid travels from the
    first frame to the last, and its largest move between two frames (pixels)."""
    lit = video.max(axis=-1) > 96
    count = lit.sum(axis=(2, 3))
    rows, cols = np.mgrid[:video.shape[2], :video.shape[3]]
    cy = (lit * rows).sum(axis=(2, 3)) / np.maximum(count, 1)
    cx = (lit * cols).sum(axis=(2, 3)) / np.maximum(count, 1)
    return {"lit": np.median(lit.mean(axis=(2, 3)), axis=1),
            "travel": np.hypot(cy[:, -1] - cy[:, 0], cx[:, -1] - cx[:, 0]),
            "jump": np.hypot(np.diff(cy, axis=1), np.diff(cx, axis=1)).max(axis=1)}


def test_clip_statistics_on_a_hand_made_clip():
    video = np.zeros((1, 4, 10, 10, 3), np.uint8)
    for t in range(4):  # a 2x2 white square moving one pixel right per frame
        video[0, t, 3:5, 2 + t:4 + t] = 255
    stats = clip_statistics(video)
    assert stats["lit"][0] == 0.04 and stats["travel"][0] == 3.0 and stats["jump"][0] == 1.0


def test_shipped_model_generates_smoothly_moving_shapes():
    generator = VideoGenerator(EXPORT)  # checks the manifest and the ONNX file's hash
    assert generator.manifest["onnx"]["sha256"] == file_sha256(EXPORT / "model.onnx")
    video = generator.generate(16, seed=0)
    assert video.shape == (16, 16, 32, 32, 3) and video.dtype == np.uint8
    stats = clip_statistics(video)
    # Real shapes clips at 32x32 (seed 0): lit 1-14%, travel 7-18 px, largest jump 0.6-2 px.
    good = ((stats["lit"] > 0.005) & (stats["lit"] < 0.4) & (stats["travel"] > 3)
            & (stats["jump"] < 4))
    assert good.sum() >= 12, stats


def test_shipped_savedmodel_matches_the_onnx_export():
    import tensorflow as tf

    generator = VideoGenerator(EXPORT)
    noise = generator.noise(3, seed=1)
    serving = tf.saved_model.load(str(SAVED_MODEL)).signatures["serving_default"]
    saved = serving(**{k: tf.constant(v) for k, v in noise.items()})["video"].numpy()
    np.testing.assert_allclose(generator.run(noise), saved, atol=1e-4)
