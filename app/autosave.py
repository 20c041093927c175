"""Training that outlives the tab: one view's checkpoints kept in the browser (app/store.py).

The worker's session sends a checkpoint every few seconds and on Pause; this keeps the newest
(one write at a time, so a slow disk skips the checkpoints overtaken meanwhile, never queues
them) and reads it back on the next visit through the session's strict reader. Its notice
element says what happened: restored (with Discard), refused (the save was discarded), or
unavailable (the browser will not keep state, so training will not be kept).
"""
import asyncio
import time

from app import store
from app.dom import by_id, listen, set_data
from app.wording import restored_line, sentence
from models.checkpoint import CheckpointError


class Autosave:
    def __init__(self, key, notice_id, discard_id, on_discard, turn):
        self.key = key                  # e.g. "checkpoint/digits"
        self.notice = by_id(notice_id)
        self.on_discard = on_discard    # async: the view goes back to how a first visit finds it
        self.pending = None             # the newest checkpoint not yet written
        self.last = None                # the newest checkpoint, written or not: a new worker's start
        self.writing = None             # the task writing, while one is
        self.unavailable = False
        listen(discard_id, "click", self.discard, "Discarding the saved training", turn=turn)   # the view's controls' turn

    async def load(self, read):
        """(bytes, read(bytes)) of the checkpoint kept from the last visit, or None if there is
        none, it was refused (and forgotten), or the browser keeps nothing."""
        try:
            data = await store.get_bytes(self.key)
        except store.StoreUnavailable as error:
            self.cannot_keep(error)
            return None
        if data is None:
            return None
        try:
            kept = data, read(data)
        except CheckpointError as error:
            await self.forget()
            self.show("refused", f"Your saved training could not be used, so it was discarded: "
                                 f"{sentence(error)} Training starts fresh.")
            return None
        self.last = data
        return kept

    def restored(self, step, saved_at):
        self.show("restored", restored_line(step, time.time() - saved_at))

    def keep(self, data):
        """Save a checkpoint the worker sent (returns at once)."""
        self.last = data
        if self.unavailable:
            return
        self.pending = data
        if self.writing is None or self.writing.done():
            self.writing = asyncio.ensure_future(self.write())

    async def write(self):
        while self.pending is not None:
            data, self.pending = self.pending, None
            started = time.monotonic()
            try:
                await store.put_bytes(self.key, data)
            except store.StoreUnavailable as error:
                self.cannot_keep(error)
                return
            # what the last save cost, for tests and `make bench`
            set_data(self.notice, saved_bytes=len(data), save_ms=round(1000 * (time.monotonic() - started)),
                     saved_at=round(time.time(), 1))

    async def forget(self):
        """Drop the kept checkpoint (Reset, a new model, Discard): a reload then starts fresh."""
        self.pending = self.last = None
        if self.writing is not None and not self.writing.done():
            await self.writing           # a write under way would otherwise land after the removal
        try:
            await store.remove(self.key)
        except store.StoreUnavailable:
            pass                         # nothing is kept, so nothing is left to drop

    async def discard(self, event):
        await self.forget()
        self.hide()
        await self.on_discard()

    def cannot_keep(self, error):
        self.unavailable = True
        self.show("unavailable", f"Training will not be kept when you leave this page: {sentence(error)}")

    def show(self, state, message):
        self.notice.querySelector("p").textContent = message
        self.notice.querySelector("button").hidden = state != "restored"
        set_data(self.notice, state=state)
        self.notice.hidden = False

    def hide(self):
        """The notice goes once it is no longer news (training goes on, or starts afresh)."""
        if self.notice.getAttribute("data-state") != "unavailable":
            self.notice.hidden = True
            set_data(self.notice, state="")
