"""Teach it your handwriting: drawn digits with your labels, kept in the browser, fine-tuned on.

A sample is the exact 28×28 input the model is given for the drawing (models.preprocess, shown
in #digits-input), as uint8. The set is one data block (models.blocks, the MNIST blocks' format)
saved under STORE_KEY (app/store.py), downloaded and uploaded as that same .npz. "Fine-tune on
mine" sends the predictor and the samples to the worker (DigitsSession.fine_tune), which reports
the accuracy on the held-out samples (app/taught.py) before and after.
"""
import numpy as np

from app import store, taught
from app.dom import by_id, enable, listen, set_data
from app.errors import show_error
from app.files import FileProblem, offer_download, read_upload
from app.wording import sentence
from app.digits_session import FINE_TUNE_STEPS
from models import knowledge
from models.blocks import BlockError, decode_block, encode_block
from models.preprocess import drawing_to_mnist, is_empty

STORE_KEY = "teach/samples.npz"
DOWNLOAD_NAME = "falken-my-digits.npz"
EMPTY = (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))


class Teacher:
    def __init__(self, view):
        self.view = view                      # the DigitsView: its drawing, predictor and trainer
        self.images, self.labels = EMPTY
        self.refusal = None                   # why the store will not keep samples, once it said so
        self.refusal_shown = False
        self.fine_tuning = False
        listen("teach-add", "click", self.add, "Adding your sample")
        listen("teach-download", "click", lambda event: self.download(), "Downloading your samples")
        listen("teach-upload", "change", self.upload, "Loading your samples")
        listen("teach-train", "click", self.fine_tune, "Fine-tuning on your samples", turn=view.controls)

    async def boot(self):
        try:
            data = await store.get_bytes(STORE_KEY)
        except store.StoreUnavailable as problem:
            self.refusal, data = problem, None    # said when a sample is added: many never teach
        if data is not None:
            try:
                self.images, self.labels = decode_block(data)
            except BlockError as error:
                show_error(f"Your saved samples could not be read ({sentence(error)}) You start with none; "
                           "adding one replaces them.")
        by_id("teach-how").textContent = taught.how_it_works(FINE_TUNE_STEPS)
        enable("teach-add")
        self.show_count()

    async def save(self):
        """Keep the samples for the next visit; a store that refuses is said once, and the
        samples live on in this page."""
        if self.refusal is None:
            try:
                await store.put_bytes(STORE_KEY, encode_block(self.images, self.labels))
            except store.StoreUnavailable as problem:
                self.refusal = problem
        if self.refusal is not None and not self.refusal_shown:
            self.refusal_shown = True
            show_error(f"Your samples will not outlast this visit: {sentence(self.refusal)} "
                       "Download them to keep them.")

    # -- the samples -----------------------------------------------------------------------
    async def add(self, event):
        ink = self.view.drawing_pixels()
        if is_empty(ink):
            show_error("Draw a digit on the grid first, then add it.")
            return
        image = taught.to_pixels(drawing_to_mnist(ink))
        label = int(by_id("teach-label").value)
        self.images = np.concatenate([self.images, image[None]])
        self.labels = np.concatenate([self.labels, np.uint8([label])])
        self.show_count()
        self.view.clear()                     # ready for the next one
        await self.save()

    def download(self):
        offer_download(encode_block(self.images, self.labels), DOWNLOAD_NAME)

    async def upload(self, event):
        count = len(self.labels)
        unchanged = f"Your {count} sample{'s' if count != 1 else ''} {'are' if count != 1 else 'is'} unchanged."
        try:
            chosen = await read_upload(by_id("teach-upload"))
            if chosen is None:
                return
            name, data = chosen
            try:
                images, labels = decode_block(data)
            except BlockError as error:
                raise FileProblem(f"{name} is not a file of digit samples: {error}") from None
        except FileProblem as problem:
            show_error(f"{sentence(problem)} {unchanged}")
            return
        self.images, self.labels = images, labels
        self.show_count()
        await self.save()

    def show_count(self):
        count = len(self.labels)
        held = int(taught.held_out_mask(count).sum())
        element = by_id("teach-count")
        set_data(element, count=count, held_out=held)
        if count == 0:
            element.textContent = "No samples yet."
        else:
            per_digit = ", ".join(f"{d}: {n}" for d, n in enumerate(np.bincount(self.labels, minlength=10)) if n)
            element.textContent = (f"{count} sample{'s' if count != 1 else ''} ({per_digit}); "
                                   f"{count - held} to learn from, {held} held out.")
        enable("teach-download", on=count > 0)
        self.enable_fine_tune()

    # -- fine-tuning in the worker -------------------------------------------------------------
    def enable_fine_tune(self):
        ready = (self.view.trainer is not None and self.view.predictor is not None and not self.fine_tuning
                 and len(self.labels) >= taught.HOLD_OUT_EVERY)
        enable("teach-train", on=ready)

    async def fine_tune(self, event):
        self.fine_tuning = True
        self.enable_fine_tune()
        try:
            await self.view.trainer.digits_fine_tune(knowledge.to_bytes(self.view.predictor),
                                                     encode_block(self.images, self.labels))
        except Exception:
            self.fine_tuning = False          # no report will come to open the button again
            self.enable_fine_tune()
            raise

    def on_report(self, figures):
        """A "teach" report from the worker (DigitsSession.fine_tune)."""
        element = by_id("teach-accuracy")
        state, before, after = figures["state"], figures.get("before"), figures.get("after")
        set_data(element, state=state, held_out=figures["held_out"],
                 before=fraction(before), after=fraction(after))
        if before is None:
            element.textContent = "Fine-tuning did not start."
        elif state == "running":
            element.textContent = (f"Fine-tuning for {figures['steps']} batches on your {figures['trained_on']} "
                                   f"samples mixed with MNIST… Before: {score(before)} of your held-out samples.")
        elif state == "done":
            element.textContent = (f"On your {figures['held_out']} held-out samples: before {score(before)}, "
                                   f"after {score(after)} ({figures['trained_steps']} batches).")
        else:
            element.textContent = f"Fine-tuning {state} before it ended. Before: {score(before)}."
        if state != "running":
            self.fine_tuning = False
            self.enable_fine_tune()


def fraction(figure):
    """[correct, total] as the share correct for a data- attribute ("" when there is none)."""
    return "" if not figure or not figure[1] else f"{figure[0] / figure[1]:.4f}"


def score(figure):
    correct, total = figure
    return f"{correct / total:.0%} right ({correct} of {total})" if total else "no samples"
