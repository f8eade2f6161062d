"""benchmarks/label_samples.py: one row per shape, two clips per direction."""

from __future__ import annotations

import numpy as np

from tests.benchmarks.scripts import load_benchmark
from vidgen_tf.data.video_io import read_video, read_video_metadata
from vidgen_tf.runtime import VideoGenerator


def test_the_grid_holds_each_class_clip_where_its_row_and_column_say(tiny_label_export,
                                                                      tmp_path):
    script = load_benchmark("label_samples")
    out = tmp_path / "labels.gif"
    export = tiny_label_export["export"]
    assert script.main([str(export), str(out), "--scale", "1"]) == 0
    grid = read_video(out)
    assert grid.shape == (8, 3 * 16, 8 * 16, 3)  # 3 shapes x (4 directions x 2 clips)
    # Row 1 (square), column 5 (the second "up" clip, seed 2) is that clip, up to the palette.
    clip = VideoGenerator(export).generate(2, seed=2, label="square_up")[1]
    cell = grid[:, 16:32, 80:96].astype(int)
    assert np.abs(cell - clip.astype(int)).mean() < 4
    assert read_video_metadata(out)["export"] == export.name
