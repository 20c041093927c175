// Falken's saved state: one IndexedDB object store, key -> value (a Uint8Array or a string).
// Promises around IndexedDB's event API so Python can await them (app/store.py). Every failure —
// no IndexedDB (some private windows), an open another tab blocks, a full quota — rejects with a
// sentence a person can read; nothing here throws past a caller. A call the browser leaves
// unanswered (a database another page holds locked) is given up after ANSWER_MS, and once one has
// been, the rest of the visit's calls are refused at once: the page goes on without saved state.
(function () {
  const DATABASE = "falken", VERSION = 1, STORE = "state";
  const ANSWER_MS = 10000;
  const UNANSWERED = `saved state did not answer within ${ANSWER_MS / 1000} s (another Falken tab may hold it; ` +
    "closing the browser and opening Falken again frees it)";
  let opening = null, stalled = false;
  // static/js/idb-release.js closes the connection when the page leaves: a page back from the
  // back-forward cache opens a new one.
  addEventListener("pagehide", () => { opening = null; });

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        let request;
        try {
          request = self.indexedDB.open(DATABASE, VERSION);
        } catch (error) {
          return reject(new Error(`this browser will not keep saved state for this page (${describe(error)})`));
        }
        request.onupgradeneeded = () => request.result.createObjectStore(STORE);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(new Error(`saved state could not be opened: ${describe(request.error)}`));
        request.onblocked = () => reject(new Error("saved state is held by another Falken tab; close it and reload"));
      });
      opening.catch(() => { opening = null; });   // the next call tries again
    }
    return opening;
  }

  function describe(error) {
    if (!error) return "unknown error";
    if (error.name === "QuotaExceededError") return "the browser's storage for this site is full";
    return error.message || error.name;
  }

  // The call's transaction, aborted if it has no answer in time, so it cannot land later.
  function answered(promise, transaction) {
    let timer;
    const late = new Promise((resolve, reject) => {
      timer = setTimeout(() => {
        stalled = true;
        try { if (transaction) transaction.abort(); } catch (error) { /* it finished meanwhile */ }
        reject(new Error(UNANSWERED));
      }, ANSWER_MS);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  async function run(mode, work) {
    if (stalled) throw new Error(UNANSWERED);
    const database = await answered(open(), null);
    let transaction, request;
    try {
      transaction = database.transaction(STORE, mode);
      request = work(transaction.objectStore(STORE));
    } catch (error) {
      throw new Error(`saved state could not be used: ${describe(error)}`);
    }
    return answered(new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = transaction.onabort = () =>
        reject(new Error(`saved state could not be written: ${describe(transaction.error || request.error)}`));
    }), transaction);
  }

  self.falkenStore = {
    get: key => run("readonly", store => store.get(key)),
    put: (key, value) => run("readwrite", store => store.put(value, key)),
    remove: key => run("readwrite", store => store.delete(key)),
    keys: () => run("readonly", store => store.getAllKeys()),
  };
})();
