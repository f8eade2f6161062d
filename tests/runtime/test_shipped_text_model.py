"""The shipped text-to-video model (export/mocogan_shapes_text) draws what its prompt says,
for captions it was trained on and for the 8 its training never saw (issue 20's targets:
90% and 60% of clips with colour, shape and direction all right)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vidgen_tf.data.shapes import HELD_OUT_CAPTIONS
from vidgen_tf.metrics.conditions import accuracy, from_caption, match_attributes, read_clip
from vidgen_tf.runtime import VideoGenerator

EXPORT = Path(__file__).resolve().parents[2] / "export" / "mocogan_shapes_text"


def _all_right(generator, captions, seed) -> float:
    videos = np.concatenate([generator.generate(1, seed=seed + i, prompt=caption)
                             for i, caption in enumerate(captions)])
    return accuracy(match_attributes(videos, [from_caption(c) for c in captions]))["all"]


def test_the_shipped_text_model_draws_its_prompts():
    # The evaluator reads colour, shape and direction right on 100% of real clips
    # (tests/metrics/test_conditions.py). The shipped model read 95.6% on trained captions and
    # 92.2% held out (8 clips per caption); the bounds leave room for the few clips drawn here.
    generator = VideoGenerator(EXPORT)
    trained = generator.manifest["conditioning"]["captions"]
    assert not set(trained) & set(HELD_OUT_CAPTIONS)
    assert _all_right(generator, trained, seed=0) >= 0.85
    assert _all_right(generator, [*HELD_OUT_CAPTIONS] * 2, seed=100) >= 0.6


def test_the_shape_word_alone_turns_a_circle_into_a_square():
    # The model before 0.1.16 drew the same blob for "square" and "circle" from one seed.
    generator = VideoGenerator(EXPORT)
    pairs = [(c, d) for c in ("red", "blue", "white") for d in ("left", "up")]
    right = 0
    for seed, (colour, direction) in enumerate(pairs):
        readings = [read_clip(generator.generate(1, seed=seed, prompt=f"a {colour} {shape} "
                                                                      f"moves {direction}")[0])
                    for shape in ("circle", "square")]
        right += [r.shape for r in readings] == ["circle", "square"]
    assert right >= 5, f"{right} of {len(pairs)} pairs"
