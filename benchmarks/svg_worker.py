"""The PyTorch side of `paired_vs_svg.py`: the official SVG-LP networks and training step, timed
on request. Run with a Python that has torch and numpy, pointing --svg at a checkout of
github.com/edenton/svg (never part of this repository).

    python benchmarks/svg_worker.py --svg /tmp/svg_official --serve [--batch 16] [--threads 2]
    python benchmarks/svg_worker.py --svg /tmp/svg_official --check [--batch 2]

The networks come from the checkout's `models/lstm.py` and `models/dcgan_64.py`, built as
`train_svg_lp.py` builds them at its SM-MNIST defaults (`SETTINGS`). The step is that script's
`train(x)`: zero the gradients, reset the LSTM states, then for each of the 14 frame pairs
encode frames t - 1 and t, run the posterior on frame t and the prior and frame predictor on
frame t - 1, decode with the skips of frame t - 1 inside the context and of the last context
frame after it; MSE plus beta times its KL, backward, a step of each of its five Adam
optimizers. Frames are uniform in [0, 1] (the decoder ends in a sigmoid), time-first as the
script's data loader gives them.

Two adaptations, neither of which changes the arithmetic:
- The official LSTMs call `.cuda()` on their zero states in `init_hidden` (their constructors
  call it too). On a CPU-only machine that raises, so `torch.Tensor.cuda` is made a no-op
  here before the classes are built.
- The script's `utils.init_weights` is not applied: `utils.py` imports `scipy.misc`,
  scikit-learn, torchvision and skimage's `compare_psnr` (removed in skimage 0.18), and the
  initial values do not change the cost of a step.

Protocol (--serve): builds, warms up, prints "ready"; then each input line N is answered with
the mean seconds of N training steps. --check runs one step and prints one JSON line: the loss
terms, the parameter count of each network and whether each network's weights changed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

# train_svg_lp.py's defaults with --dataset smmnist (64x64x1 frames, DCGAN 64 networks).
SETTINGS = {"n_past": 5, "n_future": 10, "image_width": 64, "channels": 1, "g_dim": 128,
            "z_dim": 10, "rnn_size": 256, "predictor_rnn_layers": 2, "prior_rnn_layers": 1,
            "posterior_rnn_layers": 1, "beta": 1e-4, "lr": 2e-3, "beta1": 0.9}


def build(svg: str, batch: int, settings: dict = SETTINGS):
    """(networks by name, train_step() -> (mse, kld)) of the official SVG-LP at `settings`."""
    import torch

    # The official init_hidden puts its zero states on the GPU; here everything stays on CPU.
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    sys.path.insert(0, svg)
    import models.dcgan_64 as model
    from models.lstm import gaussian_lstm, lstm

    s = settings
    nets = {
        "frame_predictor": lstm(s["g_dim"] + s["z_dim"], s["g_dim"], s["rnn_size"],
                                s["predictor_rnn_layers"], batch),
        "posterior": gaussian_lstm(s["g_dim"], s["z_dim"], s["rnn_size"],
                                   s["posterior_rnn_layers"], batch),
        "prior": gaussian_lstm(s["g_dim"], s["z_dim"], s["rnn_size"], s["prior_rnn_layers"],
                               batch),
        "encoder": model.encoder(s["g_dim"], s["channels"]),
        "decoder": model.decoder(s["g_dim"], s["channels"]),
    }
    optimizers = [torch.optim.Adam(net.parameters(), lr=s["lr"], betas=(s["beta1"], 0.999))
                  for net in nets.values()]
    frame_predictor, posterior, prior = (nets[k] for k in ("frame_predictor", "posterior",
                                                            "prior"))
    encoder, decoder = nets["encoder"], nets["decoder"]
    mse_criterion = torch.nn.MSELoss()

    def kl_criterion(mu1, logvar1, mu2, logvar2):
        # train_svg_lp.py's formula: KL(N(mu1, sigma1^2) || N(mu2, sigma2^2)) per clip.
        sigma1 = logvar1.mul(0.5).exp()
        sigma2 = logvar2.mul(0.5).exp()
        kld = (torch.log(sigma2 / sigma1) + (torch.exp(logvar1) + (mu1 - mu2) ** 2)
               / (2 * torch.exp(logvar2)) - 1 / 2)
        return kld.sum() / batch

    frames = s["n_past"] + s["n_future"]
    size = s["image_width"]
    x = torch.rand(frames, batch, s["channels"], size, size)
    for net in nets.values():
        net.train()

    def train_step():
        for net in nets.values():
            net.zero_grad()
        frame_predictor.hidden = frame_predictor.init_hidden()
        posterior.hidden = posterior.init_hidden()
        prior.hidden = prior.init_hidden()
        mse = kld = 0
        for i in range(1, frames):
            h = encoder(x[i - 1])
            h_target = encoder(x[i])[0]
            if i < s["n_past"]:  # the script's rule without --last_frame_skip
                h, skip = h
            else:
                h = h[0]
            z_t, mu, logvar = posterior(h_target)
            _, mu_p, logvar_p = prior(h)
            h_pred = frame_predictor(torch.cat([h, z_t], 1))
            x_pred = decoder([h_pred, skip])
            mse += mse_criterion(x_pred, x[i])
            kld += kl_criterion(mu, logvar, mu_p, logvar_p)
        loss = mse + kld * s["beta"]
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
        return float(mse.detach()), float(kld.detach())

    return nets, train_step


def check(svg: str, batch: int) -> dict:
    """One step: its loss terms, each network's parameter count and whether it changed."""
    import torch

    torch.manual_seed(0)
    nets, train_step = build(svg, batch)
    before = {name: [p.detach().clone() for p in net.parameters()]
              for name, net in nets.items()}
    mse, kld = train_step()
    changed = {name: all(not torch.equal(old, new.detach())
                         for old, new in zip(before[name], net.parameters(), strict=True))
               for name, net in nets.items()}
    params = {name: sum(p.numel() for p in net.parameters()) for name, net in nets.items()}
    return {"mse": mse, "kld": kld, "params": params, "changed": changed,
            "torch": torch.__version__, "threads": torch.get_num_threads()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", required=True, help="a checkout of github.com/edenton/svg")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--batch", type=int, default=16, help="training batch (default 16)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--serve", action="store_true", help="answer 'N' with seconds per step")
    mode.add_argument("--check", action="store_true", help="one step, printed as JSON")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.check:
        print(json.dumps(check(args.svg, args.batch)))
        return 0
    torch.manual_seed(0)
    _, train_step = build(args.svg, args.batch)
    for _ in range(2):
        train_step()
    print("ready", flush=True)
    for line in sys.stdin:
        calls = int(line)
        start = time.perf_counter()
        for _ in range(calls):
            train_step()
        print((time.perf_counter() - start) / calls, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
