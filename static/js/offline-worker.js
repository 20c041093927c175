// Falken's service worker: the site offline after one visit, one deploy at a time.
// The built site's sw.js (written by tools/site.py) sets self.falkenSite = {version, files:
// [[path, sha256], …]} — every file of that deploy but the data blocks — and imports this file.
// Any change to the site changes sw.js, so the browser installs the new version beside the old
// one; it only takes over once no page of the old one is open, so a page sees one deploy's files
// from its first byte to its last. Data blocks are content-addressed (their
// names carry their sha256): they are kept as they are fetched, for every version.
const SITE = self.falkenSite;
const CACHE_PREFIX = "falken-site-";
const CACHE = CACHE_PREFIX + SITE.version;
const BLOCKS = "falken-blocks";
const SHA_HEADER = "X-Falken-Sha256";
const OFFLINE_HEADER = "X-Falken-Offline";   // on the answer for a block this device never fetched
const DOWNLOADS_AT_ONCE = 4;
const SCOPE = new URL(self.registration.scope).pathname;
const FILES = new Map(SITE.files);            // path -> sha256 of the bytes the page is given
const CONTENT_HASH = /-(?:0t)?[0-9a-f]{8,64}(?=[-.])/;   // tools/mime.py: immutable files

async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, byte => byte.toString(16).padStart(2, "0")).join("");
}

// A response to keep: the bytes as the page reads them, their Content-Type (application/wasm
// lets the engine compile while it streams) and their sha256; no Content-Encoding, since the
// body is stored decoded.
function keepable(buffer, contentType, sha) {
  return new Response(buffer, { headers: { "Content-Type": contentType, [SHA_HEADER]: sha } });
}

async function cachedCopy(path, sha, older) {
  for (const cache of older) {
    const found = await cache.match(path);
    if (found && found.headers.get(SHA_HEADER) === sha) return found;
  }
  return null;
}

// One file of this version: already here (an install that was cut short), unchanged in an older
// version, or downloaded and checked against the file list, so a deploy landing mid-install
// fails the install (the next visit tries again) instead of mixing two versions.
async function precacheOne(cache, older, path, sha) {
  const here = await cache.match(path);
  if (here && here.headers.get(SHA_HEADER) === sha) return;
  const copy = await cachedCopy(path, sha, older);
  if (copy) return cache.put(path, copy);
  const response = await fetch(path, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  const buffer = await response.arrayBuffer();
  const got = await sha256(buffer);
  if (got !== sha) throw new Error(`${path} is not the file of version ${SITE.version} (a newer deploy?)`);
  await cache.put(path, keepable(buffer, response.headers.get("Content-Type"), sha));
}

async function precache() {
  const cache = await caches.open(CACHE);
  const names = (await caches.keys()).filter(name => name.startsWith(CACHE_PREFIX) && name !== CACHE);
  const older = await Promise.all(names.map(name => caches.open(name)));
  const queue = [...FILES];
  const downloader = async () => {
    while (queue.length) await precacheOne(cache, older, ...queue.shift());
  };
  await Promise.all(Array.from({ length: DOWNLOADS_AT_ONCE }, downloader));
}

// The new version takes over: older versions go, and so do blocks its data manifest no longer names.
async function activate() {
  for (const name of await caches.keys()) {
    if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
  }
  const manifest = await (await caches.open(CACHE)).match("static/data/mnist/manifest.json");
  if (manifest) {
    const named = new Set((await manifest.json()).blocks.map(block => block.file));
    const blocks = await caches.open(BLOCKS);
    for (const request of await blocks.keys()) {
      if (!named.has(request.url.split("/").pop())) await blocks.delete(request);
    }
  }
}

// Blocks: kept as fetched. One this device never fetched cannot be had offline: the answer says
// so (503 and OFFLINE_HEADER), for the trainer to report it as unavailable, not as a failure.
async function block(request) {
  const cache = await caches.open(BLOCKS);
  const kept = await cache.match(request);
  if (kept) return kept;
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    return new Response(`not available offline: ${new URL(request.url).pathname}`, {
      status: 503, statusText: "Unavailable offline",
      headers: { "Content-Type": "text/plain; charset=utf-8", [OFFLINE_HEADER]: "1" },
    });
  }
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function versioned(path, request) {
  const kept = await (await caches.open(CACHE)).match(path);
  return kept || fetch(request);     // only if the browser has evicted the cache since the install
}

self.addEventListener("install", event => event.waitUntil(precache()));
self.addEventListener("activate", event => event.waitUntil(activate()));
self.addEventListener("fetch", event => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return;
  let path = decodeURIComponent(url.pathname.slice(SCOPE.length));
  if (path === "" || path.endsWith("/")) path += "index.html";
  if (FILES.has(path)) event.respondWith(versioned(path, request));
  else if (CONTENT_HASH.test(path.split("/").pop())) event.respondWith(block(request));
});
// A page of the old version that is leaving asks the waiting new one to take over: it does only if
// no other page is open (one would be left with two versions), so that a reload, or the next
// visit, opens the new version even where the browser keeps the leaving page in its back-forward cache.
// A first visit's page, loaded from the network, asks to be taken over (so that the blocks its
// trainer fetches are kept): it is, only if it is of this very deploy.
self.addEventListener("message", event => {
  if (event.data && event.data.claim) {
    const ours = event.data.claim === SITE.version;
    event.waitUntil((ours ? self.clients.claim() : Promise.resolve())
      .then(() => event.source.postMessage({ claimed: ours })));
  } else if (event.data === "take-over") {   // the pages send it to the waiting version only
    event.waitUntil(self.clients.matchAll({ type: "window" }).then(open => {
      if (open.every(client => client.id === event.source.id)) return self.skipWaiting();
    }));
  }
});
