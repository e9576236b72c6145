// Service worker of the field app: keeps the app's own files so it opens without a network. API calls are never
// cached here (the app keeps the officer's checks in IndexedDB, and visits go through its own queue).
"use strict";
const CACHE = "tepat-lapangan-v1";
const SHELL = [
  "./",
  "index.html",
  "app.js",
  "store.js",
  "app.css",
  "manifest.webmanifest",
  "icon.svg",
  "messages-id.json",
  "messages-en.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/lapangan/")) {
    return; // the API and everything else: straight to the network
  }
  // Network first (a new version reaches the officer as soon as there is signal), the cached copy without one.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() =>
        caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match("index.html"))
      )
  );
});
