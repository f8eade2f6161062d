"""tf.data pipelines: built-in, folder (with bad files) and TFRecord shards agree, never crash."""

import gc
import json
import logging

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.test_case import (  # noqa: E402
    encode_with_pyav,
    make_bad_files,
    moving_bar_video,
    run_cli,
)
from vidgen_tf.data import pipeline, tfrecord  # noqa: E402
from vidgen_tf.data.folder import scan_video_folder  # noqa: E402
from vidgen_tf.data.pixels import uint8_to_float  # noqa: E402
from vidgen_tf.data.shapes import ShapesDataset  # noqa: E402
from vidgen_tf.data.shapes_actions import ShapesActions  # noqa: E402
from vidgen_tf.errors import VidgenError  # noqa: E402

LEVELS = np.arange(24) * 10


def levels_video(n=24, size=16):
    """Flat frames whose grey level (10 * index) tells which source frame a clip holds."""
    return np.repeat(LEVELS[:n, None, None, None], size * size * 3, 1).reshape(n, size, size, 3)


def frame_indices(video):
    grey = (np.asarray(video) + 1.0) * 127.5
    return [int(np.argmin(np.abs(LEVELS - f.mean()))) for f in grey]


@pytest.fixture
def messy_folder(tmp_path):
    """Two classes of good lossless clips, plus every kind of bad file inside a class."""
    for cls, count in (("a", 2), ("b", 3)):
        (tmp_path / cls).mkdir()
        for i in range(count):
            encode_with_pyav(tmp_path / cls / f"{i}.mkv", levels_video().astype(np.uint8),
                             "ffv1", pix_fmt="yuv444p")
            (tmp_path / cls / f"{i}.txt").write_text(f"{cls}{i}")
    make_bad_files(tmp_path / "b" / "junk", moving_bar_video(frames=12))
    return tmp_path


def test_builtin_shapes_pipeline_matches_the_numpy_source():
    ds = pipeline.builtin_dataset("shapes", frames=8, size=16, seed=3, batch_size=4)
    batch = next(iter(ds))
    assert batch["video"].shape == (4, 8, 16, 16, 3) and batch["video"].dtype == tf.float32
    source = ShapesDataset(frames=8, size=16, seed=3)
    for i in range(4):
        clip = source.clip(i)
        np.testing.assert_allclose(batch["video"][i], uint8_to_float(clip["video"]), atol=1e-6)
        assert int(batch["label"][i]) == clip["label"]
        assert batch["caption"][i].numpy().decode() == clip["caption"]
    np.testing.assert_array_equal(batch["first_frame"], batch["video"][:, 0])
    assert -1.0 <= float(tf.reduce_min(batch["video"]))
    assert float(tf.reduce_max(batch["video"])) <= 1.0


def test_the_shapes_actions_pipeline_carries_each_frames_action():
    ds = pipeline.builtin_dataset("shapes_actions", frames=8, size=16, seed=1, batch_size=3)
    batch = next(iter(ds))
    assert batch["actions"].shape == (3, 8) and batch["actions"].dtype == tf.int32
    source = ShapesActions(frames=8, size=16, seed=1)
    for i in range(3):
        clip = source.clip(i)
        np.testing.assert_array_equal(batch["actions"][i], clip["actions"])
        np.testing.assert_allclose(batch["video"][i], uint8_to_float(clip["video"]), atol=1e-6)
    assert "actions" not in next(iter(pipeline.builtin_dataset("shapes", frames=8, size=16,
                                                                 batch_size=2)))


def test_folder_pipeline_skips_bad_files_without_crashing(messy_folder, caplog):
    with caplog.at_level(logging.WARNING):
        ds = pipeline.video_folder_dataset(messy_folder, frames=8, size=16, labels=True,
                                           captions=True, seed=1)
        elements = list(ds.take(25))  # five epochs over the five good files
    assert len(elements) == 25
    captions = {e["caption"].numpy().decode() for e in elements}
    assert captions == {"a0", "a1", "b0", "b1", "b2"}
    for e in elements:
        assert int(e["label"]) == "ab".index(e["caption"].numpy().decode()[0])
        idx = frame_indices(e["video"])
        assert idx == list(range(idx[0], idx[0] + 8)), idx  # a consecutive window
    starts = {frame_indices(e["video"])[0] for e in elements}
    assert len(starts) > 3  # random windows differ
    assert any("6 skipped" in r.getMessage() for r in caplog.records)


