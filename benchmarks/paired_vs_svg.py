"""vidgen_tf's SVG-LP against the official PyTorch SVG-LP, timed in alternating blocks on one CPU.

The same protocol as `paired_vs_pytorch.py` (one worker process per side, ABBA blocks, the
median of per-round ratios). Both sides train SVG-LP at `train_svg_lp.py`'s SM-MNIST setting:
5 context + 10 future frames of 64x64x1, DCGAN 64 encoder and decoder, g_dim 128, z_dim 10,
LSTMs of 256 (predictor 2 layers, prior and posterior 1), beta 1e-4, Adam 2e-3; untrained, on
one random in-memory batch. vidgen_tf's side is the `svg` family's `cpu_smmnist` preset (the
paper's networks) stepped by `model.fit`; the official side is `svg_worker.py`, which builds
the networks from a checkout of github.com/edenton/svg and steps them as the script's
`train(x)` does (see that file for the two adaptations it needs on a CPU).

    python benchmarks/paired_vs_svg.py --torch-python /tmp/torch/bin/python \\
        --svg /tmp/svg_official [--precision mixed_bfloat16] [--rounds 6] [--calls 2] \\
        [--batch-size 16] [--threads 2] [--json]

The batch defaults to `cpu_smmnist`'s 16 (the paper trains with 100: --batch-size 100). Both
sides run with --threads intra-op threads (default: the cores this process may use). The
output names the CPU and its bf16 instructions, since mixed_bfloat16 is fast only with them.

The official side needs its own environment and a checkout, neither part of this repository:

    python3.11 -m venv /tmp/torch && /tmp/torch/bin/pip install torch numpy
    git clone https://github.com/edenton/svg /tmp/svg_official

(PyPI's torch brings CUDA libraries, 5.5 GB in all; `--index-url
https://download.pytorch.org/whl/cpu` gives the CPU-only wheel where that index is reachable.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from paired_vs_pytorch import Worker, paired  # noqa: E402

_TRAIN_WORKER = """
import sys, time
from vidgen_tf.cli.tf_quiet import import_tensorflow
tf = import_tensorflow(False)
tf.config.threading.set_intra_op_parallelism_threads(int(sys.argv[3]))
import keras, numpy as np
from vidgen_tf.models.registry import build_untrained
from vidgen_tf.training.setup import set_precision
set_precision(sys.argv[1])
model = build_untrained("svg", "cpu_smmnist")
model.compile()
batch = int(sys.argv[2])
video = np.random.default_rng(0).uniform(-1, 1, (batch, 15, 64, 64, 1)).astype("float32")
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
steps(2)
print("ready", flush=True)
for line in sys.stdin:
    print(steps(int(line)), flush=True)
"""

# The CPU flags that decide whether mixed_bfloat16 runs natively.
_BF16_FLAGS = ("avx512_bf16", "amx_bf16", "avx_vnni")


def cpu_description(cpuinfo: str) -> str:
    """The CPU's model name and its bf16-related flags, from the text of /proc/cpuinfo."""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name") or "unknown CPU"
    flags = set(fields.get("flags", "").split())
    present = [flag for flag in _BF16_FLAGS if flag in flags]
    return f"{name} ({', '.join(present) if present else 'no bf16 instructions'})"


def this_cpu() -> str:
    try:
        return cpu_description(Path("/proc/cpuinfo").read_text())
    except OSError:
        import platform

        return platform.processor() or "unknown CPU"


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", required=True,
                        help="python of an environment with torch and numpy")
    parser.add_argument("--svg", required=True, help="a checkout of github.com/edenton/svg")
    parser.add_argument("--precision", default="float32",
                        help="vidgen_tf's side: float32 (default) or mixed_bfloat16")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="clips per step, both sides (default 16, cpu_smmnist's)")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    parser.add_argument("--calls", type=int, default=2, help="steps per block (default 2)")
    parser.add_argument("--threads", type=int, default=_usable_cores(),
                        help="intra-op threads, both sides (default: the usable cores)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON last")
    args = parser.parse_args()
    for name in ("rounds", "calls", "batch_size", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1; received "
                         f"{getattr(args, name)}")
    if args.precision not in ("float32", "mixed_bfloat16"):
        parser.error(f"--precision must be float32 or mixed_bfloat16; received "
                     f"{args.precision!r}")
    models = Path(args.svg) / "models"
    if not ((models / "lstm.py").is_file() and (models / "dcgan_64.py").is_file()):
        parser.error(f"--svg must be a checkout of github.com/edenton/svg (with models/lstm.py "
                     f"and models/dcgan_64.py); received {args.svg}")

    torch_command = [args.torch_python, str(HERE / "svg_worker.py"), "--svg", args.svg,
                     "--threads", str(args.threads), "--batch", str(args.batch_size), "--serve"]
    ours_command = [sys.executable, "-c", _TRAIN_WORKER, args.precision, str(args.batch_size),
                    str(args.threads)]
    theirs = Worker("pytorch", torch_command)  # the quicker start: a bad path fails first
    try:
        ours = Worker("vidgen_tf", ours_command)
        try:
            result = paired(ours, theirs, args.rounds, args.calls, pause=1.0)
        finally:
            ours.close()
    finally:
        theirs.close()
    cpu = this_cpu()
    result.update(what="train", family="svg", precision=args.precision,
                  batch_size=args.batch_size, threads=args.threads, cpu=cpu)
    side = result["median_s"]
    print(f"train svg ({args.precision}, batch {args.batch_size}, {args.threads} threads) on "
          f"{cpu}, {args.rounds} rounds of {args.calls} steps each side: vidgen_tf "
          f"{side['vidgen_tf']:.3g} s, official SVG-LP {side['pytorch']:.3g} s per step "
          f"(medians); vidgen_tf / SVG-LP speed: median {result['median_ratio']:.2f}x, "
          f"quartiles {result['ratio_quartiles'][0]:.2f}-{result['ratio_quartiles'][1]:.2f}x")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
