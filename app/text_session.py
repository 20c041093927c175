"""Text training: the char-RNN or char-LSTM learns a text one truncated-BPTT window at a time.

Browser-agnostic like the digits session. It starts from the given model when the text's
characters are all in its vocabulary (fine-tuning the shipped knowledge on the bundled text),
and from a fresh, smaller model of the same kind otherwise (an uploaded text with characters it
never saw). A stop rule (app/stop_rules.py) works as in the digits session, on the held-out
loss: early stopping goes back to the weights of the lowest one.
"""
import json

from app.training_loop import TrainingLoop
from models import knowledge
from models.charrnn import CharTrainer, vocabulary

FRESH_HIDDEN = 128        # a new model for a new alphabet: small enough to learn quickly in a worker
LOSS_SMOOTHING = 0.9
VALIDATION_CHARS = 2000   # held-out characters scored on each evaluation (cheap enough every few s)
CHART_POINTS = 400


class TextSession(TrainingLoop):
    # Weights go to the page only on pause: while training, the page asks sample() here instead,
    # so the page's thread never parses a model mid-training.
    PERIODIC = {"send_status": 0.5, "evaluate": 10.0}

    def __init__(self, model, corpus, report):
        super().__init__(report)
        if not set(corpus) <= set(model.vocab):
            model = type(model)(vocabulary(corpus), hidden=FRESH_HIDDEN)
        self.model = model
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
