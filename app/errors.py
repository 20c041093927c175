"""The one place user-facing errors are shown: the #errors box (role=alert)."""
from pyscript import document
from pyscript.ffi import create_proxy


@create_proxy
def _dismiss(event):
    """One handler for every message's × button, made once: a proxy per message would live forever."""
    event.currentTarget.parentElement.remove()


def show_error(message):
    """Append a plain-words message to #errors; each can be dismissed on its own."""
    box = document.getElementById("errors")
    item = document.createElement("div")
    item.className = "error"
    text = document.createElement("p")
    text.textContent = message
    close = document.createElement("button")
    close.type = "button"
    close.textContent = "×"
    close.setAttribute("aria-label", "Dismiss this message")
    close.addEventListener("click", _dismiss)
    item.append(text, close)
    box.append(item)


def clear_errors():
    document.getElementById("errors").replaceChildren()
