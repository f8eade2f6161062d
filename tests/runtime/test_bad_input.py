"""Bad input to the runtime and `vidgen generate`: one clear line naming the problem, exit 2."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest

from tests.test_case import one_line_error, run_cli
from vidgen_tf.runtime import ManifestError, VideoGenerator
from vidgen_tf.runtime import video_generator as vg


def damage(export_dir: Path, change) -> Path:
    """Apply `change(manifest)` to the manifest.json of `export_dir`."""
    path = export_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))
    return export_dir


# --------------------------------------------------------------------------- seed


@pytest.mark.parametrize("seed", [-1, 2.5, "3", True])
def test_bad_seed_is_refused_naming_seed(tiny_export, seed):
    generator = VideoGenerator(tiny_export["export"])
    for call in (generator.generate, generator.noise, lambda *a, **k: next(
            generator.iter_generate(*a, **k))):
        with pytest.raises(ValueError, match=r"seed must be None or an integer >= 0; "
                                             r"received seed="):
            call(2, seed=seed)


def test_large_and_numpy_integer_seeds_still_work(tiny_export):
    generator = VideoGenerator(tiny_export["export"])
    np.testing.assert_array_equal(generator.noise(1, seed=np.int64(3))["content"],
                                  generator.noise(1, seed=3)["content"])
    assert generator.noise(1, seed=2**40)["content"].shape == (1, 8)


# --------------------------------------------------------------------------- manifest vs model


@pytest.mark.parametrize("change, fragment", [
    (lambda m: m["graphs"]["generator"].update(file=None),
     '"file" must be the name of the model file'),
    (lambda m: m["graphs"]["generator"].update(file="../model.onnx"), '"file" must be the name'),
    (lambda m: (m["inputs"]["content"].update(shape=[7]),
                m["graphs"]["generator"]["inputs"].update(content=["batch", 7])),
     "input 'content' has per-sample shape [8] in the model but [7] in the manifest"),
    (lambda m: m["inputs"]["content"].update(shape=[7]),
     "graph input 'content' has shape [8] but the input 'content' [7]"),
    (lambda m: (m["inputs"]["content"].update(shape=[8, 1]),
                m["graphs"]["generator"]["inputs"].update(content=["batch", 8, 1])),
     "per-sample axes in the model"),
    (lambda m: m["inputs"]["content"].update(shape=["8"]), "list of positive integers"),
    (lambda m: m["inputs"]["content"].update(dtype="int64"),
     "input 'content' is tensor(float) in the model but 'int64' in the manifest"),
    (lambda m: m["inputs"]["content"].update(dtype="complex64"), "has dtype 'complex64'"),
    (lambda m: m["inputs"]["content"].update(role="colour"), "has role 'colour'"),
    (lambda m: m["inputs"]["motion"].update(distribution="poisson"),
     "noise input 'motion' has distribution 'poisson'"),
    (lambda m: m["output"].update(name="frames"), "the graphs do not list"),
    (lambda m: m["graphs"]["generator"]["outputs"].update(
        frames=m["graphs"]["generator"]["outputs"].pop("video")), "the graphs do not list"),
    (lambda m: m["video"].update(height=17), "has shape ['batch', 'frames', 16, 16, 3] but "
                                             '"video" says (batch, frames, 17, 16, 3)'),
    (lambda m: m.update(name=None), '"name" must be a string'),
    (lambda m: m["dims"]["frames"].update(min="yes"), 'dimension \'frames\' needs integer'),
    (lambda m: m.pop("sampler"), '"sampler" must name the sampler'),
    (lambda m: m.update(graphs={}), '"graphs" must name at least one graph'),
    (lambda m: m.update(format_version=3), '"format_version" 3 is not supported'),
])
def test_manifest_that_disagrees_with_itself_or_the_model(export_copy, change, fragment):
    damage(export_copy, change)
    with pytest.raises(ManifestError) as info:
        VideoGenerator(export_copy)
    assert fragment in str(info.value)
    assert str(info.value).endswith("re-run `vidgen export`")


@pytest.mark.parametrize("change, fragment", [
    (lambda m: m["onnx"].update(file=None), '"file" must be the name of the model file'),
    (lambda m: m["onnx"].update(file="../model.onnx"), '"file" must be the name'),
    (lambda m: m["inputs"]["content"].update(shape=[7]),
     "input 'content' has per-sample shape [50] in the model but [7] in the manifest"),
    (lambda m: m["inputs"]["content"].update(shape=[50, 1]), "per-sample axes in the model"),
    (lambda m: m["inputs"]["content"].update(shape=["8"]), "list of positive integers"),
    (lambda m: m["inputs"]["content"].update(dtype="int64"),
     "input 'content' is tensor(float) in the model but 'int64' in the manifest"),
    (lambda m: m["output"].update(name="frames"), "the model has no output 'frames'"),
    (lambda m: m.update(height=17), "in the model but ['frames', 17, 32, 3] in the manifest"),
    (lambda m: m.update(name=None), '"name" must be a string'),
    (lambda m: m.update(variable_frames="yes"), '"variable_frames" must be true or false'),
    (lambda m: m.update(class_names="abc"), '"class_names" must be a list of strings'),
    (lambda m: m["inputs"]["motion"].pop("time_axis"),
     '"variable_frames" is true but no input has "time_axis": 0'),
    (lambda m: m["inputs"]["motion"].update(time_axis=5), '"time_axis" 5; the only supported'),
    (lambda m: m["inputs"]["motion"].update(shape=[6, 10]),
     "input 'motion' has 6 steps on its time axis but the model makes \"frames\" 16"),
])
def test_version_1_manifests_are_still_checked_as_before(v1_copy, change, fragment):
    damage(v1_copy, change)
    with pytest.raises(ManifestError) as info:
        VideoGenerator(v1_copy)
    assert fragment in str(info.value)
    assert str(info.value).endswith("re-run `vidgen export`")


def test_generate_cli_reports_a_manifest_model_mismatch_as_a_user_error(export_copy, tmp_path):
    # Before: onnxruntime's InvalidArgument at the first call, "unexpected" and exit 1.
    damage(export_copy, lambda m: (m["inputs"]["content"].update(shape=[7]),
                                   m["graphs"]["generator"]["inputs"].update(
                                       content=["batch", 7])))
    result = run_cli("generate", str(export_copy), "--num", "2", "--out", str(tmp_path / "o.gif"))
    one_line_error(result, "does not match its manifest")
    assert result.stderr.strip().endswith("re-run `vidgen export`")


# --------------------------------------------------------------------------- clip length


@pytest.mark.parametrize("change, fragment", [
    (lambda m: m["dims"].pop("frames"), "dimension names (none declared)"),
    (lambda m: m["dims"]["frames"].update(max=4),
     '"video": "frames" 8 is outside the bounds of dimension "frames"'),
    (lambda m: m["dims"]["frames"].update(min=9, max=8), 'needs integer bounds "min" <= "max"'),
    # A fixed time axis against a dynamic graph passes the graph checks; the manifest's
    # "sampling" still draws "frames" steps, so the manifest disagrees with itself.
    (lambda m: (m["inputs"]["motion"].update(shape=[8, 4]),
                m["graphs"]["generator"]["inputs"].update(motion=["batch", 8, 4])),
     "\"sampling\": the draw of 'motion' is {'method': 'standard_normal', 'args': [], "
     "'size': ['num', 'frames', 4]"),
])
def test_a_broken_time_axis_is_a_manifest_error_not_a_silent_length(export_copy, tmp_path,
                                                                     change, fragment):
    damage(export_copy, change)
    with pytest.raises(ManifestError) as exc:
        VideoGenerator(export_copy)
    assert fragment in str(exc.value) and str(exc.value).endswith("re-run `vidgen export`")
    out = tmp_path / "m.gif"
    result = run_cli("generate", str(export_copy), "--num", "2", "--frames", "12",
                     "--out", str(out))
    assert result.returncode == 2 and not out.exists(), result.stderr


def test_videos_of_another_length_than_asked_are_never_handed_out(tiny_export, monkeypatch):
    generator = VideoGenerator(tiny_export["export"])
    run = generator.run
    monkeypatch.setattr(generator, "run", lambda inputs: run(inputs)[:, :8])  # drops frames
    with pytest.raises(ManifestError, match=r"made videos of shape \(8, 16, 16, 3\) but the "
                                            r"manifest promises \(12, 16, 16, 3\)"):
        generator.generate(2, seed=0, frames=12)


def test_frames_are_capped_before_any_work(tiny_export, monkeypatch):
    generator = VideoGenerator(tiny_export["export"])
    limit = vg.MAX_FRAMES_FACTOR * generator.frames
    assert generator.noise(1, seed=0, frames=limit)["motion"].shape[:2] == (1, limit)
    monkeypatch.setattr(generator, "run", lambda inputs: pytest.fail("should not run"))
    for call in (generator.generate, generator.noise, lambda *a, **k: next(
            generator.iter_generate(*a, **k))):
        with pytest.raises(ValueError, match=rf"frames must be at most {limit} .*received "
                                             rf"frames={limit + 1}"):
            call(2, frames=limit + 1)


# --------------------------------------------------------------------------- providers, threads


def test_unknown_provider_lists_the_available_ones(tiny_export):
    import onnxruntime as ort

    with pytest.raises(ValueError, match="unknown onnxruntime provider 'Bogus'") as info:
        VideoGenerator(tiny_export["export"], providers=["Bogus"])
    for name in ort.get_available_providers():
        assert name in str(info.value)
    with pytest.raises(ValueError, match="at least one"):
        VideoGenerator(tiny_export["export"], providers=[])


def test_a_listed_provider_that_does_not_load_is_an_error(tiny_export):
    import onnxruntime as ort

    if vg.CUDA not in ort.get_available_providers():
        pytest.skip("onnxruntime does not list CUDA here")
    if VideoGenerator(tiny_export["export"]).providers[0] == vg.CUDA:
        pytest.skip("CUDA loads here")
    # onnxruntime would log an error and quietly run on the CPU instead.
    with pytest.raises(ValueError, match="CUDAExecutionProvider did not load"):
        VideoGenerator(tiny_export["export"], providers=[vg.CUDA])
    # The usual [CUDA, CPU] names the CPU as the fall-back: that is what the caller gets.
    assert VideoGenerator(tiny_export["export"], providers=[vg.CUDA, vg.CPU]).providers == [
        vg.CPU]


def test_a_provider_that_fails_to_register_prints_nothing_to_stdout(tiny_export, capfd):
    import onnxruntime as ort

    trt = "TensorrtExecutionProvider"
    if trt not in ort.get_available_providers():
        pytest.skip("onnxruntime does not list TensorRT here")
    with pytest.raises(ValueError, match=f"{trt} did not load"):
        VideoGenerator(tiny_export["export"], providers=[trt])
    # onnxruntime prints an "EP Error" banner (its own print, not its logger) on the way.
    assert capfd.readouterr().out == ""


@pytest.mark.parametrize("threads", [0, -1, 1.5])
def test_bad_thread_counts_are_refused(tiny_export, threads):
    with pytest.raises(ValueError, match=r"threads must be None or an integer >= 1"):
        VideoGenerator(tiny_export["export"], threads=threads)


# --------------------------------------------------------------------------- output file


def test_generate_cli_names_an_output_that_cannot_be_written(tiny_export, tmp_path):
    folder = tmp_path / "d.gif"
    folder.mkdir()
    export = str(tiny_export["export"])
    one_line_error(run_cli("generate", export, "--num", "2", "--out", str(folder)),
                   f"cannot write {folder}: it is a folder")
    assert list(tmp_path.iterdir()) == [folder] and list(folder.iterdir()) == []
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    one_line_error(run_cli("generate", export, "--num", "2", "--out", str(a_file / "x.gif")),
                   f"cannot write {a_file / 'x.gif'}: {a_file} is a file, not a folder")
    a_file.unlink()
    for out in ("/proc/x.gif", "/sys/x.gif"):
        if Path(out).parent.is_dir():
            one_line_error(run_cli("generate", export, "--num", "2", "--out", out),
                           f"cannot write {out}: folder {Path(out).parent} does not take new "
                           "files (")


def test_generate_cli_write_failure_names_the_file_and_leaves_nothing(tiny_export, tmp_path,
                                                                      monkeypatch, capsys):
    import vidgen_tf.data.video_io as video_io
    from vidgen_tf.cli.main import main

    def disk_full(path, video, fps):
        Path(path).write_bytes(b"GIF89a")  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(video_io, "_write_gif", disk_full)
    out = tmp_path / "v.gif"
    assert main(["generate", str(tiny_export["export"]), "--num", "2", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (f"vidgen: error: cannot write {out}: No space "
                                               "left on device")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- fps and memory


@pytest.mark.parametrize("fps", [1e300, 241, 0.05])
def test_manifest_fps_no_video_file_can_hold_is_a_manifest_error(export_copy, fps):
    damage(export_copy, lambda m: m["video"].update(fps=fps))
    with pytest.raises(ManifestError, match=r'"fps" must be between 0\.1 and 240'):
        VideoGenerator(export_copy)


def test_generate_cli_says_when_the_manifest_fps_does_not_fit_a_gif(export_copy, tmp_path):
    damage(export_copy, lambda m: m["video"].update(fps=60))
    out = tmp_path / "v.gif"
    one_line_error(run_cli("generate", str(export_copy), "--num", "1", "--out", str(out)),
                   "plays at 60 fps (its manifest), but .gif files hold 0.1 to 50 fps: pass "
                   "--fps")
    assert not out.exists()
    result = run_cli("generate", str(export_copy), "--num", "1", "--fps", "50", "--out", str(out))
    assert result.returncode == 0, result.stderr
    result = run_cli("generate", str(export_copy), "--num", "1", "--out", str(tmp_path / "v.mp4"))
    assert result.returncode == 0, result.stderr


def test_generate_cli_counts_the_scaled_grid_against_the_memory_limit(tiny_export, tmp_path):
    # 16x16 clips of 8 frames: 2500 videos are 15 MiB, but their grid at --scale 8 is
    # 7216x7216 x 8 frames = 1.2 GiB, written with about 4x that.
    message = one_line_error(
        run_cli("generate", str(tiny_export["export"]), "--num", "2500", "--scale", "8",
                "--out", str(tmp_path / "v.mp4")),
        "--num 2500 --scale 8 makes a 7216x7216 grid of 8 frames")
    assert "lower --num, --scale or --frames, or write .npy" in message
    assert list(tmp_path.iterdir()) == []
