"""A TD-VAE run's jumpy predictions of held-out Moving MNIST clips, as the GIF in
docs/variational.md: per clip, one row of the real frames at the jump times, and one row per
jump schedule of the frames TD-VAE predicts at those times without decoding the frames in
between.

    python benchmarks/tdvae_gif.py runs/tdvae docs/tdvae_jumps.gif [--num 4] [--seed 0]
        [--score 256] [--classifier PATH]

The context is the run's `context` frames of MMNIST-synthetic test clips (MNIST test
digits; one digit per clip for a run on `moving_mnist_1`). The schedules: one frame at a
time, and `max_jump` frames at a time, up to the same final time. It prints the MSE per
frame (pixels in [0, 1], summed over the frame) of each schedule at the times they share,
against the real frames and against repeating the last context frame.

With `--score N` (one-digit runs) it also says how often the predictions keep the digit
given: on N test clips, a small MNIST classifier (`vidgen_tf.metrics.digits`, trained once
and cached at `--classifier`) reads the digit in each predicted frame, cropped around its
centre of mass as MNIST frames digits, and the script prints the share read as the clip's
digit at each landing time, beside the share for the real frames at those times (how well
the crop and classifier read real digits).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def jump_times(jumps: list[int]) -> list[int]:
    """The times after the last context frame that `jumps` land on: their running sums."""
    return [int(t) for t in np.cumsum(jumps)]


def schedules(max_jump: int, horizon: int) -> dict[str, list[int]]:
    """{name: jumps}: single steps and jumps of `max_jump`, to the largest multiple of
    `max_jump` within `horizon`."""
    end = (horizon // max_jump) * max_jump
    return {"1 frame per jump": [1] * end,
            f"{max_jump} frames per jump": [max_jump] * (end // max_jump)}


def frame_mse(predicted: np.ndarray, target: np.ndarray) -> float:
    """MSE per frame of uint8 clips, pixels in [0, 1]: summed over each frame, averaged."""
    error = (predicted.astype(np.float64) - target.astype(np.float64)) / 255.0
    return float(np.square(error).sum(axis=(-3, -2, -1)).mean())


# A frame "looks like a digit" when the classifier gives one digit at least this probability.
CONFIDENT = 0.9


def kept_share(read: np.ndarray, labels: np.ndarray) -> list[float]:
    """Per landing time, the share of clips whose frame was read as the clip's digit:
    `read` int `(clips, times)`, `labels` int `(clips,)`."""
    return [float(v) for v in (np.asarray(read) == np.asarray(labels)[:, None]).mean(axis=0)]


def confident_share(probabilities: np.ndarray) -> float:
    """The share of frames whose most likely digit has probability >= `CONFIDENT`:
    `probabilities` `(..., 10)`."""
    return float((np.asarray(probabilities).max(axis=-1) >= CONFIDENT).mean())


def centre_error(predicted: np.ndarray, real: np.ndarray) -> np.ndarray:
    """The distance in pixels between the centres of mass (`centres_of_mass`) of predicted
    and real uint8 frames `(clips, times, height, width, channels)`: `(clips, times)`."""
    from vidgen_tf.metrics.digits import centres_of_mass

    def centres(frames):
        return centres_of_mass(frames[..., 0].reshape(-1, *frames.shape[2:4])).reshape(
            *frames.shape[:2], 2)

    return np.linalg.norm(centres(np.asarray(predicted)) - centres(np.asarray(real)), axis=-1)


def score_digits(model, plans: dict, num: int, seed: int, classifier_path: Path) -> None:
    """Print how often each schedule's predictions keep the clip's digit (see the module
    docstring), for `num` one-digit test clips."""
    from vidgen_tf.data.pixels import float_to_uint8, uint8_to_float
    from vidgen_tf.metrics.digits import digit_probabilities, load_digit_classifier
    from vidgen_tf.metrics.prediction import mmnist_test_source

    classifier = load_digit_classifier(classifier_path)
    source = mmnist_test_source(model.context, model.horizon, num, num_digits=1)
    clips = [source.clip(i) for i in range(num)]
    video = np.stack([c["video"][..., :1] for c in clips])
    labels = np.array([c["label"] for c in clips])
    context, future = video[:, :model.context], video[:, model.context:]

    def read(frames):  # (clips, times, h, w, 1) uint8 -> (clips, times, 10)
        return digit_probabilities(classifier, frames.reshape(-1, *frames.shape[2:])).reshape(
            *frames.shape[:2], 10)

    last = kept_share(read(context[:, -1:]).argmax(-1), labels)[0]
    print(f"digit kept, {num} test clips (share read as the clip's digit; the last given "
          f"frame: {last:.3f}); looks like a digit (share read with probability >= "
          f"{CONFIDENT})")
    for name, jumps in plans.items():
        landed = [t - 1 for t in jump_times(jumps)]
        predicted = float_to_uint8(model.jumpy_rollout(uint8_to_float(context), jumps,
                                                       seed=seed))
        guessed, truth = read(predicted), read(future[:, landed])
        kept, real = kept_share(guessed.argmax(-1), labels), kept_share(truth.argmax(-1), labels)
        place = centre_error(predicted, future[:, landed])
        still = centre_error(np.repeat(context[:, -1:], len(landed), axis=1), future[:, landed])
        print(f"  {name}: kept {np.mean(kept):.3f} (real frames {np.mean(real):.3f}); looks "
              f"like a digit {confident_share(guessed):.3f} (real frames "
              f"{confident_share(truth):.3f}); centre off by {place.mean():.2f} pixels")
        print("    frames ahead: " + " ".join(f"{t + 1:>5d}" for t in landed))
        print("    predicted:    " + " ".join(f"{v:5.3f}" for v in kept))
        print("    real:         " + " ".join(f"{v:5.3f}" for v in real))
        print("    centre off:   " + " ".join(f"{v:5.2f}" for v in place.mean(axis=0)))
        print("    copying last: " + " ".join(f"{v:5.2f}" for v in still.mean(axis=0)))


def run_digits(run: Path) -> int:
    """Digits per clip of the run's data: 1 for `moving_mnist_1`, else Moving MNIST's 2."""
    import json

    config = run / "config.json" if run.is_dir() else run.parent / "config.json"
    if config.is_file() and json.loads(config.read_text())["train"]["data"] == "moving_mnist_1":
        return 1
    return 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a tdvae run directory or .keras file")
    parser.add_argument("out")
    parser.add_argument("--num", type=int, default=4, help="test clips (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    parser.add_argument("--scale", type=int, default=2, help="pixel enlargement (default 2)")
    parser.add_argument("--score", type=int, default=0, metavar="N",
                        help="also score digit identity on N test clips (one-digit runs)")
    parser.add_argument("--classifier", type=Path,
                        default=Path.home() / ".cache" / "vidgen_tf" / "mnist_digits.keras",
                        help="the MNIST classifier's .keras file, trained there if missing")
    args = parser.parse_args()
    if args.score and run_digits(Path(args.run)) != 1:
        parser.error("--score reads one digit per frame: it needs a run on moving_mnist_1")

    from vidgen_tf.cli.tf_quiet import import_tensorflow

    import_tensorflow(False)
    from vidgen_tf.data.grid import video_grid
    from vidgen_tf.data.pixels import float_to_uint8, uint8_to_float
    from vidgen_tf.data.video_io import write_video
    from vidgen_tf.export.sources import resolve_source
    from vidgen_tf.metrics.prediction import mmnist_test_source
    from vidgen_tf.models import load_model

    model = load_model(resolve_source(Path(args.run))[0])
    plans = schedules(model.max_jump, model.horizon)
    source = mmnist_test_source(model.context, model.horizon, args.num,
                                num_digits=run_digits(Path(args.run)))
    clips = np.stack([source.clip(i)["video"][..., :1] for i in range(args.num)])
    context, future = clips[:, :model.context], clips[:, model.context:]
    rows, times = [], jump_times(next(iter(plans.values())))
    scores = {}
    for name, jumps in plans.items():
        predicted = float_to_uint8(model.jumpy_rollout(uint8_to_float(context), jumps,
                                                       seed=args.seed))
        landed = [t - 1 for t in jump_times(jumps)]
        shown = np.zeros((args.num, len(times), *predicted.shape[2:]), np.uint8)
        for k, t in enumerate(landed):
            shown[:, times.index(t + 1)] = predicted[:, k]  # blank where it jumps over
        rows.append(shown)
        scores[name] = frame_mse(predicted, future[:, landed])
        scores[f"copy last frame at the times of '{name}'"] = frame_mse(
            np.repeat(context[:, -1:], len(landed), axis=1), future[:, landed])
    real = future[:, [t - 1 for t in times]]
    cells = np.stack([row for clip in range(args.num)
                      for row in (real[clip], *(r[clip] for r in rows))])
    grid = video_grid(np.repeat(cells, 3, axis=-1), cols=1 + len(plans))
    grid = grid.repeat(args.scale, axis=1).repeat(args.scale, axis=2)
    write_video(Path(args.out), grid, fps=4)
    print(f"wrote {args.out}: {args.num} clips; columns: real, {', '.join(plans)}")
    for name, value in scores.items():
        print(f"  MSE per frame, {name}: {value:.2f}")
    if args.score:
        score_digits(model, plans, args.score, args.seed, args.classifier)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
