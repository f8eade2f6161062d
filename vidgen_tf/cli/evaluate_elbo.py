"""`vidgen evaluate elbo`: a variational model's negative ELBO per frame on held-out clips, the
bound the papers compare likelihood models by."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError

# Not the training seed: the clips scored are not the training stream's first clips.
HELD_OUT_SEED = 20221
DEFAULT_NUM = 256


def add_parser(actions, common: argparse.ArgumentParser) -> None:
    elbo = actions.add_parser(
        "elbo", parents=[common], help="a variational model's negative ELBO per frame",
        description="The negative evidence lower bound (-ELBO) of a variational model on "
                    "held-out clips, per frame, in nats: the reconstruction's negative "
                    "log-likelihood plus KL(posterior || prior), each posterior drawn "
                    "--samples times (the mean of those single-draw bounds). Lower is "
                    "better. It needs the encoder, so it takes a run directory or a .keras "
                    "file, not an export. For tdvae, the bound of the paper per predicted "
                    "frame x_t2 given the belief at t1, one pair (t1, t1 + dt) per jump dt "
                    "and clip, also reported per jump.")
    elbo.add_argument("source", metavar="RUN_OR_KERAS",
                      help="a run directory or a .keras file of a variational model")
    elbo.add_argument("--data", default="shapes",
                      help="a built-in dataset (clips of another seed than training's) or a "
                           "folder of held-out videos (default shapes)")
    elbo.add_argument("--num", type=int, default=DEFAULT_NUM,
                      help=f"clips (default {DEFAULT_NUM})")
    elbo.add_argument("--samples", type=int, default=1,
                      help="posterior draws per clip (default 1)")
    elbo.add_argument("--batch-size", type=int, default=32, help="clips per call (default 32)")
    elbo.add_argument("--seed", type=int, default=0, help="seed of the posterior draws")
    elbo.add_argument("--json", action="store_true",
                      help="end with one JSON line: neg_elbo_per_frame, nll_per_frame, "
                           "kl_per_clip, clips, samples")
    elbo.set_defaults(run=run_elbo)


def run_elbo(args) -> int:
    for name in ("num", "samples", "batch_size"):
        if getattr(args, name) < 1:
            raise VidgenError(f"--{name.replace('_', '-')} must be >= 1; received "
                              f"{getattr(args, name)}")
    if args.seed < 0:
        raise VidgenError(f"--seed must be >= 0; received {args.seed}")
    path = Path(args.source)
    if (path / "manifest.json").is_file():
        raise VidgenError(f"{path} is an export, which holds the decoder alone; the ELBO needs "
                          "the encoder too: pass the run directory or its .keras file")
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    import_tensorflow(getattr(args, "verbose", False))
    from vidgen_tf.export.sources import resolve_source
    from vidgen_tf.models import load_model

    model_path, _ = resolve_source(path)
    model = load_model(model_path)
    if hasattr(model, "held_out_bound"):
        return report_pair_bound(args, path, model)
    if not hasattr(model, "losses_of") or getattr(model, "task", "") == "prediction":
        raise VidgenError(f"{path} holds a {type(model).__name__}, which has no ELBO: "
                          "`vidgen evaluate elbo` scores variational models (video_vae, "
                          "tdvae)")
    start = time.perf_counter()
    totals = {"nll": 0.0, "kl": 0.0}
    done = 0
    for video in clip_batches(args.data, model, args.num, args.batch_size):
        terms = batch_bound(model, video, args.samples, args.seed + done)
        for key in totals:
            totals[key] += terms[key] * len(video)
        done += len(video)
        print(f"\r{done}/{args.num} clips", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    nll, kl = totals["nll"] / done, totals["kl"] / done
    result = {"neg_elbo_per_frame": (nll + kl) / model.frames, "nll_per_frame": nll /
              model.frames, "kl_per_clip": kl, "clips": done, "samples": args.samples}
    print(f"{path}: -ELBO {result['neg_elbo_per_frame']:.2f} nats per frame (reconstruction "
          f"{result['nll_per_frame']:.2f} per frame, KL {kl:.2f} per clip) on {done} clips of "
          f"{args.data} ({model.frames} frames of {model.size}x{model.size}), {args.samples} "
          f"posterior draw(s) each ({time.perf_counter() - start:.0f} s)")
    if args.json:
        print(json.dumps(result))
    return 0


def report_pair_bound(args, path: Path, model) -> int:
    """TD-VAE's bound: on each held-out clip, one pair (t1, t1 + dt) per jump dt, drawn
    --samples times; the -ELBO is per predicted frame x_t2, reported overall and per jump."""
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    rows, done = [], 0
    for video in clip_batches(args.data, model, args.num, args.batch_size):
        if model.channels == 1 and video.shape[-1] == 3:
            video = video.mean(axis=-1, keepdims=True)  # grey, as training takes it
        for _ in range(args.samples):
            bound = model.held_out_bound(video, rng)
            rows.append((len(video), bound))
        done += len(video)
        print(f"\r{done}/{args.num} clips", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    weights = np.array([n for n, _ in rows], np.float64)

    def mean(key):
        return np.average(np.array([b[key] for _, b in rows]), axis=0, weights=weights)

    per_jump = mean("neg_elbo_per_jump")
    result = {"neg_elbo_per_frame": float(mean("neg_elbo")),
              "nll_per_frame": float(mean("nll")), "kl_per_frame": float(mean("kl")),
              "neg_elbo_per_jump": [round(float(v), 4) for v in per_jump], "clips": done,
              "samples": args.samples}
    jumps = ", ".join(f"dt={i + 1}: {v:.2f}" for i, v in enumerate(per_jump))
    print(f"{path}: -ELBO {result['neg_elbo_per_frame']:.2f} nats per predicted frame "
          f"(reconstruction {result['nll_per_frame']:.2f}, KL terms "
          f"{result['kl_per_frame']:.2f}) on {done} clips of {args.data} "
          f"({model.frames} frames of {model.size}x{model.size}), one pair per jump and clip, "
          f"{args.samples} draw(s) each ({time.perf_counter() - start:.0f} s)\n"
          f"per jump: {jumps}")
    if args.json:
        print(json.dumps(result))
    return 0


def batch_bound(model, video: np.ndarray, samples: int, seed: int) -> dict:
    """{"nll", "kl"}: the batch's mean reconstruction NLL and KL per clip, in nats, each the
    mean over `samples` posterior draws of standard normal noise from numpy seed `seed`."""
    rng = np.random.default_rng(seed)
    nll = kl = 0.0
    for _ in range(samples):
        noise = rng.standard_normal((len(video), model.z_dim)).astype(np.float32)
        terms = model.losses_of(video, noise, step=0, training=False)
        clip_kl = float(terms["kl"])
        nll += (float(terms["neg_elbo"]) * model.frames - clip_kl) / samples
        kl += clip_kl / samples
    return {"nll": nll, "kl": kl}


def clip_batches(data: str, model, num: int, batch_size: int):
    """float32 batches `(n, frames, size, size, channels)` in [-1, 1] of `num` held-out clips
    of `data`, framed as the model trains on them."""
    from vidgen_tf.data.pipeline import load_dataset, pipeline_error

    if not Path(data).is_dir():
        from vidgen_tf.data.builtin import BUILTIN_DATASETS

        if data not in BUILTIN_DATASETS:
            names = ", ".join(sorted(BUILTIN_DATASETS))
            raise VidgenError(f"--data must be a built-in dataset ({names}) or a folder of "
                              f"videos; received {data!r}")
    ds = load_dataset(data, frames=model.frames, size=model.size, seed=HELD_OUT_SEED,
                      num=num, split="test", shuffle=False, repeat=False,
                      batch_size=batch_size, drop_remainder=False)
    left, error = num, None
    try:
        for batch in ds:
            video = batch["video"].numpy()[:left]
            left -= len(video)
            yield video
            if not left:
                return
    except Exception as exc:  # the pipeline's own VidgenError, carried through TensorFlow
        error = pipeline_error(exc)
        if error is None:
            raise
    del ds
    if error is not None:
        raise error
