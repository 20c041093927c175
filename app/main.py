"""The page's entry point: boot Python, check numpy, reach the trainer worker, mark the page ready."""
import json

from pyscript import document, workers

from app.errors import show_error
from app.runtime import import_numpy

body = document.body
numpy = await import_numpy()  # noqa: F704 -- PyScript runs this module with top-level await
if numpy is not None:
    body.dataset.ready = "true"
    try:
        trainer = await workers["trainer"]  # noqa: F704
        reply = json.loads(await trainer.ping())  # noqa: F704
        body.dataset.worker = "ready" if reply["numpy"] else "no-numpy"
        body.dataset.workerNumpy = reply["numpy"] or ""
    except Exception as error:
        body.dataset.worker = "failed"
        show_error(f"The background trainer could not start: {error}")
else:
    body.dataset.ready = "error"
document.getElementById("boot-status").textContent = ""
