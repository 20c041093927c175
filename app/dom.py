"""Small DOM helpers: find elements, bind handlers so their failures reach #errors."""
import asyncio
import inspect

from pyscript import document, window
from pyscript.ffi import create_proxy

from app.errors import show_error
from app.wording import sentence

# Proxies must outlive the call that created them, or JS would call a destroyed function.
_kept_alive = []


def by_id(element_id):
    element = document.getElementById(element_id)
    if not element:                 # getElementById gives JS null (pyodide.ffi.jsnull), not None
        raise LookupError(f"the page has no #{element_id}")
    return element


def guarded(handler, what, turn=None):
    """Wrap a handler called from JS (an event, a worker's report): any exception becomes a plain
    message in #errors, never a dead page or a failure no one sees. Async handlers sharing a
    `turn` (an asyncio.Lock) run one at a time in the order their events came: a Start clicked
    while Reset still awaits its saved state must reach the worker after that Reset, not before."""
    if inspect.iscoroutinefunction(handler):
        async def run_async(*args):
            try:
                if turn is None:
                    await handler(*args)
                else:
                    async with turn:        # asyncio.Lock wakes its waiters first come, first served
                        await handler(*args)
            except Exception as error:
                show_error(sentence(f"{what} failed: {error}"))

        def start(*args):       # returns None: a Task returned to JS would become a PyProxy per event
            asyncio.ensure_future(run_async(*args))
        return start

    def run(*args):
        try:
            handler(*args)
        except Exception as error:
            show_error(sentence(f"{what} failed: {error}"))
    return run


def listen(element, event_name, handler, what, turn=None, **options):
    """addEventListener with a guarded, kept-alive Python handler (options: passive=False, …;
    `turn`: see guarded)."""
    if isinstance(element, str):
        element = by_id(element)
    proxy = create_proxy(guarded(handler, what, turn))
    _kept_alive.append(proxy)
    if options:
        from pyscript.ffi import to_js
        element.addEventListener(event_name, proxy, to_js(options))
    else:
        element.addEventListener(event_name, proxy)
    return proxy


def set_data(element, **values):
    """Set data-* attributes (snake_case names become data-kebab-case)."""
    for name, value in values.items():
        element.setAttribute("data-" + name.replace("_", "-"), "" if value is None else str(value))


def enable(*element_ids, on=True):
    for element_id in element_ids:
        by_id(element_id).disabled = not on


_images = {}    # (width, height) -> a JS ImageData kept for reuse: no new 100s-of-KB buffer per frame


def image_data(rgba, width):
    """A JS ImageData of uint8 RGBA pixels `width` wide: the bytes cross the FFI in one copy,
    never a call per pixel. The ImageData of each size is reused (valid until the next call)."""
    data = rgba.tobytes() if hasattr(rgba, "tobytes") else bytes(rgba)
    size = (width, len(data) // (4 * width))
    image = _images.get(size)
    if image is None:
        image = _images[size] = window.ImageData.new(window.Uint8ClampedArray.new(len(data)), *size)
    image.data.assign(data)
    return image


def paint(canvas, rgba):
    """Paint an (h, w, 4) uint8 picture on `canvas`, resized to it, with one putImageData."""
    height, width = rgba.shape[:2]
    if canvas.width != width or canvas.height != height:
        canvas.width, canvas.height = width, height
    canvas.getContext("2d").putImageData(image_data(rgba, width), 0, 0)
