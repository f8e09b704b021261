// The police pages' one script: installs the service worker that keeps opened pages for
// reading offline, keeps the unit cards of "my checks" ready, and queues results recorded
// without a network.
//
// A form marked `offline-ok` is sent by this script instead of the browser: its fields as
// the form would post them (with the pressed button's value), with a fresh
// `Idempotency-Key`. When the network fails the entry goes into IndexedDB and is sent again,
// in order and with the same key, when the phone is online again, on every page load and
// every 30 seconds. The server answers a repeated key with its first answer, so a result
// sent twice is stored once. An answer of 409 (someone else closed the check) or another
// refusal moves the entry to a list of conflicts shown on "my checks" until dismissed; a
// lost login keeps the entry until the officer logs in again.
'use strict';

(function () {
  const DB = 'renfang-police';
  const QUEUE = 'queue';
  const CONFLICTS = 'conflicts';
  const RETRY_MS = 30000;
  let flushing = false;
  let loginLost = false;

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/police/sw.js', { scope: '/police' }).catch(() => {});
  }

  // ---- IndexedDB ----------------------------------------------------------------------

  function open() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(QUEUE, { keyPath: 'id', autoIncrement: true });
        req.result.createObjectStore(CONFLICTS, { keyPath: 'id', autoIncrement: true });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function run(store, mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const req = work(tx.objectStore(store));
      tx.oncomplete = () => { db.close(); resolve(req && req.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }

  const all = (store) => run(store, 'readonly', (s) => s.getAll());
  const add = (store, value) => run(store, 'readwrite', (s) => s.add(value));
  const put = (store, value) => run(store, 'readwrite', (s) => s.put(value));
  const remove = (store, id) => run(store, 'readwrite', (s) => s.delete(id));

  // ---- sending ------------------------------------------------------------------------

  /** The CSRF token of this page's session, if the page has a form. */
  function pageCsrf() {
    const input = document.querySelector('input[name=csrf]');
    return input ? input.value : null;
  }

  const entryCsrf = (entry) => {
    const field = entry.fields.find(([name]) => name === 'csrf');
    return field ? field[1] : null;
  };

  /** Sends one entry; says what became of it. */
  async function send(entry) {
    let body;
    if (entry.enctype === 'multipart/form-data') {
      body = new FormData();
      for (const [name, value] of entry.fields) {
        if (typeof value === 'string') body.append(name, value);
        else body.append(name, value, value.name || 'file');
      }
    } else {
      body = new URLSearchParams();
      for (const [name, value] of entry.fields) {
        if (typeof value === 'string') body.append(name, value);
      }
    }
    let res;
    try {
      res = await fetch(entry.url, {
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': entry.key },
        credentials: 'same-origin',
      });
    } catch (err) {
      return { kind: 'network' };
    }
    const landed = new URL(res.url, location.href).pathname;
    if (landed === '/login' || res.status === 401 || res.status === 403) return { kind: 'login' };
    if (res.status === 409) {
      const answer = await res.json().catch(() => null);
      if (answer && answer.error === 'in_progress') return { kind: 'later' };
      return { kind: 'conflict', status: 409 };
    }
    if (res.status >= 200 && res.status < 400) return { kind: 'done', url: res.url };
    if (res.status >= 500) return { kind: 'later' };
    return { kind: 'conflict', status: res.status };
  }

  /** Sends the queue in order; stops at the first entry that must wait. */
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      const csrf = pageCsrf();
      const entries = (await all(QUEUE)).sort((a, b) => a.id - b.id);
      loginLost = false;
      for (const entry of entries) {
        // An entry of an earlier login waits for the officer to say it is theirs.
        if (!csrf || (entryCsrf(entry) !== csrf && !entry.adopt)) continue;
        if (entry.adopt) {
          entry.fields = entry.fields.map(([n, v]) => [n, n === 'csrf' ? csrf : v]);
          delete entry.adopt;
          await put(QUEUE, entry);
        }
        const sent = await send(entry);
        if (sent.kind === 'done') {
          await remove(QUEUE, entry.id);
        } else if (sent.kind === 'conflict') {
          await add(CONFLICTS, { label: entry.label, status: sent.status, created: entry.created });
          await remove(QUEUE, entry.id);
        } else {
          loginLost = sent.kind === 'login';
          break;
        }
      }
    } catch (err) {
      // IndexedDB unavailable (a private window): nothing is queued, nothing to send.
    } finally {
      flushing = false;
      await render();
    }
  }

  // ---- the forms ----------------------------------------------------------------------

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.getAttribute('action') === '/logout') {
      event.preventDefault();
      await logout(form);
      return;
    }
    if (!form.classList.contains('offline-ok')) return;
    event.preventDefault();
    const submitter = event.submitter;
    const data = new FormData(form);
    if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    const entry = {
      url: new URL(form.getAttribute('action') || location.pathname, location.href).pathname,
      key: crypto.randomUUID(),
      enctype: form.enctype,
      fields: Array.from(data.entries()),
      created: Date.now(),
      label: [form.dataset.label || document.title, submitter ? submitter.textContent.trim() : '']
        .filter(Boolean).join(' · '),
    };
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    const sent = await send(entry);
    buttons.forEach((b) => { b.disabled = false; });
    if (sent.kind === 'done') {
      location.assign(sent.url);
      return;
    }
    if (sent.kind === 'conflict') {
      notice(form, sent.status === 409 ? '该核查已由他人完成或已关闭，结果未保存。' : '提交未被接受（' + sent.status + '），请刷新页面后重试。');
      return;
    }
    try {
      await add(QUEUE, entry);
    } catch (err) {
      notice(form, '无法在本机保存结果，请联网后重试。');
      return;
    }
    const pending = (await all(QUEUE)).length;
    notice(form, sent.kind === 'login'
      ? '登录已失效，结果已保存在本机：重新登录后自动提交（' + pending + ' 条待发送）'
      : '已离线保存，联网后自动提交（' + pending + ' 条待发送）');
    await render();
  });

  function notice(form, text) {
    let p = form.querySelector('.queued');
    if (!p) {
      p = document.createElement('p');
      p.className = 'queued saved';
      p.setAttribute('role', 'status');
      form.appendChild(p);
    }
    p.textContent = text;
  }

  /** Logging out forgets the kept pages; results not yet sent are said first. */
  async function logout(form) {
    const pending = await all(QUEUE).catch(() => []);
    if (pending.length > 0 &&
        !window.confirm('还有 ' + pending.length + ' 条核查结果未提交。退出后需用同一账号重新登录才会提交。确定退出？')) {
      return;
    }
    const names = await caches.keys().catch(() => []);
    await Promise.all(names.filter((n) => n.startsWith('renfang-police-')).map((n) => caches.delete(n)));
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage('forget');
    }
    form.submit();
  }

  // ---- the banner ---------------------------------------------------------------------

  function button(text, onClick) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', onClick);
    return b;
  }

  function line(text) {
    const p = document.createElement('p');
    p.textContent = text;
    return p;
  }

  async function render() {
    const main = document.querySelector('main');
    if (!main) return;
    let queued = [];
    let conflicts = [];
    try {
      queued = await all(QUEUE);
      conflicts = await all(CONFLICTS);
    } catch (err) {
      // No IndexedDB: the banner only says whether the phone is offline.
    }
    let banner = document.getElementById('offline-banner');
    if (!banner) {
      banner = document.createElement('section');
      banner.id = 'offline-banner';
      banner.className = 'offline';
      banner.setAttribute('role', 'status');
      main.insertBefore(banner, main.firstChild);
    }
    banner.replaceChildren();
    const csrf = pageCsrf();
    const earlier = queued.filter((e) => csrf && entryCsrf(e) !== csrf && !e.adopt);
    const mine = queued.length - earlier.length;
    banner.classList.toggle('down', !navigator.onLine);
    if (!navigator.onLine) banner.appendChild(line('当前离线：显示的是本机保存的页面。'));
    if (mine > 0) {
      banner.appendChild(line(loginLost
        ? '登录已失效：请重新登录，' + mine + ' 条待发送的结果会在登录后自动提交。'
        : '已离线保存，联网后自动提交（' + mine + ' 条待发送）'));
      const list = document.createElement('ul');
      list.className = 'conflicts';
      for (const e of queued) {
        if (earlier.includes(e)) continue;
        const li = document.createElement('li');
        li.appendChild(line(e.label));
        list.appendChild(li);
      }
      banner.appendChild(list);
    }
    if (earlier.length > 0) {
      banner.appendChild(line(earlier.length + ' 条结果保存于上一次登录，尚未提交。若是您本人记录的，可用当前账号提交。'));
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.appendChild(button('用当前账号提交', async () => {
        for (const e of earlier) { e.adopt = true; await put(QUEUE, e); }
        await flush();
      }));
      actions.appendChild(button('删除这些结果', async () => {
        if (!window.confirm('删除后这 ' + earlier.length + ' 条结果不会提交，确定删除？')) return;
        for (const e of earlier) await remove(QUEUE, e.id);
        await render();
      }));
      banner.appendChild(actions);
    }
    if (conflicts.length > 0) {
      banner.appendChild(line('冲突 ' + conflicts.length + ' 条：这些结果没有保存。'));
      if (location.pathname === '/police/mine') {
        const list = document.createElement('ul');
        list.className = 'conflicts';
        for (const c of conflicts) {
          const li = document.createElement('li');
          li.appendChild(line(c.status === 409
            ? '该核查已由他人完成：地址 ' + c.label
            : '提交未被接受（' + c.status + '）：' + c.label));
          li.appendChild(button('知道了', async () => {
            if (!window.confirm('移除这条冲突记录？')) return;
            await remove(CONFLICTS, c.id);
            await render();
          }));
          list.appendChild(li);
        }
        banner.appendChild(list);
      } else {
        const a = document.createElement('a');
        a.href = '/police/mine';
        a.textContent = '在“我的核查”中查看';
        banner.appendChild(a);
      }
    }
    banner.hidden = banner.childElementCount === 0;
  }

  // ---- keeping pages ready --------------------------------------------------------------

  /** On "my checks", asks for every unit card listed through the worker, which keeps them
   * for reading offline; with `self`, this page too (loaded before the worker ran). */
  function prefetch(self) {
    if (!navigator.onLine || !navigator.serviceWorker.controller) return;
    const wanted = self ? [location.pathname + location.search] : [];
    if (location.pathname === '/police/mine') {
      document.querySelectorAll('a[href^="/police/units/"]').forEach((a) => {
        wanted.push(a.getAttribute('href'));
      });
    }
    for (const url of wanted) fetch(url, { credentials: 'same-origin' }).catch(() => {});
  }

  if ('serviceWorker' in navigator) {
    if (navigator.serviceWorker.controller) prefetch(false);
    else navigator.serviceWorker.addEventListener('controllerchange', () => prefetch(true), { once: true });
  }

  window.addEventListener('online', () => { render(); flush(); });
  window.addEventListener('offline', () => { render(); });
  setInterval(flush, RETRY_MS);
  flush();
})();
