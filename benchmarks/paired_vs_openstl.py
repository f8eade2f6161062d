"""vidgen_tf's predictors against OpenSTL's PyTorch ones, timed in alternating blocks on one CPU.

The same protocol as `paired_vs_pytorch.py` (one worker process per side, ABBA blocks, the
median of per-round ratios). Both sides build the family at OpenSTL's Moving MNIST setting
(SimVP gSTA: hid_S 64, hid_T 512, N_S 4, N_T 8; PredRNN: 4 layers of 128, 5x5, patches of
4), untrained.

    python benchmarks/paired_vs_openstl.py train simvp --torch-python /tmp/torch/bin/python \\
        --openstl /tmp/openstl [--precision mixed_bfloat16] [--rounds 6] [--calls 2]
    python benchmarks/paired_vs_openstl.py predict predrnn --torch-python ... --openstl ... \\
        [--quantize int8]

`train` times one training step at batch 16 (10 context + 10 future frames, 64x64x1):
vidgen_tf's `model.fit` steps against OpenSTL's forward, MSE, backward and Adam step.
`predict` times one clip's 10 predicted frames: vidgen_tf's runtime (onnxruntime and the
numpy sampler, on an export of the untrained model; with --quantize int8, the int8 export of
a one-step run, calibrated on Moving MNIST) against OpenSTL's forward pass in eval
mode without gradients; `--export DIR` times an export made beforehand instead (its
family's `openstl_mmnist` preset). PyTorch lives in its own environment, given by
--torch-python, with what OpenSTL imports (numpy, scipy, timm, opencv-python-headless,
imageio, matplotlib, pytorch-lightning; timm needs torchvision, so torch==2.14.1 with
torchvision==0.29.1, installed after pytorch-lightning, which otherwise upgrades torch past
torchvision); OpenSTL is a checkout given by --openstl, never copied here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from paired_vs_pytorch import Worker, paired  # noqa: E402

_TRAIN_WORKER = """
import sys, time
from vidgen_tf.cli.tf_quiet import import_tensorflow
tf = import_tensorflow(False)
import keras, numpy as np
from vidgen_tf.models.registry import build_untrained, get_preset
from vidgen_tf.training.setup import set_precision
set_precision(sys.argv[2])
model = build_untrained(sys.argv[1], "openstl_mmnist")
model.compile()
video = np.random.default_rng(0).uniform(-1, 1, (16, 20, 64, 64, 1)).astype("float32")
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

_PREDICT_WORKER = """
import sys, time
import numpy as np
from vidgen_tf.runtime import VideoGenerator
generator = VideoGenerator(sys.argv[1], batch_size=1)
context = np.random.default_rng(0).integers(0, 256, (1, 10, 64, 64, 1), dtype=np.uint8)
feeds = generator.inputs(1, context=context)
for _ in range(3):
    generator.run(feeds)
print("ready", flush=True)
for line in sys.stdin:
    calls = int(line)
    start = time.perf_counter()
    for _ in range(calls):
        generator.run(feeds)
    print((time.perf_counter() - start) / calls, flush=True)
"""

# int8 calibrates on the run's data: a one-step run on Moving MNIST stands in for a trained one
# (the speed of a graph does not depend on its weights).
_EXPORT_INT8 = """
import subprocess, sys
from pathlib import Path
vidgen = str(Path(sys.executable).parent / "vidgen")
out = Path(sys.argv[2])
subprocess.run([vidgen, "train", "--model", sys.argv[1], "--preset", "openstl_mmnist",
                "--data", "moving_mnist", "--epochs", "1", "--steps-per-epoch", "1",
                "--precision", "float32", "--out", str(out / "run")], check=True)
subprocess.run([vidgen, "export", str(out / "run"), "--name", "openstl", "--quantize", "int8",
                "--saved-models-dir", str(out / "saved"), "--export-dir", str(out / "export")],
               check=True)
"""

_EXPORT_UNTRAINED = """
import sys
from pathlib import Path
from vidgen_tf.cli.tf_quiet import import_tensorflow
import_tensorflow(False)
from vidgen_tf.export.generator_export import export_generator
from vidgen_tf.models.registry import build_untrained
out = Path(sys.argv[2])
model = build_untrained(sys.argv[1], "openstl_mmnist")
model.compile()
model.save(out / "model.keras")
export_generator(out / "model.keras", "openstl", saved_models_dir=out / "saved",
                 export_dir=out / "export")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["train", "predict"])
    parser.add_argument("family", choices=["simvp", "predrnn"])
    parser.add_argument("--torch-python", required=True,
                        help="python of an environment with torch==2.13.0, numpy and timm")
    parser.add_argument("--openstl", required=True, help="a checkout of OpenSTL")
    parser.add_argument("--precision", default="float32",
                        help="train: float32 or mixed_bfloat16 (vidgen_tf's side)")
    parser.add_argument("--quantize", choices=["int8"], default=None,
                        help="predict: time vidgen_tf's int8 export (default float32)")
    parser.add_argument("--export", default=None, metavar="DIR",
                        help="predict: time this export of the family's openstl_mmnist preset "
                             "instead of exporting one here")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    parser.add_argument("--calls", type=int, default=2, help="calls per block (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads (default 2)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON last")
    args = parser.parse_args()
    if args.rounds < 1 or args.calls < 1:
        parser.error("--rounds and --calls must be >= 1")
    torch_command = [args.torch_python, str(HERE / "openstl_worker.py"), "--openstl",
                     args.openstl, "--threads", str(args.threads), "--serve", args.what,
                     args.family]
    with tempfile.TemporaryDirectory(prefix="vidgen_openstl_") as tmp:
        if args.what == "predict":
            export = args.export and Path(args.export)
            if export is None:
                print(f"exporting {args.family} openstl_mmnist ({args.quantize or 'float32'}) "
                      "...", file=sys.stderr, flush=True)
                subprocess.run([sys.executable, "-c", _EXPORT_INT8 if args.quantize else
                                _EXPORT_UNTRAINED, args.family, tmp], check=True,
                               stdout=subprocess.DEVNULL)
                export = Path(tmp) / "export" / "openstl"
            ours_command = [sys.executable, "-c", _PREDICT_WORKER, str(export)]
        else:
            ours_command = [sys.executable, "-c", _TRAIN_WORKER, args.family, args.precision]
        ours = Worker("vidgen_tf", ours_command)
        theirs = Worker("pytorch", torch_command)
        try:
            result = paired(ours, theirs, args.rounds, args.calls, pause=1.0)
        finally:
            ours.close()
            theirs.close()
    precision = args.precision if args.what == "train" else (args.quantize or "float32")
    if args.what == "predict" and args.export:
        graphs = json.loads((Path(args.export) / "manifest.json").read_text())["graphs"]
        precision = "/".join(sorted({graph["precision"] for graph in graphs.values()}))
    result.update(what=args.what, family=args.family, precision=precision)
    side = result["median_s"]
    print(f"{args.what} {args.family} ({precision}), {args.rounds} rounds of {args.calls} calls "
          f"each side: vidgen_tf {side['vidgen_tf']:.3g} s, OpenSTL {side['pytorch']:.3g} s per "
          f"call (medians); vidgen_tf / OpenSTL speed: median {result['median_ratio']:.2f}x, "
          f"quartiles {result['ratio_quartiles'][0]:.2f}-{result['ratio_quartiles'][1]:.2f}x")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
