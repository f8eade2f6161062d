"""read_video / write_video: round trips, formats, options, metadata, and clear errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_case import encode_with_pyav, make_bad_files, moving_bar_video
from vidgen_tf.data import video_io
from vidgen_tf.data.pixels import float_to_uint8, uint8_to_float
from vidgen_tf.data.video_io import (
    FPS_RANGES,
    _import_av,
    count_frames,
    probe_video,
    read_video,
    read_video_metadata,
    write_video,
)
from vidgen_tf.errors import VideoReadError, VidgenError


def test_pixel_conversion_hand_values_and_round_trip():
    pixels = np.array([0, 1, 127, 128, 254, 255], np.uint8)
    np.testing.assert_allclose(uint8_to_float(pixels)[[0, -1]], [-1.0, 1.0])
    np.testing.assert_allclose(uint8_to_float(pixels)[2], 127 / 127.5 - 1, rtol=1e-6)
    np.testing.assert_array_equal(float_to_uint8(uint8_to_float(pixels)), pixels)
    # Out of range clips, NaN maps to 0, and -1/1 are exactly 0/255.
    np.testing.assert_array_equal(float_to_uint8(np.array([-3.0, 3.0, np.nan, 0.0])),
                                  [0, 255, 0, 128])
    with pytest.raises(TypeError, match="uint8"):
        uint8_to_float(np.zeros(3, np.float32))


@pytest.mark.parametrize("ext", ["mp4", "gif"])
def test_round_trip_within_codec_error(tmp_path, ext):
    video = moving_bar_video(frames=12, height=32, width=48)
    path = write_video(tmp_path / f"clip.{ext}", video, fps=10)
    back = read_video(path)
    assert back.dtype == np.uint8 and back.shape == video.shape
    error = np.abs(back.astype(int) - video.astype(int))
    assert error.mean() < 3.0, error.mean()
    # Frames stay in order: each decoded frame is closest to its own source frame.
    nearest = [int(np.argmin([np.abs(b.astype(int) - v).mean() for v in video])) for b in back]
    assert nearest == list(range(len(video)))
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames) == (48, 32, 12)
    assert info.fps == pytest.approx(10.0)


def test_float_input_in_minus_one_one_is_accepted(tmp_path):
    video = moving_bar_video(frames=6)
    as_float = uint8_to_float(video)
    back = read_video(write_video(tmp_path / "f.mp4", as_float, fps=8))
    assert np.abs(back.astype(int) - video.astype(int)).mean() < 3.0


def test_odd_sizes_are_padded_for_h264_and_exact_for_gif(tmp_path):
    video = moving_bar_video(frames=5, height=31, width=45)
    mp4 = read_video(write_video(tmp_path / "odd.mp4", video, fps=8))
    assert mp4.shape == (5, 32, 46, 3)
    # The padding repeats the last row and column.
    assert np.abs(mp4[:, -1].astype(int) - mp4[:, -2].astype(int)).mean() < 3.0
    assert np.abs(mp4[:, :31, :45].astype(int) - video.astype(int)).mean() < 3.0
    gif = read_video(write_video(tmp_path / "odd.gif", video, fps=8))
    assert gif.shape == video.shape


@pytest.mark.parametrize(
    "name, codec, pix_fmt",
    [("a.webm", "libvpx-vp9", "yuv420p"), ("a.mkv", "ffv1", "yuv444p"),
     ("a.avi", "mpeg4", "yuv420p"), ("a.mov", "mjpeg", "yuvj420p"),
     ("a.mp4", "libx264", "yuv420p")],
)
def test_reads_common_containers(tmp_path, name, codec, pix_fmt):
    video = moving_bar_video(frames=10)
    path = encode_with_pyav(tmp_path / name, video, codec, pix_fmt=pix_fmt)
    back = read_video(path)
    assert back.shape == video.shape
    assert np.abs(back.astype(int) - video.astype(int)).mean() < 4.0
    assert count_frames(path) == 10


def test_stride_max_frames_and_start_time_select_the_right_frames(tmp_path):
    # Each frame has a distinct flat grey level so decoded frames identify themselves.
    levels = np.arange(20) * 12
    video = np.repeat(levels[:, None, None, None], 16 * 16 * 3, axis=1).reshape(20, 16, 16, 3)
    path = encode_with_pyav(tmp_path / "levels.mkv", video.astype(np.uint8), "ffv1",
                            pix_fmt="yuv444p")

    def which(frames):
        return [int(np.argmin(np.abs(levels - f.mean()))) for f in frames]

    assert which(read_video(path, stride=3)) == [0, 3, 6, 9, 12, 15, 18]
    assert which(read_video(path, max_frames=4)) == [0, 1, 2, 3]
    assert which(read_video(path, start_time=0.5, stride=2, max_frames=3)) == [5, 7, 9]


def test_size_resizes_shorter_side_and_center_crops(tmp_path):
    video = np.zeros((4, 40, 80, 3), np.uint8)
    video[:, :, :20] = 255  # left quarter white: cropped away by a center crop
    path = encode_with_pyav(tmp_path / "wide.mkv", video, "ffv1", pix_fmt="yuv444p")
    small = read_video(path, size=20)
    assert small.shape == (4, 20, 20, 3)
    assert small.max() < 30  # the white quarter lies outside the central square


def test_bad_files_raise_read_errors_with_reasons(tmp_path):
    expected = make_bad_files(tmp_path, moving_bar_video(frames=12))
    for name, fragment in expected.items():
        if name == "short.webm":
            assert len(read_video(tmp_path / name)) == 3
            continue
        with pytest.raises(VideoReadError, match=fragment):
            read_video(tmp_path / name)
    with pytest.raises(VideoReadError, match="file not found"):
        read_video(tmp_path / "missing.mp4")


def test_write_rejects_bad_arguments_and_leaves_no_partial_file(tmp_path):
    video = moving_bar_video(frames=3)
    with pytest.raises(ValueError, match="must end in one of"):
        write_video(tmp_path / "x.avi", video)
    with pytest.raises(VidgenError, match="fps must be a positive"):
        write_video(tmp_path / "x.mp4", video, fps=0)
    with pytest.raises(ValueError, match="shape"):
        write_video(tmp_path / "x.mp4", np.zeros((3, 8, 8, 2), np.uint8))
    with pytest.raises(TypeError, match="dtype"):
        write_video(tmp_path / "x.mp4", np.zeros((3, 8, 8, 3), np.int32))
    assert list(tmp_path.iterdir()) == []


def test_greyscale_input_becomes_rgb(tmp_path):
    grey = moving_bar_video(frames=4)[..., 0]
    back = read_video(write_video(tmp_path / "g.gif", grey, fps=8))
    assert back.shape == (*grey.shape, 3)
    np.testing.assert_allclose(back[..., 0], back[..., 2], atol=2)


def _frame_delays(path) -> list[float]:
    """Seconds between the decoded frames of `path`, from their timestamps."""
    container = _import_av().open(str(path))
    try:
        stream = container.streams.video[0]
        pts = [frame.pts for frame in container.decode(stream)]
        return [float(delta * stream.time_base) for delta in np.diff(pts)]
    finally:
        container.close()


@pytest.mark.parametrize("ext, fps", [
    ("gif", 0.1), ("gif", 12.5), ("gif", 50), ("mp4", 0.1), ("mp4", 29.97), ("mp4", 240),
])
def test_fps_at_and_inside_the_limits_round_trip(tmp_path, ext, fps):
    path = write_video(tmp_path / f"v.{ext}", moving_bar_video(frames=5, height=16, width=16),
                       fps=fps)
    assert _frame_delays(path) == pytest.approx([1 / fps] * 4, rel=1e-4)


@pytest.mark.parametrize("ext, fps", [
    # gif: uneven 1-2 hundredths, an FFmpeg error, a silent 10 fps, clamped 655.35 s delays.
    ("gif", 60), ("gif", 150), ("gif", 5000), ("gif", 1e300), ("gif", 0.001),
    # mp4: a silent 24 fps, an OverflowError.
    ("mp4", 1e-9), ("mp4", 1e300), ("mp4", 241),
])
def test_fps_the_format_cannot_hold_is_refused_with_the_range(tmp_path, ext, fps):
    low, high = FPS_RANGES[f".{ext}"]
    with pytest.raises(VidgenError, match=rf"fps must be between {low:g} and {high:g} frames "
                                          rf"per second for \.{ext} files") as caught:
        write_video(tmp_path / f"v.{ext}", moving_bar_video(frames=3), fps=fps)
    assert str(caught.value).endswith(f"received fps={fps:g}")
    assert list(tmp_path.iterdir()) == []


_WRITE_BIG_GIF = """
import signal, sys
import numpy as np
from vidgen_tf.data.video_io import write_video
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job may inherit SIG_IGN
side = 1600
ramp = np.arange(side) % 256
video = np.zeros((16, side, side, 3), np.uint8)
for t in range(16):
    video[t, :, :, 0] = (ramp[None, :] + 8 * t) % 256
    video[t, :, :, 1] = ramp[:, None]
    video[t, side // 4:side // 2, 40 * t:40 * t + side // 8, 2] = 255
write_video(sys.argv[1], video, fps=8)
"""


def test_ctrl_c_while_writing_a_gif_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    out = tmp_path / "big.gif"
    old = write_video(out, moving_bar_video(frames=3), fps=8).read_bytes()
    partial = tmp_path / ".big.partial.gif"
    writer = subprocess.Popen([sys.executable, "-c", _WRITE_BIG_GIF, str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not partial.exists() and writer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert partial.exists(), "the write never started or ended too fast to interrupt"
        writer.send_signal(signal.SIGINT)
        _, stderr = writer.communicate(timeout=120)
    finally:
        writer.kill()
    assert writer.returncode != 0 and "KeyboardInterrupt" in stderr, stderr
    assert out.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["big.gif"]


# --------------------------------------------------------------------------- metadata

#: Nested, non-ASCII, with one value longer than a 255-byte GIF sub-block on its own.
METADATA = {
    "generator": "vidgen_tf 0.1.8",
    "export": "mocogan_shapes_text",
    "model_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "seed": 3,
    "truncation": 0.7,
    "conditions": {"prompt": "a red circle moves left — ünïcödé 赤い円", "tags": ["a", None]},
    "long": "frames of a generated video; " * 12,
}


def _gif_blocks(data: bytes) -> list[tuple[str, int, int, bytes, list[int]]]:
    """Walk a GIF89a file block by block, failing on any malformed structure.

    Returns (kind, start, end, payload, sub-block sizes) per block after the global colour
    table, where kind is "comment", "extension" or "image". Written from the GIF89a spec,
    independently of vidgen_tf.
    """
    assert data[:6] == b"GIF89a"

    def colour_table(flags: int) -> int:
        return 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0

    pos = 13 + colour_table(data[10])
    blocks = []
    while data[pos] != 0x3B:
        start = pos
        if data[pos] == 0x21:
            kind = "comment" if data[pos + 1] == 0xFE else "extension"
            pos += 2
        else:
            assert data[pos] == 0x2C, f"unknown block 0x{data[pos]:02x} at byte {pos}"
            kind = "image"
            pos += 10 + colour_table(data[pos + 9]) + 1  # descriptor, table, LZW code size
        payload, sizes = b"", []
        while data[pos]:
            sizes.append(data[pos])
            payload += data[pos + 1:pos + 1 + data[pos]]
            pos += 1 + data[pos]
        pos += 1
        blocks.append((kind, start, pos, payload, sizes))
    assert pos == len(data) - 1, "bytes after the GIF trailer"
    return blocks


@pytest.mark.parametrize("ext, fps", [("gif", 12.5), ("mp4", 10)])
def test_metadata_round_trips_through_pyav_and_keeps_frames_and_fps(tmp_path, ext, fps):
    video = moving_bar_video(frames=7, height=16, width=24)
    path = write_video(tmp_path / f"v.{ext}", video, fps=fps, metadata=METADATA)
    assert read_video_metadata(path) == METADATA
    # The container holds one plain-text item, "comment", and it is the JSON object.
    container = _import_av().open(str(path))
    try:
        comment = container.metadata["comment"]
    finally:
        container.close()
    assert json.loads(comment) == METADATA
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames) == (24, 16, 7)
    assert info.fps == pytest.approx(fps)
    assert _frame_delays(path) == pytest.approx([1 / fps] * 6, rel=1e-4)
    assert len(read_video(path)) == 7
    if ext == "mp4":
        assert b"\xa9cmt" in path.read_bytes()  # the iTunes-style comment atom
        assert "赤い円" in comment  # stored as UTF-8 text, not escaped
        return
    blocks = _gif_blocks(path.read_bytes())
    comments = [block for block in blocks if block[0] == "comment"]
    assert len(comments) == 1 and blocks[0] is comments[0], [b[0] for b in blocks]
    _, _, _, payload, sizes = comments[0]
    assert json.loads(payload.decode("ascii")) == METADATA  # GIF comments are 7-bit ASCII
    assert len(sizes) >= 3 and set(sizes[:-1]) == {255}, sizes


def test_gif_comment_changes_no_frame_and_no_other_byte(tmp_path):
    video = moving_bar_video(frames=6, height=20, width=30)
    plain = write_video(tmp_path / "plain.gif", video, fps=8).read_bytes()
    tagged_path = write_video(tmp_path / "tagged.gif", video, fps=8, metadata=METADATA)
    np.testing.assert_array_equal(read_video(tagged_path), read_video(tmp_path / "plain.gif"))
    tagged = tagged_path.read_bytes()
    [(_, start, end, _, _)] = [b for b in _gif_blocks(tagged) if b[0] == "comment"]
    assert tagged[:start] + tagged[end:] == plain


@pytest.mark.parametrize("metadata", [None, {}])
def test_without_metadata_nothing_is_added(tmp_path, metadata):
    video = moving_bar_video(frames=4)
    default = write_video(tmp_path / "default.gif", video, fps=8).read_bytes()
    gif = write_video(tmp_path / "v.gif", video, fps=8, metadata=metadata)
    assert gif.read_bytes() == default
    assert not [b for b in _gif_blocks(default) if b[0] == "comment"]
    assert read_video_metadata(gif) == {}
    mp4 = write_video(tmp_path / "v.mp4", video, fps=8, metadata=metadata)
    assert "comment" not in read_video_metadata(mp4)
    assert b"\xa9cmt" not in mp4.read_bytes()


def test_metadata_values_become_plain_json_and_bad_ones_are_refused(tmp_path):
    metadata = {"seed": np.int64(3), "scale": np.float32(0.5), "shape": np.array([8, 16]),
                "export": Path("export/shapes"), "ok": True}
    path = write_video(tmp_path / "v.gif", moving_bar_video(frames=3), fps=8, metadata=metadata)
    back = read_video_metadata(path)
    assert back == {"seed": 3, "scale": 0.5, "shape": [8, 16], "export": "export/shapes",
                    "ok": True}
    assert type(back["seed"]) is int
    path.unlink()
    for bad, error, fragment in [
        ({"x": object()}, TypeError, "object is not JSON-serialisable"),
        ({"loss": float("nan")}, ValueError, "nan"),
        ({3: "three"}, TypeError, "str keys"),
        ("seed=3", TypeError, "must be a dict"),
    ]:
        for ext in ("gif", "mp4"):
            with pytest.raises(error, match=fragment) as caught:
                write_video(tmp_path / f"v.{ext}", moving_bar_video(frames=3), metadata=bad)
            assert "metadata" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_read_video_metadata_of_other_files_is_the_raw_container_metadata(tmp_path):
    video = moving_bar_video(frames=3)
    path = tmp_path / "camera.mp4"
    with _import_av().open(str(path), "w") as container:
        container.metadata["comment"] = "shot on a phone"
        container.metadata["title"] = "{not json"
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for image in video:
            for packet in stream.encode(_import_av().VideoFrame.from_ndarray(image, "rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    raw = read_video_metadata(path)
    assert raw["comment"] == "shot on a phone" and raw["title"] == "{not json"
    assert raw["major_brand"] == "isom"
    with pytest.raises(VideoReadError, match="file not found"):
        read_video_metadata(tmp_path / "missing.gif")


def test_a_failed_comment_insertion_keeps_the_old_file_and_leaves_no_partial(tmp_path,
                                                                             monkeypatch):
    out = tmp_path / "v.gif"
    old = write_video(out, moving_bar_video(frames=3), fps=8).read_bytes()

    def disk_full(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(video_io, "_insert_gif_comment", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_video(out, moving_bar_video(frames=5), fps=8, metadata=METADATA)
    assert out.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["v.gif"]
