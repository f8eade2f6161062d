"""benchmarks/first_frame_samples.py: given first frames beside the clips generated from them."""

from __future__ import annotations

import numpy as np

from tests.benchmarks.scripts import load_benchmark
from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.data.video_io import read_video, read_video_metadata


def test_each_given_frame_is_held_beside_its_generated_clip(tiny_first_frame_export, tmp_path):
    script = load_benchmark("first_frame_samples")
    out = tmp_path / "pairs.gif"
    assert script.main([str(tiny_first_frame_export["export"]), str(out), "--num", "2",
                        "--scale", "1"]) == 0
    grid = read_video(out)
    assert grid.shape[0] == 8  # the tiny export's clip length
    # Cell (0, 0) is the first given frame, held still: every frame equals the data's frame
    # (GIF palettes may move a colour by a few levels).
    first = ShapesDataset(frames=8, size=16, seed=script.FIRST_FRAME_SEED)[0]["video"][0]
    cell = grid[:, 2:18, 2:18].astype(int)
    assert np.abs(cell - first.astype(int)).max() <= 24
    assert np.abs(cell - cell[0]).max() == 0
    assert read_video_metadata(out)["export"] == tiny_first_frame_export["export"].name
