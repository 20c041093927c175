"""#runs: the last few Digits training runs, kept across visits and overlaid on the loss and
accuracy charts, each shown or hidden by its checkbox.

A run begins when training starts after a Reset or a model change (or on the first Start) and
ends when the trainer takes a new model (Reset, the other kind, an upload). Its record
(app/run_record.py) grows from the trainer's status reports and is saved under runs/<id>
through app/store.py, at most every SAVE_PERIOD seconds while it grows and whenever training
stops, so a reload finds it. Without saved state the runs are still compared during the visit,
and the panel says they will not be kept.
"""
import asyncio
import time

from pyscript import document, window

from app import run_record, store
from app.dom import by_id, listen, set_data
from app.errors import show_error
from app.wording import sentence

PREFIX = "runs/"
SAVE_PERIOD = 2.0                   # seconds between saves of the run in progress
OPEN_WIDTH, PAST_WIDTH = 2.5, 1.5   # chart line widths: the run in progress stands out


class RunsPanel:
    def __init__(self, loss_chart, acc_chart):
        self.loss_chart, self.acc_chart = loss_chart, acc_chart
        self.runs = []               # records, oldest first
        self.open = None             # the record of the run in progress, if there is one
        self.open_summary = None     # its list item's summary element, updated with each status
        self.kept = True             # False once the store refused: runs last for this visit only
        self.writes = {}             # run id -> "put" | "remove", written in order by one task
        self.writer = None
        self.saved_at = 0.0
        self.list = by_id("runs")
        listen(self.list, "change", self.on_toggle, "Showing or hiding a run")
        listen("runs-forget", "click", self.forget, "Forgetting the runs")
        self.render()

    async def load(self):
        """The runs saved on earlier visits; a damaged one is dropped with a message."""
        loaded = []
        try:
            for key in await store.keys():
                if not key.startswith(PREFIX):
                    continue
                try:
                    run = run_record.from_json(await store.get_json(key))
                    if key != PREFIX + run["id"]:
                        raise run_record.RunError("it is filed under another run's name")
                    loaded.append(run)
                except run_record.RunError as problem:
                    show_error(sentence(f"A saved training run could not be read ({problem}), so it was dropped")
                               + " The other runs still show.")
                    await store.remove(key)
        except store.StoreUnavailable as problem:
            self.not_kept(problem)
        known = {run["id"] for run in self.runs}      # a run may have begun while these were read
        self.runs = sorted(self.runs + [run for run in loaded if run["id"] not in known], key=lambda run: int(run["id"]))
        self.make_room(0)
        set_data(self.list, state="loaded" if self.kept else "not-kept")
        self.render()
        self.draw()

    # -- from the trainer's reports ------------------------------------------------------------
    def on_status(self, status):
        if self.open is None and status["state"] == "running":
            self.begin(status)
        elif self.open is not None:
            before = run_record.label(self.open)
            run_record.grow(self.open, status)
            if run_record.label(self.open) != before:
                self.render()
            self.open_summary.textContent = run_record.summary(self.open)
        if self.open is not None and (status["state"] != "running" or time.monotonic() - self.saved_at >= SAVE_PERIOD):
            self.save(self.open)
        self.draw()

    def begin(self, status):
        self.make_room(1)
        used = {run["color"] for run in self.runs}
        color = next(i for i in range(len(run_record.PALETTE)) if i not in used)
        run_id = int(window.Date.now())
        if self.runs:
            run_id = max(run_id, int(self.runs[-1]["id"]) + 1)    # ids order the runs
        self.open = run_record.new_run(run_id, status, color)
        self.runs.append(self.open)
        self.save(self.open)
        self.render()

    def end_run(self):
        """The trainer took a new model: the run in progress, if any, is over."""
        if self.open is not None:
            self.save(self.open)
            self.open = None
            self.render()
            self.draw()

    def make_room(self, new):
        """Forget the oldest runs so that `new` more fit within MAX_RUNS."""
        while len(self.runs) + new > run_record.MAX_RUNS:
            self.remove(self.runs.pop(0)["id"])

    # -- controls --------------------------------------------------------------------------------
    def on_toggle(self, event):
        item = event.target.closest("[data-run]")
        run = next((run for run in self.runs if item and run["id"] == item.dataset.run), None)
        if run is not None:
            run["shown"] = bool(event.target.checked)
            self.save(run)
            self.draw()

    def forget(self, event):
        """Every run but the one in progress leaves the list, the charts and the store."""
        for run in self.runs:
            if run is not self.open:
                self.remove(run["id"])
        self.runs = [self.open] if self.open is not None else []
        self.render()
        self.draw()

    # -- showing ---------------------------------------------------------------------------------
    def render(self):
        items = []
        self.open_summary = None
        for run in reversed(self.runs):              # newest first
            item = document.createElement("li")
            set_data(item, run=run["id"], kind=run["kind"], lr=f"{run['lr']:g}", batch=run["batch_size"],
                     budget=run["budget"], state="in-progress" if run is self.open else "ended")
            box = document.createElement("input")
            box.type = "checkbox"
            box.checked = run["shown"]
            swatch = document.createElement("span")
            swatch.className = "swatch"
            swatch.style.background = run_record.PALETTE[run["color"]]
            name = document.createElement("span")
            name.textContent = run_record.label(run) + (" — in progress" if run is self.open else "")
            label = document.createElement("label")
            label.className = "check"
            label.append(box, swatch, name)
            summary = document.createElement("span")
            summary.className = "muted"
            summary.textContent = run_record.summary(run)
            if run is self.open:
                self.open_summary = summary
            item.append(label, summary)
            items.append(item)
        self.list.replaceChildren(*items)
        by_id("runs-forget").disabled = not any(run is not self.open for run in self.runs)

    def draw(self):
        shown = [run for run in self.runs if run["shown"]]
        for chart, curve in ((self.loss_chart, "loss"), (self.acc_chart, "acc")):
            chart.show_overlay([(run_record.label(run), run_record.PALETTE[run["color"]],
                                 OPEN_WIDTH if run is self.open else PAST_WIDTH, run[curve]) for run in shown])

    def not_kept(self, problem):
        self.kept = False
        self.writes.clear()
        set_data(self.list, state="not-kept")
        by_id("runs-notice").textContent = sentence(
            f"Runs are compared during this visit only and will not be kept: {problem}")

    # -- saving: one writer, in the order asked, so a removal is never undone by an older save ----
    def save(self, run):
        self.saved_at = time.monotonic()
        self.queue(run["id"], "put")

    def remove(self, run_id):
        self.queue(run_id, "remove")

    def queue(self, run_id, operation):
        if not self.kept:
            return
        self.writes.pop(run_id, None)                # the latest wish goes to the back of the queue
        self.writes[run_id] = operation
        if self.writer is None or self.writer.done():
            self.writer = asyncio.ensure_future(self.write())

    async def write(self):
        try:
            while self.writes:
                run_id = next(iter(self.writes))
                operation = self.writes.pop(run_id)
                run = next((run for run in self.runs if run["id"] == run_id), None)
                if operation == "put" and run is not None:
                    await store.put_json(PREFIX + run_id, run)
                else:
                    await store.remove(PREFIX + run_id)
        except store.StoreUnavailable as problem:
            self.not_kept(problem)
        except Exception as error:
            show_error(sentence(f"Saving the training runs failed: {error}"))
