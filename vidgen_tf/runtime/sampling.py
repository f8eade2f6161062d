"""The manifest's "sampling" field: how an export's inputs are drawn from a seed, stated so that
another app can repeat `VideoGenerator.generate(num, seed=...)` bit for bit.

The procedure is `vidgen_tf.noise.sample_noise`'s, followed by `VideoGenerator`:

1. One `numpy.random.default_rng(seed)` per request (`generate`, `iter_generate`, `inputs`,
   `noise`, `vidgen generate`), shared by all `num` videos of the request.
2. The inputs that have a "distribution" are drawn in sorted name order ("order"), each for
   all `num` videos at once, before any graph runs: `getattr(rng, method)(*args, size=size)`
   in numpy's default dtype (float64, int64), then `.astype(dtype)` ("draws").
3. A label the user gives replaces its drawn array afterwards; it is still drawn, so the
   draws after it stay the same. Inputs without a distribution (a prompt, a first frame)
   are given, never drawn.
4. The graph runs on consecutive slices of at most `batch_size` videos of those arrays.

The field is built here from a manifest's inputs (`sampling_spec`) and written by the
exporter; the runtime refuses an export whose field states another procedure
(`read_sampling`: another generator; `check_sampling`: other draws), so the field is always
what the runtime really does. Exports written
before the field was structured (a sentence per key) or without it are read as if they had
it: their draws were made the same way. Numpy-free and TensorFlow-free: the standard library
only.

The design sketch proposes per-video generators (`SeedSequence(seed).spawn(num)`), which
would make a video independent of `num` too. This keeps one generator per request because
every existing export and every recorded seed depends on it; a later procedure gets another
"generator" value, which this runtime refuses instead of generating other videos.
"""

from __future__ import annotations

GENERATOR = "numpy.random.default_rng(seed)"
# distribution -> (Generator method, its arguments before `size`, numpy's dtype of the draw)
_METHODS = {"normal": ("standard_normal", [], "float64"),
            "uniform": ("uniform", [-1.0, 1.0], "float64"),
            "categorical": ("integers", None, "int64")}  # args: [0, num_classes]
# What a draw is; its "code" is the same in words.
_DRAW_KEYS = ("method", "args", "size", "draw_dtype", "dtype")
_CONDITION_HOW = {
    "label": "a class index per video (class_names[i] names it), cast to the input's dtype; "
             "one label for every video is repeated. It replaces the array drawn for this "
             "input, which is still drawn so that the draws after it do not move",
    "text": "token ids of the prompt from the tokenizer asset (see the vidgen_tf docs, "
            "'Driving model.onnx from another app'), one row per video; one prompt for "
            "every video is repeated",
    "first_frame": "the image prepared as the input's 'preprocess' says, one per video; one "
                   "image for every video is repeated",
}


def sampling_spec(inputs: dict, dims: dict) -> dict:
    """The "sampling" field of a version-2 manifest with these `inputs` and `dims`."""
    order = [name for name in sorted(inputs) if "distribution" in inputs[name]]
    draws = {name: _draw(inputs[name]) for name in order}
    conditions = {name: {"role": item["role"], "drawn": name in draws,
                         "how": _CONDITION_HOW.get(item["role"], "given by the caller")}
                  for name, item in sorted(inputs.items()) if item["role"] != "noise"}
    return {
        "generator": GENERATOR,
        "seed": "an integer >= 0, one generator per request (VideoGenerator.generate(num, "
                "seed=...), or vidgen generate --num N --seed S), shared by its num videos; "
                "vidgen generate without --seed picks one below 2**31 and prints it; "
                "VideoGenerator with seed=None draws fresh OS entropy (not repeatable)",
        "order": order,
        "draws": draws,
        "defaults": {"frames": dims.get("frames", {}).get("default")},
        "draw": "for name in order, with d = draws[name]: inputs[name] = getattr(rng, "
                "d['method'])(*d['args'], size=S).astype(d['dtype']), where S is d['size'] "
                "with 'num' the number of videos of the request and 'frames' the clip length "
                "asked for (defaults.frames unless given). numpy draws in its default dtype "
                "(d['draw_dtype']), then casts: standard_normal(dtype=float32) would give "
                "other numbers",
        "conditions": conditions,
        "batches": "all num videos are drawn first; the graph then runs on consecutive "
                   "slices [i:i + batch_size] of those arrays (VideoGenerator batch_size, "
                   "default 8), so the batch size does not change the draws",
        "num": "each input is drawn for all num videos before the next, so num (and frames) "
               "move where the later inputs' draws start: video 0 of a request for 4 "
               "videos is not the video of a request for 1 with the same seed. The same num, "
               "seed, frames and conditions always give the same videos",
    }


def _draw(item: dict) -> dict:
    method, args, draw_dtype = _METHODS[item["distribution"]]
    if args is None:
        args = [0, item["num_classes"]]
    size = ["num", *item["shape"]]
    dtype = item.get("dtype", "float32")
    shape = ", ".join(map(str, size)) + ("," if len(size) == 1 else "")
    shown = ", ".join([*map(str, args), f"size=({shape})"])
    return {"method": method, "args": args, "size": size, "draw_dtype": draw_dtype,
            "dtype": dtype, "code": f"rng.{method}({shown}).astype({dtype!r})"}


def read_sampling(manifest: dict, fail) -> dict:
    """The manifest's "sampling" as the structured field; `fail(message)` when it names a
    generator this runtime does not implement (checked with the manifest, before any graph
    is loaded).

    A missing field, or the sentences that exports of vidgen_tf 0.1.9 wrote (no list under
    "order"), describe this same procedure and are replaced by `sampling_spec`.
    """
    stated = manifest.get("sampling")
    if stated is None or (isinstance(stated, dict) and not isinstance(stated.get("order"),
                                                                        list)):
        return sampling_spec(manifest["inputs"], manifest.get("dims", {}))
    if not isinstance(stated, dict):
        fail(f'"sampling" must be an object, found {stated!r}')
    if stated.get("generator") != GENERATOR:
        fail(f'"sampling" draws with {stated.get("generator")!r}, which this vidgen_tf does '
             f"not implement (it draws with {GENERATOR}); upgrade vidgen_tf, or")
    return stated


def check_sampling(manifest: dict, fail) -> None:
    """`fail(message)` unless the manifest's "sampling" states the draws its inputs give
    (`sampling_spec`): the order, each draw's call, size and dtypes, and the default clip
    length. `VideoGenerator` checks this after matching the graphs to the manifest, whose
    messages name a damaged input more plainly."""
    expected = sampling_spec(manifest["inputs"], manifest.get("dims", {}))
    stated = manifest["sampling"]
    if stated.get("defaults") != expected["defaults"]:
        fail(f'"sampling": "defaults" is {stated.get("defaults")!r} but the dimensions say '
             f"{expected['defaults']!r}")
    if stated["order"] != expected["order"]:
        fail(f'"sampling": "order" is {stated["order"]} but this runtime draws the inputs in '
             f"sorted name order, {expected['order']}")
    draws = stated.get("draws")
    for name, want in expected["draws"].items():
        got = draws.get(name) if isinstance(draws, dict) else None
        got = {k: got.get(k) for k in _DRAW_KEYS} if isinstance(got, dict) else got
        if got != {k: want[k] for k in _DRAW_KEYS}:
            fail(f'"sampling": the draw of {name!r} is {got!r}, but its input says '
                 f"{want['code']}")
