"""The shipped SVG-LP (export/svg_smmnist) predicts SM-MNIST test clips: best of several
samples beats copying the last frame, and two seeds give two different futures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgen_tf.metrics.prediction import smmnist_test_source
from vidgen_tf.runtime import VideoGenerator

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "export" / "svg_smmnist"


def test_the_shipped_svg_predicts_test_clips_and_seeds_differ():
    generator = VideoGenerator(EXPORT)  # checks the manifest and the graphs' hashes
    source = smmnist_test_source(5, 10, 8)
    clips = np.stack([source.clip(i)["video"][..., :1] for i in range(8)])
    context, target = clips[:, :5], clips[:, 5:].astype(np.float64) / 255
    raw = [generator.generate(8, seed=s, context=context) for s in range(4)]
    samples = [r.astype(np.float64) / 255 for r in raw]
    mse = np.stack([np.square(s - target).sum(axis=(2, 3, 4)).mean(axis=1) for s in samples])
    copy = np.square(clips[:, 4:5].astype(np.float64) / 255 - target).sum(axis=(2, 3, 4))
    # Best of 4 per clip against copying the last given frame, averaged over the 8 clips.
    assert mse.min(axis=0).mean() < 0.8 * copy.mean(axis=1).mean()
    assert np.abs(samples[0] - samples[1]).max() > 0.2  # another seed, another future
    np.testing.assert_array_equal(raw[0], generator.generate(8, seed=0, context=context))


def test_the_shipped_svg_best_of_10_beats_simvp_on_mse():
    # The issue's target on the docs' protocol (10 frames given, 10 predicted; SVG reads the
    # last 5), here on the first 64 SM-MNIST test clips: the best of 10 samples per clip,
    # chosen by its MSE over the horizon, against the deterministic SimVP.
    source = smmnist_test_source(10, 10, 64)
    clips = np.stack([source.clip(i)["video"][..., :1] for i in range(64)])
    context, target = clips[:, :10], clips[:, 10:].astype(np.float64) / 255

    def mse(video):  # per clip: squared error summed over a frame, averaged over frames
        return np.square(video.astype(np.float64) / 255 - target).sum(axis=(2, 3, 4)).mean(1)

    svg = VideoGenerator(EXPORT)
    best = np.min([mse(svg.generate(64, seed=s, context=context[:, -5:], frames=10))
                   for s in range(10)], axis=0)
    simvp = mse(VideoGenerator(ROOT / "export" / "predict_mmnist").generate(
        context=context, frames=10))
    assert best.mean() < simvp.mean()
