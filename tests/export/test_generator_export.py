"""Export: SavedModel + ONNX + manifest agree with Keras, and a failed export writes nothing."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_cli
from vidgen_tf.data.pixels import float_to_uint8
from vidgen_tf.data.shapes import ShapesDataset
from vidgen_tf.errors import VidgenError
from vidgen_tf.export import generator_export, manifest_v2, parity
from vidgen_tf.export.generator_export import ExportError, export_generator
from vidgen_tf.export.sources import float32_generator
from vidgen_tf.models.dcgan3d import VideoDCGAN
from vidgen_tf.models.vgan import VGAN
from vidgen_tf.noise import sample_noise
from vidgen_tf.runtime import VideoGenerator
from vidgen_tf.runtime.manifest import file_sha256


def keras_generator(run_dir):
    """The run's generator in float32 (the fixtures train with --precision auto: bf16 here)."""
    return float32_generator(run_dir / "model.keras")[0]


def test_manifest_describes_inputs_output_provenance_and_parity(tiny_conditional_export):
    manifest = json.loads((tiny_conditional_export["export"] / "manifest.json").read_text())
    assert manifest["family"] == "mocogan"
    assert manifest["format_version"] == 2
    video = manifest["video"]
    assert (video["frames"], video["height"], video["width"]) == (8, 16, 16)
    assert manifest["dims"]["frames"] == {"default": 8, "min": 1, "max": 128}
    assert manifest["inputs"]["motion"] == {"role": "noise", "shape": ["frames", 4],
                                            "dtype": "float32", "distribution": "normal"}
    label = manifest["inputs"]["label"]
    assert (label["role"], label["num_classes"], label["optional"]) == ("label", 12, True)
    assert label["class_names"] == list(ShapesDataset().class_names)
    assert manifest["output"]["layout"] == "(batch, frames, height, width, channels)"
    graph = manifest["graphs"]["generator"]
    assert graph["sha256"] == file_sha256(tiny_conditional_export["export"] / "model.onnx")
    assert graph["inputs"] == {"content": ["batch", 8], "label": ["batch"],
                               "motion": ["batch", "frames", 4]}
    assert graph["outputs"] == {"video": ["batch", "frames", 16, 16, 3]}
    assert manifest["sampler"] == {"name": "single_pass",
                                   "params": {"graph": "generator", "output": "video"}}
    sampling = manifest["sampling"]
    assert sampling["generator"] == "numpy.random.default_rng(seed)"
    assert sampling["order"] == ["content", "label", "motion"]
    assert sampling["draws"]["label"]["code"] == "rng.integers(0, 12, size=(num,)).astype('int32')"
    assert sampling["defaults"] == {"frames": 8}
    assert manifest["provenance"]["epochs"] == 1
    assert manifest["provenance"]["train_config"]["steps_per_epoch"] == 2
    parity = manifest["parity"]["graphs"]["generator"]
    assert 0 <= parity["keras_vs_onnxruntime"] <= 1e-4
    assert 0 <= parity["keras_vs_savedmodel"] <= 1e-4
    assert (parity["output_scale"], parity["tolerance"]) == (1.0, 1e-4)  # a tanh video
    assert 0 <= manifest["parity"]["end_to_end"]["max_abs"] <= 1e-4


def test_savedmodel_serves_named_inputs_with_dynamic_batch_like_keras(tiny_conditional_export):
    generator = keras_generator(tiny_conditional_export["run_dir"])
    serving = tf.saved_model.load(str(tiny_conditional_export["saved_model"])
                                  ).signatures["serving_default"]
    for batch in (1, 5):
        noise = sample_noise(generator.noise_spec(), batch, seed=batch)
        got = serving(**{k: tf.constant(v) for k, v in noise.items()})["video"].numpy()
        np.testing.assert_allclose(got, generator(noise, training=False), atol=1e-5)


def test_runtime_equals_keras_inference_mode_within_uint8_rounding(tiny_conditional_export):
    generator = keras_generator(tiny_conditional_export["run_dir"])
    runtime = VideoGenerator(tiny_conditional_export["export"])
    videos = runtime.generate(6, seed=3, label=4, frames=11)
    noise = sample_noise(generator.noise_spec(), 6, seed=3, labels=4, frames=11)
    expected = float_to_uint8(generator(noise, training=False))
    assert videos.shape == (6, 11, 16, 16, 3) and videos.dtype == np.uint8
    assert np.abs(videos.astype(int) - expected).max() <= 1
    # Inference mode: BatchNorm's moving statistics, not the batch's, went into the export.
    training_mode = float_to_uint8(generator(noise, training=True))
    assert np.abs(videos.astype(int) - training_mode).max() > 1


