"""The thin runtime: TF-free, deterministic by seed, batched, and clear about bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_case import run_cli, run_python
from vidgen_tf.runtime import ManifestError, VideoGenerator
from vidgen_tf.runtime.manifest import file_sha256


def test_runtime_never_imports_tensorflow_or_keras(tiny_export):
    code = f"""
import json, sys
from vidgen_tf.runtime import VideoGenerator
video = VideoGenerator({str(tiny_export["export"])!r}).generate(2, seed=0)
from vidgen_tf.cli.main import main
assert main(["generate", {str(tiny_export["export"])!r}, "--num", "2", "--out",
             {str(tiny_export["export"].parent / "x.npy")!r}]) == 0
print(json.dumps({{"shape": list(video.shape),
                   "heavy": sorted(m for m in ("tensorflow", "keras", "tf2onnx")
                                   if m in sys.modules)}}))
"""
    assert run_python(code) == {"shape": [2, 8, 16, 16, 3], "heavy": []}


def test_same_seed_same_video_and_batching_does_not_change_it(tiny_export):
    one = VideoGenerator(tiny_export["export"], batch_size=1).generate(5, seed=7)
    many = VideoGenerator(tiny_export["export"], batch_size=8).generate(5, seed=7)
    np.testing.assert_array_equal(one, many)
    other = VideoGenerator(tiny_export["export"]).generate(5, seed=8)
    assert np.abs(one.astype(int) - other).max() > 10


def test_iter_generate_streams_bounded_batches(tiny_export):
    generator = VideoGenerator(tiny_export["export"], batch_size=3)
    parts = list(generator.iter_generate(7, seed=1))
    assert [len(p) for p in parts] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate(parts), generator.generate(7, seed=1))


def test_longer_clips_extend_the_trained_ones(tiny_export):
    # The motion GRU is causal: a 20-frame clip starts with the 8-frame clip of the same noise.
    generator = VideoGenerator(tiny_export["export"])
    short = generator.run(generator.noise(2, seed=4, frames=8))
    noise = generator.noise(2, seed=4, frames=20)
    noise["motion"][:, :8] = generator.noise(2, seed=4, frames=8)["motion"]
    long = generator.run(noise)
    assert long.shape[1] == 20
    np.testing.assert_allclose(long[:, :8], short, atol=1e-5)


def test_cpu_is_picked_when_cuda_does_not_load(tiny_export):
    generator = VideoGenerator(tiny_export["export"])
    assert generator.providers[-1] == "CPUExecutionProvider"
    assert VideoGenerator(tiny_export["export"], providers=["CPUExecutionProvider"]
                          ).providers == ["CPUExecutionProvider"]


def test_labels_by_id_and_name_and_their_errors(tiny_conditional_export, tiny_export):
    generator = VideoGenerator(tiny_conditional_export["export"])
    name = generator.class_names[5]
    np.testing.assert_array_equal(generator.generate(2, seed=0, label=5),
                                  generator.generate(2, seed=0, label=name))
    assert np.abs(generator.generate(2, seed=0, label=5).astype(int)
                  - generator.generate(2, seed=0, label=6)).max() > 0
    with pytest.raises(ValueError, match=r"label must be in \[0, 11\]"):
        generator.generate(1, label=12)
    with pytest.raises(ValueError, match="unknown label 'hexagon'"):
        generator.generate(1, label="hexagon")
    with pytest.raises(ValueError, match=r"does not take label= \(--label\); it takes no "
                                         r"condition \(it is unconditional\)"):
        VideoGenerator(tiny_export["export"]).generate(1, label=0)


@pytest.mark.parametrize("num", [0, -3, 2.5, True])
def test_bad_num_is_refused(tiny_export, num):
    with pytest.raises(ValueError, match="num must be an integer >= 1"):
        VideoGenerator(tiny_export["export"]).generate(num)


def test_absurdly_large_requests_are_refused_before_any_work(tiny_export, monkeypatch):
    generator = VideoGenerator(tiny_export["export"])
    monkeypatch.setattr(generator, "run", lambda inputs: pytest.fail("should not run"))
    with pytest.raises(ValueError, match=r"GiB.*iter_generate"):
        generator.generate(10**9)


def test_missing_and_malformed_manifests(export_copy, tmp_path):
    with pytest.raises(ManifestError, match="not an export directory"):
        VideoGenerator(tmp_path / "nowhere")
    manifest = export_copy / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2])
    with pytest.raises(ManifestError, match="not valid JSON"):
        VideoGenerator(export_copy)
    broken = json.loads(text)
    del broken["inputs"]
    manifest.write_text(json.dumps(broken))
    with pytest.raises(ManifestError, match='"inputs"'):
        VideoGenerator(export_copy)
    manifest.unlink()
    with pytest.raises(ManifestError, match=r"no manifest\.json"):
        VideoGenerator(export_copy)


def test_changed_or_unloadable_onnx_files(export_copy):
    model = export_copy / "model.onnx"
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match="does not match its manifest"):
        VideoGenerator(export_copy)
    # A file whose hash matches but which onnxruntime refuses.
    model.write_bytes(b"garbage")
    manifest = json.loads((export_copy / "manifest.json").read_text())
    manifest["graphs"]["generator"]["sha256"] = file_sha256(model)
    (export_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="onnxruntime cannot load"):
        VideoGenerator(export_copy)


def test_generate_cli_writes_each_format(tiny_export, tmp_path):
    for suffix in ("gif", "mp4", "npy"):
        out = tmp_path / f"v.{suffix}"
        result = run_cli("generate", str(tiny_export["export"]), "--num", "4", "--seed", "2",
                         "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 0 and "seed 2" in result.stdout
    array = np.load(tmp_path / "v.npy")
    np.testing.assert_array_equal(array, VideoGenerator(tiny_export["export"]).generate(4, seed=2))
    from vidgen_tf.data.video_io import read_video

    assert read_video(tmp_path / "v.gif").shape[0] == 8


def test_generate_cli_scale_enlarges_every_pixel(tiny_export, tmp_path):
    from vidgen_tf.data.grid import video_grid
    from vidgen_tf.data.video_io import read_video

    plain, big = tmp_path / "plain.mp4", tmp_path / "big.mp4"
    for out, scale in ((plain, "1"), (big, "3")):
        result = run_cli("generate", str(tiny_export["export"]), "--num", "4", "--seed", "2",
                         "--scale", scale, "--out", str(out))
        assert result.returncode == 0, result.stderr
    grid = video_grid(VideoGenerator(tiny_export["export"]).generate(4, seed=2))
    small, large = read_video(plain), read_video(big)
    assert small.shape == grid.shape
    assert large.shape == (grid.shape[0], grid.shape[1] * 3, grid.shape[2] * 3, 3)
    # Block means of the enlarged video match the plain one up to video compression.
    t, h, w, _ = small.shape
    blocks = large.reshape(t, h, 3, w, 3, 3).astype(np.float64).mean(axis=(2, 4))
    assert np.abs(blocks - small).mean() < 4.0


@pytest.mark.parametrize("args, message", [
    (["--num", "0"], "--num must be between 1"),
    (["--scale", "0"], "--scale must be between 1 and 8"),
    (["--out", "x.avi"], "--out must end in"),
    (["--label", "3"], "it takes no condition (it is unconditional)"),
    (["--frames", "0"], "frames must be an integer >= 1"),
    (["--frames", "100000"], "frames must be at most 128 (16 x the trained 8)"),
    (["--seed", "-1"], "seed must be None or an integer >= 0; received seed=-1"),
    (["--fps", "0"], "--fps must be a positive number; received 0"),
    (["--fps", "nan"], "--fps must be a positive number"),
    (["--fps", "150"], "--fps must be between 0.1 and 50 frames per second for .gif files"),
    (["--fps", "1e300"], "--fps must be between 0.1 and 50 frames per second for .gif files"),
    (["--out", "o.mp4", "--fps", "1e-9"], "--fps must be between 0.1 and 240 frames per second "
                                           "for .mp4 files"),
    (["--num", "10000", "--scale", "8"], "GiB of memory to write as"),
    (["--provider", "Bogus"], "unknown onnxruntime provider 'Bogus'; available here: "),
])
def test_generate_cli_errors_are_one_line(tiny_export, tmp_path, args, message):
    argv = ["generate", str(tiny_export["export"]), "--out", str(tmp_path / "o.gif"), *args]
    if "--out" in args:
        argv = ["generate", str(tiny_export["export"]), *args]
    result = run_cli(*argv)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("vidgen: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # no warnings, banners
    assert list(tmp_path.iterdir()) == []


def test_bench_generate_reports_videos_per_second_as_json(tiny_export):
    result = run_cli("bench", "generate", str(tiny_export["export"]), "--calls", "2",
                     "--repeats", "2", "--warmup", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["videos_per_s"] > 0 and report["frames"] == 8
    assert len(report["repeats_call_s"]) == 2
    # Import time and peak memory come from a fresh process that imported no TensorFlow.
    assert 0 < report["import_s"] < 5 and report["memory_videos"] == 16
    assert 50 < report["peak_rss_mb"] < 2000
    assert report["runtime_imported_tensorflow"] is False
    both = run_cli("bench", "generate", str(tiny_export["export"]), "--model", "mocogan")
    assert both.returncode == 2 and "not both" in both.stderr
    mismatch = run_cli("bench", "generate", str(tiny_export["export"]), "--precision", "int8")
    assert mismatch.returncode == 2 and "float32 export" in mismatch.stderr
    compare = run_cli("bench", "generate", str(tiny_export["export"]), "--compare")
    assert compare.returncode == 2 and "--compare needs --model" in compare.stderr


def test_bench_generate_compares_keras_predict_and_the_savedmodel():
    result = run_cli("bench", "generate", "--model", "mocogan", "--preset", "tiny", "--compare",
                     "--calls", "2", "--repeats", "1", "--warmup", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["precision"] == "float32"
    assert report["keras_predict_videos_per_s"] > 0 and report["savedmodel_videos_per_s"] > 0
