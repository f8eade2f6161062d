"""`vidgen bench generate`: videos/s of the runtime, its import time and peak memory.

The runtime is timed in this process (median over repeats after warm-up). The import time and
the peak memory of generating 16 videos are measured in a fresh Python process, as an app
would see them. With --compare (and --model) the same noise also goes through Keras `predict`
and the reloaded SavedModel, for the README's side-by-side table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from vidgen_tf.errors import VidgenError

PRECISIONS = ("float32", "int8")
# Top-level modules of the train extra that `--model` imports (building, exporting).
TRAIN_MODULES = ("tensorflow", "keras", "tf2onnx", "onnx")
MEMORY_VIDEOS = 16  # peak_rss_mb: a fresh process imports the runtime and generates this many

# Runs in a fresh interpreter: import time, then peak resident memory after generating.
_PROBE = """
import json, resource, sys, time
start = time.perf_counter()
from vidgen_tf.runtime import VideoGenerator
import_s = time.perf_counter() - start
generator = VideoGenerator(sys.argv[1])
given = {}
if "context" in generator.conditions:  # a predictor: random context clips at its size
    import numpy as np
    shape = generator.manifest["inputs"]["context"]["shape"]
    given["context"] = np.random.default_rng(0).integers(0, 256, (int(sys.argv[2]), *shape),
                                                         dtype=np.uint8)
video = generator.generate(int(sys.argv[2]), seed=0, **given)
assert video.dtype.name == "uint8" and video.shape[0] == int(sys.argv[2]), video.shape
try:  # VmHWM: this process's own peak. ru_maxrss can carry the parent's peak over the fork.
    with open("/proc/self/status") as status:
        peak_mb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
except OSError:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"import_s": import_s, "peak_rss_mb": peak_mb,
                  "tensorflow_imported": "tensorflow" in sys.modules}))
