"""The shipped demo model (export/mocogan_shapes, saved_models/mocogan_shapes) loads, matches its
SavedModel, and draws shapes that move smoothly: not noise, not a frozen frame, not empty."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgen_tf.metrics.shapes import clip_statistics, looks_like_shapes
from vidgen_tf.runtime import VideoGenerator
from vidgen_tf.runtime.manifest import file_sha256

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "export" / "mocogan_shapes"
SAVED_MODEL = ROOT / "saved_models" / "mocogan_shapes"


def test_shipped_model_generates_smoothly_moving_shapes():
    generator = VideoGenerator(EXPORT)  # checks the manifest and the ONNX file's hash
    assert generator.manifest["graphs"]["generator"]["sha256"] == file_sha256(EXPORT / "model.onnx")
    video = generator.generate(16, seed=0)
    assert video.shape == (16, 16, 32, 32, 3) and video.dtype == np.uint8
    stats = clip_statistics(video)
    # Real shapes clips at 32x32 (seed 0): lit 3-15%, travel 7-18 px, largest jump 0.6-2 px.
    assert looks_like_shapes(stats).sum() >= 12, stats
    # Each keeps its colour (data: median drift 4 of 255; the 64-epoch model: 15).
    assert np.nanmedian(stats["colour_drift"]) < 40, stats


def test_shipped_savedmodel_matches_the_onnx_export():
    import tensorflow as tf

    generator = VideoGenerator(EXPORT)
    noise = generator.noise(3, seed=1)
    serving = tf.saved_model.load(str(SAVED_MODEL)).signatures["serving_default"]
    saved = serving(**{k: tf.constant(v) for k, v in noise.items()})["video"].numpy()
    np.testing.assert_allclose(generator.run(noise), saved, atol=1e-4)
