"""read_video / write_video: round trips, formats, options, and clear errors."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.test_case import encode_with_pyav, make_bad_files, moving_bar_video
from vidgen_tf.data.pixels import float_to_uint8, uint8_to_float
from vidgen_tf.data.video_io import (
    FPS_RANGES,
    _import_av,
    count_frames,
    probe_video,
    read_video,
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