def test_folder_pipeline_is_deterministic_by_seed_and_honours_stride(messy_folder):
    def first_windows(seed):
        ds = pipeline.video_folder_dataset(messy_folder, frames=4, size=16, stride=3, seed=seed)
        return [frame_indices(e["video"]) for e in ds.take(6)]

    first = first_windows(7)
    assert first == first_windows(7)
    assert first != first_windows(8)
    assert all(w == [w[0], w[0] + 3, w[0] + 6, w[0] + 9] for w in first)
    fixed = pipeline.video_folder_dataset(messy_folder, frames=4, size=16, random_start=False,
                                          shuffle=False, repeat=False)
    assert [frame_indices(e["video"]) for e in fixed] == [[0, 1, 2, 3]] * 5


def test_file_that_fails_while_decoding_is_dropped_with_a_warning(tmp_path, caplog):
    encode_with_pyav(tmp_path / "good.mkv", levels_video().astype(np.uint8), "ffv1",
                     pix_fmt="yuv444p")
    cut = encode_with_pyav(tmp_path / "cut.webm", moving_bar_video(frames=30), "libvpx-vp9")
    cut.write_bytes(cut.read_bytes()[: int(cut.stat().st_size * 0.4)])
    with caplog.at_level(logging.WARNING):
        ds = pipeline.video_folder_dataset(tmp_path, frames=20, size=16, seed=0)
        elements = list(ds.take(6))
    assert len(elements) == 6
    assert all(frame_indices(e["video"])[1] - frame_indices(e["video"])[0] == 1 for e in elements)
    assert sum("cut.webm" in r.getMessage() for r in caplog.records) == 1


def cut_webms(folder, count):
    """`count` WebM files whose headers pass the scan and whose data breaks while decoding."""
    folder.mkdir(exist_ok=True)
    for index in range(count):
        cut = encode_with_pyav(folder / f"cut{index}.webm", moving_bar_video(frames=30),
                               "libvpx-vp9")
        cut.write_bytes(cut.read_bytes()[: int(cut.stat().st_size * 0.4)])
    return folder


def test_a_folder_whose_every_file_fails_while_decoding_is_an_error_not_a_hang(tmp_path):
    import tensorflow as tf

    folder = cut_webms(tmp_path / "cut", 2)
    # First as a user meets it (a hang fails here by the timeout), then in-process.
    result = run_cli("train", "--preset", "tiny", "--epochs", "1", "--steps-per-epoch", "2",
                     "--data", str(folder), "--out", str(tmp_path / "run"), timeout=120)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("vidgen: error:")]
    assert len(errors) == 1 and f"no video in {folder} could be decoded" in errors[0], errors
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # a run that never started leaves nothing

    ds = pipeline.video_folder_dataset(folder, frames=20, size=16, seed=0)  # repeats forever
    with pytest.raises(tf.errors.OpError) as caught:
        next(iter(ds))
    error = pipeline.pipeline_error(caught.value)
    del caught, ds  # the traceback holds the iterator, whose decoding threads would run on
    gc.collect()
    assert isinstance(error, VidgenError)
    assert f"no video in {folder} could be decoded: all 2 file(s)" in str(error)


def test_prepared_tfrecords_give_the_same_clips_as_decoding_on_the_fly(messy_folder, tmp_path,
                                                                      caplog):
    out = tmp_path / "prepared"
    meta = tfrecord.prepare_tfrecords(messy_folder, out, size=16, clips_per_shard=2,
                                      min_frames=1)
    # short.webm (3 frames) is stored: it only is too short for clips longer than 3 frames.
    assert meta["num_clips"] == 6 and meta["num_shards"] == 3
    assert meta["class_names"] == ["a", "b"]
    assert len(meta["skipped"]) == 5
    lengths = json.loads((out / "dataset.json").read_text())["frames_per_clip"]
    assert sorted(lengths) == [3] + [24] * 5

    def by_caption(ds):
        return {e["caption"].numpy().decode(): (int(e["label"]), e["video"].numpy())
                for e in ds}

    kwargs = dict(frames=6, size=16, random_start=False, labels=True, captions=True,
                  shuffle=False, repeat=False)
    on_the_fly = by_caption(pipeline.video_folder_dataset(messy_folder, **kwargs))
    with caplog.at_level(logging.WARNING):
        prepared = by_caption(pipeline.tfrecord_dataset(out, **kwargs))
    # Training names the clip it skips, not just a count.
    assert [r.getMessage() for r in caplog.records if "prepared clips" in r.getMessage()] == [
        f"1 of 6 prepared clips in {out} are shorter than the 6 frames a clip needs (frames=6, "
        "stride=1) and are skipped: b/junk/short.webm (3 frames)"]
    assert on_the_fly.keys() == prepared.keys() == {"a0", "a1", "b0", "b1", "b2"}
    for key in prepared:
        assert prepared[key][0] == on_the_fly[key][0]
        np.testing.assert_array_equal(prepared[key][1], on_the_fly[key][1])
    random_windows = pipeline.tfrecord_dataset(out, frames=6, stride=2, seed=0)
    for e in random_windows.take(10):
        idx = frame_indices(e["video"])
        assert idx == list(range(idx[0], idx[0] + 12, 2))
    assert pipeline.load_dataset(str(out), frames=6).element_spec["video"].shape == (6, 16, 16, 3)


