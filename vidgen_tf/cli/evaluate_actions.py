"""`vidgen evaluate actions`: whether an action-conditioned export moves the shape the way its
actions say, on held-out `shapes_actions` clips, beside the same score of the real clips (the
evaluator's check) and of the model given the wrong actions (whether the actions steer)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError

DEFAULT_NUM = 200
# Not the training seed: the clips scored are not the training stream's first clips.
HELD_OUT_SEED = 20221


def add_parser(actions, common: argparse.ArgumentParser) -> None:
    from vidgen_tf.metrics.actions import MIN_MOVE

    parser = actions.add_parser(
        "actions", parents=[common], help="whether an action-conditioned export follows its "
                                          "actions",
        description="Score an action-conditioned export (trained with --condition actions on "
                    "shapes_actions) on --num held-out shapes_actions clips at its size: it is "
                    "given each clip's first frame and the clip's actions, and every stretch of "
                    "one action counts as followed when the shape's centre (the brightness-"
                    "weighted centroid of the lit pixels) moves at least --min-move pixels per "
                    "move the commanded way (left, right, up, down, the dominant axis and "
                    "sign). Printed beside it: the same score of the real clips (the check of "
                    "the evaluator itself: about 100%), and of the model given the actions "
                    "rotated (left -> up -> right -> down -> left), scored against the clip's "
                    "actions: low when the actions really steer the model, equal to the first "
                    "score when it ignores them. A shape that moves at random follows about "
                    "25% of the segments.")
    parser.add_argument("export", metavar="EXPORT", help="an export directory (run by "
                                                         "onnxruntime)")
    parser.add_argument("--num", type=int, default=DEFAULT_NUM,
                        help=f"held-out clips (default {DEFAULT_NUM})")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the model's noise (default 0); the clips are always "
                             f"those of seed {HELD_OUT_SEED}")
    parser.add_argument("--min-move", type=float, default=MIN_MOVE, metavar="PX",
                        help=f"least travel per move, in pixels (default {MIN_MOVE}; the data "
                             "moves 0.63 px or more at 32x32 and 16 frames)")
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line: model, real, rotated (fractions), "
                             "followed and segments (counts), clips, per_action")
    parser.set_defaults(run=run_actions)


def run_actions(args) -> int:
    from vidgen_tf.data.shapes_actions import ACTION_NAMES, MIN_FRAMES, ShapesActions
    from vidgen_tf.metrics.actions import ROTATED, FollowScores, follows_actions

    if args.num < 1:
        raise VidgenError(f"--num must be >= 1; received {args.num}")
    if args.seed < 0:
        raise VidgenError(f"--seed must be >= 0; received {args.seed}")
    if not args.min_move >= 0:
        raise VidgenError(f"--min-move must be >= 0 pixels; received {args.min_move}")
    generator, context, channels = _action_generator(Path(args.export))
    size, horizon = generator.manifest["video"]["height"], generator.frames
    # The model's ids for the data's actions, and for their rotation (the wrong command).
    names = list(generator.manifest["inputs"][_actions_input(generator)]["action_names"])
    to_model = np.array([names.index(name) for name in ACTION_NAMES], np.int32)
    rotate = np.array([ACTION_NAMES.index(ROTATED[name]) for name in ACTION_NAMES], np.int32)

    # The data has at least MIN_FRAMES frames; a shorter model sees their beginning.
    data = ShapesActions(frames=max(context + horizon, MIN_FRAMES), size=size,
                         seed=HELD_OUT_SEED, num=args.num)
    start = time.perf_counter()
    clips = [data[i] for i in range(args.num)]
    videos = np.stack([c["video"][:context + horizon] for c in clips])
    # Move t takes frame t to t + 1; the model's action k makes predicted frame k, the move
    # from frame context - 1 + k.
    moves = np.stack([c["actions"][context - 1:context - 1 + horizon] for c in clips])
    last_given = videos[:, context - 1:context]
    if channels == 1:  # scored as the model sees it: grey, as the runtime makes its context
        last_given = np.rint(last_given.mean(axis=-1, keepdims=True)).astype(np.uint8)
    scores = {"model": FollowScores(), "real": FollowScores(), "rotated": FollowScores()}
    for clip, actions in zip(videos, moves, strict=True):
        scores["real"].update(follows_actions(clip[context - 1:], actions,
                                              min_move=args.min_move))
    for key, command in (("model", moves), ("rotated", rotate[moves])):
        done = 0
        for batch in generator.iter_generate(args.num, seed=args.seed, frames=horizon,
                                             context=videos[:, :context],
                                             actions=to_model[command]):
            end = done + len(batch)
            for first, video, actions in zip(last_given[done:end], batch, moves[done:end],
                                             strict=True):
                scores[key].update(follows_actions(video, actions, first_frame=first,
                                                   min_move=args.min_move))
            done = end
            print(f"\r{key}: {done}/{args.num} clips", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
    results = {key: s.result() for key, s in scores.items()}
    print(f"{generator.name} (onnxruntime) on shapes_actions, {args.num} clips at "
          f"{size}x{size} of seed {HELD_OUT_SEED}: {context} given frame(s), {horizon} "
          f"predicted, noise seed {args.seed}, at least {args.min_move:g} px per move "
          f"({time.perf_counter() - start:.0f} s)")
    print(format_report(results))
    if args.json:
        print(json.dumps({
            **{key: r["fraction"] for key, r in results.items()},
            "followed": {key: r["followed"] for key, r in results.items()},
            "segments": results["model"]["segments"], "clips": args.num,
            "per_action": {name: {key: r["per_action"][name]["fraction"]
                                  for key, r in results.items()} for name in ACTION_NAMES},
            "min_move": args.min_move, "seed": args.seed}))
    return 0


def format_report(results: dict) -> str:
    """The table of followed segments: one row per score, then one per action."""
    rows = {"model": "model, given the clip's actions",
            "real": "real clips (evaluator's check)",
            "rotated": "model, given the actions rotated"}
    lines = [f"{'':34}{'followed':>10}{'segments':>10}{'fraction':>10}"]
    for key, label in rows.items():
        r = results[key]
        lines.append(f"{label:34}{r['followed']:>10}{r['segments']:>10}{r['fraction']:>10.3f}")
    lines.append(f"{'per commanded action':34}{'model':>10}{'real':>10}{'rotated':>10}")
    for name, part in results["model"]["per_action"].items():
        cells = "".join(f"{results[key]['per_action'][name]['fraction']:>10.3f}"
                        for key in rows)
        lines.append(f"  {name} ({part['segments']} segments)".ljust(34) + cells)
    return "\n".join(lines)


def _action_generator(path: Path):
    """(VideoGenerator, context frames, channels) of an action-conditioned predictor export,
    or a one-line VidgenError."""
    if not path.is_dir():
        raise VidgenError(f"{path} is not a directory; give an export directory (made by "
                          "`vidgen export`)")
    if not (path / "manifest.json").is_file():
        raise VidgenError(f"{path} is not an export (it has no manifest.json); make one with "
                          "`vidgen export`")
    from vidgen_tf.data.shapes_actions import ACTION_NAMES
    from vidgen_tf.runtime import VideoGenerator

    generator = VideoGenerator(path)
    if "actions" not in generator.conditions:
        raise VidgenError(f"{path} takes no actions (it is not action-conditioned); `vidgen "
                          "evaluate actions` scores exports trained with --condition actions")
    if "context" not in generator.conditions:
        raise VidgenError(f"{path} takes actions but no first frame; `vidgen evaluate actions` "
                          "scores predictors that continue a given frame")
    names = generator.manifest["inputs"][_actions_input(generator)]["action_names"]
    if not set(ACTION_NAMES) <= set(names):
        raise VidgenError(f"{path} takes the actions {', '.join(names)}; `vidgen evaluate "
                          f"actions` needs those of shapes_actions ({', '.join(ACTION_NAMES)})")
    shape = generator.manifest["inputs"][_context_input(generator)]["shape"]
    return generator, int(shape[0]), int(shape[-1])


def _actions_input(generator) -> str:
    return _input_of_role(generator, "actions")


def _context_input(generator) -> str:
    return _input_of_role(generator, "context")


def _input_of_role(generator, role: str) -> str:
    return next(name for name, item in generator.manifest["inputs"].items()
                if item.get("role") == role)
