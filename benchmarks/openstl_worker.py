"""The PyTorch side of `paired_vs_openstl.py`: OpenSTL's own SimVP and PredRNN models, timed
on request. Run with a Python that has torch (and timm, which OpenSTL imports), pointing
--openstl at a checkout of github.com/chengtan9907/OpenSTL (never part of this repository).

    python benchmarks/openstl_worker.py --openstl /tmp/openstl --serve train simvp

Protocol: builds the model at OpenSTL's Moving MNIST setting, warms up, prints "ready"; then
each input line N is answered with the mean seconds of N calls: a training step (forward,
MSE, backward, Adam) at batch 16, or a forward pass in eval mode without gradients.
"""

from __future__ import annotations

import argparse
import sys
import time
import types


def build(family: str):
    """(model, train_step(), forward()) at OpenSTL's Moving MNIST setting."""
    import torch

    if family == "simvp":
        from openstl.models import SimVP_Model

        model = SimVP_Model(in_shape=(10, 1, 64, 64), hid_S=64, hid_T=512, N_S=4, N_T=8,
                            model_type="gSTA", spatio_kernel_enc=3, spatio_kernel_dec=3)
        x = torch.rand(ARGS.batch, 10, 1, 64, 64)
        y = torch.rand(ARGS.batch, 10, 1, 64, 64)
        x1 = torch.rand(ARGS.predict_batch, 10, 1, 64, 64)

        def loss_of():
            return torch.nn.functional.mse_loss(model(x), y)

        def forward():
            return model(x1)
    else:
        from openstl.models import PredRNN_Model

        configs = types.SimpleNamespace(in_shape=(20, 1, 64, 64), patch_size=4, filter_size=5,
                                        stride=1, layer_norm=0, pre_seq_length=10,
                                        aft_seq_length=10, reverse_scheduled_sampling=0)
        model = PredRNN_Model(4, [128] * 4, configs)
        ims = torch.rand(ARGS.batch, 20, 16, 16, 16)  # reshape_patch'ed frames, patch 4
        mask = torch.ones(ARGS.batch, 9, 16, 16, 16) * 0.5
        ims1 = torch.rand(ARGS.predict_batch, 20, 16, 16, 16)
        mask1 = torch.zeros(ARGS.predict_batch, 9, 16, 16, 16)  # the model's own frames

        def loss_of():
            return model(ims, mask)[1]

        def forward():
            return model(ims1, mask1, return_loss=False)[0]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        model.train()
        optimizer.zero_grad()
        loss_of().backward()
        optimizer.step()

    def predict():
        model.eval()
        with torch.no_grad():
            forward()

    return train_step, predict


def main() -> int:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--openstl", required=True, help="a checkout of OpenSTL")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="training batch (default 16)")
    parser.add_argument("--predict-batch", type=int, default=1)
    parser.add_argument("--serve", nargs=2, metavar=("WHAT", "FAMILY"), required=True)
    ARGS = parser.parse_args()
    sys.path.insert(0, ARGS.openstl)
    import torch

    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    what, family = ARGS.serve
    train_step, predict = build(family)
    call = train_step if what == "train" else predict
    for _ in range(2):
        call()
    print("ready", flush=True)
    for line in sys.stdin:
        calls = int(line)
        start = time.perf_counter()
        for _ in range(calls):
            call()
        print((time.perf_counter() - start) / calls, flush=True)
    return 0


ARGS = None

if __name__ == "__main__":
    raise SystemExit(main())
