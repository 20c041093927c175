// Falken's saved state: one IndexedDB object store, key -> value (a Uint8Array or a string).
// Promises around IndexedDB's event API so Python can await them (app/store.py). Every failure —
// no IndexedDB (some private windows), an open another tab blocks, a full quota — rejects with a
// sentence a person can read; nothing here throws past a caller.
(function () {
  const DATABASE = "falken", VERSION = 1, STORE = "state";
  let opening = null;

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

  async function run(mode, work) {
    const database = await open();
    return new Promise((resolve, reject) => {
      let transaction, request;
      try {
        transaction = database.transaction(STORE, mode);
        request = work(transaction.objectStore(STORE));
      } catch (error) {
        return reject(new Error(`saved state could not be used: ${describe(error)}`));
      }
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = transaction.onabort = () =>
        reject(new Error(`saved state could not be written: ${describe(transaction.error || request.error)}`));
    });
  }

  self.falkenStore = {
    get: key => run("readonly", store => store.get(key)),
    put: (key, value) => run("readwrite", store => store.put(value, key)),
    remove: key => run("readwrite", store => store.delete(key)),
    keys: () => run("readonly", store => store.getAllKeys()),
  };
})();
