"""`vidgen evaluate conditions`: does a conditional shapes export draw what it is asked for?"""

from __future__ import annotations

import argparse
import json

from vidgen_tf.cli.progress import progress_bar
from vidgen_tf.errors import VidgenError

DEFAULT_NUM = 8
# First frames come from shapes clips of a seed no training run uses.
FIRST_FRAME_SEED = 12345
FIRST_FRAME_COUNT = 24
ROLES = ("label", "text", "first_frame")
_ATTRIBUTE_COLUMNS = ("colour", "shape", "direction", "all")
_FIRST_FRAME_COLUMNS = ("kept_colour", "kept_shape", "moves", "all")


def add_parser(actions, common: argparse.ArgumentParser) -> None:
    """Add `conditions` to the subparsers `actions` of `vidgen evaluate`."""
    conditions = actions.add_parser(
        "conditions", parents=[common],
        help="check that a conditional shapes export draws the colour, shape and motion asked",
        description="Generate clips of a conditional export trained on the built-in shapes "
                    "data for every condition value, read back each clip's colour, shape and "
                    "direction with fixed rules (vidgen_tf.metrics.conditions), and report "
                    "how often they match. Text: every training caption and, separately, "
                    "every held-out caption of the manifest. Label: every class (shape and "
                    "direction; the colour is free). First frame: "
                    f"{FIRST_FRAME_COUNT} first frames of shapes clips (seed "
                    f"{FIRST_FRAME_SEED}): is their colour and shape kept, does the shape "
                    "move, and the PSNR of the generated first frame. An export that takes "
                    "several conditions is judged on each in turn, the others given values "
                    "that agree with it.")
    conditions.add_argument("export", metavar="EXPORT",
                            help="export directory (manifest.json + ONNX graphs)")
    conditions.add_argument("--num", type=int, default=DEFAULT_NUM,
                            help=f"clips per condition value (default {DEFAULT_NUM})")
    conditions.add_argument("--seed", type=int, default=0,
                            help="seed of the noise, the same for every value (default 0)")
    conditions.add_argument("--json", action="store_true",
                            help="print one JSON object with every figure as the last line")
    conditions.set_defaults(run=run_conditions)


def _open_generator(path: str):
    """The runtime's VideoGenerator of an export directory (tests put a fake here)."""
    from pathlib import Path

    from vidgen_tf.cli.clip_sources import open_export

    if not (Path(path) / "manifest.json").is_file():
        raise VidgenError(f"{path} is not an export directory (no manifest.json); make one "
                          "with `vidgen export`")
    return open_export(path)


def run_conditions(args) -> int:
    if args.num < 1:
        raise VidgenError(f"--num must be >= 1; received {args.num}")
    if args.seed < 0:
        raise VidgenError(f"--seed must be >= 0; received {args.seed}")
    gen = _open_generator(args.export)
    roles = [role for role in ROLES if role in tuple(gen.conditions)]
    if not roles:
        takes = ", ".join(gen.conditions) or "no condition"
        raise VidgenError(f"{args.export} takes {takes}; `vidgen evaluate conditions` needs an "
                          "export conditioned on a class label, a text prompt or a first frame")
    report = {"export": str(args.export), "num": args.num, "seed": args.seed}
    for role in roles:
        report[role] = _EVALUATE[role](gen, args.num, args.seed)
    print(f"{args.export}: {', '.join(roles)}; {args.num} clips per condition value, seed "
          f"{args.seed}")
    for role in roles:
        _PRINT[role](report[role])
    if args.json:
        print(json.dumps(report))
    return 0


# --------------------------------------------------------------------------- generate + score


def _score_values(gen, values: list, num: int, seed: int, desc: str, generate, score):
    """Per value, `score(generate(value), value)` of `num` clips (dicts of per-clip arrays)."""
    scores = []
    with progress_bar(len(values) * num, desc, unit="clip") as update:
        for value in values:
            scores.append(score(generate(value), value))
            update(num)
    return scores