"""


def add_arguments(generate: argparse.ArgumentParser) -> None:
    generate.add_argument("path", metavar="PATH", nargs="?", default=None,
                          help="export directory (or give --model and --preset)")
    generate.add_argument("--model", default=None, help="family to export untrained")
    generate.add_argument("--preset", default=None, help="its preset")
    generate.add_argument("--precision", choices=PRECISIONS, default=None,
                          help="with --model: float32 (default) or int8 (`vidgen export "
                               "--quantize int8`); with PATH it must match the export")
    generate.add_argument("--quantize", dest="precision", choices=["int8"],
                          help=argparse.SUPPRESS)  # the export flag's name, accepted as well
    generate.add_argument("--batch-size", type=int, default=1, help="videos per call (default 1)")
    generate.add_argument("--calls", type=int, default=20,
                          help="timed calls per repeat (default 20)")
    generate.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    generate.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    generate.add_argument("--threads", type=int, default=None,
                          help="onnxruntime intra-op threads (default: one per core)")
    generate.add_argument("--compare", action="store_true",
                          help="with --model: also time Keras predict and the SavedModel on the "
                               "same noise")
    generate.add_argument("--json", action="store_true",
                          help="print one JSON object (videos_per_s, import_s, peak_rss_mb, ...) "
                               "as the last line")
    generate.set_defaults(run=run_generate)


def run_generate(args) -> int:
    for name in ("batch_size", "calls", "repeats"):
        if getattr(args, name) < 1:
            raise VidgenError(f"--{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(args, name)}")
    if args.warmup < 0:
        raise VidgenError(f"--warmup must be >= 0; received {args.warmup}")
    if args.threads is not None and args.threads < 1:
        raise VidgenError(f"--threads must be >= 1 (or left out for one per core); received "
                          f"{args.threads}")
    if args.path is None and args.model is None:
        raise VidgenError("nothing to time: give an export directory PATH, or --model (and "
                          "--preset) to time an untrained model of that shape")
    if args.path is not None and args.model is not None:
        raise VidgenError(f"give an export directory PATH or --model, not both; received "
                          f"{args.path} and --model {args.model}")
    if args.compare and args.model is None:
        raise VidgenError("--compare needs --model (Keras and the SavedModel come from the "
                          "untrained model that bench exports)")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vidgen_bench_") as tmp:
        if args.path:
            path, model = args.path, None
        else:
            path, model = _export_untrained(args, tmp)
        result = _time_runtime(path, args)
        result.update(_probe_fresh_process(path))
        if args.compare:
            result.update(_time_keras_and_savedmodel(model, path, args))
    _print(result, args)
    if args.json:
        print(json.dumps(result))
    return 0


def _print(result: dict, args) -> None:
    print(f"{result['name']} ({result['frames']}x{result['size']}x{result['size']}, "
          f"{result['precision']}, batch {args.batch_size}, {result['provider']}): "
          f"{result['videos_per_s']:.1f} videos/s (median of {args.repeats} x {args.calls} "
          f"calls after {args.warmup} warm-up); noise + uint8 add "
          f"{result['overhead_ms_per_video']:.2f} ms per video")
    print(f"fresh process: import vidgen_tf.runtime {result['import_s']:.3f} s; peak memory "
          f"generating {MEMORY_VIDEOS} videos {result['peak_rss_mb']:.0f} MB")
    if args.compare:
        print(f"same noise: Keras predict {result['keras_predict_videos_per_s']:.1f} videos/s, "
              f"SavedModel {result['savedmodel_videos_per_s']:.1f} videos/s")


def _export_untrained(args, tmp: str):
    """Save a freshly initialised model of --model/--preset and export it into `tmp`."""
    from pathlib import Path

    from vidgen_tf.cli.tf_quiet import import_tensorflow

    try:
        import_tensorflow(getattr(args, "verbose", False))
        from vidgen_tf.export.generator_export import export_generator
        from vidgen_tf.models.registry import build_untrained
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in TRAIN_MODULES:
            raise
        # A runtime-only install (numpy + onnxruntime + av) can time an export, not a model.
        raise VidgenError(f"--model needs the train extra ({exc}): pip install "
                          f"\"vidgen_tf[train]\", or give an export directory PATH instead of "
                          f"--model {args.model}") from exc

    model = build_untrained(args.model, args.preset)
    model.compile()  # built optimizers, so that loading it back restores them without warnings
    model.save(Path(tmp) / "model.keras")
    name = f"{args.model}_{args.preset or 'default'}"
    quantize = "int8" if args.precision == "int8" else None
    export_generator(Path(tmp) / "model.keras", name, saved_models_dir=Path(tmp) / "saved",
                     export_dir=Path(tmp) / "export", quantize=quantize)
    return str(Path(tmp) / "export" / name), model


def _median_seconds(call, args) -> tuple[float, list[float]]:
    for _ in range(args.warmup):
        call()
    per_call = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.calls):
            call()
        per_call.append((time.perf_counter() - start) / args.calls)
    return statistics.median(per_call), per_call


def _time_runtime(path: str, args) -> dict:
    from vidgen_tf.data.pixels import float_to_uint8
    from vidgen_tf.runtime import VideoGenerator

    generator = VideoGenerator(path, batch_size=args.batch_size, threads=args.threads)
    precision = next(iter(generator.manifest["graphs"].values())).get("precision", "float32")
    if args.path and args.precision and args.precision != precision:
        raise VidgenError(f"{path} is a {precision} export; --precision {args.precision} "
                          "applies to --model (export with `vidgen export --quantize int8`)")

    def inputs(seed: int) -> dict:
        if "context" not in generator.conditions:
            return generator.noise(args.batch_size, seed=seed)
        # A predictor: random uint8 context clips at the model's size, prepared as given.
        shape = generator.manifest["inputs"]["context"]["shape"]
        clips = np.random.default_rng(seed).integers(
            0, 256, (args.batch_size, *shape), dtype=np.uint8)
        return generator.inputs(args.batch_size, context=clips)

    feeds = inputs(0)
    median, per_call = _median_seconds(lambda: generator.run(feeds), args)
    start = time.perf_counter()
    for seed in range(args.calls):
        float_to_uint8(generator.run(inputs(seed)))
    overhead = (time.perf_counter() - start) / args.calls - median
    m = generator.manifest
    return {"name": m["name"], "path": str(path), "frames": m["video"]["frames"],
            "size": m["video"]["height"],
            "precision": precision, "batch_size": args.batch_size,
            "provider": generator.providers[0], "threads": args.threads,
            "videos_per_s": round(args.batch_size / median, 2),
            "median_call_s": round(median, 5), "repeats_call_s": [round(t, 5) for t in per_call],
            "overhead_ms_per_video": round(max(overhead, 0.0) * 1000 / args.batch_size, 3)}


def _probe_fresh_process(path: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(path), str(MEMORY_VIDEOS)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise VidgenError("the fresh-process probe (import + generate) failed: "
                          + (done.stderr.strip().splitlines() or ["no output"])[-1])
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    return {"import_s": round(probe["import_s"], 4), "peak_rss_mb": round(probe["peak_rss_mb"], 1),
            "memory_videos": MEMORY_VIDEOS,
            "runtime_imported_tensorflow": probe["tensorflow_imported"]}


def _time_keras_and_savedmodel(model, path: str, args) -> dict:
    """The same noise through Keras `predict` and the reloaded SavedModel's serving_default."""
    from pathlib import Path

    import tensorflow as tf

    from vidgen_tf.runtime import VideoGenerator

    noise = VideoGenerator(path).noise(args.batch_size, seed=0)
    generator = model.generator
    keras_s, _ = _median_seconds(
        lambda: generator.predict(noise, batch_size=args.batch_size, verbose=0), args)
    saved_dir = Path(path).parent.parent / "saved" / Path(path).name
    serving = tf.saved_model.load(str(saved_dir)).signatures["serving_default"]
    feeds = {k: tf.constant(v) for k, v in noise.items()}
    saved_s, _ = _median_seconds(lambda: serving(**feeds)["video"].numpy(), args)
    return {"keras_predict_videos_per_s": round(args.batch_size / keras_s, 2),
            "savedmodel_videos_per_s": round(args.batch_size / saved_s, 2)}
