"""#gallery: held-out digits with the current model's reading, wrong ones first (app.gallery),
refreshed with each held-out scoring. Each item is a button (click, tap, or Tab and Enter) that
loads its digit into the grid; one listener on the gallery serves them all. Items are updated in
place, so the focus stays where it was.
"""
import time

from app.digits_input import SIDE, input_rgba
from app.dom import by_id, image_data, listen, set_data
from app.gallery import gallery_images, gallery_line, item_label


class GalleryPanel:
    def __init__(self, on_pick):
        self.box = by_id("gallery")
        self.info = by_id("gallery-info")
        self.on_pick = on_pick       # on_pick(x784, index): load that digit into the grid
        self.report, self.images = None, None
        self.items = []              # (button, its canvas's context, its caption) per slot
        listen(self.box, "click", self.on_click, "Loading a held-out digit")

    def clear(self, why):
        self.report, self.images, self.items = None, None, []
        self.box.replaceChildren()
        set_data(self.box, kind="", count=0)
        self.info.textContent = why

    def show(self, report, model_words):
        """Show a "gallery" report of the model `model_words` names. The items (buttons with a
        canvas each) are made once and then updated in place: new canvases every evaluation
        cost the browser far more than painting the old ones."""
        start = time.perf_counter()
        self.report, self.images = report, gallery_images(report)
        count = len(report["index"])
        if len(self.items) != count:
            self.box.innerHTML = "".join(
                f'<button type="button" class="gallery-item" data-slot="{i}"><canvas width="{SIDE}" height="{SIDE}">'
                f'</canvas><span></span></button>' for i in range(count))
            self.items = [(button, button.firstChild.getContext("2d"), button.lastChild)
                          for button in self.box.querySelectorAll("button")]
        # All the digits as one 28-wide strip; each item's canvas takes its 28x28 part of it.
        strip = image_data(input_rgba(self.images), SIDE)
        for i, (button, pen, caption) in enumerate(self.items):
            label, predicted = report["label"][i], report["predicted"][i]
            words = item_label(report, i)
            set_data(button, index=report["index"][i], label=label, predicted=predicted)
            button.className = "gallery-item" + (" wrong" if label != predicted else "")
            button.setAttribute("aria-label", words)
            button.title = words
            caption.textContent = f"{predicted}" if label == predicted else f"{predicted} ≠ {label}"
            pen.putImageData(strip, 0, -SIDE * i, 0, SIDE * i, SIDE, SIDE)
        self.info.textContent = gallery_line(report, model_words)
        set_data(self.box, kind=report["kind"], count=count, iteration=report["iteration"],
                 draw_ms=f"{1000 * (time.perf_counter() - start):.2f}")

    def on_click(self, event):
        item = event.target.closest("[data-slot]")
        if not item or self.images is None:
            return
        slot = int(item.dataset.slot)
        self.on_pick(self.images[slot], self.report["index"][slot])
