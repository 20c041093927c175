"""Dev kit: train a model and write a knowledge file.

    python -m devkit.train tictactoe --out knowledge/tictactoe.npz
    python -m devkit.train digits    --out knowledge/digits.npz
    python -m devkit.train digits --model cnn --out knowledge/digits-cnn.npz
    python -m devkit.train text      --out knowledge/text.npz

Every run is seeded (--seed) and shows tqdm progress bars. The loops live in functions
(train_tictactoe, train_digits, train_text) so tests can run them with tiny budgets.
"""
import argparse
import sys
import time

import numpy as np

from devkit import provenance
from models import knowledge
from models.optim import Adam


def _bar(total, desc, quiet):
    from tqdm import tqdm   # CLI-only dependency: never imported by the browser
    return tqdm(total=total, desc=desc, disable=quiet, dynamic_ncols=True, file=sys.stderr)


# tic-tac-toe -------------------------------------------------------------------------------
def train_tictactoe(hidden=64, batch=512, lr=3e-3, seed=0, max_epochs=60, max_steps=None,
                    snapshots=(), quiet=False, positions=None):
    """Adam on minibatches of same-length histories until every history gets an optimal move.

    After each epoch the model is evaluated on all 294,778 histories; training stops at 100%.
    snapshots: [(step, path)] writes the model as it is at that step (weaker levels)."""
    from models.ttt_player import Positions, TicTacToeLSTM
    P = positions or Positions()
    model = TicTacToeLSTM(hidden=hidden, seed=seed)
    opt = Adam(model.params, lr=lr)
    rng = np.random.default_rng(seed)
    snaps = sorted(snapshots)
    step, rate = 0, 0.0
    bar = _bar(max_steps, "tictactoe", quiet)
    for epoch in range(max_epochs):
        for arr, mask in P.batches(batch, rng):
            loss, grads = model.loss_and_grads(arr if arr.shape[1] else [()] * len(arr), mask)
            opt.step(grads)
            step += 1
            bar.update(1)
            while snaps and snaps[0][0] == step:
                _save_ttt(model, P, snaps.pop(0)[1], step, epoch)
            if max_steps and step >= max_steps:
                break
        rate, _ = P.evaluate(model)
        bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}", optimal=f"{rate:.5f}")
        if rate == 1.0 or (max_steps and step >= max_steps):
            break
    bar.close()
    model.metrics = {"optimal_move_rate": rate, "histories": P.count, "steps": step,
                     "epochs": epoch + 1, "params": int(model.n_params())}
    return model


def _save_ttt(model, P, path, step, epoch):
    rate, _ = P.evaluate(model)
    model.metrics = {"optimal_move_rate": rate, "histories": P.count, "steps": step,
                     "epochs": epoch + 1, "params": int(model.n_params())}
    knowledge.save(model, path)
    print(f"\nsnapshot at step {step}: optimal-move rate {rate:.4f} -> {path}", file=sys.stderr)


# digits ------------------------------------------------------------------------------------
def shift_batch(images, rng, max_shift=2):
    """Augmentation: move each (28, 28) image by up to max_shift pixels, filling with 0."""
    n = len(images)
    out = np.zeros_like(images)
    dy, dx = rng.integers(-max_shift, max_shift + 1, (2, n))
    for k in range(n):
        a, b = dy[k], dx[k]
        out[k, max(a, 0):28 + min(a, 0), max(b, 0):28 + min(b, 0)] = \
            images[k, max(-a, 0):28 - max(a, 0), max(-b, 0):28 - max(b, 0)]
    return out


ELASTIC_SMOOTHING = 4.0     # pixels: std of the Gaussian that smooths an elastic displacement field


