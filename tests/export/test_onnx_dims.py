"""ONNX graphs name their dynamic axes as the manifest does ("batch", "frames", "tokens"), not
tf2onnx's "unk__139": in new exports, in the shipped ones, and after `refresh_export`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from vidgen_tf.export.onnx_convert import name_dims
from vidgen_tf.export.refresh import refresh_export
from vidgen_tf.runtime import load_manifest
from vidgen_tf.runtime.manifest import file_sha256

EXPORTS = Path(__file__).resolve().parents[2] / "export"
SHIPPED = sorted(p.name for p in EXPORTS.iterdir() if (p / "manifest.json").is_file())


def assert_axes_named_as_the_manifest(export: Path) -> None:
    manifest = load_manifest(export)
    assert manifest["graphs"], manifest
    for graph in manifest["graphs"].values():
        assert_graph_axes_named(export, graph, manifest.get("dims", {}))


def assert_graph_axes_named(export: Path, graph: dict, dims: dict) -> None:
    session = ort.InferenceSession(str(export / graph["file"]),
                                   providers=["CPUExecutionProvider"])
    got = {a.name: list(a.shape) for a in [*session.get_inputs(), *session.get_outputs()]}
    assert not [n for n, shape in got.items() if any("unk__" in str(d) for d in shape)], got
    # A dynamic axis has the manifest's name; a fixed one its size (a model of fixed length,
    # such as a DCGAN, may fix "frames", whose bounds then say that size).
    fixed = {name: b["min"] for name, b in dims.items() if b["min"] == b["max"]}
    declared = {**graph["inputs"], **graph["outputs"]}
    assert set(got) == set(declared)
    for name, shape in got.items():
        assert [d if isinstance(d, str) or not isinstance(w, str) else w
                for d, w in zip(shape, declared[name], strict=True)] == declared[name], got
        assert all(d == fixed[w] for d, w in zip(shape, declared[name], strict=True)
                   if isinstance(w, str) and isinstance(d, int)), got


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_exports_name_their_axes(name):
    assert_axes_named_as_the_manifest(EXPORTS / name)


def test_new_exports_name_their_axes(tiny_export, tiny_conditional_export):
    # tf2onnx calls them unk__N; the exporter renames them before hashing the file.
    assert_axes_named_as_the_manifest(tiny_export["export"])
    assert_axes_named_as_the_manifest(tiny_conditional_export["export"])


def _tiny_model() -> onnx.ModelProto:
    """x (unk__1, unk__2, 3) -> y = 2 x, with a fixed last axis."""
    node = helper.make_node("Mul", ["x", "two"], ["y"])
    two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                    ["unk__1", "unk__2", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["unk__3", "unk__4", 3])],
        [two])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_name_dims_renames_dynamic_axes_only():
    model = _tiny_model()
    before = model.SerializeToString()
    # A declared integer never replaces a dynamic axis, nor a name a fixed one.
    shapes = {"x": ["batch", "frames", "channels"], "y": ["batch", 7, 3]}
    assert name_dims(model, shapes) == 3
    dims = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*model.graph.input, *model.graph.output]}
    assert dims == {"x": ["batch", "frames", 3], "y": ["batch", "unk__4", 3]}
    assert name_dims(model, shapes) == 0  # already named
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    outputs = [ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
               for m in (before, model.SerializeToString())]
    assert outputs[0].tobytes() == outputs[1].tobytes() == (2 * x).tobytes()


def test_refresh_export_gives_the_shipped_files_back(tmp_path):
    # The shipped label export, put back as tf2onnx wrote it (unk__ axes) with the sentences
    # vidgen_tf 0.1.9 wrote under "sampling": refreshing it gives the shipped ONNX bytes and
    # sampling field again, and a second refresh changes nothing.
    shipped = EXPORTS / "mocogan_shapes_label"
    old = shutil.copytree(shipped, tmp_path / "old")
    model = onnx.load(str(old / "model.onnx"))
    for k, value in enumerate([*model.graph.input, *model.graph.output]):
        for i, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.dim_param:
                dim.dim_param = f"unk__{100 + 10 * k + i}"
    onnx.save(model, str(old / "model.onnx"))
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["graphs"]["generator"].update(sha256=file_sha256(old / "model.onnx"))
    manifest["sampling"] = {"rng": "numpy.random.default_rng(seed)",
                            "order": "the inputs that have a 'distribution', in sorted name "
                                     "order, each drawn for the whole batch at once"}
    del manifest["provenance"]["refreshed"]
    (old / "manifest.json").write_text(json.dumps(manifest))

    changes = refresh_export(old)
    assert len(changes) == 2
    assert "label ['unk__110']" in changes[0] and "-> content ['batch', 50], label ['batch']" \
        in changes[0]
    assert (old / "model.onnx").read_bytes() == (shipped / "model.onnx").read_bytes()
    refreshed = json.loads((old / "manifest.json").read_text())
    expected = json.loads((shipped / "manifest.json").read_text())
    assert refreshed["sampling"] == expected["sampling"]
    assert refreshed["graphs"]["generator"]["sha256"] == file_sha256(shipped / "model.onnx")
    assert refreshed["graphs"]["generator"]["bytes"] == (shipped / "model.onnx").stat().st_size
    assert refreshed["provenance"]["refreshed"][0]["changes"] == changes
    assert refresh_export(old) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]  # no staging folder left
