"""`synthesize_dataset` and the --out folders of `vidgen data`: limits checked up front, and
folders that end with the permissions os.mkdir would give."""

from __future__ import annotations

import os
import stat

import pytest

from tests.test_case import one_line_error, run_cli
from vidgen_tf.data.synth import MAX_SIZE, synthesize_dataset
from vidgen_tf.errors import VidgenError


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_output_folder_gets_the_umask_mode_not_mkdtemp_0700(tmp_path, umask_022):
    out = tmp_path / "shapes"
    synthesize_dataset("shapes", out, num=2, frames=2, size=16)
    assert _mode(out) == 0o755
    os.umask(0o027)
    synthesize_dataset("shapes", out, num=2, frames=2, size=16, overwrite=True)
    assert _mode(out) == 0o755  # an earlier output keeps its mode when replaced


def test_an_existing_empty_out_folder_keeps_its_mode(tmp_path, umask_022):
    out = tmp_path / "empty"
    out.mkdir()
    out.chmod(0o750)
    synthesize_dataset("shapes", out, num=2, frames=2, size=16)
    assert _mode(out) == 0o750 and any(out.iterdir())


def test_size_beyond_the_limit_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=f"size must be at most {MAX_SIZE}; received "
                                         "size=100000"):
        synthesize_dataset("shapes", tmp_path / "s", num=2, size=100_000)
    one_line_error(run_cli("data", "prepare", str(tmp_path), "--out", str(tmp_path / "p"),
                           "--size", "100000"),
                   f"--size must be between 1 and {MAX_SIZE}; received 100000")
    from vidgen_tf.data.tfrecord import prepare_tfrecords

    with pytest.raises(ValueError, match=f"size must be between 1 and {MAX_SIZE}; received "
                                         "size=100000"):
        prepare_tfrecords(tmp_path, tmp_path / "p", size=100_000)
    with pytest.raises(ValueError, match="seed must be >= 0; received seed=-1"):
        prepare_tfrecords(tmp_path, tmp_path / "p", size=16, seed=-1)
    assert list(tmp_path.iterdir()) == []


def test_a_clip_too_large_for_memory_is_refused_before_any_work(tmp_path):
    # 10^6 frames of 64x64 RGB: 11.4 GiB in one clip (it used to fail with a MemoryError).
    one_line_error(run_cli("data", "synth", "--dataset", "shapes", "--out", str(tmp_path / "s"),
                           "--num", "1", "--frames", "1000000"),
                   "a clip of 1000000 frames at 64x64 is 11.4 GiB; vidgen data synth makes "
                   "clips of at most 1 GiB: lower frames or size (--frames, --size)")
    # One frame past the limit is refused; a small clip is not.
    synthesize_dataset("shapes", tmp_path / "ok", num=1, frames=1, size=16)
    with pytest.raises(ValueError, match=r"is 1\.0 GiB"):
        synthesize_dataset("shapes", tmp_path / "s", num=1, frames=(1 << 30) // (3 * 64 * 64)
                           + 1, size=64)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]


@pytest.mark.parametrize("fmt, fps", [("gif", 500), ("gif", 1e300), ("mp4", 1e-9)])
def test_fps_the_format_cannot_hold_is_refused_before_any_work(tmp_path, fmt, fps):
    with pytest.raises(VidgenError, match=f"fps must be between .* for .{fmt} files"):
        synthesize_dataset("shapes", tmp_path / "s", num=2, size=16, fmt=fmt, fps=fps)
    assert list(tmp_path.iterdir()) == []


def test_seeds_numpy_takes_work_and_negative_ones_are_refused(tmp_path):
    counts = synthesize_dataset("shapes", tmp_path / "big", num=2, frames=2, size=16,
                                seed=99_999_999_999_999_999_999)
    assert sum(counts.values()) == 2
    with pytest.raises(ValueError, match="seed must be at least 0"):
        synthesize_dataset("shapes", tmp_path / "neg", num=2, size=16, seed=-1)
    one_line_error(run_cli("data", "prepare", str(tmp_path), "--out", str(tmp_path / "p"),
                           "--seed", "-1"), "--seed must be an integer >= 0; received -1")
