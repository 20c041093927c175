"""Text training: the char-RNN or char-LSTM learns a text one truncated-BPTT window at a time.

Browser-agnostic like the digits session. It starts from the given model when the text's
characters are all in its vocabulary (fine-tuning the shipped knowledge on the bundled text),
and from a fresh, smaller model of the same kind otherwise (an uploaded text with characters it
never saw). It checkpoints like the digits session (models/checkpoint.py), the training text
included, so a checkpoint alone is enough to go on. A stop rule (app/stop_rules.py) works as in
the digits session, on the held-out loss: early stopping goes back to the weights of the lowest one.
"""
import json

import numpy as np

from app.training_loop import TrainingLoop
from models import checkpoint, knowledge
from models.charrnn import CharTrainer, vocabulary
from models.checkpoint import CheckpointError, number

FRESH_HIDDEN = 128        # a new model for a new alphabet: small enough to learn quickly in a worker
LOSS_SMOOTHING = 0.9
VALIDATION_CHARS = 2000   # held-out characters scored on each evaluation (cheap enough every few s)
CHART_POINTS = 400
CHECKPOINT_EVERY = 4.0        # seconds of training at most lost with the tab (plus one step)
MAX_TEXT_BYTES = 20 * 1024 * 1024   # app/files.py's upload limit: any text the page trains on
MAX_STEPS = 10**12
# The arrays a text checkpoint may hold beside the model: the chart, the recurrent state carried
# between windows (h; the LSTM adds c) and the training text as UTF-8.
SAVED_ARRAYS = {"loss_points": ("float64", ((0, 2 * CHART_POINTS), 2)),
                "state.0": ("float32", ((1, 1024), (1, 2048))), "state.1": ("float32", ((1, 1024), (1, 2048))),
                "corpus": ("uint8", ((1, MAX_TEXT_BYTES),))}


