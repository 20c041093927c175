"""#gallery: held-out digits with the current model's reading, wrong ones first (app.gallery),
refreshed with each held-out scoring. Each item is a button (click, tap, or Tab and Enter) that
loads its digit into the grid; one listener on the gallery serves them all.
"""
import time

from pyscript import document

from app.digits_input import SIDE, input_rgba
from app.dom import by_id, image_data, listen, set_data
from app.gallery import gallery_images, gallery_line, item_label


class GalleryPanel:
    def __init__(self, on_pick):
        self.box = by_id("gallery")
        self.info = by_id("gallery-info")
        self.on_pick = on_pick       # on_pick(x784, index): load that digit into the grid
        self.report, self.images = None, None
        listen(self.box, "click", self.on_click, "Loading a held-out digit")

    def clear(self, why):
        self.report, self.images = None, None
        self.box.replaceChildren()
        set_data(self.box, kind="", count=0)
        self.info.textContent = why

    def show(self, report, model_words):
        """Rebuild the items from a "gallery" report of the model `model_words` names (keeping the focus)."""
        start = time.perf_counter()
        focused = document.activeElement
        slot = focused.dataset.slot if focused and self.box.contains(focused) else None
        self.report, self.images = report, gallery_images(report)
        items = []
        for i, (index, label, predicted) in enumerate(zip(report["index"], report["label"], report["predicted"])):
            wrong = " wrong" if label != predicted else ""
            caption = f"{predicted}" if not wrong else f"{predicted} ≠ {label}"
            items.append(f'<button type="button" class="gallery-item{wrong}" data-slot="{i}" data-index="{index}" '
                         f'data-label="{label}" data-predicted="{predicted}" aria-label="{item_label(report, i)}" '
                         f'title="{item_label(report, i)}"><canvas width="{SIDE}" height="{SIDE}"></canvas>'
                         f'<span>{caption}</span></button>')
        self.box.innerHTML = "".join(items)
        # All the digits as one 28-wide strip; each item's canvas takes its 28x28 part of it.
        strip = image_data(input_rgba(self.images), SIDE)
        for i, canvas in enumerate(self.box.querySelectorAll("canvas")):
            canvas.getContext("2d").putImageData(strip, 0, -SIDE * i, 0, SIDE * i, SIDE, SIDE)
        if slot is not None:
            again = self.box.querySelector(f'[data-slot="{slot}"]')
            if again:
                again.focus()
        self.info.textContent = gallery_line(report, model_words)
        set_data(self.box, kind=report["kind"], count=len(items), iteration=report["iteration"],
                 draw_ms=f"{1000 * (time.perf_counter() - start):.2f}")

    def on_click(self, event):
        item = event.target.closest("[data-slot]")
        if not item or self.images is None:
            return
        slot = int(item.dataset.slot)
        self.on_pick(self.images[slot], self.report["index"][slot])