def affine_batch(images, rng, max_shift=2.0, max_rotate=0.0, max_scale=0.0, elastic=0.0):
    """Augmentation: each (28, 28) image rotated by up to max_rotate degrees, scaled by up to
    1 ± max_scale and shifted by up to max_shift pixels about its centre, then bent by a smooth
    random displacement field of RMS `elastic` pixels (Simard et al. 2003's elastic distortion);
    bilinear sampling, 0 outside."""
    n = len(images)
    angle = np.radians(rng.uniform(-max_rotate, max_rotate, n))[:, None, None]
    scale = 1 + rng.uniform(-max_scale, max_scale, n)[:, None, None]
    tx, ty = (rng.uniform(-max_shift, max_shift, (2, n))[:, :, None, None])
    ys, xs = np.mgrid[0:28, 0:28] - 13.5
    # where each output pixel comes from: the inverse transform of its coordinates
    src_x = (np.cos(angle) * (xs - tx) + np.sin(angle) * (ys - ty)) / scale + 13.5
    src_y = (-np.sin(angle) * (xs - tx) + np.cos(angle) * (ys - ty)) / scale + 13.5
    if elastic:
        blur = np.exp(-0.5 * ((np.arange(28)[:, None] - np.arange(28)) / ELASTIC_SMOOTHING) ** 2)
        field = blur @ rng.standard_normal((2, n, 28, 28)) @ blur.T
        field *= elastic / field.std()
        src_x, src_y = src_x + field[0], src_y + field[1]
    src_x, src_y = np.clip(src_x, -1, 28), np.clip(src_y, -1, 28)
    x0, y0 = np.floor(src_x).astype(np.int64), np.floor(src_y).astype(np.int64)
    fx, fy = src_x - x0, src_y - y0
    padded = np.zeros((n, 31, 31), np.float32)       # 1 blank pixel before, 2 after: no bounds checks
    padded[:, 1:29, 1:29] = images
    k = np.arange(n)[:, None, None]
    at = lambda yy, xx: padded[k, yy + 1, xx + 1]
    out = ((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1))
           + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)))
    return np.rint(out).astype(images.dtype)


def train_digits(data_dir="static/data/mnist", epochs=60, batch=32, lr=2e-3, hidden=128,
                 seed=0, max_shift=2, quiet=False, limit=None, model_kind="mlp", conv=(16, 32),
                 rotate=0.0, scale=0.0, elastic=0.0):
    """Adam on the train split with small random shifts, lr decaying linearly to 5%;
    accuracy is measured on the held-out test split only. The MLP gets whole-pixel shifts; the
    CNN (model_kind="cnn") bilinear shifts, rotations and scalings (affine_batch)."""
    from models import blocks
    from models.cnn import CNN
    from models.mlp import MLP
    xi, yi = blocks.load_split(data_dir, "train")
    xt, yt = blocks.load_split(data_dir, "test")
    if limit:
        xi, yi = xi[:limit], yi[:limit]
    x_test = (xt.reshape(len(xt), -1) / np.float32(255)).astype(np.float32)
    y_train = yi.astype(np.int64)
    if model_kind == "cnn":
        model = CNN(conv1=conv[0], conv2=conv[1], seed=seed, optimizer="adam", lr=lr)
        augment = lambda imgs: affine_batch(imgs, rng, max_shift, rotate, scale, elastic)
    else:
        model = MLP(hidden=hidden, seed=seed, optimizer="adam", lr=lr)
        augment = lambda imgs: shift_batch(imgs, rng, int(max_shift))   # whole pixels
    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-len(xi) // batch)
    total = epochs * steps_per_epoch
    bar = _bar(total, "digits", quiet)
    step = 0
    for epoch in range(epochs):
        perm = rng.permutation(len(xi))
        for s in range(0, len(xi), batch):
            j = perm[s:s + batch]
            imgs = augment(xi[j]) if max_shift or rotate or scale or elastic else xi[j]
            xb = imgs.reshape(len(j), -1).astype(np.float32) / np.float32(255)
            model.lr = lr * (1 - 0.95 * step / total)
            loss = model.train_step(xb, y_train[j])
            step += 1
            bar.update(1)
        bar.set_postfix(epoch=epoch, loss=f"{loss:.3f}", test_acc=f"{model.evaluate(x_test, yt):.4f}")
    bar.close()
    model.metrics = {"test_accuracy": model.evaluate(x_test, yt), "test_count": len(yt),
                     "train_count": len(yi), "epochs": epochs, "batch": batch,
                     "params": int(model.n_params()), "data": provenance.identity(data_dir)}
    if model_kind == "cnn":
        model.metrics.update(flops_per_sample=model.flops_per_sample(), lr=lr, max_shift=max_shift,
                             rotate=rotate, scale=scale, elastic=elastic)
    return model


