"""Your taught digits: which are held out, how they join the MNIST batches, how well a model reads them.

Browser-agnostic: the page (app/teach.py), the worker (app/digits_session.py) and CPython tests
share it. Taught samples are a data block (models.blocks: images uint8 (n, 28, 28), labels uint8
(n,)) in the order they were added, each image the 28×28 input models.preprocess made of a drawing.
"""
import numpy as np

HOLD_OUT_EVERY = 5        # the 5th, 10th, 15th… sample added is held out: fine-tuning never sees it
TAUGHT_FRACTION = 0.25    # share of each fine-tuning batch drawn from your samples; the rest is MNIST


def how_it_works(steps):
    """The page's account of the split and the mix, from the numbers above."""
    nth = {2: "2nd", 3: "3rd"}.get(HOLD_OUT_EVERY, f"{HOLD_OUT_EVERY}th")
    return (f"Draw a digit, pick its label and add it; your samples stay in this browser. Every {nth} "
            f"sample you add is held out: fine-tuning never sees it, so it measures how well the model "
            f"reads your hand. Fine-tuning trains the model you predict with for {steps} batches, "
            f"{TAUGHT_FRACTION:.0%} of each from your other samples and the rest from MNIST.")


def held_out_mask(count):
    """(count,) bool: True for the samples held out (every HOLD_OUT_EVERY-th, counting from 1).

    By position, not at random, so a sample stays on its side of the split as more are added."""
    return np.arange(count) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1


def split(images, labels):
    """((train images, train labels), (held-out images, held-out labels)) of a taught set."""
    held = held_out_mask(len(labels))
    return (images[~held], labels[~held]), (images[held], labels[held])


def to_pixels(x784):
    """A model input ((784,) floats in [0, 1]) as the uint8 28×28 image a block holds; rounded as
    app/digits_input.py paints it, so the sample kept is the picture shown."""
    return np.rint(np.clip(np.asarray(x784, np.float64), 0, 1) * 255).astype(np.uint8).reshape(28, 28)


def to_inputs(images):
    """uint8 (n, 28, 28) -> float32 (n, 784) in [0, 1], the scaling of the MNIST batches."""
    return images.reshape(len(images), -1).astype(np.float32) * np.float32(1 / 255)


def accuracy(model, images, labels):
    """(correct, total) of `model` on these samples; (0, 0) for none."""
    if len(labels) == 0:
        return 0, 0
    predicted = model.predict_proba(to_inputs(images)).argmax(axis=1)
    return int((predicted == labels).sum()), int(len(labels))


class TaughtMix:
    """Replaces a share of each MNIST batch with taught training samples.

    The taught samples are visited in a fresh seeded order each pass (like the block cache's
    epochs), so all of them are used evenly. A batch gets floor(fraction × B) of them, plus one
    more with the probability of the remainder: on average exactly `fraction`, even at batch 1."""

    def __init__(self, images, labels, fraction=TAUGHT_FRACTION, seed=0):
        if len(labels) == 0:
            raise ValueError("there are no taught samples to mix in")
        if not 0 < fraction <= 1:
            raise ValueError(f"the taught fraction must be in (0, 1], got {fraction}")
        self.x, self.y = to_inputs(images), labels.astype(np.int64)
        self.fraction = fraction
        self.rng = np.random.default_rng(seed)
        self.order, self.position = self.rng.permutation(len(self.y)), 0
        self.served = 0          # taught samples put into batches so far

    def take(self, count):
        """Indices of the next `count` taught samples in visiting order."""
        taken = []
        while len(taken) < count:
            if self.position == len(self.order):
                self.order, self.position = self.rng.permutation(len(self.y)), 0
            step = min(count - len(taken), len(self.order) - self.position)
            taken.extend(self.order[self.position:self.position + step])
            self.position += step
        return np.asarray(taken, np.int64)

    def mix(self, x, y):
        """(x, y) of the same batch size with its first rows replaced by taught samples (the
        cache shuffles every batch, so which rows go does not matter; the loss is their mean)."""
        share = self.fraction * len(y)
        count = int(share) + int(self.rng.random() < share - int(share))
        if count == 0:
            return x, y
        chosen = self.take(count)
        x, y = x.copy(), y.copy()
        x[:count], y[:count] = self.x[chosen], self.y[chosen]
        self.served += count
        return x, y
