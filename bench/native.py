"""Native half of `make bench`: the numpy models against the same models in PyTorch, same run.

    python -m bench.native [--runs 5] [--seconds 1.0] [--json OUT]

bench/__main__.py runs this in a subprocess whose environment pins every BLAS to one thread
before numpy is imported (THREAD_ENV); torch gets torch.set_num_threads(1). Both sides train
the same model on the same float32 batches with the same optimiser, and the runs alternate
numpy, torch, numpy, torch… so drift on a shared machine hits both alike.
"""
import argparse
import json
import os
import platform
import sys

from bench.kernels import (alternate, cycling, matmul_gflops, mlp_flops_per_sample,
                           mnist_like_batches, numpy_mlp)

THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "BLIS_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1"}

MLP_BATCHES = (1, 32, 128)
LSTM_BATCH = 64
LSTM_LENGTHS = range(9)          # history lengths 0..8: every length a game can reach mid-play


# -- the MLP --------------------------------------------------------------------------------
def torch_mlp(params, optimiser):
    """The same 784-128-10 ReLU net, log-softmax + NLL, initialised with the numpy weights."""
    import torch
    from torch import nn
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(params["W1"].T.copy()))
        net[0].bias.copy_(torch.from_numpy(params["b1"]))
        net[2].weight.copy_(torch.from_numpy(params["W2"].T.copy()))
        net[2].bias.copy_(torch.from_numpy(params["b2"]))
    if optimiser == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)

    def loss_of(x, y):
        return torch.nn.functional.nll_loss(torch.log_softmax(net(x), dim=1), y)

    def train_step(x, y):
        opt.zero_grad()
        loss = loss_of(x, y)
        loss.backward()
        opt.step()
        return loss.item()     # the numpy step returns its loss as a float too
    return net, loss_of, train_step


def bench_mlp(runs, seconds, figures):
    import numpy as np
    import torch
    from bench.stats import figure
    rng = np.random.default_rng(0)
    flops = mlp_flops_per_sample()
    parity = {}
    for batch in MLP_BATCHES:
        model, optimiser, np_step = numpy_mlp()
        net, torch_loss, torch_step = torch_mlp(model.params, optimiser)
        xs, ys = mnist_like_batches(batch, 16 if batch > 1 else 256, rng)
        txs, tys = [torch.from_numpy(x) for x in xs], [torch.from_numpy(y) for y in ys]
        # same model: the first loss agrees before either side trains
        with torch.no_grad():
            torch_first = float(torch_loss(txs[0], tys[0]))
        parity[batch] = abs(float(np_step(xs[0], ys[0])) - torch_first)
        rates = alternate({"numpy": (cycling(np_step, xs, ys), batch),
                           "torch": (cycling(torch_step, txs, tys), batch)}, runs, seconds)
        gflops = matmul_gflops(batch, runs)
        ratios = [a / b for a, b in zip(rates["numpy"], rates["torch"])]
        fractions = [r * flops / 1e9 / g for r, g in zip(rates["numpy"], gflops)]
        tgt = (">=", 1.5, "DESIGN §4: numpy ≥ 1.5× torch")
        figures += [
            figure(f"native.mlp.b{batch}.numpy", "native", f"numpy MLP training, batch {batch}", "samples/s",
                   rates["numpy"], note=f"optimiser {optimiser}; first-loss |numpy−torch| {parity[batch]:.1e}"),
            figure(f"native.mlp.b{batch}.torch", "native", f"torch MLP training, batch {batch}", "samples/s",
                   rates["torch"]),
            figure(f"native.mlp.b{batch}.ratio", "native", f"numpy ÷ torch, MLP batch {batch}", "×",
                   ratios, target=tgt, note="per-run ratio of interleaved runs"),
            figure(f"native.matmul.b{batch}", "native", f"numpy matmul on the step's shapes, batch {batch}",
                   "GFLOP/s", gflops),
            figure(f"native.mlp.b{batch}.fraction", "native",
                   f"numpy MLP step ÷ its matmuls' speed, batch {batch}", "fraction", fractions,
                   note=f"{flops:,} FLOP/sample"),
        ]


# -- the tic-tac-toe LSTM ---------------------------------------------------------------------
def ttt_batches(batch, rng):
    """One batch per history length: random legal histories and random non-empty target sets."""
    import numpy as np
    out = []
    for k in LSTM_LENGTHS:
        hist = np.argsort(rng.random((batch, 9)), axis=1)[:, :k].astype(np.int64)
        legal = np.ones((batch, 9), bool)
        legal[np.arange(batch)[:, None], hist] = False
        target = legal & (rng.random((batch, 9)) < 0.3)
        first_legal = legal.argmax(axis=1)
        target[np.arange(batch), first_legal] = True
        out.append((hist, target))
    return out


