// A page that leaves lets go of IndexedDB: its unfinished transactions are aborted and its
// connections closed on pagehide. WebKit (WebKitGTK 2.50, so Safari too) otherwise keeps a
// database locked when a page leaves mid-write — a reload during an autosave, a link followed
// while PyScript boots — and every later page of the site then waits on it for ever, until the
// browser restarts. An aborted transaction changes nothing (IndexedDB's are atomic), and a write
// that a leaving page has not finished would be lost anyway. Covers every database the page
// opens: ours (static/js/store.js) and PyScript's package cache. Loaded before both.
(function () {
  if (!self.indexedDB) return;
  const connections = new Set(), unfinished = new Set();
  const realOpen = IDBFactory.prototype.open, realTransaction = IDBDatabase.prototype.transaction;

  // From pagehide on, nothing new starts: a call still on its way (an open that answers late, a
  // write whose connection was still opening) would otherwise begin a transaction that nothing
  // aborts, in a page that is going away.
  let leaving = false;
  IDBFactory.prototype.open = function (...args) {
    const request = realOpen.apply(this, args);
    // A first visit creates the database in a versionchange transaction that .transaction()
    // never sees: it is tracked here, and its connection with it, so a page that leaves while
    // PyScript or store.js creates theirs lets go of both too.
    request.addEventListener("upgradeneeded", () => {
      if (leaving) {
        try { request.transaction.abort(); } catch (error) { /* it finished meanwhile */ }
        return;
      }
      const upgrade = request.transaction;
      connections.add(request.result);
      unfinished.add(upgrade);
      const finished = () => unfinished.delete(upgrade);
      for (const end of ["complete", "abort", "error"]) upgrade.addEventListener(end, finished);
    });
    request.addEventListener("success", () => {
      if (leaving) request.result.close();
      else connections.add(request.result);
    });
    return request;
  };
  IDBDatabase.prototype.transaction = function (...args) {
    if (leaving) throw new DOMException("the page is being left", "InvalidStateError");
    const transaction = realTransaction.apply(this, args);
    unfinished.add(transaction);
    const finished = () => unfinished.delete(transaction);
    for (const end of ["complete", "abort", "error"]) transaction.addEventListener(end, finished);
    return transaction;
  };

  addEventListener("pagehide", () => {
    leaving = true;
    for (const transaction of unfinished) {
      try { transaction.abort(); } catch (error) { /* it finished meanwhile */ }
    }
    for (const connection of connections) connection.close();
    unfinished.clear();
    connections.clear();
  });
  // Back from the back-forward cache: store.js opens again on its next call (it listens for
  // pagehide too); a page that was still booting had PyScript's connection closed under it, so it
  // starts over.
  addEventListener("pageshow", event => {
    if (event.persisted && leaving && document.body && document.body.dataset.ready !== "true") location.reload();
    leaving = false;
  });
})();