def _joined(scores: list[dict]) -> dict:
    """`accuracy` of per-clip match dicts joined over several values, rounded for JSON."""
    import numpy as np

    from vidgen_tf.metrics.conditions import accuracy

    joined = {name: np.concatenate([s[name] for s in scores]) for name in scores[0]}
    return {name: (round(value, 4) if isinstance(value, float) else value)
            for name, value in accuracy(joined).items()}


def _evaluate_text(gen, num: int, seed: int) -> dict:
    from vidgen_tf.metrics.conditions import from_caption, match_attributes

    conditioning = gen.manifest.get("conditioning") or {}
    if conditioning.get("dataset", "shapes") != "shapes":
        raise VidgenError(f"the rules read shapes clips; this export's captions come from "
                          f"{conditioning['dataset']!r}")
    groups = {"trained": list(conditioning.get("captions") or []),
              "held_out": list(conditioning.get("held_out_captions") or [])}
    if not groups["trained"]:
        raise VidgenError("the export's manifest lists no training captions "
                          "(conditioning.captions); re-export it with this vidgen_tf")
    expected = {}
    for caption in groups["trained"] + groups["held_out"]:
        try:
            expected[caption] = from_caption(caption)
        except ValueError as exc:
            raise VidgenError(f"cannot score the export's caption {caption!r}: it is not a "
                              "shapes caption ('a <colour> <shape> moves <direction>')") from exc
    result = {}
    for group, captions in groups.items():
        if captions:
            scores = _score_values(
                gen, captions, num, seed, f"{group} captions",
                lambda caption: gen.generate(
                    num, seed=seed, prompt=caption,
                    **_companions(gen, "text", expected[caption])),
                lambda video, caption: match_attributes(video, expected[caption]))
            result[group] = {"captions": len(captions), **_joined(scores)}
    return result


def _evaluate_label(gen, num: int, seed: int) -> dict:
    from vidgen_tf.metrics.conditions import from_class_name, match_attributes

    names = list(gen.class_names)
    if not names:
        raise VidgenError("the export's manifest lists no class names; the rules need shapes "
                          "classes such as circle_left")
    try:
        expected = [from_class_name(name) for name in names]
    except ValueError as exc:
        raise VidgenError(f"cannot score the export's classes: {exc}") from exc
    scores = _score_values(
        gen, list(range(len(names))), num, seed, "classes",
        lambda label: gen.generate(num, seed=seed, label=label,
                                   **_companions(gen, "label", expected[label])),
        lambda video, label: match_attributes(video, expected[label]))
    return {"classes": {name: _joined([s]) for name, s in zip(names, scores, strict=True)},
            "all": _joined(scores)}


def _evaluate_first_frame(gen, num: int, seed: int) -> dict:
    import numpy as np

    from vidgen_tf.data.shapes import ShapesDataset
    from vidgen_tf.metrics.conditions import first_frame_checks, from_caption

    video = gen.manifest.get("video") or gen.manifest
    height, width = int(video["height"]), int(video["width"])
    if height != width or height < 16:
        raise VidgenError(f"first frames come from shapes clips, which are square and at least "
                          f"16 pixels; this export makes {height}x{width} frames")
    data = ShapesDataset(frames=int(gen.frames), size=height, seed=FIRST_FRAME_SEED)
    clips = [data.clip(i) for i in range(FIRST_FRAME_COUNT)]
    scores = _score_values(
        gen, clips, num, seed, "first frames",
        lambda clip: gen.generate(num, seed=seed, first_frame=clip["video"][0],
                                  **_companions(gen, "first_frame",
                                                from_caption(clip["caption"]))),
        lambda videos, clip: first_frame_checks(
            videos, np.repeat(clip["video"][:1], len(videos), 0)))
    return {"first_frames": FIRST_FRAME_COUNT, "first_frame_seed": FIRST_FRAME_SEED,
            **_joined(scores)}


