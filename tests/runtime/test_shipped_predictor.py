"""The shipped Moving MNIST predictor (export/predict_mmnist, saved_models/predict_mmnist)
loads, matches its SavedModel, and predicts test clips far better than the baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgen_tf.metrics.prediction import (
    PredictionScores,
    all_black,
    copy_last_frame,
    iter_test_batches,
    mmnist_test_source,
)
from vidgen_tf.runtime import VideoGenerator
from vidgen_tf.runtime.manifest import file_sha256

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "export" / "predict_mmnist"
SAVED_MODEL = ROOT / "saved_models" / "predict_mmnist"


def _unit(video):
    return np.clip((np.asarray(video, np.float32) + 1) / 2, 0, 1)


def test_the_shipped_predictor_beats_both_baselines_on_test_clips():
    generator = VideoGenerator(EXPORT)  # checks the manifest and the ONNX file's hash
    graph = generator.manifest["graphs"]["predictor"]
    assert graph["sha256"] == file_sha256(EXPORT / graph["file"])
    context, target = next(iter_test_batches(mmnist_test_source(num=64), 10, 64))
    predicted = generator.generate(context=context, frames=10)
    assert predicted.shape == (64, 10, 64, 64, 1) and predicted.dtype == np.uint8
    scores = {name: PredictionScores() for name in ("model", "copy", "black")}
    scores["model"].update(_unit(generator.run(generator.inputs(64, context=context))), target)
    scores["copy"].update(copy_last_frame(context, 10), target)
    scores["black"].update(all_black(context, 10), target)
    mse = {name: s.result()["mse"] for name, s in scores.items()}
    # Measured on all 10,000 test clips: about 100 against 175 (black) and 287 (copy).
    assert mse["model"] < 0.7 * mse["black"] and mse["model"] < 0.45 * mse["copy"], mse


def test_the_shipped_predictor_savedmodel_matches_the_onnx_export():
    import tensorflow as tf

    generator = VideoGenerator(EXPORT)
    context, _ = next(iter_test_batches(mmnist_test_source(num=2), 10, 2))
    feeds = generator.inputs(2, context=context)
    serving = tf.saved_model.load(str(SAVED_MODEL)).signatures["serving_default"]
    output = generator.manifest["sampler"]["params"]["output"]
    saved = serving(**{k: tf.constant(v) for k, v in feeds.items()})[output].numpy()
    np.testing.assert_allclose(generator.run(feeds), saved, atol=1e-3)
