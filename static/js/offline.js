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

  // A new version beside the one in charge is "update-ready" once installed; a first one is
  // "ready" once it has taken this page over (it does only if it is this page's deploy).
  function follow(worker, replacing) {
    worker.addEventListener("statechange", () => {
      if (worker.state === "redundant") say("failed");
      else if (replacing && worker.state === "installed") say("update-ready");
      else if (!replacing && worker.state === "activated") worker.postMessage({ claim: version });
    });
  }

  async function register() {
    let registration;
    try {
      registration = await navigator.serviceWorker.register("./sw.js");
    } catch (error) {
      console.warn(`Falken: the service worker could not be registered (${error}); the page works online.`);
      return say("failed");
    }
    let followed = null;
    const watch = () => {
      const incoming = registration.installing;
      if (!incoming || incoming === followed) return;
      followed = incoming;
      const replacing = Boolean(registration.active);
      say(replacing ? root.dataset.offline || "ready" : "installing");
      follow(incoming, replacing);
    };
    navigator.serviceWorker.addEventListener("message", event => {
      if (event.data && "claimed" in event.data) say("ready");
    });
    registration.addEventListener("updatefound", watch);
    // Leaving with a new version downloaded: it may take over now (offline-worker.js checks that
    // no other page is open), so that the reload or the next visit opens it.
    addEventListener("pagehide", () => {
      if (registration.waiting) registration.waiting.postMessage("take-over");
    });
    if (registration.waiting) say("update-ready");
    else if (registration.installing) watch();
    else if (registration.active) say("ready");
  }

  if (!window.isSecureContext || !("serviceWorker" in navigator)) return say("unavailable");
  // A page that was under an older version and finds a new one in charge (restored from the
  // back-forward cache, or handed over below) reloads: it must never run on two versions' files.
  const startedUnder = navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (startedUnder) location.reload();
  });
  // A visit that finds a new version waiting (the last page of the old one left before its
  // hand-over reached the new version) asks for it at once, before the page boots: if no other
  // page is open, the new version takes over and this page reloads as the new version.
  if (startedUnder) {
    navigator.serviceWorker.getRegistration().then(registration => {
      if (registration && registration.waiting) registration.waiting.postMessage("take-over");
    }, () => {});
  }
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