# text --------------------------------------------------------------------------------------
def train_text(text_path, hidden=256, steps=5000, seq_len=50, batch=32, lr=2e-3, seed=0,
               quiet=False, corpus_name=None):
    """Char-RNN on a text file; lr decays linearly to a tenth over the run."""
    import hashlib
    import os

    from models.charrnn import CharRNN, CharTrainer, vocabulary
    raw = open(text_path, "rb").read()
    text = raw.decode("utf-8")
    model = CharRNN(vocabulary(text), hidden=hidden, seed=seed)
    trainer = CharTrainer(model, text, seq_len=seq_len, batch=batch, lr=lr, seed=seed)
    bar = _bar(steps, "text", quiet)
    smooth = None
    for i in range(steps):
        trainer.lr = lr * (1 - 0.9 * i / steps)
        loss = trainer.step()
        smooth = loss if smooth is None else 0.98 * smooth + 0.02 * loss
        bar.update(1)
        if i % 100 == 0:
            bar.set_postfix(loss=f"{smooth:.3f}")
    bar.close()
    model.metrics = {"val_loss_per_char": round(trainer.val_loss(), 4),
                     "train_loss_per_char": round(float(smooth), 4), "steps": steps,
                     "params": int(model.n_params()),
                     "corpus": corpus_name or os.path.basename(text_path),
                     "corpus_sha256": hashlib.sha256(raw).hexdigest(),
                     "corpus_chars": len(text), "val_fraction": 0.1}
    return model


def _snapshot(s):
    step, path = s.split(":", 1)
    return int(step), path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m devkit.train", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("tictactoe", help="LSTM player, trained until it is optimal everywhere")
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--batch", type=int, default=512)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--max-epochs", type=int, default=60)
    t.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    t.add_argument("--snapshot", type=_snapshot, action="append", default=[],
                   metavar="STEP:PATH", help="also save the model as it is at STEP (weaker levels)")
    d = sub.add_parser("digits", help="MLP 784-128-10 or CNN on the MNIST blocks (train split)")
    d.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    d.add_argument("--conv", type=int, nargs=2, default=(16, 32), metavar=("C1", "C2"),
                   help="CNN: channels of the two 5x5 convolutions")
    d.add_argument("--rotate", type=float, default=0.0, help="CNN augmentation: degrees, ±")
    d.add_argument("--scale", type=float, default=0.0, help="CNN augmentation: 1 ± this")
    d.add_argument("--elastic", type=float, default=0.0,
                   help="CNN augmentation: RMS pixels of a smooth random displacement")
    d.add_argument("--data", default="static/data/mnist", help="folder with manifest.json")
    d.add_argument("--epochs", type=int, default=60)
    d.add_argument("--batch", type=int, default=32)
    d.add_argument("--lr", type=float, default=2e-3)
    d.add_argument("--hidden", type=int, default=128)
    d.add_argument("--max-shift", type=float, default=2, help="augmentation: random shift in pixels")
    x = sub.add_parser("text", help="char-RNN on a text file")
    x.add_argument("--text", default="static/data/text/hamlet.txt")
    x.add_argument("--corpus-name", default=None)
    x.add_argument("--hidden", type=int, default=256)
    x.add_argument("--steps", type=int, default=5000)
    x.add_argument("--seq-len", type=int, default=50)
    x.add_argument("--batch", type=int, default=32)
    x.add_argument("--lr", type=float, default=2e-3)
    for p in sub.choices.values():
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--out", required=True, help="knowledge file to write (.npz)")
        p.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.what == "tictactoe":
        model = train_tictactoe(args.hidden, args.batch, args.lr, args.seed, args.max_epochs,
                                args.steps, args.snapshot, args.quiet)
    elif args.what == "digits":
        model = train_digits(args.data, args.epochs, args.batch, args.lr, args.hidden,
                             args.seed, args.max_shift, args.quiet, model_kind=args.model,
                             conv=tuple(args.conv), rotate=args.rotate, scale=args.scale,
                             elastic=args.elastic)
    elif args.what == "text":
        model = train_text(args.text, args.hidden, args.steps, args.seq_len, args.batch, args.lr,
                           args.seed, args.quiet, args.corpus_name)
    knowledge.save(model, args.out)
    print(f"wrote {args.out} in {time.time() - t0:.0f} s: {model.metrics}")


if __name__ == "__main__":
    main()