def test_a_mixed_bfloat16_model_exports_in_float32(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = VideoDCGAN(frames=8, size=16, z_dim=8, base_filters=8)
        gan.build()
        gan.save(tmp_path / "bf16.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    generator, _ = float32_generator(tmp_path / "bf16.keras")
    assert {layer.compute_dtype for layer in generator._flatten_layers()} == {"float32"}
    manifest = export_generator(tmp_path / "bf16.keras", "bf16", export_dir=tmp_path / "e",
                                saved_models_dir=tmp_path / "s")
    assert manifest["graphs"]["generator"]["precision"] == "float32"
    assert manifest["parity"]["graphs"]["generator"]["keras_vs_onnxruntime"] <= 1e-4


@pytest.mark.parametrize("trainer", [
    lambda: VideoDCGAN(frames=8, size=16, z_dim=8, base_filters=8),
    lambda: VGAN(frames=8, size=16, z_dim=8, base_filters=8),
], ids=["dcgan3d", "vgan"])
def test_every_family_exports_with_parity(tmp_path, trainer):
    gan = trainer()
    gan.build()
    gan.save(tmp_path / "m.keras")
    manifest = export_generator(tmp_path / "m.keras", "m", export_dir=tmp_path / "e",
                                saved_models_dir=tmp_path / "s")
    assert manifest["dims"]["frames"] == {"default": 8, "min": 8, "max": 8}
    assert manifest["parity"]["graphs"]["generator"]["keras_vs_onnxruntime"] <= 1e-4
    videos = VideoGenerator(tmp_path / "e" / "m").generate(2, seed=0)
    assert videos.shape == (2, 8, 16, 16, 3)


def test_failed_parity_writes_nothing_and_keeps_the_previous_export(tiny_export, tmp_path,
                                                                    monkeypatch):
    export_dir, saved_dir = tmp_path / "export", tmp_path / "saved"
    export_generator(tiny_export["run_dir"], "m", export_dir=export_dir,
                     saved_models_dir=saved_dir)
    before = file_sha256(export_dir / "m" / "model.onnx")
    monkeypatch.setattr(parity, "PARITY_TOLERANCE", -1.0)
    with pytest.raises(ExportError, match="differs from Keras"):
        export_generator(tiny_export["run_dir"], "m", export_dir=export_dir,
                         saved_models_dir=saved_dir)
    assert sorted(p.name for p in export_dir.iterdir()) == ["m"]
    assert sorted(p.name for p in saved_dir.iterdir()) == ["m"]
    assert file_sha256(export_dir / "m" / "model.onnx") == before


def test_the_parity_limit_grows_with_outputs_beyond_one():
    # Outputs within [-1, 1] (a tanh video) keep the absolute 1e-4; a predictor's linear
    # frames or a step's memories that reach 30 may differ by 30 times that.
    assert parity.parity_limit(0.0) == parity.PARITY_TOLERANCE == 1e-4
    assert parity.parity_limit(0.7) == 1e-4
    assert parity.parity_limit(30.0) == pytest.approx(3e-3)


def test_an_onnx_file_onnxruntime_refuses_fails_the_export(tiny_export, tmp_path, monkeypatch):
    def write_invalid(serve, signature, opset, path):
        path.write_bytes(b"not an onnx graph")

    monkeypatch.setattr(generator_export, "convert_onnx", write_invalid)
    with pytest.raises(ExportError, match="onnxruntime cannot load"):
        export_generator(tiny_export["run_dir"], "m", export_dir=tmp_path / "e",
                         saved_models_dir=tmp_path / "s")
    assert list((tmp_path / "e").iterdir()) == [] and list((tmp_path / "s").iterdir()) == []


def test_interrupted_export_leaves_no_directory(tiny_export, tmp_path, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(manifest_v2, "build_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        export_generator(tiny_export["run_dir"], "m", export_dir=tmp_path / "e",
                         saved_models_dir=tmp_path / "s")
    assert list((tmp_path / "e").iterdir()) == [] and list((tmp_path / "s").iterdir()) == []


def test_bad_sources_and_names_are_clear_errors(tmp_path):
    with pytest.raises(VidgenError, match="neither a run directory"):
        export_generator(tmp_path / "missing.keras", "m")
    with pytest.raises(VidgenError, match=r"no model\.keras and no checkpoint"):
        export_generator(tmp_path, "m")
    with pytest.raises(VidgenError, match="plain folder name"):
        export_generator(tmp_path, "../m")
    (tmp_path / "junk.keras").write_bytes(b"junk")
    with pytest.raises(VidgenError, match=r"cannot load"):
        export_generator(tmp_path / "junk.keras", "m")


def test_cli_export_prints_parity_and_errors_in_one_line(tiny_export, tmp_path):
    result = run_cli("export", str(tiny_export["run_dir"]), "--name", "cli",
                     "--export-dir", str(tmp_path / "e"), "--saved-models-dir",
                     str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    assert "parity vs Keras" in result.stdout
    assert (tmp_path / "e" / "cli" / "manifest.json").is_file()
    result = run_cli("export", str(tmp_path / "nothing"), "--name", "x")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    result = run_cli("export", str(tiny_export["run_dir"]), "--name", "x", "--opset", "21")
    assert result.returncode == 2 and "opset must be between 13 and 18" in result.stderr
