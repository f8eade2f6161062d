"""vidgen_tf.metrics.shapes: per-clip statistics of shapes clips, checked on hand-made clips
and on the data itself."""

from __future__ import annotations

import numpy as np
import pytest

from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.metrics.shapes import clip_statistics, looks_like_shapes


def test_clip_statistics_on_a_hand_made_clip():
    video = np.zeros((2, 4, 10, 10, 3), np.uint8)
    for t in range(4):  # a 2x2 square moving one pixel right per frame, turning from red...
        video[0, t, 3:5, 2 + t:4 + t] = (255, 20 * t, 0)
    video[1, 0, 0, 0] = 255  # ...and a clip that is black after its first frame
    stats = clip_statistics(video)
    assert stats["lit"][0] == 0.04 and stats["travel"][0] == 3.0 and stats["jump"][0] == 1.0
    assert stats["colour_drift"][0] == 60.0 and np.isnan(stats["colour_drift"][1])
    assert stats["lit"][1] == 0.0 and not looks_like_shapes(stats)[1]


def test_the_data_passes_and_broken_versions_of_it_fail():
    data = ShapesDataset(frames=16, size=32, seed=0)
    video = np.stack([data.clip(i)["video"] for i in range(16)])
    assert looks_like_shapes(clip_statistics(video)).all()
    rng = np.random.default_rng(0)
    broken = {
        "frozen": np.repeat(video[:, :1], 16, axis=1),
        "shuffled": video[:, rng.permutation(16)],
        "grey": np.full_like(video, 128),
        "noise": rng.integers(0, 256, video.shape, dtype=np.uint8),
        "empty": np.zeros_like(video),
    }
    for name, clips in broken.items():
        assert looks_like_shapes(clip_statistics(clips)).sum() <= 2, name


def test_only_rgb_uint8_clips_are_accepted():
    with pytest.raises(ValueError, match="must be uint8 of shape"):
        clip_statistics(np.zeros((1, 2, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="must be uint8 of shape"):
        clip_statistics(np.zeros((2, 4, 4, 3), np.uint8))
