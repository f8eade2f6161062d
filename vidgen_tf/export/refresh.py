"""Bring an existing export up to date in place, without re-exporting: its ONNX graphs' dynamic
axes get the manifest's names, and its manifest states the sampling procedure as data.

    python -m vidgen_tf.export.refresh export/mocogan_shapes export/mocogan_shapes_label ...

What changes, and only that:

- each graph's inputs and outputs: "batch", "frames", "tokens" in place of tf2onnx's
  "unk__N" (`onnx_convert.name_dims`); the graph's "sha256" and "bytes" in the manifest
  follow. Before a file is replaced, the new model with its old names put back must
  serialize to the old file's bytes, and onnxruntime must give bit-identical outputs on
  seeded inputs: nothing else moved;
- "sampling" becomes the structured field (`vidgen_tf.runtime.sampling`), which states the
  procedure the runtime always followed: the same seed gives the same videos;
- "provenance.refreshed" records when, by which vidgen_tf, and what changed.

A version-1 manifest stays version 1 (its "onnx" entry takes the new hash). The folder is
rebuilt beside the export and swapped in at once (`folders.staging`, `folders.commit`). An
export that is already up to date is left untouched. TensorFlow is not imported: numpy, onnx
and onnxruntime.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import shutil
from pathlib import Path

import numpy as np

from vidgen_tf.export.folders import commit, staging
from vidgen_tf.export.onnx_convert import ExportError, name_dims
from vidgen_tf.runtime.manifest import MANIFEST_NAME, check_files, check_manifest, file_sha256
from vidgen_tf.runtime.sampling import sampling_spec

VERIFY_CLIPS = 3


def refresh_export(export_dir: str | os.PathLike) -> list[str]:
    """Refresh `export_dir` in place (see the module docstring); returns what changed, [] when
    it was up to date. ExportError (and nothing written) when a check fails."""
    import onnx

    from vidgen_tf import __version__

    export_dir = Path(export_dir)
    raw = json.loads((export_dir / MANIFEST_NAME).read_text())
    manifest = check_manifest(raw, export_dir / MANIFEST_NAME)
    check_files(manifest, export_dir)
    changes, models = [], {}
    for name, graph in manifest["graphs"].items():
        path = export_dir / graph["file"]
        model = onnx.load(str(path))
        before = _io_dims(model)
        if name_dims(model, {**graph["inputs"], **graph["outputs"]}):
            _check_only_names_changed(model, before, path.read_bytes(), path)
            models[name] = model
            changes.append(f"{graph['file']}: named the dynamic axes "
                           f"{_shown(before)} -> {_shown(_io_dims(model))}")
    new = copy.deepcopy(raw)
    sampling = sampling_spec(manifest["inputs"], manifest["dims"])
    if raw.get("sampling") != sampling:
        new["sampling"] = sampling
        changes.append("sampling: the procedure stated as data (generator, order, draws)")
    if not changes:
        return []
    with staging(export_dir) as tmp:
        for entry in export_dir.iterdir():
            shutil.copy2(entry, tmp / entry.name)
        for name, model in models.items():
            graph = manifest["graphs"][name]
            onnx.save(model, str(tmp / graph["file"]))
            _check_same_outputs(manifest, name, export_dir / graph["file"], tmp / graph["file"])
            entry = new["onnx"] if raw["format_version"] == 1 else new["graphs"][name]
            entry.update(sha256=file_sha256(tmp / graph["file"]),
                         bytes=(tmp / graph["file"]).stat().st_size)
        new.setdefault("provenance", {}).setdefault("refreshed", []).append({
            "vidgen_tf": __version__, "changes": changes,
            "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")})
        (tmp / MANIFEST_NAME).write_text(json.dumps(new, indent=2, sort_keys=True) + "\n")
        check_files(check_manifest(new, tmp / MANIFEST_NAME), tmp)  # what the runtime accepts
        commit(tmp, export_dir)
    return changes


def _io_dims(model) -> dict[str, list]:
    return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in [*model.graph.input, *model.graph.output]}


def _shown(dims: dict[str, list]) -> str:
    return ", ".join(f"{name} {shape}" for name, shape in dims.items())


def _check_only_names_changed(model, before: dict, original: bytes, path: Path) -> None:
    """The renamed model with its old axis names put back is the original file, byte for
    byte."""
    restored = copy.deepcopy(model)
    for value in [*restored.graph.input, *restored.graph.output]:
        for dim, old in zip(value.type.tensor_type.shape.dim, before[value.name], strict=True):
            if isinstance(old, str):
                dim.dim_param = old
    if restored.SerializeToString() != original:
        raise ExportError(f"{path}: renaming the axes would change more than their names; "
                          "nothing was written")


def _check_same_outputs(manifest: dict, graph: str, old: Path, new: Path) -> None:
    """onnxruntime gives bit-identical outputs for the old and the new file on seeded
    inputs, at the trained clip length and (when it may change) at 1.5 times it."""
    import onnxruntime as ort

    from vidgen_tf.export.parity import check_lengths
    from vidgen_tf.export.spec import ExportSpec, example_inputs

    spec = ExportSpec(inputs=manifest["inputs"], dims=manifest["dims"], graphs={},
                      sampler=manifest["sampler"])
    sessions = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
                for path in (old, new)]
    names = list(manifest["graphs"][graph]["inputs"])
    for seed, frames in enumerate(check_lengths(spec)):
        feeds = example_inputs(spec, VERIFY_CLIPS, seed=seed, frames=frames)
        feeds = {k: feeds[k] for k in names}
        before, after = (session.run(None, feeds) for session in sessions)
        for a, b in zip(before, after, strict=True):
            if a.shape != b.shape or a.tobytes() != b.tobytes():
                raise ExportError(f"{new.name}: onnxruntime gives other outputs after "
                                  f"renaming the axes (max abs {np.max(np.abs(a - b)):.3g}); "
                                  "nothing was written")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vidgen_tf.export.refresh",
        description="Refresh export folders in place: named ONNX axes, the sampling field.")
    parser.add_argument("paths", nargs="+", metavar="EXPORT_DIR")
    args = parser.parse_args(argv)
    for path in args.paths:
        changes = refresh_export(path)
        print(f"{path}: " + ("; ".join(changes) if changes else "up to date"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
