// The device's own storage (IndexedDB): the officer's checks as last fetched, and visits waiting to be sent.
// Visits stay here, with their photos, until the server has them or the officer sees why it refused them.
"use strict";
(function () {
  const DB = "tepat-lapangan";
  const VERSION = 1;

  function open() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("checks")) db.createObjectStore("checks", { keyPath: "key" });
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "id" });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function run(storeName, mode, work) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(storeName, mode);
        const result = work(tx.objectStore(storeName));
        tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }

  window.FieldStore = {
    saveChecks: (subject, items, fetchedAt) =>
      run("checks", "readwrite", (s) => s.put({ key: subject, items, fetchedAt })),
    loadChecks: (subject) => run("checks", "readonly", (s) => s.get(subject)),
    queue: (entry) => run("outbox", "readwrite", (s) => s.put(entry)),
    update: (entry) => run("outbox", "readwrite", (s) => s.put(entry)),
    remove: (id) => run("outbox", "readwrite", (s) => s.delete(id)),
    all: () => run("outbox", "readonly", (s) => s.getAll()),
  };
})();