def _companions(gen, role: str, want) -> dict:
    """The export's conditions other than `role`, for clips that should show `want`
    (`Attributes`), chosen to agree with it: a first frame of a shapes clip that shows it, a
    training caption that says it, and its class. So an export that takes several conditions
    is judged on one at a time. The first frame also fixes a colour a label leaves free."""
    from vidgen_tf.metrics.conditions import from_caption

    takes, extra = tuple(gen.conditions), {}
    if "first_frame" in takes and role != "first_frame":
        clip = _clip_showing(gen, want)
        extra["first_frame"] = clip["video"][0]
        want = from_caption(clip["caption"])
    if "text" in takes and role != "text":
        extra["prompt"] = _caption_saying(gen, want)
    if "label" in takes and role != "label":
        name = f"{want.shape}_{want.direction}"
        if name not in gen.class_names:
            raise VidgenError(f"the export's classes ({', '.join(gen.class_names)}) have none "
                              f"for a {want.shape} moving {want.direction}")
        extra["label"] = name
    return extra


def _agrees(attributes, want) -> bool:
    return all(w is None or a == w for a, w in zip(attributes, want, strict=True))


def _caption_saying(gen, want) -> str:
    """The first training caption of the export that says `want` (any colour if it is free),
    else the first held-out one."""
    from vidgen_tf.metrics.conditions import from_caption

    conditioning = gen.manifest.get("conditioning") or {}
    captions = [*(conditioning.get("captions") or []),
                *(conditioning.get("held_out_captions") or [])]
    for caption in captions:
        if _agrees(from_caption(caption), want):
            return caption
    raise VidgenError(f"no training caption of the export says a {want.colour or ''} "
                      f"{want.shape} moving {want.direction}")


def _clip_showing(gen, want, tries: int = 2000) -> dict:
    """The first shapes clip (seed FIRST_FRAME_SEED, the export's size) that shows `want`."""
    from vidgen_tf.data.shapes import ShapesDataset
    from vidgen_tf.metrics.conditions import from_caption

    video = gen.manifest.get("video") or gen.manifest
    data = ShapesDataset(frames=int(gen.frames), size=int(video["height"]),
                         seed=FIRST_FRAME_SEED)
    for index in range(tries):
        clip = data.clip(index)
        if _agrees(from_caption(clip["caption"]), want):
            return clip
    raise VidgenError(f"no shapes clip among the first {tries} shows {want}")


_EVALUATE = {"label": _evaluate_label, "text": _evaluate_text,
             "first_frame": _evaluate_first_frame}


# --------------------------------------------------------------------------- tables


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _row(name: str, scores: dict, columns) -> str:
    cells = "".join(f"  {_percent(scores[c]):>11}" for c in columns)
    return f"  {name:<22}  {scores['clips']:>5}{cells}"


def _header(first: str, columns) -> str:
    cells = "".join(f"  {c.replace('_', ' '):>11}" for c in columns)
    return f"  {first:<22}  {'clips':>5}{cells}"


def _print_text(result: dict) -> None:
    print("text prompts")
    print(_header("captions", _ATTRIBUTE_COLUMNS))
    for group, scores in result.items():
        name = f"{group.replace('_', '-')} ({scores['captions']})"
        print(_row(name, scores, _ATTRIBUTE_COLUMNS))


def _print_label(result: dict) -> None:
    print("class labels (the colour is free)")
    print(_header("class", _ATTRIBUTE_COLUMNS))
    for name, scores in result["classes"].items():
        print(_row(name, scores, _ATTRIBUTE_COLUMNS))
    print(_row("all classes", result["all"], _ATTRIBUTE_COLUMNS))


def _print_first_frame(result: dict) -> None:
    print(f"first frames ({result['first_frames']} from shapes clips of seed "
          f"{result['first_frame_seed']})")
    print(f"{_header('first frames', _FIRST_FRAME_COLUMNS)}  {'PSNR':>9}")
    name = f"all ({result['first_frames']})"
    print(f"{_row(name, result, _FIRST_FRAME_COLUMNS)}  {result['psnr']:6.2f} dB")


_PRINT = {"label": _print_label, "text": _print_text, "first_frame": _print_first_frame}