def torch_ttt(params):
    """nn.LSTM(19, H) + Linear(H, 9), masked log-softmax, set-NLL: the numpy model, same weights."""
    import numpy as np
    import torch
    from torch import nn
    H = params["Wh"].shape[0]
    D = params["Wx"].shape[0]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(D, H)
            self.out = nn.Linear(H, 9)

        def forward(self, X, legal):
            Hs, _ = self.lstm(X)
            z = self.out(Hs[-1]).masked_fill(~legal, float("-inf"))
            return torch.log_softmax(z, dim=1)

    net = Net()
    # numpy gate blocks are [i | f | o | g]; torch's are [i | f | g | o]
    order = np.concatenate([np.arange(0, H), np.arange(H, 2 * H), np.arange(3 * H, 4 * H), np.arange(2 * H, 3 * H)])
    with torch.no_grad():
        net.lstm.weight_ih_l0.copy_(torch.from_numpy(params["Wx"][:, order].T.copy()))
        net.lstm.weight_hh_l0.copy_(torch.from_numpy(params["Wh"][:, order].T.copy()))
        net.lstm.bias_ih_l0.copy_(torch.from_numpy(params["b"][order].copy()))
        net.lstm.bias_hh_l0.zero_()
        net.out.weight.copy_(torch.from_numpy(params["Wy"].T.copy()))
        net.out.bias.copy_(torch.from_numpy(params["by"]))
    return net


def bench_lstm(runs, seconds, figures):
    import numpy as np
    import torch
    from bench.stats import figure
    from models.optim import Adam
    from models.ttt_player import TicTacToeLSTM, encode
    rng = np.random.default_rng(0)
    batches = ttt_batches(LSTM_BATCH, rng)
    model = TicTacToeLSTM(seed=0)
    opt = Adam(model.params, lr=3e-3)
    net = torch_ttt(model.params)
    topt = torch.optim.Adam(net.parameters(), lr=3e-3)
    # inputs are encoded by the same numpy function on both sides: the same work
    encoded = [encode(h) for h, _ in batches]

    def torch_loss(i):
        hist, target = batches[i]
        X, legal = encode(hist)
        logp = net(torch.from_numpy(X), torch.from_numpy(legal))
        return -torch.logsumexp(logp.masked_fill(~torch.from_numpy(target), float("-inf")), dim=1).mean()

    with torch.no_grad():
        torch_first = [float(torch_loss(i)) for i in range(len(batches))]
    numpy_first = [model.loss_and_grads(h, t)[0] for h, t in batches]
    parity = max(abs(a - b) for a, b in zip(torch_first, numpy_first))
    del encoded

    def np_round():
        for hist, target in batches:
            _, grads = model.loss_and_grads(hist, target)
            opt.step(grads)

    def torch_round():
        for i in range(len(batches)):
            topt.zero_grad()
            loss = torch_loss(i)
            loss.backward()
            topt.step()
            loss.item()

    samples = LSTM_BATCH * len(batches)
    rates = alternate({"numpy": (np_round, samples), "torch": (torch_round, samples)}, runs, seconds)
    ratios = [a / b for a, b in zip(rates["numpy"], rates["torch"])]
    H = model.params["Wh"].shape[0]
    note = f"hidden {H}, Adam, one batch of {LSTM_BATCH} per history length 0–8"
    figures += [
        figure("native.lstm.b64.numpy", "native", f"numpy tic-tac-toe LSTM training, batch {LSTM_BATCH}",
               "samples/s", rates["numpy"], note=note + f"; first-loss |numpy−torch| {parity:.1e}"),
        figure("native.lstm.b64.torch", "native", f"torch LSTM training, batch {LSTM_BATCH}", "samples/s",
               rates["torch"], note="nn.LSTM + Linear, same weights"),
        figure("native.lstm.b64.ratio", "native", f"numpy ÷ torch, LSTM batch {LSTM_BATCH}", "×", ratios,
               target=(">=", 1.0, "DESIGN §4: numpy ≥ 1.0× torch")),
    ]


# -- machine and versions ----------------------------------------------------------------------
def versions():
    import numpy as np
    import torch
    out = {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
           "torch_threads": torch.get_num_threads(),
           "blas_env": {k: os.environ.get(k) for k in THREAD_ENV}}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        pass
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed run")
    parser.add_argument("--json", help="write the figures here (default: stdout)")
    parser.add_argument("--only", choices=["mlp", "lstm"])
    args = parser.parse_args(argv)
    unpinned = [k for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                if os.environ.get(k) != "1"]
    if unpinned:
        print(f"bench.native: {', '.join(unpinned)} not 1: run it through `python -m bench`", file=sys.stderr)
    import torch
    torch.set_num_threads(1)
    figures = []
    if args.only in (None, "mlp"):
        bench_mlp(args.runs, args.seconds, figures)
    if args.only in (None, "lstm"):
        bench_lstm(args.runs, args.seconds, figures)
    result = {"figures": figures, "versions": versions()}
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
