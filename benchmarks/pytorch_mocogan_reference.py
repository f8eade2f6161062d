"""Time the official PyTorch MoCoGAN (Tulyakov et al. 2018) at the paper's 64x64x16 setting.

This is the reference point of vidgen_tf's speed targets: `vidgen bench generate` and
`vidgen bench train` are compared against it on the same CPU. The networks and the training
iteration below are re-typed from the paper's description and the layer list of the authors'
public code (sergeytulyakov/mocogan, models.py and trainers.py): same layers, widths, batch
sizes, optimizer and order of steps. It is not part of the package and needs only PyTorch:

    python3 -m venv /tmp/torch && /tmp/torch/bin/pip install torch==2.13.0 numpy
    /tmp/torch/bin/python benchmarks/pytorch_mocogan_reference.py [--threads 2] [--json]

Prints the generator's videos/s in eager mode (batch 1, eval, no_grad; the official
`sample_videos`, noise included) and the seconds per training iteration (image-D step,
video-D step, G step), each the median of repeats after warm-up.

`--serve generate|train` is the worker of `benchmarks/paired_vs_pytorch.py`: after warm-up it
prints "ready", then for each number N read from stdin runs N calls and prints their mean
seconds, so that the two sides can be timed in alternating blocks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn

FRAMES, SIZE, CHANNELS = 16, 64, 3
CONTENT, MOTION, NGF, NDF = 50, 10, 64, 64
IMAGE_BATCH, VIDEO_BATCH = 10, 3


class VideoGenerator(nn.Module):
    """GRUCell motion codes + a DCGAN image generator (ConvTranspose2d, BN, ReLU, tanh)."""

    def __init__(self):
        super().__init__()
        self.recurrent = nn.GRUCell(MOTION, MOTION)
        dim_z = CONTENT + MOTION
        blocks, width = [], NGF * 8
        blocks += [nn.ConvTranspose2d(dim_z, width, 4, 1, 0, bias=False),
                   nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(3):
            blocks += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        blocks += [nn.ConvTranspose2d(width, CHANNELS, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*blocks)

    def sample_z(self, num_videos: int, length: int) -> torch.Tensor:
        h = torch.randn(num_videos, MOTION)
        motion = []
        for _ in range(length):
            h = self.recurrent(torch.randn(num_videos, MOTION), h)
            motion.append(h)
        motion = torch.stack(motion, 1).reshape(-1, MOTION)
        content = torch.from_numpy(np.random.normal(0, 1, (num_videos, CONTENT)).astype(
            np.float32)).repeat_interleave(length, 0)
        return torch.cat([content, motion], 1)

    def sample_videos(self, num_videos: int, length: int = FRAMES) -> torch.Tensor:
        z = self.sample_z(num_videos, length)
        frames = self.main(z[:, :, None, None])  # (N*T, C, H, W)
        return frames.reshape(num_videos, length, CHANNELS, SIZE, SIZE).permute(0, 2, 1, 3, 4)

    def sample_images(self, num_images: int) -> torch.Tensor:
        z = self.sample_z(num_images * FRAMES * 2, 1)
        pick = np.sort(np.random.choice(z.shape[0], num_images, replace=False))
        return self.main(z[pick][:, :, None, None])


def image_discriminator() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(CHANNELS, NDF, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 2),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(NDF * 4),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(NDF * 4, 1, 4, 2, 1, bias=False))


def video_discriminator() -> nn.Module:
    stride, pad = (1, 2, 2), (0, 1, 1)
    return nn.Sequential(
        nn.Conv3d(CHANNELS, NDF, 4, stride, pad, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv3d(NDF, NDF * 2, 4, stride, pad, bias=False), nn.BatchNorm3d(NDF * 2),
        nn.LeakyReLU(0.2, True),
        nn.Conv3d(NDF * 2, NDF * 4, 4, stride, pad, bias=False), nn.BatchNorm3d(NDF * 4),
        nn.LeakyReLU(0.2, True),
        nn.Conv3d(NDF * 4, 1, 4, stride, pad, bias=False))


def adam(module: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999), weight_decay=1e-5)


def median_time(fn, warmup: int, repeats: int, calls: int) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def serve(call, warmup: int) -> None:
    """Answer each number N on stdin with the mean seconds of N calls (after `warmup`)."""
    import sys

    for _ in range(warmup):
        call()
    print("ready", flush=True)
    for line in sys.stdin:
        calls = int(line)
        start = time.perf_counter()
        for _ in range(calls):
            call()
        print((time.perf_counter() - start) / calls, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", choices=["generate", "train"], default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)

    generator = VideoGenerator()
    generator.eval()
    with torch.no_grad():
        if args.serve == "generate":
            return serve(lambda: generator.sample_videos(1), warmup=5)
        if args.serve is None:
            gen_s = median_time(lambda: generator.sample_videos(1), warmup=5, repeats=5,
                                calls=20)

    generator.train()
    d_image, d_video = image_discriminator(), video_discriminator()
    opt_g, opt_di, opt_dv = adam(generator), adam(d_image), adam(d_video)
    bce = nn.BCEWithLogitsLoss()
    real_images = torch.rand(IMAGE_BATCH, CHANNELS, SIZE, SIZE) * 2 - 1
    real_videos = torch.rand(VIDEO_BATCH, CHANNELS, FRAMES, SIZE, SIZE) * 2 - 1

    def d_step(discriminator, optimizer, real, fake):
        optimizer.zero_grad()
        real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
        loss = (bce(real_logits, torch.ones_like(real_logits))
                + bce(fake_logits, torch.zeros_like(fake_logits)))
        loss.backward()
        optimizer.step()

    def iteration():
        d_step(d_image, opt_di, real_images, generator.sample_images(IMAGE_BATCH))
        d_step(d_video, opt_dv, real_videos, generator.sample_videos(VIDEO_BATCH))
        opt_g.zero_grad()
        image_logits = d_image(generator.sample_images(IMAGE_BATCH))
        video_logits = d_video(generator.sample_videos(VIDEO_BATCH))
        loss = (bce(image_logits, torch.ones_like(image_logits))
                + bce(video_logits, torch.ones_like(video_logits)))
        loss.backward()
        opt_g.step()

    if args.serve == "train":
        return serve(iteration, warmup=3)
    step_s = median_time(iteration, warmup=3, repeats=5, calls=4)
    result = {"torch": torch.__version__, "threads": args.threads,
              "generator_videos_per_s": round(1 / gen_s, 2),
              "train_step_s": round(step_s, 4)}
    print(f"PyTorch {torch.__version__}, {args.threads} threads: generator {1 / gen_s:.1f} "
          f"videos/s (eager, batch 1); training iteration {step_s:.3f} s")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
