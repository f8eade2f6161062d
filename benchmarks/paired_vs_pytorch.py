"""vidgen_tf against the official PyTorch MoCoGAN, timed in alternating blocks on one CPU.

On a shared VM the speed of the machine drifts by 10-25% between minutes, so two benchmarks
run one after the other can disagree by more than the difference they measure. This script
keeps one worker process per side alive (vidgen_tf here, `pytorch_mocogan_reference.py --serve`
in a Python that has torch) and times them in alternating blocks, ABBA order, never both at
once. Each round gives a ratio of the two sides measured within seconds of each other; the
median of those ratios is the figure to compare with a speed target.

    python benchmarks/paired_vs_pytorch.py generate --torch-python /tmp/torch/bin/python \\
        [--export EXPORT_DIR] [--precision int8] [--rounds 15] [--calls 20]
    python benchmarks/paired_vs_pytorch.py train --torch-python /tmp/torch/bin/python \\
        [--precision float32] [--rounds 8] [--calls 3]

`generate` times the runtime's onnxruntime call (batch 1) on EXPORT_DIR, or on an untrained
MoCoGAN paper_64 generator exported to a temporary folder, against PyTorch's eager
`sample_videos(1)`. `train` times one MoCoGAN paper_64 training iteration (`model.fit`
steps, as `vidgen bench train`) against PyTorch's (image-D, video-D and G steps). Run it from
a vidgen_tf environment with the `train` extra; PyTorch (`torch==2.13.0 numpy`) lives in its
own environment, given by --torch-python.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# The vidgen_tf side, run in a fresh interpreter: the same protocol as the PyTorch worker.
_GENERATE_WORKER = """
import sys, time
from vidgen_tf.runtime import VideoGenerator
generator = VideoGenerator(sys.argv[1])
noise = generator.noise(1, seed=0)
for _ in range(5):
    generator.run(noise)
print("ready", flush=True)
for line in sys.stdin:
    calls = int(line)
    start = time.perf_counter()
    for _ in range(calls):
        generator.run(noise)
    print((time.perf_counter() - start) / calls, flush=True)
"""

_TRAIN_WORKER = """
import sys, time
from vidgen_tf.cli.tf_quiet import import_tensorflow
tf = import_tensorflow(False)
import keras, numpy as np
from vidgen_tf.models.registry import build_untrained, get_preset
from vidgen_tf.training.setup import set_precision
set_precision(sys.argv[1])
model = build_untrained("mocogan", "paper_64")
model.compile()
batch = get_preset("mocogan", "paper_64")["batch_size"]
video = np.random.default_rng(0).uniform(-1, 1, (batch, 16, 64, 64, 3)).astype("float32")
data = tf.data.Dataset.from_tensors({"video": video}).repeat()

