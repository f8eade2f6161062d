"""`vidgen generate --scale`: auto by default, so a small model's .gif/.mp4 is big enough to
see; an explicit --scale wins; .npy is never scaled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_case import one_line_error, run_cli
from vidgen_tf.data.video_io import read_video

SHIPPED = Path(__file__).resolve().parents[2] / "export" / "mocogan_shapes"  # 32x32, 16 frames


def generate(tmp_path, name: str, *args: str):
    out = tmp_path / name
    result = run_cli("generate", str(SHIPPED), "--seed", "0", *args, "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_default_scale_enlarges_a_32x32_grid_to_at_least_256_px(tmp_path):
    # 16 videos: a 4x4 grid of 32 px cells with 2 px borders, 2 + 4 * (32 + 2) = 138 px;
    # the smallest integer scale reaching 256 px is 2 (276 px).
    out, stdout = generate(tmp_path, "grid.gif")
    assert read_video(out).shape == (16, 276, 276, 3)
    assert "as a 276x276 grid at scale 2 (auto; --scale 1 for the raw size)" in stdout


def test_default_scale_enlarges_one_32x32_video_8_times(tmp_path):
    # One video is written as it is: 32 px, and 256 / 32 = 8.
    out, stdout = generate(tmp_path, "one.mp4", "--num", "1")
    assert read_video(out).shape == (16, 256, 256, 3)
    assert "written 256x256 at scale 8 (auto" in stdout


def test_explicit_scale_overrides_auto(tmp_path):
    raw, stdout = generate(tmp_path, "raw.gif", "--scale", "1")
    assert read_video(raw).shape == (16, 138, 138, 3)
    assert "as a 138x138 grid at scale 1 (seed 0" in stdout  # no "(auto" note
    three, _ = generate(tmp_path, "three.mp4", "--num", "4", "--scale", "3")
    assert read_video(three).shape == (16, 3 * 70, 3 * 70, 3)  # 2 + 2 * 34 = 70


def test_npy_is_never_scaled(tmp_path):
    out, stdout = generate(tmp_path, "v.npy", "--num", "2")
    assert np.load(out).shape == (2, 16, 32, 32, 3)
    assert "at scale" not in stdout


@pytest.mark.parametrize("height, width, scale", [
    (138, 138, 2),   # 16 videos of 32x32
    (32, 32, 8),     # one 32x32 video
    (36, 70, 8),     # 2 videos side by side: the shorter side counts (36 * 8 = 288)
    (74, 74, 4),     # 16 videos of 16x16: 296 px
    (16, 16, 8),     # one 16x16 video: capped at 8 (128 px)
    (128, 128, 2),
    (256, 256, 1),   # big enough already
    (266, 266, 1),   # 16 videos of 64x64
])
def test_auto_scale_rule(height, width, scale):
    from vidgen_tf.cli.generate import auto_scale

    assert auto_scale(height, width) == scale


@pytest.mark.parametrize("value", ["0", "9", "big", "2.5"])
def test_bad_scale_is_a_one_line_error(tmp_path, value):
    one_line_error(run_cli("generate", str(SHIPPED), "--scale", value, "--out",
                           str(tmp_path / "v.gif")),
                   f"--scale must be between 1 and 8, or auto; received {value}")
    assert list(tmp_path.iterdir()) == []
