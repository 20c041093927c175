"""Digits: draw on #grid and see the prediction live; train in the worker and watch it learn.

#digits-model chooses the MLP or the CNN: the predictor, the trainer, downloads and uploads
follow it, and an uploaded file of the other kind switches it. Training is kept across visits
(app/autosave.py): the view comes back paused where it was, predicting with that model.
#stop-rule ends a run by itself (app/stop_rules.py); #train-progress shows how far its budget has got."""
import asyncio
import json
import math

import numpy as np
from pyscript import document, window
from pyscript.ffi import create_proxy, to_js

from app.autosave import Autosave
from app.canvas_ink import CanvasInk
from app.charts import LineChart
from app.digits_input import show_input
from app.digits_session import model_from_flat, read_checkpoint, restored_status
from app.dom import by_id, enable, guarded, listen, set_data
from app.errors import show_error
from app.files import FileProblem, knowledge_from_url, knowledge_upload, offer_download
from app.runs import RunsPanel
from app.teach import Teacher
from app.gallery_view import GalleryPanel
from app.hidden_units_view import HiddenUnitsPanel
from app.stop_view import StopControls
from app.wording import predictor_line, sentence
from models import knowledge
from models.preprocess import drawing_to_mnist

SHIPPED = {"mnist-mlp": "knowledge/digits.npz", "mnist-cnn": "knowledge/digits-cnn.npz"}  # #digits-model
NAMES = {"mnist-mlp": "MLP", "mnist-cnn": "CNN"}
DOWNLOADS = {"mnist-mlp": "falken-digits.npz", "mnist-cnn": "falken-digits-cnn.npz"}
MANIFEST = "static/data/mnist/manifest.json"
CANVAS = 280          # drawing canvas pixels; 10 per grid cell of the 28×28 grid
BRUSH = 22            # stroke width in canvas pixels: about MNIST's 2–3 px pen at 28×28
SOFT_EDGE = 6         # the stroke's shadow blur: its anti-aliased, scanned-looking edge
INK_REACH = BRUSH // 2 + 3 * SOFT_EDGE    # how far from a stroke's line its ink can reach


