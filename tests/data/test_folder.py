"""scan_video_folder: labels, captions, and every kind of bad file skipped with its reason."""

import logging

import pytest

from tests.test_case import encode_with_pyav, make_bad_files, moving_bar_video
from vidgen_tf.data.folder import clip_span, scan_video_folder
from vidgen_tf.errors import VidgenError


@pytest.fixture
def class_folder(tmp_path):
    video = moving_bar_video(frames=12)
    for class_name, count in (("walk", 2), ("jump", 3)):
        (tmp_path / class_name).mkdir()
        for i in range(count):
            encode_with_pyav(tmp_path / class_name / f"{i}.mp4", video, "libx264")
            (tmp_path / class_name / f"{i}.txt").write_text(f"{class_name} number {i}\n")
    (tmp_path / "jump" / "nested").mkdir()
    encode_with_pyav(tmp_path / "jump" / "nested" / "deep.webm", video, "libvpx-vp9")
    (tmp_path / "walk" / "readme.md").write_text("not a video extension: ignored")
    return tmp_path


def test_labels_come_from_sorted_subfolders_and_captions_from_sidecars(class_folder):
    scan = scan_video_folder(class_folder, labels=True, captions=True, min_frames=12)
    assert scan.class_names == ("jump", "walk")
    assert scan.per_class_counts() == {"jump": 4, "walk": 2}
    assert scan.skipped == []
    by_name = {r.path.split("/")[-1]: r for r in scan.records}
    assert by_name["0.mp4"].caption in ("walk number 0", "jump number 0")
    assert by_name["deep.webm"].label == 0 and by_name["deep.webm"].caption == ""
    assert all(r.label == scan.class_names.index(r.class_name) for r in scan.records)
    assert all(r.num_frames == 12 for r in scan.records)


def test_every_bad_file_is_skipped_once_with_its_reason(tmp_path, caplog):
    expected = make_bad_files(tmp_path / "bad", moving_bar_video(frames=12))
    encode_with_pyav(tmp_path / "good.mp4", moving_bar_video(frames=12), "libx264")
    with caplog.at_level(logging.WARNING):
        scan = scan_video_folder(tmp_path, min_frames=clip_span(8, 1), deep=True)
    assert [r.path.split("/")[-1] for r in scan.records] == ["good.mp4"]
    reasons = {s.path.split("/")[-1]: s.reason for s in scan.skipped}
    assert set(reasons) == set(expected)
    for name, fragment in expected.items():
        assert fragment in reasons[name], (name, reasons[name])
        assert sum(name in rec.getMessage() for rec in caplog.records) >= 1
    summary = [rec.getMessage() for rec in caplog.records if "usable" in rec.getMessage()]
    assert summary and f"{len(expected)} skipped" in summary[0]


def test_deep_scan_catches_truncation_that_the_header_hides(tmp_path):
    path = encode_with_pyav(tmp_path / "long.webm", moving_bar_video(frames=30), "libvpx-vp9")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.4)])
    quick = scan_video_folder(tmp_path, min_frames=20, warn=False)
    deep = scan_video_folder(tmp_path, min_frames=20, deep=True, warn=False)
    assert len(quick.records) == 1  # the header still claims 30 frames
    assert deep.records == [] and "too short" in deep.skipped[0].reason


def test_files_outside_class_subfolders_are_skipped_when_labelled(class_folder):
    encode_with_pyav(class_folder / "loose.mp4", moving_bar_video(frames=12), "libx264")
    scan = scan_video_folder(class_folder, labels=True, warn=False)
    assert [s.reason for s in scan.skipped] == ["not inside a class subfolder"]


def test_empty_or_unusable_folders_are_clear_errors(tmp_path):
    with pytest.raises(VidgenError, match="not found"):
        scan_video_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VidgenError, match=r"no video files found in .*empty"):
        scan_video_folder(tmp_path / "empty").require_usable()
    make_bad_files(tmp_path / "bad", moving_bar_video(frames=12))
    with pytest.raises(VidgenError, match=r"no usable video in .*bad: all 6 video files"):
        scan_video_folder(tmp_path / "bad", min_frames=8, warn=False).require_usable()
