// The police app's service worker: the police pages an officer opened, and their style
// sheets, script and icons, kept for reading without a network. Network first: a kept copy
// is answered only when the network fails.
//
// Kept: GET answers with status 200 of the police pages below and of this site's assets,
// never one marked `no-store` and never any other path. Each login session keeps its own
// cache, named after the `X-Offline-Key` header of its pages; a page of another session
// drops the others, and a police page answered with the login page (the session ended)
// drops them all.
'use strict';

const PREFIX = 'renfang-police-';
const PAGES = [/^\/police$/, /^\/police\/mine$/, /^\/police\/filings$/, /^\/police\/units\/\d+$/];
const FILES = [/^\/assets\/[\w.-]+$/, /^\/police\/offline\.js$/, /^\/police\/manifest\.webmanifest$/];

const isPage = (path) => PAGES.some((re) => re.test(path));
const isFile = (path) => FILES.some((re) => re.test(path));

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if (event.data === 'forget') event.waitUntil(forget(null));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (!isPage(url.pathname) && !isFile(url.pathname)) return;
  event.respondWith(networkFirst(request, url));
});

/** The name of the current session's cache, if any. */
async function current() {
  const names = await caches.keys();
  return names.find((n) => n.startsWith(PREFIX)) || null;
}

/** Deletes every kept session but `keep`. */
async function forget(keep) {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== keep).map((n) => caches.delete(n)));
}

async function networkFirst(request, url) {
  let response;
  try {
    response = await fetch(request);
  } catch (err) {
    const name = await current();
    if (name) {
      const cache = await caches.open(name);
      const kept = (await cache.match(request)) || (await cache.match(request, { ignoreSearch: true }));
      if (kept) return kept;
    }
    if (request.mode === 'navigate') return offlinePage();
    throw err;
  }
  await keep(request, url, response).catch(() => {});
  return response;
}

async function keep(request, url, response) {
  const page = isPage(url.pathname);
  const toLogin = response.type === 'opaqueredirect' || response.status === 401 ||
    (response.redirected && new URL(response.url).pathname === '/login');
  if (page && toLogin) {
    await forget(null);
    return;
  }
  if (response.status !== 200 || response.redirected) return;
  if (/no-store/i.test(response.headers.get('Cache-Control') || '')) return;
  let name;
  if (page) {
    const session = response.headers.get('X-Offline-Key');
    if (!session) return;
    name = PREFIX + session;
    await forget(name);
  } else {
    name = await current();
    if (!name) return;
  }
  const cache = await caches.open(name);
  await cache.put(request, response.clone());
}

function offlinePage() {
  const body = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<title>当前离线 · 人房共管</title><link rel="stylesheet" href="/assets/base.css"></head>' +
    '<body><main><h1>当前离线</h1><p>这个页面还没有在本机保存过，联网后再打开。' +
    '已打开过的房屋和“我的核查”离线时可以查看。</p>' +
    '<p><a href="/police/mine">我的核查</a></p></main></body></html>';
  return new Response(body, {
    status: 503,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
      'Cache-Control': 'no-store',
    },
  });
}
