"""Text: the chosen char-LSTM or char-RNN writes on request; the worker trains it on the bundled
or an uploaded text. Training is kept across visits (app/autosave.py): the view comes back
paused where it was, writing with that model, and Train goes on from there."""
import asyncio
import json
import random

import numpy as np
from pyscript import document
from pyscript.ffi import create_proxy

from app.autosave import Autosave
from app.charts import LineChart
from app.dom import by_id, enable, guarded, listen, set_data
from app.errors import show_error
from app.files import FileProblem, fetch_bytes, knowledge_from_url, read_upload
from app.text_session import read_checkpoint, restored_status
from app.stop_view import StopControls
from models import knowledge

SHIPPED = {"char-lstm": "knowledge/text-lstm.npz", "char-rnn": "knowledge/text.npz"}   # #text-model
NAMES = {"char-lstm": "LSTM", "char-rnn": "RNN"}
BUNDLED_TEXT = "static/data/text/hamlet.txt"
SAMPLE_LENGTH = 400
MIN_TEXT_CHARS = 5_000     # shorter texts give a model too little to learn from
NEXT_SHOWN = 5             # #text-next: the likeliest next characters
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥"}    # how #text-next shows characters with no glyph


class TextView:
    def __init__(self):
        self.trainer = None          # the worker's exported functions, once it is up
        self.model = None
        self.models = {}             # kind -> its model as last used (shipped, or as trained)
        self.training = False
        self.session_open = False
        self.corpus = None
        self.chart = LineChart("chart-text-loss", "loss per character", "#7048e8")
        self.controls = asyncio.Lock()   # model, write, train, upload: one at a time in click order
        self.autosave = Autosave("checkpoint/text", "text-restored", "text-discard", self.start_afresh, self.controls)
        self.to_restore = None       # checkpoint bytes from the last visit: the next Train goes on from them
        self.stop = StopControls("text-stop-rule", "text-stop-value", "text-progress", "text-eta", "held-out loss")
        listen("text-model", "change", self.choose_model, "Changing the model", turn=self.controls)
        listen("text-sample", "click", self.on_write, "Writing text", turn=self.controls)
        listen("text-train", "click", self.toggle_training, "Training on the text", turn=self.controls)
        listen("text-upload", "change", self.upload, "Loading your text", turn=self.controls)
        listen("text-temperature", "input", lambda event: self.show_temperature(), "Setting the temperature")

    async def boot(self):
        async with self.controls:      # a Train or Write clicked meanwhile acts on the kept model
            await self.restore_or_ship()

    async def restore_or_ship(self):
        kept = await self.autosave.load(read_checkpoint)
        if kept is None:
            await self.use_model(by_id("text-model").value)
        else:
            self.to_restore, saved = kept
            kind = by_id("text-model").value = saved.model.KIND
            self.models[kind], self.corpus = saved.model, saved.corpus
            await self.use_model(kind)
            self.show_status(restored_status(saved))
            self.autosave.restored(saved.progress["iteration"], saved.saved_at)
        self.show_temperature()
        enable("text-sample")
        enable("text-train", on=self.trainer is not None)   # training starts from this model
        await self.write()

    async def connect(self, trainer, inbox):
        self.trainer = trainer
        inbox.report_text = create_proxy(guarded(self.on_report, "Showing the trainer's progress"))
        enable("text-train", on=self.model is not None)

    def worker_lost(self):
        """The worker is being replaced (app/watchdog.py): writing goes on with the page's copy of
        the model; the next Train goes on from the last checkpoint in the new worker."""
        self.trainer, self.session_open, self.training = None, False, False
        if self.to_restore is None:
            self.to_restore = self.autosave.last
        by_id("text-train").textContent = "Train"
        enable("text-train", on=False)

    async def use_model(self, kind):
        if kind not in self.models:
            self.models[kind] = await knowledge_from_url(SHIPPED[kind], kind)
        self.model = self.models[kind]
        set_data(by_id("text-status"), model=kind)          # which model writes, for tests

    async def choose_model(self, event):
        """The writer and the next training session follow the choice; a running session of the
        other kind pauses first, so its weights come back into self.models."""
        if self.training:
            await self.toggle_training(None)
        await self.forget_saved()
        await self.use_model(by_id("text-model").value)
        self.session_open = False
        set_data(by_id("text-status"), state="idle", iteration=0, loss="")   # a new session's count
        by_id("text-status").textContent = f"Writing with the {NAMES[self.model.KIND]}."
        await self.write()

    def show_temperature(self):
        value = float(by_id("text-temperature").value)
        by_id("text-temperature-value").textContent = f"{value:.2f}"
        return value

    async def on_write(self, event):
        await self.write()

    async def write(self):
        prefix = by_id("text-prefix").value
        unknown = sorted(set(prefix) - set(self.model.vocab))
        if unknown:
            show_error(f"The model never saw {''.join(unknown)!r} in its text; "
                       f"it writes from the prefix without {'it' if len(unknown) == 1 else 'them'}.")
            prefix = "".join(c for c in prefix if c in self.model.vocab)
        settings = (prefix, SAMPLE_LENGTH, self.show_temperature(), random.randrange(2 ** 31))
        if self.training:           # the freshest model is the one in the worker (JSON crosses threads)
            written = json.loads(await self.trainer.text_sample(*settings))
            text, p_each, p_next, vocab = written["text"], written["p"], written["next"], written["vocab"]
        else:
            text, p_each, p_next = self.model.sample_with_probabilities(*settings)
            vocab = self.model.vocab
        show_written(prefix, text, p_each)
        show_next(vocab, p_next)

    async def toggle_training(self, event):
        if self.training:
            await self.trainer.text_pause()     # the model's weights arrive before this returns
            self.training = False
            by_id("text-train").textContent = "Train"
            return
        self.autosave.hide()
        if not self.session_open and self.to_restore is not None:
            problem = await self.trainer.text_restore(self.to_restore)
            self.to_restore = None
            if problem:          # the page read it, so only a worker of another version refuses it
                show_error(problem + " Training starts afresh from the model as it is.")
                await self.autosave.forget()
            else:
                self.session_open = True
        if not self.session_open:
            if self.corpus is None:
                self.corpus = (await fetch_bytes(BUNDLED_TEXT)).decode("utf-8")
            await self.trainer.text_open(knowledge.to_bytes(self.model), self.corpus)
            self.session_open = True
            await self.stop.connect(self.trainer.text_stop_rule)     # each session needs the rule
        self.training = True
        by_id("text-train").textContent = "Pause training"
        await self.trainer.text_start()

    async def upload(self, event):
        chosen = await read_upload(by_id("text-upload"))
        if chosen is None:
            return
        name, data = chosen
        try:
            corpus = data.decode("utf-8")
        except UnicodeDecodeError:
            raise FileProblem(f"{name} is not UTF-8 text") from None
        if len(corpus) < MIN_TEXT_CHARS:
            raise FileProblem(f"{name} has {len(corpus):,} characters; give it at least {MIN_TEXT_CHARS:,}")
        if self.training:
            await self.toggle_training(None)
        await self.forget_saved()
        self.corpus, self.session_open = corpus, False
        by_id("text-status").textContent = f"Ready to train on {name} ({len(corpus):,} characters): press Train."

    async def forget_saved(self):
        self.to_restore = None
        self.autosave.hide()
        await self.autosave.forget()

    async def start_afresh(self):
        """Discard: the view as a first visit finds it, writing with the shipped model."""
        if self.training:
            await self.toggle_training(None)
        self.to_restore, self.corpus, self.session_open = None, None, False
        kind = by_id("text-model").value
        self.models.pop(kind, None)
        await self.use_model(kind)
        set_data(by_id("text-status"), state="idle", iteration=0, loss="")
        by_id("text-status").textContent = "Writing with the shipped knowledge."
        self.chart.show([])
        await self.write()

    def on_report(self, kind, payload):
        if kind == "status":
            self.show_status(json.loads(payload))
        elif kind == "checkpoint":
            self.autosave.keep(payload.to_bytes())
        elif kind == "weights":
            self.model = knowledge.load(payload.to_bytes())
            self.models[self.model.KIND] = self.model
        elif kind == "error":
            show_error(json.loads(payload))
            self.training = False
            by_id("text-train").textContent = "Train"

    def show_status(self, status):
        set_data(by_id("text-status"), state=status["state"], iteration=status["iteration"],
                 loss="" if status["loss"] is None else f"{status['loss']:.4f}")
        words = [self.stop.show(by_id("text-status"), status.get("stop")) or status["state"].capitalize(),
                 f"step {status['iteration']:,}"]
        if status["loss"] is not None:
            words.append(f"training loss {status['loss']:.3f} nats/char")
        if status["val_loss"] is not None:
            words.append(f"held-out {status['val_loss']:.3f} nats/char")
        by_id("text-status").textContent = " · ".join(words)
        self.chart.show(status["loss_points"])
        if status["state"] == "stopped":       # the stop rule ended the run
            self.training = False
            by_id("text-train").textContent = "Train"


