"""A predictor export's forecasts of MMNIST-synthetic test clips, as the GIFs in
docs/prediction.md: the real clips on top, the context then the prediction below (predicted
frames framed in red), and the MSE per frame of those clips by blocks of ten frames.

    python benchmarks/prediction_gif.py export/predict_mmnist docs/predict_mmnist.gif \\
        [--num 4] [--frames H] [--scale 2] [--data stochastic_mnist] [--samples S]

With `--samples S` (a stochastic export such as export/svg_smmnist) each clip gets S
predictions, from seeds 0..S-1, one row each below the real clips, and the MSE is the best
of the S per clip. `--data stochastic_mnist` takes the clips from the SM-MNIST test set.

The prediction runs through the TensorFlow-free runtime (`VideoGenerator.generate(context=...)`),
as an app would run it. `--frames` defaults to the export's trained horizon; a recurrent
export may roll out further.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def block_mse(predicted: np.ndarray, target: np.ndarray, block: int = 10) -> list[float]:
    """MSE per frame (pixels in [0, 1], summed over the frame, averaged over frames and clips)
    of uint8 clips `(n, frames, h, w, c)`, for each block of `block` frames."""
    error = (predicted.astype(np.float64) - target.astype(np.float64)) / 255.0
    per_frame = np.square(error).sum(axis=(2, 3, 4)).mean(axis=0)
    return [float(per_frame[i:i + block].mean()) for i in range(0, len(per_frame), block)]


def best_per_clip(predictions: list[np.ndarray], target: np.ndarray) -> np.ndarray:
    """Per clip, the prediction with the lowest MSE over all its frames."""
    stacked = np.stack(predictions).astype(np.float64)
    error = np.square(stacked - target.astype(np.float64)).mean(axis=(2, 3, 4, 5))
    chosen = error.argmin(axis=0)
    return np.stack([predictions[k][i] for i, k in enumerate(chosen)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("out")
    parser.add_argument("--num", type=int, default=4, help="test clips (default 4)")
    parser.add_argument("--frames", type=int, default=None,
                        help="frames to predict (default: the export's trained horizon)")
    parser.add_argument("--scale", type=int, default=2, help="pixel enlargement (default 2)")
    parser.add_argument("--data", default="moving_mnist", choices=("moving_mnist",
                                                                    "stochastic_mnist"))
    parser.add_argument("--samples", type=int, default=1,
                        help="predictions per clip, from seeds 0.. (default 1)")
    args = parser.parse_args()

    from vidgen_tf.data.grid import video_grid
    from vidgen_tf.data.pixels import uint8_to_float
    from vidgen_tf.data.video_io import write_video
    from vidgen_tf.metrics.prediction import (
        iter_test_batches,
        mmnist_test_source,
        smmnist_test_source,
    )
    from vidgen_tf.runtime import VideoGenerator
    from vidgen_tf.training.prediction_samples import truth_beside_prediction

    manifest = json.loads((Path(args.export) / "manifest.json").read_text())
    context_frames = manifest["inputs"]["context"]["shape"][0]
    horizon = args.frames or manifest["dims"]["frames"]["default"]
    test_source, name = {"moving_mnist": (mmnist_test_source, "MMNIST-synthetic"),
                         "stochastic_mnist": (smmnist_test_source, "SM-MNIST")}[args.data]
    source = test_source(context_frames, horizon, num=args.num)
    context, target = next(iter_test_batches(source, context_frames, args.num))
    generator = VideoGenerator(args.export)
    predictions = [generator.generate(context=context, frames=horizon, seed=seed)
                   for seed in range(args.samples)]
    rows = []
    for predicted in predictions:
        cells = truth_beside_prediction(uint8_to_float(context), uint8_to_float(target),
                                        uint8_to_float(predicted))
        rows = rows or [cells[0::2]]
        rows.append(cells[1::2])
    # Truths on the top row, one row of predictions per seed below.
    cells = np.concatenate(rows)
    cells = cells.repeat(args.scale, axis=2).repeat(args.scale, axis=3)
    write_video(args.out, video_grid(cells, cols=args.num), fps=4)
    best = best_per_clip(predictions, target)
    blocks = ", ".join(f"{m:.1f}" for m in block_mse(best, target))
    kind = f"best of {args.samples} per clip, " if args.samples > 1 else ""
    print(f"wrote {args.out}: {args.num} {name} test clips, {context_frames} given, "
          f"{horizon} predicted; MSE per frame ({kind}by ten-frame block): {blocks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
