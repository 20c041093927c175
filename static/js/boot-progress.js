// What PyScript is doing while Python loads (its py:progress events: "Loading interpreter",
// "Loaded files", …), in <html data-boot-stage> and after "Loading Python…" in #boot-status: a
// boot that is slow, or never ends, says where it is. app/main.py empties #boot-status when done.
(function () {
  addEventListener("py:progress", event => {
    const stage = String(event.detail);
    document.documentElement.dataset.bootStage = stage;
    const status = document.getElementById("boot-status");
    if (status && status.textContent.startsWith("Loading Python")) status.textContent = `Loading Python… (${stage})`;
  });
})();