def show_written(prefix, text, p_each):
    """#text-output: the prefix as plain text, then one span per written character carrying the
    probability the model gave it (data-p, and --p for its colour). Built in one fragment, text
    only: model output never goes through innerHTML."""
    fragment = document.createDocumentFragment()
    fragment.append(prefix)
    spans = []
    for char, p in zip(text, p_each):
        span = document.createElement("span")
        span.textContent = char
        span.setAttribute("data-p", f"{p:.6f}")
        span.style.setProperty("--p", f"{p:.3f}")   # CSSOM: the page's CSP allows no style attributes
        spans.append(span)
    fragment.append(*spans)
    by_id("text-output").replaceChildren(fragment)


def show_next(vocab, p_next):
    """#text-next: the NEXT_SHOWN likeliest characters after the text, likeliest first."""
    p_next = np.asarray(p_next, np.float64)
    items = []
    for i in np.argsort(-p_next, kind="stable")[:NEXT_SHOWN]:
        char, p = vocab[int(i)], float(p_next[int(i)])
        item = document.createElement("li")
        item.setAttribute("data-char", char)
        item.setAttribute("data-p", f"{p:.6f}")
        shown = document.createElement("span")
        shown.className = "char"
        shown.textContent = VISIBLE.get(char, char)
        item.append(shown, f"{100 * p:.1f}%")
        items.append(item)
    by_id("text-next").replaceChildren(*items)
