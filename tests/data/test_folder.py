"""scan_video_folder: labels, captions, and every kind of bad file skipped with its reason."""

import logging

import pytest

from tests.test_case import encode_with_pyav, make_bad_files, moving_bar_video
from vidgen_tf.data.folder import clip_span, min_video_frames, scan_video_folder
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


def test_min_video_frames_is_one_clip_span_unless_given():
    assert min_video_frames() == 16
    assert min_video_frames(8, 2) == clip_span(8, 2) == 15
    assert min_video_frames(16, 1, min_frames=4) == 4
    with pytest.raises(ValueError, match="min_frames must be >= 1 or None; received "
                                         "min_frames=0"):
        min_video_frames(min_frames=0)


def test_scan_keeps_frame_sizes_and_flags_heavy_crops_and_upscales(tmp_path):
    encode_with_pyav(tmp_path / "wide.mp4", moving_bar_video(12, height=96, width=640),
                     "libx264")
    encode_with_pyav(tmp_path / "tiny.mkv", moving_bar_video(12, height=47, width=63), "ffv1",
                     pix_fmt="yuv444p")
    encode_with_pyav(tmp_path / "fine.mp4", moving_bar_video(12, height=72, width=128),
                     "libx264")
    encode_with_pyav(tmp_path / "short.mp4", moving_bar_video(3, height=48, width=64),
                     "libx264")
    scan = scan_video_folder(tmp_path, min_frames=8, warn=False)
    sizes = {scan.relative(r.path): (r.width, r.height, r.num_frames) for r in scan.records}
    assert sizes == {"wide.mp4": (640, 96, 12), "tiny.mkv": (63, 47, 12),
                     "fine.mp4": (128, 72, 12)}
    [short] = scan.skipped
    assert (short.reason, short.num_frames, short.width, short.height, short.fps) == (
        "too short: 3 frames, a clip needs 8", 3, 64, 48, 10.0)
    warnings = {scan.relative(path): text for path, text in scan.framing_warnings(64).items()}
    assert warnings == {
        "tiny.mkv": "upscaled 1.36x: shorter side 47 px < 64 (63x47 -> 64x64)",
        "wide.mp4": "center crop discards 85% of the width (640x96 -> 64x64)",
    }  # 128x72 (16:9) discards 44% and is not enlarged: fine
    assert list(scan.framing_warnings(32)) == [str(tmp_path / "wide.mp4")]


def test_one_video_in_a_subfolder_makes_the_folder_labelled(class_folder):
    from vidgen_tf.data.folder import find_video_files, has_class_subfolders

    encode_with_pyav(class_folder / "loose.mp4", moving_bar_video(frames=12), "libx264")
    assert has_class_subfolders(class_folder, find_video_files(class_folder))
    flat = class_folder / "walk"
    assert not has_class_subfolders(flat, find_video_files(flat))
