"""A predictor export's forecasts of MMNIST-synthetic test clips, as the GIFs in
docs/prediction.md: the real clips on top, the context then the prediction below (predicted
frames framed in red), and the MSE per frame of those clips by blocks of ten frames.

    python benchmarks/prediction_gif.py export/predict_mmnist docs/predict_mmnist.gif \\
        [--num 4] [--frames H] [--scale 2]

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export")
    parser.add_argument("out")
    parser.add_argument("--num", type=int, default=4, help="test clips (default 4)")
    parser.add_argument("--frames", type=int, default=None,
                        help="frames to predict (default: the export's trained horizon)")
    parser.add_argument("--scale", type=int, default=2, help="pixel enlargement (default 2)")
    args = parser.parse_args()

    from vidgen_tf.data.grid import video_grid
    from vidgen_tf.data.pixels import uint8_to_float
    from vidgen_tf.data.video_io import write_video
    from vidgen_tf.metrics.prediction import iter_test_batches, mmnist_test_source
    from vidgen_tf.runtime import VideoGenerator
    from vidgen_tf.training.prediction_samples import truth_beside_prediction

    manifest = json.loads((Path(args.export) / "manifest.json").read_text())
    context_frames = manifest["inputs"]["context"]["shape"][0]
    horizon = args.frames or manifest["dims"]["frames"]["default"]
    source = mmnist_test_source(context_frames, horizon, num=args.num)
    context, target = next(iter_test_batches(source, context_frames, args.num))
    predicted = VideoGenerator(args.export).generate(context=context, frames=horizon)
    cells = truth_beside_prediction(uint8_to_float(context), uint8_to_float(target),
                                    uint8_to_float(predicted))
    # Truths on the top row, predictions below.
    cells = np.concatenate([cells[0::2], cells[1::2]])
    cells = cells.repeat(args.scale, axis=2).repeat(args.scale, axis=3)
    write_video(args.out, video_grid(cells, cols=args.num), fps=4)
    blocks = ", ".join(f"{m:.1f}" for m in block_mse(predicted, target))
    print(f"wrote {args.out}: {args.num} MMNIST-synthetic test clips, {context_frames} given, "
          f"{horizon} predicted; MSE per frame by ten-frame block: {blocks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
