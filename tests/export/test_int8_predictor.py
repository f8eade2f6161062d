"""`vidgen export --quantize int8` of a predictor: its graph calibrated on the run's data as it
flows through the rollout, and close to the float32 export of the same weights."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from tests.test_case import run_cli
from vidgen_tf.errors import VidgenError
from vidgen_tf.export.generator_export import export_generator
from vidgen_tf.runtime import VideoGenerator


@pytest.fixture(scope="module")
def predictor_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("int8") / "run"
    result = run_cli("train", "--model", "convlstm", "--preset", "tiny", "--data", "shapes",
                     "--epochs", "1", "--steps-per-epoch", "3", "--out", str(run))
    assert result.returncode == 0, result.stderr
    return run


def test_a_recurrent_predictor_quantizes_its_step_graph_close_to_float32(predictor_run,
                                                                         tmp_path):
    dirs = {"saved_models_dir": tmp_path / "s", "export_dir": tmp_path / "e"}
    export_generator(predictor_run, "f32", **dirs)
    manifest = export_generator(predictor_run, "q", quantize="int8", **dirs)
    step = manifest["parity"]["graphs"]["step"]
    assert step["int8_method"] == "qdq_static" and "clips of shapes" in step["int8_calibration"]
    assert manifest["graphs"]["step"]["precision"] == "int8"
    ops = {node.op_type for node in onnx.load(str(tmp_path / "e" / "q" / "step.onnx")).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    context = np.random.default_rng(0).integers(0, 256, (4, 4, 16, 16, 1), dtype=np.uint8)
    f32 = VideoGenerator(tmp_path / "e" / "f32").generate(context=context, frames=8)
    q = VideoGenerator(tmp_path / "e" / "q").generate(context=context, frames=8)
    assert q.shape == f32.shape == (4, 8, 16, 16, 1)
    difference = np.abs(q.astype(int) - f32.astype(int))
    assert difference.mean() < 3.0 and step["int8_mean_pixel_error"] < 3.0


def test_a_predictor_without_its_run_cannot_be_calibrated(predictor_run, tmp_path):
    with pytest.raises(VidgenError, match="calibrates on its training data"):
        export_generator(predictor_run / "model.keras", "q", quantize="int8",
                         saved_models_dir=tmp_path / "s", export_dir=tmp_path / "e")
    assert not (tmp_path / "e" / "q").exists() and not (tmp_path / "s" / "q").exists()