class DigitsView:
    def __init__(self):
        self.trainer = None          # the worker's exported functions, once it is up
        self.predictor = None        # the model that reads drawings
        self.predictor_source = ""
        self.kind = by_id("digits-model").value      # the chosen kind: mnist-mlp | mnist-cnn
        self.shipped = {}            # kind -> its shipped model, fetched when first chosen
        self.trained = None          # mirror of the worker's model, refreshed about once a second
        self.trained_model = None    # {"kind", "hyper"} of the worker's model, from its "model" report
        self.uploaded = None         # the predictor's words for a file just uploaded, until it trains
        self.canvas = by_id("grid")
        self.input_canvas = by_id("digits-input")   # the model's input, shown: painted every frame
        self.pen = self.canvas.getContext("2d", willReadFrequently=True)
        self.drawing = False
        self.last_point = None
        self.prediction_queued = False
        self.loaded = None           # a held-out digit put in the grid: the model gets it as it is
        self.ink = CanvasInk(CANVAS, INK_REACH)   # the canvas's ink, read back where strokes changed it
        # One frame callback for the view's lifetime (a proxy made per frame would never be freed).
        self.predict_on_frame = create_proxy(guarded(lambda timestamp: self.predict(), "Predicting"))
        self.status = {}
        self.stop = StopControls("stop-rule", "stop-value", "train-progress", "train-eta", "held-out accuracy")
        self.loss_chart = LineChart("chart-loss", "loss", "#2f6fde")
        self.acc_chart = LineChart("chart-acc", "test accuracy", "#2b8a3e", y_range=(0, 1))
        self.runs = RunsPanel(self.loss_chart, self.acc_chart)     # the charts overlay its runs
        self.controls = asyncio.Lock()   # the training controls' handlers, one at a time in click order
        self.autosave = Autosave("checkpoint/digits", "digits-restored", "digits-discard", self.start_afresh, self.controls)
        self.to_restore = None       # checkpoint bytes from the last visit, for the worker once it is up
        self.session_open = False    # the worker has the data's address and a session
        self.hidden_units = HiddenUnitsPanel()
        self.gallery = GalleryPanel(self.load_digit)
        self.clear()
        self.bind()
        self.teacher = Teacher(self)  # "Teach it your handwriting" (app/teach.py)

    def bind(self):
        for name in ("pointerdown", "pointermove", "pointerup", "pointercancel", "pointerleave"):
            listen(self.canvas, name, self.on_pointer, "Drawing", passive=False)
        listen("grid-clear", "click", lambda event: self.clear(), "Clearing the grid")
        listen("digits-model", "change", self.choose, "Changing the model", turn=self.controls)
        listen("train-start", "click", self.start, "Starting training", turn=self.controls)
        listen("train-pause", "click", self.pause, "Pausing training", turn=self.controls)
        listen("train-reset", "click", self.reset, "Resetting training", turn=self.controls)
        listen("lr", "input", self.on_slider, "Setting the learning rate", turn=self.controls)
        listen("batch-size", "input", self.on_slider, "Setting the batch size", turn=self.controls)
        listen("cache-size", "input", self.on_slider, "Setting the cache size", turn=self.controls)
        listen("weights-download", "click", lambda event: self.download(), "Downloading the weights")
        listen("weights-upload", "change", self.upload, "Loading your weights", turn=self.controls)
        listen(window, "resize", lambda event: (self.loss_chart.fit(), self.acc_chart.fit()), "Resizing charts")

    async def boot(self):
        guarded(self.runs.load, "Reading the saved training runs")()    # in the background
        async with self.controls:      # a Start clicked meanwhile goes on from the kept training
            await self.restore_or_ship()
        await self.teacher.boot()

    async def restore_or_ship(self):
        """The training kept from the last visit, paused, or else the shipped model."""
        kept = await self.autosave.load(read_checkpoint)
        if kept is None:
            await self.use_shipped(self.kind)
            return
        self.to_restore, saved = kept
        self.kind = by_id("digits-model").value = saved.model.KIND
        self.trained_model = {"kind": self.kind, "hyper": saved.model.hyper}
        self.trained = saved.model
        progress = saved.progress
        for slider, value in (("lr", math.log10(progress["lr"])), ("batch-size", progress["batch_size"]),
                              ("cache-size", progress["cache_size"])):
            by_id(slider).value = str(value)       # the settings it trained with, as it goes on with them
            self.show_slider(slider)
        self.show_status(restored_status(saved))
        self.take_trained_weights(None)
        self.autosave.restored(saved.progress["iteration"], saved.saved_at)
        await self.hand_over()

    async def hand_over(self):
        """The kept checkpoint to the worker, once both are there (the view may boot before or
        after the worker is up)."""
        if self.to_restore is None or not self.session_open:
            return
        data, self.to_restore = self.to_restore, None
        problem = await self.trainer.digits_restore(data)
        if problem:              # the page read it, so only a worker of another version refuses it
            show_error(problem + " Training starts fresh.")
            await self.forget_saved()

    async def start_afresh(self):
        """Discard: the view as a first visit finds it, the shipped model predicting."""
        self.to_restore, self.trained, self.status = None, None, {}
        await self.use_shipped(self.kind)
        if self.trainer is not None:
            await self.trainer.digits_choose(self.kind)     # a fresh model, no weights sent
        else:
            self.show_status_text_only("Not started.")

    def show_status_text_only(self, text):
        set_data(by_id("train-status"), state="idle", iteration=0, loss="", test_acc="")
        by_id("train-status").textContent = text
        self.loss_chart.show([])
        self.acc_chart.show([])
        by_id("confusion").replaceChildren()

    async def use_shipped(self, kind):
        if kind not in self.shipped:
            try:
                self.shipped[kind] = await knowledge_from_url(SHIPPED[kind], kind)
            except FileProblem as problem:
                # Drawing, training and uploads do not need the shipped model.
                self.predictor = None
                enable("weights-download", on=False)
                self.show_prediction(None)
                show_error(f"The shipped digits {NAMES[kind]} could not be loaded: {sentence(problem)} Drawing "
                           "works, and predictions start as soon as you train (Start) or upload weights.")
                by_id("predictor-info").textContent = "No model yet: train one or upload weights."
                return
        self.use(self.shipped[kind], f"the shipped {NAMES[kind]}")

    async def choose(self, event):
        """The predictor takes the shipped model of the chosen kind; the trainer stops and holds
        a fresh one of that kind, as when the page opened."""
        self.kind = by_id("digits-model").value
        self.uploaded = None
        await self.forget_saved()
        await self.use_shipped(self.kind)
        if self.trainer is not None:
            enable("train-pause", on=False)
            await self.trainer.digits_choose(self.kind)
            self.score_in_background()

    async def connect(self, trainer, inbox):
        """The worker is up: give it the data's address and open the training controls."""
        async with self.controls:      # after the controls' handlers queued before it, before later ones
            await self.open_session(trainer, inbox)

    async def open_session(self, trainer, inbox):
        self.trainer = trainer
        inbox.report_digits = create_proxy(guarded(self.on_report, "Showing the trainer's progress"))
        problem = await self.trainer.digits_open(str(window.URL.new(MANIFEST, window.location.href)), self.kind)
        if problem:
            show_error(problem + " Drawing and prediction still work; training needs the data.")
            return
        self.session_open = True
        await self.hand_over()
        for slider in ("lr", "batch-size", "cache-size"):      # as set by hand, by a link or by the checkpoint
            await self.trainer.digits_set(slider.replace("-", "_"), self.show_slider(slider))
        await self.stop.connect(self.trainer.digits_stop_rule)
        enable("train-start", "train-reset")
        self.teacher.enable_fine_tune()
        self.score_in_background()

    def worker_lost(self):
        """The worker is being replaced (app/watchdog.py): no training controls until the new one
        holds the last checkpoint; drawing and predicting go on."""
        self.trainer, self.session_open = None, False
        if self.to_restore is None:
            self.to_restore = self.autosave.last
        enable("train-start", "train-pause", "train-reset", on=False)

    def score_in_background(self):
        """The gallery's scores take the worker a while (the CNN on every held-out digit): the
        controls do not wait for them."""
        guarded(self.score_predictor, "Scoring the test gallery")()

    async def score_predictor(self):
        """Ask the worker for the gallery of the model predicting here when it is not the one
        training there (the shipped one); the training model's come with its evaluations."""
        model = self.predictor
        if model is not None and model is not self.trained and self.trainer is not None:
            await self.trainer.digits_score(json.dumps({"kind": model.KIND, "hyper": model.hyper}), model.flat.tobytes())

    # -- drawing -----------------------------------------------------------------------------
    def clear(self):
        self.loaded = None
        set_data(self.canvas, loaded="")
        self.pen.fillStyle = "#000"
        self.pen.fillRect(0, 0, CANVAS, CANVAS)
        self.ink.clear()
        show_input(self.input_canvas, None)
        self.hidden_units.show_input(None)
        self.show_prediction(None)

    def load_digit(self, x784, index):
        """A held-out digit into the grid, enlarged there; the model gets its exact pixels (they are
        MNIST's already), until a stroke on it makes the grid a drawing again."""
        source = self.input_canvas
        show_input(source, x784)
        pen = self.pen
        pen.save()
        pen.shadowBlur = 0
        pen.imageSmoothingEnabled = True
        pen.drawImage(source, 0, 0, CANVAS, CANVAS)
        pen.restore()
        self.loaded = x784
        self.ink.changed_all()                    # strokes on it: its enlarged pixels are ink too
        set_data(self.canvas, loaded=index)
        self.predict()

    def canvas_point(self, event):
        box = self.canvas.getBoundingClientRect()
        return ((event.clientX - box.left) * CANVAS / box.width, (event.clientY - box.top) * CANVAS / box.height)

    def on_pointer(self, event):
        event.preventDefault()       # no scrolling or text selection while drawing
        if event.type == "pointerdown":
            self.drawing = True
            try:
                # Keeps the stroke when the pen leaves the grid; the browser may refuse it (a
                # pointer it no longer counts as active), and drawing goes on without it.
                self.canvas.setPointerCapture(event.pointerId)
            except Exception:
                pass
            self.last_point = self.canvas_point(event)
            self.stroke(self.last_point, self.last_point)
        elif event.type == "pointermove" and self.drawing:
            point = self.canvas_point(event)
            self.stroke(self.last_point, point)
            self.last_point = point
        elif event.type in ("pointerup", "pointercancel", "pointerleave"):
            self.drawing = False

    def stroke(self, start, end):
        """A soft round white stroke: anti-aliased edges like MNIST's scanned ink."""
        if self.loaded is not None:
            self.loaded = None
            set_data(self.canvas, loaded="")
        pen = self.pen
        pen.strokeStyle = "#fff"
        pen.lineWidth = BRUSH
        pen.lineCap = pen.lineJoin = "round"
        pen.shadowColor = "#fff"
        pen.shadowBlur = SOFT_EDGE
        pen.beginPath()
        pen.moveTo(*start)
        pen.lineTo(*end)
        pen.stroke()
        self.ink.stroke(start, end)
        self.queue_prediction()

    def queue_prediction(self):
        """Predict once per animation frame however many pointer events arrive."""
        if not self.prediction_queued:
            self.prediction_queued = True
            window.requestAnimationFrame(self.predict_on_frame)

    def drawing_pixels(self):
        """The canvas's ink as a float array in [0, 1]: the part of the canvas holding all of its
        ink; (0, 0) when nothing is drawn. A view, valid until the next stroke or clear."""
        return self.ink.read(lambda *box: self.pen.getImageData(*box).data.to_bytes())

    def predict(self):
        self.prediction_queued = False
        if self.predictor is None:
            return
        if self.loaded is not None:
            x784 = show_input(self.input_canvas, self.loaded)
        else:
            x784 = drawing_to_mnist(self.drawing_pixels())
            if not x784.any():                       # nothing drawn that counts as ink
                show_input(self.input_canvas, None)
                self.hidden_units.show_input(None)
                self.show_prediction(None)
                return
            show_input(self.input_canvas, x784)   # what the model gets, shown
        self.show_prediction(self.predictor.predict_proba(x784[None, :])[0])
        self.hidden_units.show_input(x784)

    def show_prediction(self, probabilities):
        """#prediction and the bars (static/js/bars.js); None: no prediction."""
        window.falkenBars.show(None if probabilities is None else to_js(probabilities.tolist()))

    # -- the predictor's knowledge ----------------------------------------------------------------
    def use(self, model, source, step=None):
        self.predictor, self.predictor_source = model, source
        enable("weights-download")
        info = by_id("predictor-info")
        info.textContent = predictor_line(source, model.metrics.get("test_accuracy"), step)
        set_data(info, model=model.KIND)                    # which kind predicts, for tests
        self.teacher.enable_fine_tune()
        self.hidden_units.show_model(model)
        self.predict()

    def download(self):
        offer_download(knowledge.to_bytes(self.predictor), DOWNLOADS[self.predictor.KIND])

    async def upload(self, event):
        uploaded = await knowledge_upload(by_id("weights-upload"), tuple(SHIPPED),
                                          "The current digits model is unchanged.")
        if uploaded is None:
            return
        name, data, model = uploaded
        await self.forget_saved()    # the worker sends the uploaded model's own checkpoint
        self.kind = by_id("digits-model").value = model.KIND     # the file's kind becomes the choice
        self.uploaded = f"the {NAMES[model.KIND]} in your file {name}"
        self.use(model, self.uploaded)
        if self.trainer is not None:
            await self.trainer.digits_load(data)

    # -- training controls ----------------------------------------------------------------------
    async def start(self, event=None):
        self.autosave.hide()
        await self.trainer.digits_start()
        enable("train-pause")

    async def pause(self, event):
        enable("train-pause", on=False)
        await self.trainer.digits_pause()

    async def reset(self, event):
        self.uploaded = None
        enable("train-pause", on=False)
        await self.forget_saved()
        await self.trainer.digits_reset()

    async def forget_saved(self):
        self.to_restore = None
        self.autosave.hide()
        await self.autosave.forget()

    def slider_value(self, slider_id):
        raw = float(by_id(slider_id).value)
        return round(10 ** raw, 6) if slider_id == "lr" else int(raw)

    def show_slider(self, slider_id):
        value = self.slider_value(slider_id)
        by_id(f"{slider_id}-value").textContent = f"{value:g}"
        by_id(slider_id).setAttribute("aria-valuetext", f"{value:g}")
        return value

    async def on_slider(self, event):
        slider_id = event.target.id
        value = self.show_slider(slider_id)
        await self.trainer.digits_set(slider_id.replace("-", "_"), value)

    # -- reports from the worker ----------------------------------------------------------------
    def on_report(self, kind, payload):
        if kind == "status":
            self.show_status(json.loads(payload))
        elif kind == "model":
            # The worker took a new model: weights from now on are its, and the last status is not.
            self.trained_model, self.trained, self.status = json.loads(payload), None, {}
            self.runs.end_run()
            self.gallery.clear("The trainer took a new model: its held-out digits come with its first scoring.")
        elif kind == "weights":
            self.take_trained_weights(payload.to_bytes())
        elif kind == "checkpoint":
            self.autosave.keep(payload.to_bytes())
        elif kind == "teach":
            self.teacher.on_report(json.loads(payload))
        elif kind == "gallery":
            report = json.loads(payload)
            if report["kind"] == self.kind:  # not one sent before the worker heard of a new choice
                training = report["iteration"] is not None and self.predictor is self.trained
                self.gallery.show(report, f"the {NAMES[self.kind]} in training at step {report['iteration']:,}"
                                  if training else self.predictor_source)
        elif kind == "error":
            show_error(json.loads(payload))
            enable("train-pause", on=False)

    def take_trained_weights(self, data):
        """The worker's latest weights into a model kept for them (reused: no allocation per copy);
        None: self.trained already holds them (a restored checkpoint)."""
        if self.trained_model is None or self.trained_model["kind"] != self.kind:
            return                   # sent before the worker heard of the new choice
        if self.trained is None:
            self.trained = model_from_flat(self.trained_model, data)
        elif data is not None:
            self.trained.load_flat(data)
        stop = self.status.get("stop") or {}
        # Early stopping sent the best evaluation's weights: they are from that step, not the last.
        step = stop["best"]["iteration"] if stop.get("stopped") == "patience" else self.status.get("iteration", 0)
        self.trained.metrics = {"test_accuracy": self.status.get("test_acc"), "iterations": step}
        if step == 0 and self.uploaded:      # the trainer's copy of the file, not trained yet: its name stays
            self.use(self.trained, self.uploaded)
            return
        self.uploaded = None
        self.use(self.trained, f"the {NAMES[self.kind]} in training", step=step)

    def show_status(self, status):
        self.status = status
        cache = status["cache"]
        element = by_id("train-status")
        set_data(element, model=status["kind"], state=status["state"], iteration=status["iteration"],
                 loss=fmt(status["loss"], 4), test_acc=fmt(status["test_acc"], 4),
                 samples_per_s=fmt(status["samples_per_s"], 0),
                 cache_blocks=cache.get("blocks_cached", 0), inflight=cache.get("inflight", 0),
                 stalls=cache.get("stalls", 0))
        parts = [self.stop.show(element, status.get("stop")) or status["state"].capitalize(),
                 f"{NAMES[status['kind']]} step {status['iteration']:,}"]
        if status["loss"] is not None:
            parts.append(f"loss {status['loss']:.3f}")
        if status["test_acc"] is not None:
            parts.append(f"held-out accuracy {status['test_acc']:.1%} on {status['test_digits']:,} digits")
        if status["samples_per_s"]:
            parts.append(f"{status['samples_per_s']:,.0f} samples/s")
        element.textContent = " · ".join(parts)
        by_id("cache-blocks").textContent = str(cache.get("blocks_cached", 0))
        by_id("cache-inflight").textContent = str(cache.get("inflight", 0))
        by_id("cache-stalls").textContent = str(cache.get("stalls", 0))
        by_id("cache-failures").textContent = str(cache.get("failures", 0))
        by_id("cache-offline").textContent = str(cache.get("offline", 0))
        by_id("cache-bytes").textContent = f"{cache.get('bytes', 0) / 1e6:.1f} MB"
        self.runs.on_status(status)
        if status["confusion"] is not None:
            self.show_confusion(status["confusion"])
        running = status["state"] == "running"
        enable("train-pause", on=running)
        enable("train-start", on=status["state"] in ("idle", "paused", "stopped") and self.trainer is not None)

    def show_confusion(self, counts):
        """Rows of DOM elements, shaded through CSSOM: the page's CSP allows no style attributes."""
        def heading(text, scope):
            cell = document.createElement("th")
            cell.setAttribute("scope", scope)
            cell.textContent = str(text)
            return cell
        header = document.createElement("tr")
        header.append(document.createElement("th"), *[heading(d, "col") for d in range(10)])
        rows = [header]
        for true, row in enumerate(counts):
            total = sum(row) or 1
            line = document.createElement("tr")
            line.append(heading(true, "row"))
            for p, n in enumerate(row):
                cell = document.createElement("td")
                cell.textContent = str(n)
                cell.style.background = f"rgba({'47,111,222' if p == true else '179,38,30'},{min(1.0, n / total):.2f})"
                line.append(cell)
            rows.append(line)
        by_id("confusion").replaceChildren(*rows)


def fmt(value, digits):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.{digits}f}"
