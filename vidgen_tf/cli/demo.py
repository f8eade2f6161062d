"""`vidgen demo`: the whole path on the built-in shapes: train briefly, export, generate."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from vidgen_tf.errors import VidgenError

SHIPPED = "export/mocogan_shapes"
DEMO_PRESET = "demo_32"
SIDE_BY_SIDE = "side_by_side.gif"
SCALE = 2  # 32x32 cells are too small to judge at 1:1
# training.setup.PRECISIONS plus "auto" (that module imports TensorFlow).
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    demo = subparsers.add_parser(
        "demo", parents=[common], help="train briefly on shapes, export, generate (minutes)",
        description="Run the whole path in a few minutes of CPU: train a small MoCoGAN on the "
                    "built-in shapes with model.fit, export it to SavedModel and ONNX, then "
                    "generate a GIF and an MP4 through the TensorFlow-free runtime. About two "
                    "minutes on a 2-core CPU give coloured shapes that move, still rough; "
                    "side_by_side.gif puts them beside the shipped export/mocogan_shapes "
                    "(in the repository), which trained 64 epochs, under three hours.")
    demo.add_argument("--out", default="vidgen_demo",
                      help="folder for the run, the exports and the videos (default vidgen_demo)")
    demo.add_argument("--epochs", type=int, default=4, help="training epochs (default 4)")
    demo.add_argument("--steps-per-epoch", type=int, default=200,
                      help="steps per epoch (default 200)")
    demo.add_argument("--precision", default="auto",
                      help="training precision (default: mixed_bfloat16 on a CPU with bf16 "
                           "instructions, else float32)")
    demo.add_argument("--force", action="store_true",
                      help="replace an earlier demo in --out")
    demo.set_defaults(run=run_demo)


def _check_args(args) -> None:
    """Refuse bad flag values before anything is printed, deleted or trained."""
    for flag, value in (("--epochs", args.epochs), ("--steps-per-epoch", args.steps_per_epoch)):
        if value < 1:
            raise VidgenError(f"{flag} must be >= 1; received {value}")
    if args.precision not in PRECISIONS:
        raise VidgenError(f"unknown precision {args.precision!r}; choose one of: "
                          f"{', '.join(PRECISIONS)}")


def _check_nothing_else_is_replaced(out: Path, run_dir: Path, force: bool) -> None:
    """The demo writes OUT/run, OUT/demo.gif, OUT/demo.mp4 and OUT/side_by_side.gif (and its
    exports, checked by
    `existing_exports`). Without --force none may exist; with it, OUT/run must be a demo run."""
    in_the_way = [p for p in (run_dir, out / "demo.gif", out / "demo.mp4", out / SIDE_BY_SIDE)
                  if p.exists() or p.is_symlink()]
    if in_the_way and not force:
        raise VidgenError(f"{out} already holds {', '.join(p.name for p in in_the_way)} (an "
                          "earlier demo?); pass --force to replace them or choose another --out")
    if run_dir.exists() or run_dir.is_symlink():
        from vidgen_tf.training.run import read_run_config

        try:
            train = read_run_config(run_dir)["train"]
        except VidgenError:
            train = {}
        if (train.get("model"), train.get("preset")) != ("mocogan", DEMO_PRESET):
            raise VidgenError(f"{run_dir} is not a run of `vidgen demo`, so --force will not "
                              "delete it; choose another --out")


def run_demo(args) -> int:
    _check_args(args)
    out = Path(args.out)
    run_dir = out / "run"
    _check_nothing_else_is_replaced(out, run_dir, args.force)
    from vidgen_tf.cli.tf_quiet import import_tensorflow

    tf = import_tensorflow(getattr(args, "verbose", False))
    import shutil

    from vidgen_tf.export.generator_export import existing_exports, export_generator
    from vidgen_tf.training.run import TrainConfig, train_run

    # Fails now, not after training, if something that is not a demo export is in the way.
    existing_exports("mocogan_demo", saved_models_dir=out / "saved_models",
                     export_dir=out / "export")

    if args.precision == "auto":
        from vidgen_tf.training.setup import default_precision

        precision = default_precision()
    else:
        precision = args.precision
    if precision == "mixed_float16" and not tf.config.list_physical_devices("GPU"):
        raise VidgenError("mixed_float16 needs a GPU (float16 is slow on CPUs); use "
                          "--precision auto on this machine")
    if run_dir.exists():
        shutil.rmtree(run_dir)
    start = time.perf_counter()
    print(f"[1/3] training MoCoGAN (preset {DEMO_PRESET}: 16 frames of 32x32) on the built-in "
          f"shapes for {args.epochs} x {args.steps_per_epoch} steps, {precision}", flush=True)
    config = TrainConfig(model="mocogan", preset=DEMO_PRESET, data="shapes",
                         epochs=args.epochs,
                         steps_per_epoch=args.steps_per_epoch, precision=precision,
                         sample_every=args.epochs)
    train_run(config, run_dir, verbose="auto")
    trained = time.perf_counter() - start
    print(f"[2/3] exporting to {out / 'saved_models'} and {out / 'export'}", flush=True)
    manifest = export_generator(run_dir, "mocogan_demo", saved_models_dir=out / "saved_models",
                                export_dir=out / "export")
    print(f"      parity vs Keras (max abs): onnxruntime "
          f"{manifest['parity']['graphs']['generator']['keras_vs_onnxruntime']:.1e}", flush=True)
    print("[3/3] generating through the onnxruntime runtime", flush=True)
    from vidgen_tf.data.grid import video_grid
    from vidgen_tf.data.video_io import write_video
    from vidgen_tf.runtime import VideoGenerator

    generator = VideoGenerator(out / "export" / "mocogan_demo")
    grid = _enlarge(video_grid(generator.generate(16, seed=0)))
    gif = write_video(out / "demo.gif", grid, fps=generator.fps)
    mp4 = write_video(out / "demo.mp4", grid, fps=generator.fps)
    steps = args.epochs * args.steps_per_epoch
    print(f"done in {time.perf_counter() - start:.0f} s")
    print(f"  samples:   {gif} and {mp4}: this model, after {steps} steps ({trained:.0f} s of "
          "training): coloured shapes that move, still rough and often misshapen")
    shipped = _shipped_export()
    if shipped is None:
        print(f"  compare:   {SHIPPED} is not here (it ships in the repository, not the "
              "package); clone the repository to put the two side by side")
    else:
        theirs = _enlarge(video_grid(VideoGenerator(shipped).generate(16, seed=0)))
        gap = np.full((grid.shape[0], grid.shape[1], 8 * SCALE, 3), 255, np.uint8)
        side = write_video(out / SIDE_BY_SIDE, np.concatenate([grid, gap, theirs], axis=2),
                           fps=generator.fps)
        print(f"  compare:   {side}: left, this model; right, the shipped {SHIPPED} (same "
              "recipe at the paper's learning rates, 32000 steps: 160 minutes of a 2-core CPU)")
    print(f"  ONNX:      {out / 'export' / 'mocogan_demo'} (generate more: vidgen generate "
          f"{out / 'export' / 'mocogan_demo'} --out more.gif)")
    print(f"  run:       {run_dir} (train further: vidgen train --resume --out {run_dir} "
          "--epochs 30)")
    return 0


def _enlarge(grid: np.ndarray) -> np.ndarray:
    """A uint8 grid `(frames, height, width, 3)`, each pixel repeated SCALE x SCALE."""
    return grid.repeat(SCALE, axis=1).repeat(SCALE, axis=2)


def _shipped_export() -> Path | None:
    """The shipped export/mocogan_shapes of a repository checkout, if the demo runs in one
    (or vidgen_tf is installed from one, with `pip install -e`), else None."""
    import vidgen_tf

    for root in (Path.cwd(), Path(vidgen_tf.__file__).resolve().parents[1]):
        if (root / SHIPPED / "manifest.json").is_file():
            return root / SHIPPED
    return None