def test_prepare_skips_and_names_what_one_clip_cannot_use_by_default(messy_folder, tmp_path):
    meta = tfrecord.prepare_tfrecords(messy_folder, tmp_path / "out", size=16, warn=False)
    scan = scan_video_folder(messy_folder, labels=True, min_frames=16, warn=False)
    # The same videos as training on the folder with 16-frame clips: short.webm is dropped.
    assert sorted(meta["files"]) == sorted(scan.relative(r.path) for r in scan.records) == [
        "a/0.mkv", "a/1.mkv", "b/0.mkv", "b/1.mkv", "b/2.mkv"]
    assert {"path": "b/junk/short.webm", "reason": "too short: 3 frames, a clip needs 16"} in \
        meta["skipped"]
    assert len(meta["skipped"]) == 6 and meta["min_frames"] == 16
    # 16x16 videos fitted into 16x16: nothing to warn about.
    assert meta["warnings"] == []
    with pytest.raises(ValueError, match=r"max_frames must be >= min_frames \(16\), else no "
                                         "stored video is long enough for a clip; received "
                                         "max_frames=8"):
        tfrecord.prepare_tfrecords(messy_folder, tmp_path / "short", max_frames=8)


def test_training_on_a_folder_warns_of_heavy_crops_and_upscales(tmp_path, caplog):
    encode_with_pyav(tmp_path / "wide.mp4", moving_bar_video(8, height=96, width=640),
                     "libx264")
    encode_with_pyav(tmp_path / "fine.mp4", moving_bar_video(8, height=32, width=48), "libx264")
    with caplog.at_level(logging.WARNING):
        pipeline.video_folder_dataset(tmp_path, frames=4, size=16)
        pipeline.video_folder_dataset(tmp_path, frames=4, size=40)
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        # 640x96 keeps 96/640 = 15% of its width; 48x32 keeps 67% (at 16 and at 40).
        f"1 of 2 videos in {tmp_path} are cropped heavily or upscaled to 16x16: wide.mp4 "
        "(center crop discards 85% of the width (640x96 -> 16x16)); `vidgen data inspect "
        f"{tmp_path} --size 16` lists them all",
        # At 40, the 32-pixel side of 48x32 is enlarged 1.25x.
        f"2 of 2 videos in {tmp_path} are cropped heavily or upscaled to 40x40: fine.mp4 "
        "(upscaled 1.25x: shorter side 32 px < 40 (48x32 -> 40x40)), wide.mp4 (center crop "
        f"discards 85% of the width (640x96 -> 40x40)); `vidgen data inspect {tmp_path} "
        "--size 40` lists them all",
    ]


def test_interrupted_prepare_leaves_nothing_that_looks_valid(messy_folder, tmp_path, monkeypatch):
    calls = {"n": 0}
    real = tfrecord.read_video

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(tfrecord, "read_video", dying)
    with pytest.raises(KeyboardInterrupt):
        tfrecord.prepare_tfrecords(messy_folder, tmp_path / "out", size=16, workers=1)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == [messy_folder.name] or \
        not any(".partial" in p.name for p in tmp_path.iterdir())


def test_load_dataset_names_the_valid_choices(tmp_path):
    with pytest.raises(VidgenError, match="moving_mnist, moving_mnist_1, shapes"):
        pipeline.load_dataset("shpaes")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VidgenError, match="no video files found"):
        pipeline.load_dataset(str(tmp_path / "empty"))
