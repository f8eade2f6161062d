"""Export a trained generator: SavedModel + ONNX + manifest.json, verified, written atomically.

    saved_models/NAME/          SavedModel; serving signature takes the named noise inputs
                                (dynamic batch) and returns {"video": ...}
    export/NAME/model.onnx      the same graph for onnxruntime
    export/NAME/manifest.json   what the runtime needs, written last

Both folders are built under temporary names beside their destinations and renamed only after
every check passed: an interrupted or failed export leaves no directory the runtime accepts.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import os
import shutil
from pathlib import Path

import numpy as np

from vidgen_tf import __version__
from vidgen_tf.data.video_io import FPS_RANGES
from vidgen_tf.errors import VidgenError
from vidgen_tf.export.onnx_gru import recurrent_inputs, render_function, splice_grus
from vidgen_tf.export.sources import float32_generator, resolve_source
from vidgen_tf.noise import sample_noise
from vidgen_tf.runtime.manifest import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST_NAME,
    MAX_FPS,
    MIN_FPS,
    ONNX_NAME,
    OUTPUT_LAYOUT,
    file_sha256,
)

logger = logging.getLogger(__name__)

# Keras, the reloaded SavedModel and onnxruntime must agree to this (max abs, float32).
PARITY_TOLERANCE = 1e-4
DEFAULT_OPSET = 17
MAX_OPSET = 18  # tf2onnx 1.17 refuses newer opsets
PARITY_BATCH = 4
DEFAULT_FPS = 8.0
# What an export writes into each of its two folders; anything else there is not ours to delete.
SAVEDMODEL_ENTRIES = frozenset({"saved_model.pb", "fingerprint.pb", "variables", "assets"})
ONNX_ENTRIES = frozenset({MANIFEST_NAME, ONNX_NAME})
# Equivalent float32 graphs that export times on this machine, keeping the fastest
# (onnx_rewrite.rewrite_conv_transposes arguments): every upsampling layer as ConvTranspose,
# or the larger ones as phase Convs interleaved by DepthToSpace (NCHW) or in NHWC.
GRAPH_CANDIDATES = {"conv_transpose": {"min_input_size": 2**31},
                    "as_conv": {"interleave": "depth_to_space"},
                    "phase_nhwc": {"interleave": "channels_last"}}


class ExportError(VidgenError):
    """An export that failed a check; nothing was written."""


def input_signature(generator) -> list:
    """One named TensorSpec per noise input, sorted by name: dynamic batch (and frames)."""
    import tensorflow as tf

    specs = []
    for name, item in sorted(generator.noise_spec().items()):
        shape = [None, *item["shape"]]
        if item.get("time_axis") == 0:
            shape[1] = None
        specs.append(tf.TensorSpec(shape, item["dtype"], name=name))
    return specs


def serving_function(generator):
    """The generator in inference mode (BatchNorm on moving statistics) as a tf.function."""
    import tensorflow as tf

    signature = input_signature(generator)
    names = [spec.name for spec in signature]

    @tf.function(input_signature=signature)
    def serve(*inputs):
        return {"video": generator(dict(zip(names, inputs, strict=True)), training=False)}

    return serve, signature


def export_generator(source: str | os.PathLike, name: str, *,
                     saved_models_dir: str | os.PathLike = "saved_models",
                     export_dir: str | os.PathLike = "export", opset: int = DEFAULT_OPSET,
                     fps: float | None = None, quantize: str | None = None,
                     replace: bool = True) -> dict:
    """Export the generator of a run directory or `.keras` file; returns the manifest.

    An earlier export of the same name is replaced (atomically, and only once every check
    passed) unless `replace` is False; `existing_exports` tells which folders that would be.
    A folder in the way that is not an export is never replaced.

    Raises ExportError (and writes nothing) when onnxruntime cannot load the converted file or
    Keras, the SavedModel and onnxruntime disagree by more than `PARITY_TOLERANCE`.
    """
    check_export_options(name, opset=opset, fps=fps, quantize=quantize)
    existing_exports(name, saved_models_dir=saved_models_dir, export_dir=export_dir,
                     replace=replace)
    model_path, provenance = resolve_source(source)
    generator, trainer = float32_generator(model_path)
    saved_final = Path(saved_models_dir) / name
    export_final = Path(export_dir) / name
    with _staging(saved_final) as saved_tmp, _staging(export_final) as export_tmp:
        serve, signature = serving_function(generator)
        logger.info("writing SavedModel to %s", saved_final)
        _save_savedmodel(generator, serve, saved_tmp)
        logger.info("converting to ONNX (opset %d)", opset)
        onnx_path = export_tmp / ONNX_NAME
        grus = recurrent_inputs(generator)
        if grus:  # converted without its GRU, which is spliced back in as an ONNX GRU op
            _convert_onnx(*render_function(generator, signature, grus), opset, onnx_path)
        else:
            _convert_onnx(serve, signature, opset, onnx_path)
        graph_info = _rewrite_onnx(generator, onnx_path, for_int8=bool(quantize), grus=grus)
        parity = verify_parity(generator, saved_tmp, onnx_path)
        precision = "float32"
        if quantize:
            from vidgen_tf.export.quantize import quantize_int8

            parity["float32_onnx_sha256"] = file_sha256(onnx_path)
            parity.update(quantize_int8(generator, onnx_path))
            precision = quantize
        manifest = _manifest(name, generator, trainer, provenance, onnx_path, opset, parity,
                             precision, fps)
        manifest["onnx"].update(graph_info)
        from vidgen_tf.training.callbacks import write_json_atomic

        write_json_atomic(export_tmp / MANIFEST_NAME, manifest)
        # Checked again: the destinations may have changed while the export ran.
        for path in existing_exports(name, saved_models_dir=saved_models_dir,
                                     export_dir=export_dir, replace=replace):
            logger.info("replacing the earlier export %s", path)
        _commit(saved_tmp, saved_final)
        _commit(export_tmp, export_final)
    return manifest


# ---------------------------------------------------------------------- steps


def _save_savedmodel(generator, serve, path: Path) -> None:
    import tensorflow as tf

    module = tf.Module()
    module.generator = generator  # tracks the variables
    module.serve = serve
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})


def _convert_onnx(serve, signature, opset: int, path: Path) -> None:
    import tf2onnx

    try:
        tf2onnx.convert.from_function(serve, input_signature=signature, opset=opset,
                                      output_path=str(path))
    except Exception as exc:  # tf2onnx raises assorted errors for unsupported graphs
        raise ExportError(f"tf2onnx could not convert the generator: {exc}".splitlines()[0]
                          ) from exc


def _rewrite_onnx(generator, path: Path, for_int8: bool, grus: dict) -> dict:
    """Splice in the GRUs, fold inference BatchNorm into the convolutions, and pick the fastest
    of three equivalent graphs on this machine (GRAPH_CANDIDATES): upsampling layers as
    ConvTranspose, or rewritten as phase Convs interleaved by DepthToSpace or in NHWC
    (onnx_rewrite). Which wins depends on the CPU: the DepthToSpace rewrite won on a Xeon with
    AVX-512, and on AMD EPYCs, where onnxruntime's DepthToSpace is slow, the ConvTranspose graph
    or the NHWC rewrite. Returns what was chosen and the timings.

    With `for_int8`, the ConvTranspose graph only: quantize_int8 rebuilds the upsampling chain
    from it.
    """
    import onnx

    from vidgen_tf.export.onnx_rewrite import rewrite_conv_transposes

    noise = sample_noise(generator.noise_spec(), 2, seed=0)
    candidates = ({"conv_transpose": GRAPH_CANDIDATES["conv_transpose"]} if for_int8
                  else GRAPH_CANDIDATES)
    try:
        base = onnx.load(str(path))
        if grus:
            splice_grus(base, grus)
        built = {}
        for graph_name, limits in candidates.items():
            model = onnx.ModelProto()
            model.CopyFrom(base)
            count = rewrite_conv_transposes(model, noise, **limits)
            seconds = (None if len(candidates) == 1
                       else _seconds_per_video(model, sample_noise(generator.noise_spec(), 1,
                                                                   seed=0)))
            built[graph_name] = (model, count, seconds)
    except Exception as exc:  # onnxruntime refusing the converted graph lands here first
        raise ExportError(f"onnxruntime cannot load the converted model (tf2onnx wrote an "
                          f"invalid graph): {exc}".splitlines()[0]) from exc
    chosen = min(built, key=lambda k: built[k][2] or 0.0)
    model, count, _ = built[chosen]
    onnx.save(model, str(path))
    info = {"graph": chosen, "conv_transposes_rewritten_as_conv": count,
            "recurrent_ops": sorted(grus)}
    if len(built) > 1:
        info["graph_ms_per_video"] = {k: round(v[2] * 1000, 3) for k, v in built.items()}
    return info


def _seconds_per_video(model, noise: dict) -> float:
    """Median seconds of one onnxruntime call on one video (after warm-up)."""
    import statistics
    import time

    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, noise)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(3):
            session.run(None, noise)
        times.append((time.perf_counter() - start) / 3)
    return statistics.median(times)


def verify_parity(generator, saved_model_dir: Path, onnx_path: Path) -> dict:
    """Max abs differences of the SavedModel and onnxruntime against Keras on fixed noise.

    onnxruntime must load the file (tf2onnx writes an invalid graph when an op is not
    supported, and only logs an error). Models with a time axis are checked at the trained
    length and at a longer one.
    """
    import onnxruntime as ort
    import tensorflow as tf

    try:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ExportError(f"onnxruntime cannot load the converted model (tf2onnx wrote an "
                          f"invalid graph): {exc}".splitlines()[0]) from exc
    serving = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]
    spec = generator.noise_spec()
    lengths = [None]
    if any(item.get("time_axis") == 0 for item in spec.values()):
        lengths.append(generator.frames + generator.frames // 2)
    worst = {"savedmodel": 0.0, "onnxruntime": 0.0}
    for seed, frames in enumerate(lengths):
        noise = sample_noise(spec, PARITY_BATCH, seed=seed, frames=frames)
        expected = np.asarray(generator(noise, training=False))
        got = {
            "savedmodel": serving(**{k: tf.constant(v) for k, v in noise.items()})["video"],
            "onnxruntime": session.run(["video"], noise)[0],
        }
        for key, value in got.items():
            value = np.asarray(value)
            if value.shape != expected.shape:
                raise ExportError(f"{key} returned shape {value.shape}, Keras {expected.shape}")
            worst[key] = max(worst[key], float(np.max(np.abs(value - expected))))
    for key, diff in worst.items():
        if not diff <= PARITY_TOLERANCE:
            raise ExportError(f"{key} differs from Keras by {diff:.3g} (max abs) on fixed noise; "
                              f"the limit is {PARITY_TOLERANCE:g}. Nothing was written")
    return {"keras_vs_savedmodel": worst["savedmodel"],
            "keras_vs_onnxruntime": worst["onnxruntime"], "tolerance": PARITY_TOLERANCE,
            "checked_on": f"{PARITY_BATCH} clips of seeded noise, frames "
                          f"{[f or generator.frames for f in lengths]}"}


def _manifest(name, generator, trainer, provenance, onnx_path, opset, parity, precision,
              fps) -> dict:
    import keras
    import tensorflow as tf
    import tf2onnx

    inputs = {}
    for key, item in sorted(generator.noise_spec().items()):
        inputs[key] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in item.items()}
    resolved = provenance.get("resolved") or {}
    class_names = resolved.get("class_names") or []
    size = generator.size
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "family": (getattr(generator, "family", None) or type(trainer).__name__).lower(),
        "generator": type(generator).__name__,
        "generator_config": generator.get_config(),
        "frames": generator.frames,
        "variable_frames": any(item.get("time_axis") == 0 for item in inputs.values()),
        "height": size,
        "width": size,
        "channels": generator.channels,
        "fps": DEFAULT_FPS if fps is None else float(fps),
        "inputs": inputs,
        "num_classes": int(getattr(generator, "num_classes", 0) or 0),
        "class_names": list(class_names),
        "output": {"name": "video", "layout": OUTPUT_LAYOUT, "dtype": "float32",
                   "range": [-1.0, 1.0], "to_uint8": "round((x + 1) * 127.5), clipped"},
        "onnx": {"file": ONNX_NAME, "sha256": file_sha256(onnx_path),
                 "bytes": onnx_path.stat().st_size, "opset": opset, "precision": precision},
        "parity": parity,
        "provenance": {**provenance, "vidgen_tf": __version__, "tensorflow": tf.__version__,
                       "keras": keras.__version__, "tf2onnx": tf2onnx.__version__,
                       "exported_at": datetime.datetime.now(datetime.UTC).isoformat(
                           timespec="seconds")},
    }


# ---------------------------------------------------------------------- checks and atomic folders


def check_export_options(name: str, *, opset: int = DEFAULT_OPSET, fps: float | None = None,
                         quantize: str | None = None) -> None:
    """Raise VidgenError for a bad name, opset, fps or quantize value (cheap: no TensorFlow)."""
    _check_name(name)
    if not 13 <= opset <= MAX_OPSET:
        raise VidgenError(f"opset must be between 13 and {MAX_OPSET} (tf2onnx 1.17 with "
                          f"onnxruntime); received opset={opset}")
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise VidgenError(f"--fps must be a positive number of frames per second (for "
                          f"example --fps 8); received {fps:g}")
    if fps is not None and not MIN_FPS <= fps <= MAX_FPS:
        raise VidgenError(f"--fps must be between {MIN_FPS:g} and {MAX_FPS:g} frames per second "
                          f"(what `vidgen generate` can write: .gif up to "
                          f"{FPS_RANGES['.gif'][1]:g}, .mp4 up to {FPS_RANGES['.mp4'][1]:g}); "
                          f"received {fps:g}")
    if quantize not in (None, "int8"):
        raise VidgenError(f"quantize must be int8 (or omitted for float32); received {quantize!r}")


def _check_name(name: str) -> None:
    separators = {"/", "\\", os.sep, os.altsep} - {None}
    if (not name or not name.strip() or ".." in name or name.startswith(".")
            or any(sep in name for sep in separators) or "\0" in name):
        raise VidgenError(f"--name must be a plain folder name (not empty, no path separators, "
                          f"no '..', not starting with '.'); received {name!r}")
    if len(name.encode()) > 255:
        raise VidgenError(f"--name is too long for a folder name ({len(name.encode())} bytes, "
                          f"the limit is 255); choose a shorter one")


def existing_exports(name: str, *, saved_models_dir: str | os.PathLike = "saved_models",
                     export_dir: str | os.PathLike = "export", replace: bool = True
                     ) -> list[Path]:
    """The folders of an earlier export named `name` that exporting again would replace.

    Raises VidgenError when something in the way is not an earlier export (a file, or a folder
    holding anything an export does not write): replacing it would lose data. With
    `replace=False`, an earlier export is an error too.
    """
    found = []
    for final, allowed, marker, what in (
            (Path(saved_models_dir) / name, SAVEDMODEL_ENTRIES, "saved_model.pb", "SavedModel"),
            (Path(export_dir) / name, ONNX_ENTRIES, MANIFEST_NAME, "ONNX export")):
        if not final.exists() and not final.is_symlink():
            continue
        if final.is_symlink() or not final.is_dir():
            raise VidgenError(f"{final} exists and is not a plain folder (a file or a link); "
                              "nothing was replaced: move it away or choose another --name")
        entries = {entry.name for entry in final.iterdir()}
        if not entries:
            continue  # an empty folder: nothing to lose, nothing worth reporting
        foreign = sorted(entries - allowed)
        if foreign or marker not in entries:
            reason = (f"it holds {', '.join(foreign[:3])}" if foreign else f"it has no {marker}")
            raise VidgenError(f"{final} is in the way and is not an earlier {what} ({reason}); "
                              "nothing was replaced: move it away or choose another --name")
        found.append(final)
    if found and not replace:
        raise VidgenError(f"an export named {name!r} already exists ("
                          f"{' and '.join(str(p) for p in found)}); choose another --name, or "
                          "drop --no-replace to replace it")
    return found


@contextlib.contextmanager
def _staging(final: Path):
    """A fresh temporary folder beside `final`, removed unless it was committed."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _commit(tmp: Path, final: Path) -> None:
    """Rename `tmp` to `final`, replacing an older export of the same name."""
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
