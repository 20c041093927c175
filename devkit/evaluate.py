"""Dev kit: measure a knowledge file.

    python -m devkit.evaluate knowledge/tictactoe.npz
    python -m devkit.evaluate knowledge/digits.npz [--data static/data/mnist]
    python -m devkit.evaluate knowledge/digits-cnn.npz [--data static/data/mnist]
    python -m devkit.evaluate knowledge/text.npz [--text static/data/text/hamlet.txt]

Tic-tac-toe: optimal-move rate over every reachable history and a full game-tree play-out
against every opponent reply, as X and as O. Digits: accuracy on the held-out test split of
the data set the file was trained on (found by the identity its metrics record; --data picks
another folder, with a warning if it holds a different data set); the output always says
which data the figures are on. Text: loss per character on the held-out tail of the corpus,
and samples.
"""
import argparse
import json
import os
import sys

import numpy as np

from devkit import provenance
from models import blocks, knowledge


def evaluate_tictactoe(model):
    from models import tictactoe as ttt
    from models.ttt_player import Positions
    P = Positions()
    rate, _ = P.evaluate(model)
    moves = P.choices(model)
    choose = lambda hist: moves[tuple(hist)]
    return {"optimal_move_rate": rate, "histories": P.count,
            "play_out_as_X": ttt.play_out(choose, "X"), "play_out_as_O": ttt.play_out(choose, "O"),
            "params": int(model.n_params())}


def evaluate_digits(model, data_dir=provenance.DEFAULT_DATA):
    xt, yt = blocks.load_split(data_dir, "test")
    x = xt.reshape(len(xt), -1).astype(np.float32) / np.float32(255)
    return {"test_accuracy": model.evaluate(x, yt), "test_count": len(yt),
            "params": int(model.n_params())}


def score_works(model, works):
    """{name: text} -> (nats per character over them all, {name: (nats per char, chars scored)});
    each work is read as one stream from a fresh state."""
    scored = {name: (model.nats_per_char(text), len(model.encode(text)) - 1) for name, text in works.items()}
    return sum(x * n for x, n in scored.values()) / sum(n for _, n in scored.values()), scored


def evaluate_text(model, text_path="static/data/text/hamlet.txt", val_fraction=0.1):
    out = {"params": int(model.n_params())}
    held_out = model.metrics.get("held_out_works")
    if os.path.isdir(text_path) and held_out:     # a folder of works: score the ones held out
        works = {w: open(os.path.join(text_path, w), encoding="utf-8").read() for w in held_out}
        mean, scored = score_works(model, works)
        out["held_out_loss_per_char"] = round(mean, 4)
        out["held_out_works"] = {w: round(x, 4) for w, (x, _) in scored.items()}
    elif os.path.isfile(text_path):
        ids = model.encode(open(text_path, encoding="utf-8").read())
        out["val_loss_per_char"] = round(model.loss_on(ids[len(ids) - int(len(ids) * val_fraction):]), 4)
    out["sample_t0.7"] = model.sample("Ham.\n", 300, 0.7, seed=1)
    out["sample_t1.0"] = model.sample("", 300, 1.0, seed=2)
    return out


def evaluate(model, **kw):
    """Figures for a model. Digits also get "data": which data they are on (provenance.choose);
    kw data=None (the default) means the data the file was trained on."""
    kind = model.KIND
    if kind == "tictactoe-lstm":
        return evaluate_tictactoe(model)
    if kind in ("mnist-mlp", "mnist-cnn"):
        data = provenance.choose(model.metrics, kw.get("data"))
        return dict(evaluate_digits(model, data["folder"]), data=data)
    return evaluate_text(model, kw.get("text", "static/data/text/hamlet.txt"))


def say_data(data):
    """Print which data the figures are on; warn on stderr when it is not the training data."""
    print(f"figures on: {provenance.describe(data['scored'])}")
    if data["trained_on"] is None:
        print("trained on: unknown (this file predates recorded training data: nothing says "
              "which data set it was trained on, so the figures may be on a different one)")
    elif data["same"]:
        print("trained on: the same data set (manifest sha256 matches); the figures are on its "
              "held-out split")
    else:
        print(f"trained on: {provenance.describe(data['trained_on'])}, a DIFFERENT data set")
        print(f"warning: {data['warning']}", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m devkit.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--data", default=None, help="MNIST blocks folder (digits; default: the data "
                    f"the file was trained on if it is here, else {provenance.DEFAULT_DATA})")
    ap.add_argument("--text", default="static/data/text/hamlet.txt",
                    help="corpus (text), or the folder of works a char-lstm held some out of")
    args = ap.parse_args(argv)
    try:
        model = knowledge.load(args.file)
    except knowledge.KnowledgeError as e:
        sys.exit(f"{args.file}: {e}")
    meta = model.knowledge_meta
    print(f"{args.file}: {meta['kind']}, {os.path.getsize(args.file):,} bytes, hyper {meta['hyper']}")
    print("metrics stored in the file:", json.dumps(meta["metrics"], sort_keys=True))
    try:
        figures = evaluate(model, data=args.data, text=args.text)
    except (blocks.BlockError, OSError) as e:
        sys.exit(f"{args.file}: cannot read the data to score it on: {e}")
    if "data" in figures:
        say_data(figures["data"])
    for k, v in figures.items():
        if k == "data":
            continue
        print(f"{k}: {v}" if not isinstance(v, str) else f"{k}:\n{v}\n")
    return figures


if __name__ == "__main__":
    main()
