"""benchmarks/footage_windows.py: every whole window of every prepared video, and its
baselines, as a prepared folder that the data pipeline reads back."""

from __future__ import annotations

import json

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.benchmarks.scripts import load_benchmark  # noqa: E402
from vidgen_tf.data.pipeline import tfrecord_dataset  # noqa: E402
from vidgen_tf.data.tfrecord import _example  # noqa: E402

SIZE = 8


@pytest.fixture()
def prepared(tmp_path):
    """Two videos of 35 and 7 frames: 2 windows of 16 frames from the first, none from the
    second."""
    rng = np.random.default_rng(0)
    videos = [rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8) for n in (35, 7)]
    folder = tmp_path / "prepared"
    folder.mkdir()
    with tf.io.TFRecordWriter(str(folder / "clips-00000-of-00001.tfrecord")) as writer:
        for label, video in enumerate(videos):
            writer.write(_example(video, label, ""))
    meta = {"format": "vidgen_tf.prepared/1", "size": SIZE, "min_frames": 1,
            "num_clips": 2, "num_shards": 1, "class_names": ["a", "b"],
            "files": ["a/x.mp4", "b/y.mp4"], "frames_per_clip": [35, 7]}
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder, videos


def _read_back(folder):
    ds = tfrecord_dataset(folder, frames=16, random_start=False, labels=True, shuffle=False,
                          repeat=False)
    clips = [(np.rint((e["video"].numpy() + 1) * 127.5).astype(np.uint8), int(e["label"]))
             for e in ds]
    return clips


def test_every_whole_window_of_every_video_is_a_clip(prepared, tmp_path, capsys):
    folder, videos = prepared
    out = tmp_path / "windows"
    assert load_benchmark("footage_windows").main([str(folder), str(out)]) == 0
    assert "2 windows of 16 frames" in capsys.readouterr().out
    clips = _read_back(out)
    assert [label for _, label in clips] == [0, 0]
    np.testing.assert_array_equal(clips[0][0], videos[0][:16])
    np.testing.assert_array_equal(clips[1][0], videos[0][16:32])
    assert json.loads((out / "dataset.json").read_text())["frames_per_clip"] == [16, 16]


def test_static_holds_the_first_frame_and_blur_smooths(prepared, tmp_path):
    folder, videos = prepared
    script = load_benchmark("footage_windows")
    script.main([str(folder), str(tmp_path / "static"), "--variant", "static"])
    script.main([str(folder), str(tmp_path / "blur"), "--variant", "blur"])
    static = _read_back(tmp_path / "static")[1][0]
    np.testing.assert_array_equal(static, np.repeat(videos[0][16:17], 16, axis=0))
    blurred = _read_back(tmp_path / "blur")[0][0].astype(float)
    original = videos[0][:16].astype(float)
    # Uniform noise has a pixel-to-pixel spread of about 74; a 2-pixel blur removes most of it
    # but keeps each frame's mean (up to the border's reflection).
    assert blurred.std(axis=(1, 2)).mean() < original.std(axis=(1, 2)).mean() / 3
    np.testing.assert_allclose(blurred.mean(axis=(1, 2)), original.mean(axis=(1, 2)), atol=12)


def _checkerboard(cell: int) -> np.ndarray:
    """Two equal frames of squares `cell` pixels wide, alternating 0 and 200, in all channels."""
    ys, xs = np.indices((SIZE, SIZE))
    board = (((ys // cell + xs // cell) % 2) * 200).astype(np.uint8)
    return np.repeat(np.repeat(board[None, ..., None], 3, axis=-1), 2, axis=0)


@pytest.mark.parametrize("factor", [2, 4])
def test_down_keeps_flat_frames_and_removes_detail_finer_than_its_factor(factor):
    """Worked by hand: a flat frame survives the round trip, and a checkerboard of cells one
    pixel wide, whose values alternate 0 and 200, averages to 100 in every block of the
    lower resolution, so it comes back flat at 100."""
    variant = load_benchmark("footage_windows").variant
    kind = f"down{factor}"
    flat = np.full((2, SIZE, SIZE, 3), 77, np.uint8)
    np.testing.assert_array_equal(variant(flat, kind), flat)
    board = _checkerboard(1)
    np.testing.assert_array_equal(variant(board, kind), np.full_like(board, 100))
    # Detail as coarse as the factor survives in part: cells `factor` pixels wide keep a spread.
    assert variant(_checkerboard(factor), kind).std() > 20  # 43.75 at down2; the board: 0