class TextSession(TrainingLoop):
    # Weights go to the page only on pause: while training, the page asks sample() here instead,
    # so the page's thread never parses a model mid-training.
    PERIODIC = {"send_status": 0.5, "evaluate": 10.0, "send_checkpoint": CHECKPOINT_EVERY}

    def __init__(self, model, corpus, report):
        super().__init__(report)
        if not set(corpus) <= set(model.vocab):
            model = type(model)(vocabulary(corpus), hidden=FRESH_HIDDEN)
        self.model, self.corpus = model, corpus
        self.trainer = CharTrainer(model, corpus)
        self.iteration, self.loss, self.val_loss = 0, None, None
        self.loss_points = []

    async def step(self):
        loss = self.trainer.step()
        self.iteration += 1
        self.loss = loss if self.loss is None else LOSS_SMOOTHING * self.loss + (1 - LOSS_SMOOTHING) * loss
        self.loss_points.append((self.iteration, float(self.loss)))
        if len(self.loss_points) > CHART_POINTS:
            self.loss_points = self.loss_points[::2]

    def epochs_done(self):
        """Passes over the training text: each step moves every stream one window along its slice."""
        return self.trainer.steps * self.trainer.seq_len / self.trainer.span

    def evaluate(self):
        self.val_loss = float(self.model.loss_on(self.trainer.val_ids[:VALIDATION_CHARS]))
        self.rule.observe(-self.val_loss, self.iteration,       # the rule keeps the highest score
                          keep=lambda: {name: p.copy() for name, p in self.model.params.items()})

    async def on_rule_stop(self, reason):
        best = self.rule.best
        if reason == "patience" and best is not None and best.kept is not None:
            for name, p in self.model.params.items():
                p[...] = best.kept[name]
            self.val_loss = -best.score
        else:
            self.evaluate()
        self.send_weights()
        self.send_status()

    async def on_pause(self):
        self.evaluate()
        self.send_weights()
        self.send_status()
        self.send_checkpoint()

    def status(self):
        return {"state": self.state, "iteration": self.iteration, "loss": self.loss,
                "val_loss": self.val_loss, "loss_points": self.loss_points,
                "vocab_size": len(self.model.vocab), "stop": self.rule.report()}

    def sample(self, prefix, length, temperature, seed):
        """JSON: the text written, the probability of each of its characters, the next-character
        distribution and the vocabulary it is over (a new text may have a new alphabet)."""
        known = "".join(c for c in prefix if c in self.model.vocab)
        text, p_each, p_next = self.model.sample_with_probabilities(known, length, temperature, seed)
        return json.dumps({"text": text, "p": p_each.tolist(), "next": p_next.tolist(),
                           "vocab": self.model.vocab})

    def send_weights(self):
        self.model.metrics = dict(self.model.metrics, fine_tune_steps=self.iteration)
        self.report("weights", knowledge.to_bytes(self.model))

    # -- checkpoints -----------------------------------------------------------------------------
    def checkpoint(self):
        """Everything needed to go on exactly from here, as models/checkpoint.py bytes."""
        trainer = self.trainer
        state = trainer.state if isinstance(trainer.state, tuple) else (trainer.state,)
        progress = {"iteration": self.iteration, "loss": None if self.loss is None else float(self.loss),
                    "val_loss": self.val_loss, "offset": trainer.offset, "steps": trainer.steps,
                    "seq_len": trainer.seq_len, "batch": trainer.batch}
        arrays = {"loss_points": np.array(self.loss_points, np.float64).reshape(-1, 2),
                  "corpus": np.frombuffer(self.corpus.encode("utf-8"), np.uint8)}
        arrays.update({f"state.{i}": part for i, part in enumerate(state)})
        return checkpoint.encode("text", self.model, trainer.opt, progress, arrays)

    def send_checkpoint(self):
        self.report("checkpoint", self.checkpoint())

    @classmethod
    def from_checkpoint(cls, data, report):
        """A session paused exactly where `data` was saved: weights, optimiser, the window it
        reads next and the recurrent state it carries, counters and chart."""
        saved = read_checkpoint(data)
        progress = saved.progress
        try:
            session = cls(saved.model, saved.corpus, report)
        except ValueError as error:          # a text too short to train on
            raise CheckpointError(f"the saved training text cannot be trained on: {error}") from None
        trainer = session.trainer
        if (progress["seq_len"], progress["batch"]) != (trainer.seq_len, trainer.batch):
            raise CheckpointError("the saved training used windows this Falken does not train with")
        if progress["offset"] > trainer.span:
            raise CheckpointError("the saved position is past the end of the saved text")
        saved.restore_adam(trainer.opt)
        fresh = trainer.state if isinstance(trainer.state, tuple) else (trainer.state,)
        state = tuple(saved.extra.get(f"state.{i}") for i in range(len(fresh)))
        if any(part is None or part.shape != like.shape for part, like in zip(state, fresh)) \
                or len(saved.extra) != 2 + len(fresh):
            raise CheckpointError("the saved recurrent state does not fit this model")
        trainer.state = state if len(state) > 1 else state[0]
        trainer.offset, trainer.steps = progress["offset"], progress["steps"]
        session.iteration, session.loss, session.val_loss = progress["iteration"], progress["loss"], progress["val_loss"]
        session.loss_points = [tuple(point) for point in saved.extra["loss_points"].tolist()]
        session.state = "paused"
        return session


def read_checkpoint(data):
    """A text checkpoint (models.checkpoint.Checkpoint, plus .corpus, the training text) with
    its progress checked field by field, or CheckpointError: the page reads it on a visit, the
    worker when it resumes."""
    saved = checkpoint.decode(data, "text", SAVED_ARRAYS)
    given = saved.progress
    saved.progress = {
        "iteration": number(given, "iteration", 0, MAX_STEPS, integer=True),
        "loss": number(given, "loss", 0, 1e6, optional=True),
        "val_loss": number(given, "val_loss", 0, 1e6, optional=True),
        "offset": number(given, "offset", 0, MAX_TEXT_BYTES, integer=True),
        "steps": number(given, "steps", 0, MAX_STEPS, integer=True),
        "seq_len": number(given, "seq_len", 1, 4096, integer=True),
        "batch": number(given, "batch", 1, 1024, integer=True)}
    for name in ("loss_points", "corpus"):
        if name not in saved.extra:
            raise CheckpointError(f"the saved training lacks its {name.replace('_', ' ')}")
    try:
        saved.corpus = saved.extra["corpus"].tobytes().decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError("the saved training text is not UTF-8") from None
    if not set(saved.corpus) <= set(saved.model.vocab):
        raise CheckpointError("the saved training text has characters the saved model does not know")
    return saved


def restored_status(saved):
    """What status() said when `saved` was written, paused: for the page before the worker is up."""
    return dict(state="paused", iteration=saved.progress["iteration"], loss=saved.progress["loss"],
                val_loss=saved.progress["val_loss"], loss_points=saved.extra["loss_points"].tolist(),
                vocab_size=len(saved.model.vocab))