class StepTimer(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        self.start = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        float(next(iter(logs.values())))  # wait for the step's results
        self.times.append(time.perf_counter() - self.start)

timer = StepTimer()
def steps(count):
    timer.times = []
    model.fit(data, epochs=1, steps_per_epoch=count, callbacks=[timer], verbose=0)
    return sum(timer.times) / count
steps(3)
print("ready", flush=True)
for line in sys.stdin:
    print(steps(int(line)), flush=True)
"""

_EXPORT_UNTRAINED = """
import sys
from pathlib import Path
from vidgen_tf.cli.tf_quiet import import_tensorflow
import_tensorflow(False)
from vidgen_tf.export.generator_export import export_generator
from vidgen_tf.models.registry import build_untrained
out = Path(sys.argv[1])
model = build_untrained("mocogan", "paper_64")
model.compile()
model.save(out / "model.keras")
export_generator(out / "model.keras", "paper_64", saved_models_dir=out / "saved",
                 export_dir=out / "export", quantize=sys.argv[2] if sys.argv[2] != "float32"
                 else None)
"""


class Worker:
    """A process that answers "N" with the mean seconds of N calls."""

    def __init__(self, name: str, command: list[str]):
        self.name, self.command = name, command
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, text=True)
        except OSError as exc:
            raise SystemExit(f"cannot start the {name} worker ({exc}); check the interpreter "
                             f"path: {command[0]}") from exc
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.process.kill()
            raise SystemExit(f"the {name} worker did not start (said {line!r}); run its "
                             f"command alone to see why: {' '.join(command)}")

    def time(self, calls: int) -> float:
        try:
            self.process.stdin.write(f"{calls}\n")
            self.process.stdin.flush()
            return float(self.process.stdout.readline())
        except (OSError, ValueError) as exc:
            raise SystemExit(f"the {self.name} worker stopped mid-run; run its command alone "
                             f"to see why: {' '.join(self.command)}") from exc

    def close(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:  # it already stopped
            pass
        self.process.wait()


def paired(ours: Worker, theirs: Worker, rounds: int, calls: int, pause: float) -> dict:
    """Alternate blocks of `calls` (ABBA order); per round, theirs / ours seconds per call."""
    times = {ours.name: [], theirs.name: []}
    for index in range(rounds):
        order = (ours, theirs) if index % 2 == 0 else (theirs, ours)
        for worker in order:
            time.sleep(pause)  # let the other side's spinning threads go to sleep
            times[worker.name].append(worker.time(calls))
            print(f"  round {index + 1}/{rounds}: {worker.name} {times[worker.name][-1]:.4f} "
                  "s per call", file=sys.stderr, flush=True)
    ratios = [t / o for o, t in zip(times[ours.name], times[theirs.name], strict=True)]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return {"rounds": rounds, "calls_per_block": calls,
            "seconds_per_call": {k: [round(t, 5) for t in v] for k, v in times.items()},
            "median_s": {k: round(statistics.median(v), 5) for k, v in times.items()},
            "ratios": [round(r, 3) for r in ratios],
            "median_ratio": round(statistics.median(ratios), 3),
            "ratio_quartiles": [round(quartiles[0], 3), round(quartiles[-1], 3)]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["generate", "train"])
    parser.add_argument("--torch-python", required=True,
                        help="python of an environment with torch==2.13.0 and numpy")
    parser.add_argument("--export", default=None,
                        help="generate: export directory (default: untrained paper_64)")
    parser.add_argument("--precision", default="float32",
                        help="generate: float32 or int8 (with no --export); train: float32 "
                             "or mixed_bfloat16")
    parser.add_argument("--rounds", type=int, default=None,
                        help="alternating rounds (default 15 generate, 8 train)")
    parser.add_argument("--calls", type=int, default=None,
                        help="calls per block (default 20 generate, 3 train)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON last")
    args = parser.parse_args()
    rounds = args.rounds or (15 if args.what == "generate" else 8)
    calls = args.calls or (20 if args.what == "generate" else 3)
    if rounds < 1 or calls < 1:
        parser.error("--rounds and --calls must be >= 1")

    torch_command = [args.torch_python, str(HERE / "pytorch_mocogan_reference.py"),
                     "--threads", str(args.threads), "--serve", args.what]
    with tempfile.TemporaryDirectory(prefix="vidgen_paired_") as tmp:
        if args.what == "generate":
            export = args.export
            if export is None:
                print(f"exporting an untrained paper_64 generator ({args.precision}) ...",
                      file=sys.stderr, flush=True)
                subprocess.run([sys.executable, "-c", _EXPORT_UNTRAINED, tmp, args.precision],
                               check=True, stdout=subprocess.DEVNULL)
                export = str(Path(tmp) / "export" / "paper_64")
            ours_command = [sys.executable, "-c", _GENERATE_WORKER, export]
        else:
            ours_command = [sys.executable, "-c", _TRAIN_WORKER, args.precision]
        ours = Worker("vidgen_tf", ours_command)
        theirs = Worker("pytorch", torch_command)
        try:
            result = paired(ours, theirs, rounds, calls, pause=0.2 if calls > 1 else 1.0)
        finally:
            ours.close()
            theirs.close()
    precision = args.precision
    if args.export:  # the export's own precision, whatever --precision said
        from vidgen_tf.runtime.manifest import load_manifest

        precision = load_manifest(args.export)["graphs"]["generator"]["precision"]
    result.update(what=args.what, precision=precision, export=args.export)
    unit = "videos/s" if args.what == "generate" else "s per iteration"
    side = {k: (1 / v if args.what == "generate" else v) for k, v in result["median_s"].items()}
    print(f"{args.what} ({precision}), {rounds} rounds of {calls} calls each side: "
          f"vidgen_tf {side['vidgen_tf']:.3g} {unit}, PyTorch {side['pytorch']:.3g} {unit} "
          f"(medians); vidgen_tf / PyTorch speed: median {result['median_ratio']:.2f}x, "
          f"quartiles {result['ratio_quartiles'][0]:.2f}-{result['ratio_quartiles'][1]:.2f}x")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
