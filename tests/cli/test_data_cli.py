"""`vidgen data` and `vidgen bench data` as a user runs them: files, reports, exit codes."""

import json

import numpy as np

from tests.test_case import encode_with_pyav, make_bad_files, moving_bar_video, run_cli
from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.data.video_io import read_video, write_video


def test_synth_writes_class_folders_videos_and_captions_deterministically(tmp_path):
    args = ["data", "synth", "--dataset", "shapes", "--num", "6", "--frames", "8", "--size", "32",
            "--seed", "5"]
    first = run_cli(*args, "--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    assert "wrote 6 shapes clips" in first.stdout
    run_cli(*args, "--out", str(tmp_path / "b"))
    source = ShapesDataset(frames=8, size=32, seed=5)
    videos = sorted((tmp_path / "a").rglob("*.mp4"))
    assert len(videos) == 6
    for path in videos:
        index = int(path.stem)
        clip = source.clip(index)
        assert path.parent.name == source.class_names[clip["label"]]
        assert path.with_suffix(".txt").read_text().strip() == clip["caption"]
        decoded = read_video(path)
        assert decoded.shape == (8, 32, 32, 3)
        assert np.abs(decoded.astype(int) - clip["video"].astype(int)).mean() < 4.0
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        np.testing.assert_array_equal(read_video(twin), decoded)


def test_synth_moving_mnist_gif(tmp_path):
    result = run_cli("data", "synth", "--dataset", "moving_mnist", "--num", "2", "--frames", "5",
                     "--format", "gif", "--out", str(tmp_path / "mm"))
    assert result.returncode == 0, result.stderr
    gifs = sorted((tmp_path / "mm").rglob("*.gif"))
    assert len(gifs) == 2 and read_video(gifs[0]).shape == (5, 64, 64, 3)


def test_user_errors_are_one_line_with_exit_2_and_no_traceback(tmp_path):
    cases = [
        (("data", "synth", "--dataset", "cubes", "--out", str(tmp_path / "x")),
         "choose one of: moving_mnist, moving_mnist_1, shapes"),
        (("data", "synth", "--num", "0", "--out", str(tmp_path / "x")), "num must be >= 1"),
        (("data", "inspect", str(tmp_path / "missing")), "not a folder"),
        (("data", "prepare", str(tmp_path / "missing"), "--out", str(tmp_path / "p")),
         "source folder not found"),
        (("generate", str(tmp_path / "missing"), "--out", str(tmp_path / "x.gif")),
         "not an export directory"),
        (("data", "inspect", str(tmp_path), "--workers", "0"),
         "--workers must be an integer >= 1; received 0"),
        (("data", "prepare", str(tmp_path), "--out", str(tmp_path / "p"), "--min-frames", "-2"),
         "--min-frames must be an integer >= 1; received -2"),
        (("data", "prepare", str(tmp_path), "--out", str(tmp_path / "p"), "--max-frames", "0"),
         "--max-frames must be an integer >= 1; received 0"),
        (("data", "prepare", str(tmp_path), "--out", str(tmp_path / "p"), "--max-frames", "8"),
         "--max-frames 8 stores fewer frames than the 16 a video needs (one clip of --frames "
         "16 at --stride 1); raise --max-frames, or lower --frames or --min-frames"),
        (("data", "prepare", str(tmp_path), "--out", str(tmp_path / "p"), "--min-frames", "4",
          "--frames", "8"),
         "pass either --min-frames or --frames/--stride, not both"),
        (("data", "inspect", str(tmp_path), "--size", "0"),
         "--size must be between 1 and 1024; received 0"),
        (("data", "inspect", str(tmp_path), "--stride", "0"),
         "--stride must be an integer >= 1; received 0"),
        (("data", "synth", "--mnist", str(tmp_path / "m.npz"), "--out", str(tmp_path / "x")),
         "--mnist applies to --dataset moving_mnist or stochastic_mnist only; drop it for shapes"),
        (("data", "synth", "--dataset", "moving_mnist", "--mnist", str(tmp_path / "m.txt"),
          "--out", str(tmp_path / "x")),
         f"MNIST file {tmp_path / 'm.txt'} is not an .npz (zip) file; expected a Keras-format"),
    ]
    (tmp_path / "m.txt").write_text("not a zip file")
    for argv, message in cases:
        result = run_cli(*argv)
        assert result.returncode == 2, (argv, result.stderr)
        assert message in result.stderr, (argv, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    verbose = run_cli("data", "inspect", str(tmp_path / "missing"), "--verbose")
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr


def test_synth_refuses_to_overwrite_a_non_empty_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = run_cli("data", "synth", "--num", "1", "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "--overwrite" in result.stderr
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_inspect_reports_classes_and_skipped_files_and_exits_by_usability(tmp_path):
    video = moving_bar_video(frames=12)
    for cls in ("jump", "walk"):
        (tmp_path / "d" / cls).mkdir(parents=True)
        encode_with_pyav(tmp_path / "d" / cls / "0.mp4", video, "libx264")
    expected = make_bad_files(tmp_path / "d" / "walk" / "bad", video)
    result = run_cli("data", "inspect", str(tmp_path / "d"), "--frames", "8", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["per_class"] == {"jump": 1, "walk": 1}
    reasons = {item["path"].rsplit("/", 1)[-1]: item["reason"] for item in report["skipped_files"]}
    assert set(reasons) == set(expected)
    text = run_cli("data", "inspect", str(tmp_path / "d"), "--frames", "8")
    assert "empty file" in text.stdout and "walk" in text.stdout

    only_bad = run_cli("data", "inspect", str(tmp_path / "d" / "walk" / "bad"), "--frames", "8")
    assert only_bad.returncode == 1
    assert "no usable video" in only_bad.stdout and "too short" in only_bad.stdout


def test_prepare_then_bench_data_reports_clips_per_second(tmp_path):
    synth = run_cli("data", "synth", "--num", "8", "--frames", "8", "--size", "32",
                    "--out", str(tmp_path / "clips"))
    assert synth.returncode == 0, synth.stderr
    prepared = run_cli("data", "prepare", str(tmp_path / "clips"), "--out",
                       str(tmp_path / "shards"), "--size", "32", "--frames", "8")
    assert prepared.returncode == 0, prepared.stderr
    assert "prepared 8 clips (8 classes" in prepared.stdout or "prepared 8 clips" in prepared.stdout
    bench = run_cli("bench", "data", str(tmp_path / "shards"), "--frames", "8", "--size", "32",
                    "--batch-size", "4", "--batches", "2", "--repeats", "2", "--warmup", "1",
                    "--json")
    assert bench.returncode == 0, bench.stderr
    result = json.loads(bench.stdout.strip().splitlines()[-1])
    assert result["clips_per_s"] > 0 and len(result["repeats"]) == 2


def test_bench_train_prints_median_step_seconds_as_json():
    result = run_cli("bench", "train", "--model", "dcgan3d", "--preset", "tiny", "--steps", "3",
                     "--warmup", "1", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["median_step_s"] > 0 and len(report["steps"]) == 3
    assert report["median_step_s"] == sorted(report["steps"])[1]
    # A predictor trains on context + horizon frames at its own channels (grey here).
    predictor = run_cli("bench", "train", "--model", "simvp", "--preset", "tiny", "--steps",
                        "1", "--warmup", "0", "--json")
    assert predictor.returncode == 0, predictor.stderr[-2000:]
    report = json.loads(predictor.stdout.strip().splitlines()[-1])
    assert report["frames"] == 8 and report["size"] == 16 and report["median_step_s"] > 0
    unknown = run_cli("bench", "train", "--model", "dcgan3d", "--preset", "nope")
    assert unknown.returncode == 2 and "choose one of: default_64" in unknown.stderr


def _one_line_error(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def _onnx_export_folder(folder):
    folder.mkdir()
    (folder / "manifest.json").write_text('{"format": "vidgen_tf.export"}')
    (folder / "model.onnx").write_bytes(b"onnx bytes")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_synth_overwrite_replaces_only_its_own_earlier_output(tmp_path):
    synth = ["data", "synth", "--num", "2", "--frames", "4", "--size", "16"]
    # An unrelated folder (an ONNX export) is never deleted, even with --overwrite.
    kept = _onnx_export_folder(tmp_path / "export")
    for extra in ((), ("--overwrite",)):
        message = _one_line_error(run_cli(*synth, "--out", str(tmp_path / "export"), *extra))
        assert "manifest.json" in message and "even with --overwrite" in message
        assert "choose another --out" in message
        assert {p.name: p.read_bytes() for p in (tmp_path / "export").iterdir()} == kept
    # A plain file is its own error, and stays a file.
    (tmp_path / "afile").write_text("mine")
    for extra in ((), ("--overwrite",)):
        message = _one_line_error(run_cli(*synth, "--out", str(tmp_path / "afile"), *extra))
        assert "is a file, not a folder" in message
        assert (tmp_path / "afile").read_text() == "mine"
    # Its own earlier output: refused without --overwrite, replaced with it.
    assert run_cli(*synth, "--out", str(tmp_path / "good")).returncode == 0
    message = _one_line_error(run_cli(*synth, "--out", str(tmp_path / "good")))
    assert "earlier `vidgen data synth` output; pass --overwrite" in message
    again = run_cli(*synth, "--seed", "3", "--out", str(tmp_path / "good"), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "good").rglob("*.mp4"))) == 2
    # A file added to it by hand makes it someone else's folder again.
    (tmp_path / "good" / "notes.md").write_text("mine")
    _one_line_error(run_cli(*synth, "--out", str(tmp_path / "good"), "--overwrite"))
    assert (tmp_path / "good" / "notes.md").read_text() == "mine"
    # An empty folder is fine.
    (tmp_path / "empty").mkdir()
    assert run_cli(*synth, "--out", str(tmp_path / "empty")).returncode == 0
    assert not list(tmp_path.glob(".*"))  # no partial or old folder left behind


def test_prepare_overwrite_replaces_only_its_own_earlier_output(tmp_path):
    assert run_cli("data", "synth", "--num", "2", "--frames", "4", "--size", "16", "--out",
                   str(tmp_path / "clips")).returncode == 0
    prepare = ["data", "prepare", str(tmp_path / "clips"), "--size", "16", "--frames", "4"]
    kept = _onnx_export_folder(tmp_path / "export")
    message = _one_line_error(run_cli(*prepare, "--out", str(tmp_path / "export"),
                                      "--overwrite"))
    assert "does not hold an earlier `vidgen data prepare` output" in message
    assert {p.name: p.read_bytes() for p in (tmp_path / "export").iterdir()} == kept
    (tmp_path / "afile").write_text("mine")
    message = _one_line_error(run_cli(*prepare, "--out", str(tmp_path / "afile")))
    assert "is a file, not a folder" in message and "--overwrite" not in message
    assert (tmp_path / "afile").read_text() == "mine"
    # The videos folder is not a prepared folder either.
    _one_line_error(run_cli(*prepare, "--out", str(tmp_path / "clips"), "--overwrite"))
    assert len(list((tmp_path / "clips").rglob("*.mp4"))) == 2
    assert run_cli(*prepare, "--out", str(tmp_path / "shards")).returncode == 0
    assert "pass --overwrite" in _one_line_error(
        run_cli(*prepare, "--out", str(tmp_path / "shards")))
    again = run_cli(*prepare, "--out", str(tmp_path / "shards"), "--overwrite")
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "shards" / "dataset.json").read_text())["num_clips"] == 2


def _mixed_folder(root):
    """Class folders holding a wide, a tiny, a square and a too-short video, and two files that
    are skipped for other reasons; all written with vidgen_tf's own `write_video` at 10 fps."""
    for name in ("cats", "dogs"):
        (root / name).mkdir(parents=True)
    write_video(root / "cats" / "wide.mp4", moving_bar_video(20, height=96, width=640), fps=10)
    write_video(root / "cats" / "square.mp4", moving_bar_video(20, height=80, width=80), fps=10)
    write_video(root / "dogs" / "tiny.gif", moving_bar_video(20, height=47, width=63), fps=10)
    write_video(root / "dogs" / "short.mp4", moving_bar_video(4, height=64, width=64), fps=10)
    (root / "dogs" / "empty.mp4").write_bytes(b"")
    write_video(root / "loose.mp4", moving_bar_video(20, height=64, width=64), fps=10)
    return root


# 640x96 into 64x64: the crop keeps 96/640 of the width, so it discards 1 - 0.15 = 85%.
WIDE = "center crop discards 85% of the width (640x96 -> 64x64)"
# 63x47 into 64x64: the shorter side 47 is enlarged by 64/47 = 1.3617; its crop discards only
# 1 - 47/63 = 25% of the width, under the 50% worth a warning.
TINY = "upscaled 1.36x: shorter side 47 px < 64 (63x47 -> 64x64)"
SHORT = "too short: 4 frames, a clip needs 16"


def _inspect_json(folder, *flags):
    result = run_cli("data", "inspect", str(folder), *flags, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_inspect_lists_every_file_with_its_size_frames_fps_and_status(tmp_path):
    folder = _mixed_folder(tmp_path / "clips")
    report = _inspect_json(folder)
    rows = {row["path"]: row for row in report["files"]}
    assert list(rows) == ["cats/square.mp4", "cats/wide.mp4", "dogs/empty.mp4",
                          "dogs/short.mp4", "dogs/tiny.gif", "loose.mp4"]
    assert rows["cats/wide.mp4"] == {
        "path": "cats/wide.mp4", "class": "cats", "width": 640, "height": 96, "frames": 20,
        "fps": 10.0, "usable": True, "reason": None, "warning": WIDE}
    assert rows["dogs/tiny.gif"]["warning"] == TINY
    assert (rows["dogs/tiny.gif"]["width"], rows["dogs/tiny.gif"]["height"]) == (63, 47)
    assert rows["cats/square.mp4"]["usable"] and rows["cats/square.mp4"]["warning"] is None
    short = rows["dogs/short.mp4"]
    assert (short["usable"], short["reason"], short["frames"]) == (False, SHORT, 4)
    assert rows["dogs/empty.mp4"]["reason"] == "empty file (0 bytes)"
    assert rows["loose.mp4"]["reason"] == "not inside a class subfolder"
    assert report["per_class"] == {"cats": 2, "dogs": 1} and report["warned"] == 2
    assert report["size"] == 64 and report["min_frames"] == 16

    text = run_cli("data", "inspect", str(folder)).stdout.splitlines()
    assert text[0].split() == ["file", "class", "size", "frames", "fps", "status"]
    table = {line.split()[0]: line for line in text[1:7]}
    assert table["cats/wide.mp4"].split()[:6] == ["cats/wide.mp4", "cats", "640x96", "20", "10",
                                                  "usable;"]
    assert table["cats/wide.mp4"].endswith(WIDE)
    assert table["dogs/short.mp4"].endswith(f"skipped: {SHORT}")
    assert "2 usable video(s) cropped by more than 50% of a side or upscaled to 64x64" in text[-1]

    # At 32x32 nothing is upscaled (47 >= 32) and only the wide video is cropped heavily; a
    # 4-frame clip makes the short video usable.
    small = {row["path"]: row for row in _inspect_json(folder, "--size", "32",
                                                       "--frames", "4")["files"]}
    assert small["cats/wide.mp4"]["warning"] == WIDE.replace("64x64", "32x32")
    assert small["dogs/tiny.gif"]["warning"] is None
    assert small["dogs/short.mp4"]["usable"] and small["dogs/short.mp4"]["warning"] is None
    for action in ("inspect", "prepare"):
        usage = run_cli("data", action, "--help")
        assert usage.returncode == 0, usage.stderr
        assert "cropped by more than 50% of a side or upscaled" in " ".join(usage.stdout.split())


def test_prepare_keeps_the_videos_inspect_calls_usable_and_names_the_rest(tmp_path):
    folder = _mixed_folder(tmp_path / "clips")
    for flags in ((), ("--min-frames", "4")):
        usable = {row["path"] for row in _inspect_json(folder, *flags)["files"]
                  if row["usable"]}
        out = tmp_path / f"prepared{len(flags)}"
        result = run_cli("data", "prepare", str(folder), "--out", str(out), *flags)
        assert result.returncode == 0, result.stderr
        meta = json.loads((out / "dataset.json").read_text())
        assert sorted(meta["files"]) == sorted(usable)
        assert dict(zip(meta["files"], meta["frames_per_clip"], strict=True)) == {
            path: 4 if path == "dogs/short.mp4" else 20 for path in usable}
        lines = result.stdout.splitlines()
        named_short = [f"skipped dogs/short.mp4: {SHORT}"] if not flags else []
        assert lines[:-2] == ["skipped dogs/empty.mp4: empty file (0 bytes)", *named_short,
                              "skipped loose.mp4: not inside a class subfolder",
                              f"warning: cats/wide.mp4: {WIDE}", f"warning: dogs/tiny.gif: {TINY}"]
        need = "16 frames (one clip of --frames 16 at --stride 1)" if not flags else \
            "4 frames (--min-frames 4)"
        assert lines[-1] == (f"videos need {need}, fitted into 64x64: {2 + len(named_short)} "
                             "skipped, 2 cropped heavily or upscaled (named above)")
        assert meta["min_frames"] == (4 if flags else 16)
    assert usable == {"cats/square.mp4", "cats/wide.mp4", "dogs/short.mp4", "dogs/tiny.gif"}
