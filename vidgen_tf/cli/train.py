"""`vidgen train`: train a video GAN with model.fit into a run directory (resumable)."""

from __future__ import annotations

import argparse
import json
import sys

from vidgen_tf.cli.tf_quiet import import_tensorflow


class _HelpWithPresets(argparse.RawDescriptionHelpFormatter):
    """Fills in the presets only when --help is shown: the registry imports the model
    families, hence TensorFlow, which building the parser must not."""

    def add_text(self, text):
        if text == _PRESETS:
            import_tensorflow()  # quietly, before the registry imports it
            from vidgen_tf.models.registry import presets_help

            text = presets_help() + "\n\n" + _EXAMPLES
        super().add_text(text)


_PRESETS = "(presets)"


def add_parser(subparsers, common: argparse.ArgumentParser) -> None:
    train = subparsers.add_parser(
        "train", parents=[common],
        help="train a video GAN (mocogan, dcgan3d, vgan) or predictor (convlstm, predrnn, simvp)",
        formatter_class=_HelpWithPresets,
        description="Train a video GAN or a frame predictor with Keras model.fit. RUN_DIR "
                    "receives config.json, "
                    "history.csv, model.keras, checkpoints, BackupAndRestore state, samples "
                    "and TensorBoard logs. --resume continues a killed run from the "
                    "interrupted epoch.",
        epilog=_PRESETS)
    train.add_argument("--model", default="mocogan",
                       help="mocogan (default), dcgan3d or vgan (GANs); video_vae (a VAE "
                            "that generates from its prior); convlstm, predrnn or simvp "
                            "(predictors); svg or tdvae (stochastic predictors)")
    train.add_argument("--data", default="shapes",
                       help="built-in dataset (shapes, shapes_actions, moving_mnist, "
                            "moving_mnist_1 (one digit), stochastic_mnist), a folder of "
                            "videos, or a folder made by "
                            "`vidgen data prepare` (default shapes)")
    train.add_argument("--preset", default=None,
                       help="named configuration of the model (listed below; default: the "
                            "family's recommended recipe)")
    train.add_argument("--frames", type=int, default=None, help="frames per clip (generators)")
    train.add_argument("--context", type=int, default=None, metavar="K",
                       help="predictors: frames given (default: the preset's, 10 for Moving "
                            "MNIST)")
    train.add_argument("--horizon", type=int, default=None, metavar="H",
                       help="predictors: frames predicted and trained on (default: the "
                            "preset's)")
    train.add_argument("--channels", type=int, default=None, metavar="C",
                       help="predictors: 1 (grey, as Moving MNIST) or 3 (RGB) (default: the "
                            "preset's)")
    train.add_argument("--size", type=int, default=None, help="frame height and width")
    train.add_argument("--batch-size", type=int, default=None, help="global batch size")
    train.add_argument("--epochs", type=int, default=None,
                       help="epochs (default 10; with --resume, the saved run's)")
    train.add_argument("--steps-per-epoch", type=int, default=100,
                       help="training steps per epoch (default 100)")
    train.add_argument("--loss", default=None,
                       help="GANs: bce, hinge or wgan_gp (default: the preset's; bce for a "
                            "preset that names none); video_vae: gaussian; predictors: mse "
                            "(default) or l1; tdvae: bernoulli")
    train.add_argument("--lr-schedule", default="constant", metavar="SCHEDULE",
                       help="predictors: constant (default) or cosine (the learning rate "
                            "falls along a cosine to 1%% of the preset's over --epochs x "
                            "--steps-per-epoch). With --resume, cosine anneals a constant-rate "
                            "run over the epochs added)")
    train.add_argument("--precision", default="auto",
                       help="auto (default: mixed_bfloat16 on a CPU with bfloat16 instructions, "
                            "else float32), float32, mixed_bfloat16 or mixed_float16 (GPU)")
    train.add_argument("--strategy", default="default",
                       help="default, mirrored (all local GPUs) or multiworker (TF_CONFIG)")
    train.add_argument("--condition", default=None, metavar="NAMES",
                       help="train a conditional model on label, text or first_frame "
                            "(comma-separated for several; mocogan): the data's class, its "
                            "caption, or the clip's first frame; or on actions (svg, with "
                            "shapes_actions): each frame's direction of motion")
    train.add_argument("--seed", type=int, default=0, help="seed of noise and data order")
    train.add_argument("--sample-every", type=int, default=1,
                       help="write a sample grid every N epochs (default 1)")
    train.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in RUN_DIR with its saved config")
    train.set_defaults(run=run_train)


_EXAMPLES = """examples:
  vidgen train --data shapes --size 32 --out runs/shapes
  vidgen train --data my_videos/ --condition label --out runs/mine   (one subfolder per class)
  vidgen train --out runs/mine --resume --epochs 40
  vidgen train --model simvp --data moving_mnist --context 10 --horizon 10 --out runs/mmnist"""


def run_train(args) -> int:
    verbose = getattr(args, "verbose", False)
    import_tensorflow(verbose)
    from vidgen_tf.training.run import TrainConfig, train_run

    config = TrainConfig(
        model=args.model, data=args.data, preset=args.preset, frames=args.frames,
        size=args.size, batch_size=args.batch_size, epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch, loss=args.loss, precision=args.precision,
        strategy=args.strategy, seed=args.seed, sample_every=args.sample_every,
        conditions=args.condition, context=args.context, horizon=args.horizon,
        channels=args.channels, lr_schedule=args.lr_schedule)
    summary = train_run(config, args.out, resume=args.resume,
                        verbose=1 if sys.stdout.isatty() else 2,
                        announce=lambda text: print(text, flush=True))
    done, total = summary["epochs_this_run"], summary["epochs"]
    trained = f"{done} epoch{'s' if done != 1 else ''}"
    if 0 < done < total:
        trained += f" (epochs {total - done + 1}-{total} of {total})" if done > 1 else (
            f" (epoch {total} of {total})")
    print(f"trained {trained} in {summary['seconds']} s; model: {summary['model']}; "
          f"samples: {summary['samples']}")
    print(json.dumps(summary))
    return 0
