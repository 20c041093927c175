// Offline after one visit: registers the service worker (static/js/offline-worker.js) and says
// how far it got in <html data-offline> and #offline-status.
// Only a built site has one: tools/site.py stamps its version on <html data-site-version> and
// writes sw.js beside index.html; the page `make run` serves has neither and asks for none.
// Service workers run only in a secure context (HTTPS, localhost): on the S3 website endpoint,
// plain HTTP, the page works as it is, without one.
// data-offline: "unavailable" (no service worker here), "installing" (this version is being
// kept), "ready" (it is), "update-ready" (a newer deploy is kept, whole: it opens on the next
// visit, once no page of this one is open), "failed" (it could not be kept; the next visit tries again).
(function () {
  const root = document.documentElement;
  const version = root.dataset.siteVersion;
  const WORDS = {
    unavailable: "",
    installing: "Keeping Falken for offline use…",
    ready: "Falken works offline on this device.",
    "update-ready": "A new version of Falken is downloaded: it opens the next time you open Falken.",
    failed: "Falken could not be kept for offline use; it tries again on your next visit.",
  };
  // falkenOffline.settled: resolves once this page is under the service worker, or will not be
  // this visit. app/main.py starts the trainer after it, so that the worker's fetches (and its
  // data blocks) go through the service worker on a first visit too.
  let settle;
  window.falkenOffline = { settled: new Promise(resolve => { settle = resolve; }) };
  if (!version) return settle("none");

  function say(state) {
    root.dataset.offline = state;
    const line = document.getElementById("offline-status");
    if (line) line.textContent = WORDS[state];
    if (state !== "installing") settle(state);
  }

  function follow(worker, settled) {
    worker.addEventListener("statechange", () => {
      if (worker.state === "redundant") say("failed");
      else if (worker.state === settled) say(settled === "installed" ? "update-ready" : "ready");
    });
  }

  async function register() {
    let registration;
    try {
      // ?v= tells the worker which deploy registered it: it takes over an open page only of its own.
      registration = await navigator.serviceWorker.register(`./sw.js?v=${version}`);
    } catch (error) {
      console.warn(`Falken: the service worker could not be registered (${error}); the page works online.`);
      return say("failed");
    }
    const watch = () => {
      const incoming = registration.installing;
      if (!incoming) return;
      const replacing = Boolean(registration.active);
      say(replacing ? root.dataset.offline || "ready" : "installing");
      follow(incoming, replacing ? "installed" : "activated");
    };
    registration.addEventListener("updatefound", watch);
    if (registration.waiting) say("update-ready");
    else if (registration.installing) watch();
    else if (registration.active) say("ready");
  }

  if (!window.isSecureContext || !("serviceWorker" in navigator)) return say("unavailable");
  // Once the page is ready: the worker then revalidates what the page has just downloaded
  // (HTTP 304s) instead of downloading it a second time beside the page.
  const body = () => document.body && document.body.dataset.ready;
  const start = () => {
    if (body() === "true" || body() === "error") { observer.disconnect(); register(); }
  };
  const observer = new MutationObserver(start);
  document.addEventListener("DOMContentLoaded", () => {
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
    start();
  });
})();
