"""benchmarks/shapes_clip_stats.py: its summary line counts and ranges what it is given."""

from __future__ import annotations

import numpy as np

from tests.benchmarks.scripts import load_benchmark


def test_summary_of_two_hand_made_clips():
    video = np.zeros((2, 3, 10, 10, 3), np.uint8)
    for t in range(3):  # a 2x2 grey square moving 2 pixels right per frame; then nothing
        video[0, t, 4:6, 2 * t:2 * t + 2] = 200
    line = load_benchmark("shapes_clip_stats").summary("hand", video)
    assert line == ("hand: 1/2 look like the data; lit 0.0 / 2.0 / 4.0%, travel 0.0 / 2.0 / "
                    "4.0, jump 0.0 / 1.0 / 2.0, colour drift 0.0 / 0.0 / 0.0 (min / median / "
                    "max)")
