"""numpy-only measurements shared by the native bench and the in-page bench (bench/page.py).

No torch, no browser: the same functions time numpy under CPython and under Pyodide, so
"matmul GFLOP/s on the same shapes" and "training samples/s" mean the same thing in both.
Imports from models/ are done inside the functions (the page ships them as `models.*`).
"""
import time

import numpy as np

MLP_SIZES = (784, 128, 10)


def mlp_flops_per_sample(d=784, h=128, k=10):
    """Multiply-adds ×2 of one training step per sample: forward x·W1, h·W2; backward h·dz
    (dW2), dz·W2ᵀ (dh), x·dh (dW1). No input gradient: nothing needs it."""
    return 2 * (d * h + h * k) + 2 * (h * k) + 2 * (h * k) + 2 * (d * h)


# -- timing ---------------------------------------------------------------------------------
def calibrate(call, warmup=0.3):
    """Warm the call up; return how many calls take about one second."""
    call()
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < warmup:
        call()
        n += 1
    return max(1, int(n / (time.perf_counter() - started)))


def time_calls(call, calls):
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return time.perf_counter() - started


def per_call_ms(call, calls):
    """Each call's wall time in ms (for latency: median and p95 of single calls)."""
    out = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1e3)
    return out


def alternate(contenders, runs, seconds):
    """contenders: {name: (call, samples_per_call)} -> {name: [samples/s per run]}, interleaved."""
    calls = {name: max(1, int(calibrate(call) * seconds)) for name, (call, _) in contenders.items()}
    rates = {name: [] for name in contenders}
    for _ in range(runs):
        for name, (call, samples) in contenders.items():
            rates[name].append(calls[name] * samples / time_calls(call, calls[name]))
    return rates


# -- the MLP --------------------------------------------------------------------------------
def numpy_mlp(seed=0):
    """(model, optimiser name, train_step(x, y) -> loss) from models.mlp, whatever its API."""
    from models.mlp import MLP
    model = MLP(seed=seed)
    name = getattr(model, "optimizer", "adam")
    if hasattr(model, "train_step"):
        return model, name, model.train_step
    from models.optim import SGD, Adam
    opt = Adam(model.params, lr=1e-3) if name == "adam" else SGD(model.params, lr=1e-3, momentum=0.9)

    def train_step(x, y):
        result = model.loss_and_grads(x, y)
        loss, grads = result if isinstance(result, tuple) else (result, model.grads)
        opt.step(grads)
        return loss
    return model, name, train_step


def mnist_like_batches(batch, count, rng):
    """float32 images in [0, 1], ~80 % exact zeros like MNIST, and int64 labels."""
    x = rng.random((count, batch, 784), dtype=np.float32)
    x[x < 0.8] = 0
    y = rng.integers(0, 10, (count, batch)).astype(np.int64)
    return x, y


def cycling(step, xs, ys):
    state = [0]

    def call():
        i = state[0]
        state[0] = (i + 1) % len(xs)
        step(xs[i], ys[i])
    return call


def mlp_rates(batch, runs, seconds, seed=0):
    """numpy MLP training samples/s at `batch`, one figure per run."""
    _, _, step = numpy_mlp(seed)
    xs, ys = mnist_like_batches(batch, 16 if batch > 1 else 256, np.random.default_rng(seed))
    return alternate({"numpy": (cycling(step, xs, ys), batch)}, runs, seconds)["numpy"]


def matmul_shapes(batch, d=784, h=128, k=10):
    """The matmuls of one training step, with the operand layouts the step uses."""
    rng = np.random.default_rng(1)
    x = rng.random((batch, d), dtype=np.float32)
    W1 = rng.random((d, h), dtype=np.float32)
    W2 = rng.random((h, k), dtype=np.float32)
    hid = rng.random((batch, h), dtype=np.float32)
    z = rng.random((batch, k), dtype=np.float32)
    return [  # (name, a, b, out)
        ("x·W1", x, W1, np.empty((batch, h), np.float32)),
        ("h·W2", hid, W2, np.empty((batch, k), np.float32)),
        ("hᵀ·dz", hid.T, z, np.empty((h, k), np.float32)),
        ("dz·W2ᵀ", z, W2.T, np.empty((batch, h), np.float32)),
        ("xᵀ·dh", x.T, hid, np.empty((d, h), np.float32)),
    ]


def einsum_matmul(a, b, out):
    """The products as the models run them where numpy has no BLAS (models/products.py)."""
    from models.products import einsum_dot
    return einsum_dot(a, b, out=out)


def matmul_gflops(batch, runs, seconds=0.5, kernel=np.matmul):
    """GFLOP/s of `kernel` (np.matmul) over the step's shapes: their total flops / their total time."""
    shapes = matmul_shapes(batch)
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for _, a, b, _ in shapes)
    reps = []
    for _, a, b, out in shapes:
        call = (lambda a=a, b=b, out=out: kernel(a, b, out=out))
        reps.append((call, max(5, int(calibrate(call, 0.1) * seconds / len(shapes)))))
    results = []
    for _ in range(runs):
        total = sum(time_calls(call, n) / n for call, n in reps)
        results.append(flops / total / 1e9)
    return results


# -- latencies of what the page does on the main thread ---------------------------------------
def sample_drawing():
    """A 28×28 drawing of a '7' (ink 1 on 0), like the canvas gives after averaging."""
    g = np.zeros((28, 28), np.float32)
    g[5:8, 6:22] = 1.0
    for r in range(8, 24):
        c = 21 - (r - 8) // 2
        g[r, c - 1:c + 2] = 1.0
    return g


def inference_ms(calls, model=None):
    """Per-call ms of preprocessing + predict_proba for one drawing (the app's live path)."""
    from models.mlp import MLP
    from models.preprocess import drawing_to_mnist
    model = model or MLP(seed=0)
    grid = sample_drawing()
    call = (lambda: model.predict_proba(drawing_to_mnist(grid)[None, :]))
    call()
    return per_call_ms(call, calls)


def ttt_choose_ms(calls, seed=0, player=None):
    """Per-call ms of TicTacToeLSTM.choose on random mid-game histories."""
    from models.ttt_player import TicTacToeLSTM
    player = player or TicTacToeLSTM(seed=seed)
    rng = np.random.default_rng(seed)
    histories = [[int(c) for c in rng.permutation(9)[:int(k)]] for k in rng.integers(0, 5, calls)]
    player.choose(histories[0])
    out = []
    for h in histories:
        started = time.perf_counter()
        player.choose(h)
        out.append((time.perf_counter() - started) * 1e3)
    return out
