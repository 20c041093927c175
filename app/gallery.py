"""The held-out gallery's contents, in pure numpy: which digits to show and the report carrying them.

The worker scores the held-out digits the evaluation uses (app.digits_session.EVALUATION) and
sends the gallery: the digits the model reads wrong first, then right ones, each with its index
into that held-out set, its label, the prediction and the prediction's probability, and its
pixels (uint8, base64), so the page can show and load them without fetching the test blocks.
"""
import base64

import numpy as np

GALLERY_SIZE = 48
SIDE = 28


def wrong_first(labels, predicted, size=GALLERY_SIZE):
    """Indices of at most `size` digits: every wrong one (in held-out order), then right ones."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    wrong = labels != predicted
    return np.concatenate([np.flatnonzero(wrong), np.flatnonzero(~wrong)])[:size]


def gallery_report(kind, iteration, images, labels, probabilities, size=GALLERY_SIZE):
    """The "gallery" report of one scoring: images (N, 784) in [0, 1] (uint8 pixels / 255),
    labels (N,), probabilities (N, 10) of the model scored; iteration None for a model that is
    not training."""
    predicted = probabilities.argmax(axis=1)
    picked = wrong_first(labels, predicted, size)
    pixels = np.rint(np.asarray(images)[picked].reshape(len(picked), SIDE * SIDE) * 255).astype(np.uint8)
    return {"kind": kind, "iteration": None if iteration is None else int(iteration), "scored": int(len(labels)),
            "wrong": int((predicted != np.asarray(labels)).sum()),
            "index": picked.tolist(), "label": np.asarray(labels)[picked].tolist(),
            "predicted": predicted[picked].tolist(),
            "p": [round(float(p), 4) for p in probabilities[picked, predicted[picked]]],
            "images": base64.b64encode(pixels.tobytes()).decode("ascii")}


def gallery_images(report):
    """A report's digits as (n, 784) float32 in [0, 1]: the very values the model was given."""
    pixels = np.frombuffer(base64.b64decode(report["images"]), np.uint8)
    return pixels.reshape(len(report["index"]), SIDE * SIDE).astype(np.float32) / 255.0


def gallery_line(report, model_words):
    """The sentence over the gallery: whose readings (`model_words`: "the shipped MLP"), how many wrong."""
    return (f"{report['wrong']:,} of {report['scored']:,} held-out digits read wrong by {model_words}; "
            f"{len(report['index'])} shown, wrong ones first (red). Choose one to load it into the grid.")


def item_label(report, slot):
    """What one gallery item says to a screen reader (and as a tooltip)."""
    index, label, predicted = report["index"][slot], report["label"][slot], report["predicted"][slot]
    verdict = "right" if label == predicted else "wrong"
    return f"Held-out digit {index}, a {label}: read as {predicted} ({report['p'][slot]:.0%}), {verdict}"
