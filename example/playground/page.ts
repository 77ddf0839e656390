/**
 * Opens the chat gateway's WebSocket at `url`, sends `echo`, and resolves with what the page could see: the echo, or
 * the close code the browser gave it (1006, nothing more, for a refused handshake). Used by both pages below.
 */
const OPEN_CHAT = `function openChat(url) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onopen = () => socket.send(JSON.stringify({ event: 'echo', data: 'hi' }));
    socket.onmessage = (event) => { resolve({ opened: true, echo: JSON.parse(event.data).data }); socket.close(); };
    socket.onclose = (event) => resolve({ opened: false, code: event.code });
  });
}`;

/**
 * Reads (GET) or signs (POST, a simple request: no preflight) the API's guestbook, and resolves with what the page could
 * see: the status and body, or the error of a response the browser hid. Used by both pages below.
 */
const CALL_GUESTBOOK = `async function callGuestbook(api, method) {
  const init = method === 'POST' ? { method, body: 'hello', headers: { 'Content-Type': 'text/plain' } } : {};
  try {
    const response = await fetch(api + '/guestbook', init);
    return { readable: true, status: response.status, body: await response.text() };
  } catch (error) {
    return { readable: false, error: String(error) };
  }
}`;

/** A page that calls the guestbook with the method of its query as soon as it loads, and posts what it saw to its parent. */
export function guestbookFramePage(apiUrl: string): string {
  return `<!doctype html><title>The guestbook from another origin</title><script>
${CALL_GUESTBOOK}
callGuestbook(${JSON.stringify(apiUrl)}, new URLSearchParams(location.search).get('method')).then((outcome) => parent.postMessage(outcome, '*'));
</script>`;
}

/** The chat gateway's URL on the API. */
const chatUrl = (apiUrl: string) => `${apiUrl.replace(/^http/, 'ws')}/chat`;

/** A page that opens the chat WebSocket as soon as it loads and posts the outcome to the page that framed it. */
export function webSocketFramePage(apiUrl: string): string {
  return `<!doctype html><title>WebSocket from another origin</title><script>
${OPEN_CHAT}
openChat(${JSON.stringify(chatUrl(apiUrl))}).then((outcome) => parent.postMessage(outcome, '*'));
</script>`;
}

/** The CORS playground: one static page, served from its own origin so every request it sends is cross-origin. */
export function playgroundPage(apiUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nestjs-cors playground</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; }
  header h1 { font-size: 18px; margin: 0; } header p { margin: 2px 0 0; opacity: .75; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; background: #fff; padding: 12px; border-radius: 8px; }
  label { display: grid; gap: 2px; font-size: 12px; color: #555; }
  input, select, button { font: inherit; padding: 6px 8px; border: 1px solid #c9ced8; border-radius: 6px; }
  button { background: #2b59c3; color: #fff; border: 0; cursor: pointer; padding: 7px 16px; }
  .panels { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  section { background: #fff; border-radius: 8px; padding: 12px 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .verdict { font-weight: 600; padding: 2px 8px; border-radius: 10px; display: inline-block; margin-bottom: 6px; }
  .ok { background: #dcf5e3; color: #14532d; } .no { background: #fde2e1; color: #7f1d1d; } .info { background: #e8eefc; color: #1e3a8a; }
  pre { background: #f2f4f7; padding: 8px; border-radius: 6px; white-space: pre-wrap; margin: 4px 0 10px; font-size: 12px; }
  .step { border-top: 1px solid #eee; padding-top: 8px; margin-top: 8px; }
  .policy, .route { color: #333; } .note { font-size: 12px; color: #666; margin-top: 4px; }
  #websocket button, #writes button { margin: 0 8px 8px 0; }
  #audit { min-width: 0; } #audit-table { white-space: pre; overflow-x: auto; }
  .why { background: #fff7e0; border-left: 3px solid #d49b00; padding: 6px 10px; margin: 8px 0; }
</style>
</head>
<body>
<header><h1>nestjs-cors playground</h1><p>Page origin <b id="page-origin"></b> → API <b>${apiUrl}</b>. Build a request, send it from this page, and compare what the browser allowed with what the server decided.</p></header>
<main>
  <form id="request">
    <label>Endpoint
      <select id="preset">
        <option value="GET /users">GET /users (global policy)</option>
        <option value="POST /users json">POST /users, JSON (preflighted)</option>
        <option value="GET /users/me auth">GET /users/me with Authorization</option>
        <option value="GET /public">GET /public (origin *)</option>
        <option value="GET /public credentials">GET /public with credentials (origin * refuses them)</option>
        <option value="GET /public/count">GET /public/count (exposes X-Total-Count)</option>
        <option value="POST /public/admin">POST /public/admin (@Cors(false))</option>
        <option value="PUT /partner/orders/7">PUT /partner/orders/7 (named policy, partner only)</option>
        <option value="DELETE /users/7">DELETE /users/7 (method not allowed)</option>
        <option value="GET /users custom">GET /users with X-Custom (header not allowed)</option>
        <option value="GET /health">GET /health (a paths entry; no controller)</option>
      </select>
    </label>
    <label>Method <select id="method">${['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => `<option>${m}</option>`).join('')}</select></label>
    <label>Path <input id="path" size="22"></label>
    <label>Header <input id="header" placeholder="Name: value" size="24"></label>
    <label>Body (JSON) <input id="body" size="14"></label>
    <label><span><input type="checkbox" id="credentials"> credentials</span></label>
    <button id="send" type="submit">Send</button>
  </form>
  <div class="panels">
    <section id="browser"><h2>What the browser allowed</h2><p>Nothing sent yet.</p></section>
    <section id="server"><h2>What the server decided, and why</h2><p>Nothing sent yet.</p></section>
  </div>
  <section id="websocket"><h2>A WebSocket gateway (<code>ws</code> at /chat, the global policy)</h2>
    <p>Browsers apply no CORS to WebSockets: any page can open one, with the user's cookies. The handshake's Origin is
    all the server can go by, so nestjs-cors refuses a handshake from an origin the policy does not allow (403) before
    the gateway sees it.</p>
    <button id="ws-allowed" type="button">Open it from this page</button><button id="ws-other" type="button">Open it from another origin (a frame on <span id="other-origin"></span>)</button>
    <div class="panels"><div id="ws-browser"></div><div id="ws-server"></div></div>
  </section>
  <section id="writes"><h2>Reads and writes (<code>writeOrigin</code>): /guestbook, under the named policy 'guestbook'</h2>
    <p>Any site may read it (<code>origin: '*'</code>); only this page's origin may sign it (<code>writeOrigin</code>).
    <code>'*'</code> says who may read a response, not who may cause side effects: a cross-site POST from another
    origin is refused (403) before the handler runs.</p>
    <button id="write-here" type="button">Sign it from this page</button><button id="read-other" type="button">Read it from another origin</button><button id="write-other" type="button">Sign it from another origin</button>
    <div class="panels"><div id="writes-browser"></div><div id="writes-server"></div></div>
  </section>
  <section id="audit"><h2>Every route's policy (<code>app.get(CorsAudit).table()</code>)</h2><pre id="audit-table">loading…</pre></section>
</main>
<script>
const api = ${JSON.stringify(apiUrl)};
const $ = (id) => document.getElementById(id);
const escape = (text) => String(text).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);
/** An RFC 9110 token: the only header names fetch() accepts. */
const TOKEN = /^[!#$%&'*+.^_|~0-9A-Za-z\\x60-]+$/;
$('page-origin').textContent = location.origin;

function applyPreset() {
  const [method, path, extra] = $('preset').value.split(' ');
  $('method').value = method; $('path').value = path;
  $('header').value = extra === 'auth' ? 'Authorization: Bearer demo' : extra === 'custom' ? 'X-Custom: 1' : '';
  $('body').value = extra === 'json' ? '{"name":"Ada"}' : '';
  $('credentials').checked = extra === 'credentials';
}
$('preset').addEventListener('change', applyPreset);
applyPreset();
fetch('/audit').then((response) => response.text()).then((table) => ($('audit-table').textContent = table));

const show = (panel, html) => ($(panel).innerHTML = '<h2>' + (panel === 'browser' ? 'What the browser allowed' : 'What the server decided, and why') + '</h2>' + html);

${OPEN_CHAT}
const otherOrigin = location.protocol + '//' + (location.hostname === 'localhost' ? '127.0.0.1' : 'localhost') + ':' + location.port;
$('other-origin').textContent = otherOrigin;

/** Opens the chat WebSocket from this page or from a frame on the other origin; shows what each side saw. */
async function tryWebSocket(fromOtherOrigin) {
  const before = await (await fetch('/websockets')).json();
  const outcome = fromOtherOrigin ? await inFrame(otherOrigin + '/websocket-frame') : await openChat(${JSON.stringify(chatUrl(apiUrl))});
  await new Promise((resolve) => setTimeout(resolve, 150));
  const after = await (await fetch('/websockets')).json();
  const isNew = (list, entry) => !list.some((old) => old.id === entry.id);
  const connections = after.connections.filter((entry) => isNew(before.connections, entry));
  const refusals = after.refusals.filter((entry) => isNew(before.refusals, entry));
  $('ws-browser').innerHTML = '<h2>What the page saw (' + escape(fromOtherOrigin ? otherOrigin : location.origin) + ')</h2>' + (outcome.opened
    ? '<span class="verdict ok">Opened</span><p>The gateway echoed <b>' + escape(outcome.echo) + '</b>.</p>'
    : '<span class="verdict no">Not opened</span><p>Closed with code ' + outcome.code + ': the browser tells the page nothing more.</p>');
  $('ws-server').innerHTML = '<h2>What the server decided</h2>' +
    refusals.map((entry) => '<span class="verdict no reason">' + escape(entry.line.replace(/ \\(.*$/, '')) + '</span><pre>' + escape(entry.line) + '</pre>').join('') +
    (connections.length > 0
      ? connections.map((entry) => '<p class="connection">The gateway saw a connection from ' + escape(entry.origin ?? '(no Origin)') + '.</p>').join('')
      : '<p class="connection">The gateway saw no connection.</p>');
  document.body.dataset.websockets = String(Number(document.body.dataset.websockets ?? 0) + 1);
}

function inFrame(src) {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = src;
    addEventListener('message', function answer(event) {
      if (event.source !== frame.contentWindow) return;
      removeEventListener('message', answer);
      frame.remove();
      resolve(event.data);
    });
    document.body.append(frame);
  });
}
${CALL_GUESTBOOK}

/** Reads or signs the guestbook from this page or from a frame on the other origin; shows what each side saw. */
async function tryGuestbook(method, fromOtherOrigin) {
  const before = (await (await fetch('/decisions?since=-1')).json()).lastId;
  const outcome = fromOtherOrigin ? await inFrame(otherOrigin + '/guestbook-frame?method=' + method) : await callGuestbook(api, method);
  await new Promise((resolve) => setTimeout(resolve, 150));
  const { decisions } = await (await fetch('/decisions?since=' + before)).json();
  $('writes-browser').innerHTML = '<h2>What the page saw (' + escape(fromOtherOrigin ? otherOrigin : location.origin) + ')</h2>' + (outcome.readable
    ? '<span class="verdict ok">Response readable</span><p>Status <b>' + outcome.status + '</b></p><pre>' + escape(outcome.body) + '</pre>'
    : '<span class="verdict no">Blocked by the browser</span><pre>' + escape(outcome.error) + '</pre>');
  $('writes-server').innerHTML = '<h2>What the server decided, and why</h2>' + (decisions.map(describe).join('') || '<p>No request reached the server.</p>');
  document.body.dataset.guestbook = String(Number(document.body.dataset.guestbook ?? 0) + 1);
}
$('write-here').addEventListener('click', () => tryGuestbook('POST', false));
$('read-other').addEventListener('click', () => tryGuestbook('GET', true));
$('write-other').addEventListener('click', () => tryGuestbook('POST', true));
$('ws-allowed').addEventListener('click', () => tryWebSocket(false));
$('ws-other').addEventListener('click', () => tryWebSocket(true));

let sent = 0;
$('request').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await send();
  } finally {
    document.body.dataset.sent = String(++sent);
  }
});

async function send() {
  const before = (await (await fetch('/decisions?since=-1')).json()).lastId;
  const credentials = $('credentials').checked;
  const headers = {};
  const header = $('header').value.trim();
  let headerName;
  if (header) {
    const colon = header.indexOf(':');
    headerName = (colon === -1 ? header : header.slice(0, colon)).trim();
    headers[headerName] = colon === -1 ? '' : header.slice(colon + 1).trim();
  }
  const init = { method: $('method').value, headers, credentials: credentials ? 'include' : 'same-origin' };
  if ($('body').value) { init.body = $('body').value; headers['Content-Type'] = 'application/json'; }
  let request;
  try {
    // fetch() would throw the same TypeError: the browser checks a request before it sends anything.
    request = new Request(api + $('path').value, init);
  } catch (error) {
    const why = headerName !== undefined && !TOKEN.test(headerName) ? 'not a valid header name (' + JSON.stringify(headerName) + ')' : error.message.replace(/\\.$/, '');
    show('browser', '<span class="verdict no">Not sent</span><p class="why">The browser refused to send it: ' + escape(why) +
      '. fetch() throws this TypeError before any request leaves the page: it is not a CORS block.</p><pre>' + escape(error) + '</pre>');
    show('server', '<p>Nothing was sent: the server received no request.</p>');
    return;
  }
  let blocked = false;
  try {
    const response = await fetch(request);
    const visible = [];
    response.headers.forEach((value, name) => visible.push(name + ': ' + value));
    show('browser', '<span class="verdict ok">Response readable</span><p>Status <b>' + response.status + '</b></p>' +
      '<b>Headers the page can read</b><pre>' + escape(visible.join('\\n')) + '</pre><b>Body</b><pre>' + escape(await response.text()) + '</pre>');
  } catch (error) {
    blocked = true;
    show('browser', '<span class="verdict no">Blocked by the browser</span><pre>' + escape(error) + '</pre>' +
      '<p>The page gets no status, headers or body: only this error. The console names the CORS check that failed.</p>');
  }
  await new Promise((resolve) => setTimeout(resolve, 150));
  const { decisions } = await (await fetch('/decisions?since=' + before)).json();
  show('server', decisions.map(describe).join('') || '<p>No request reached the server.</p>');
  // The server allowed it, yet the browser refused: '*' is never valid with credentials.
  const starred = decisions.find((d) => d.headers['access-control-allow-origin'] === '*');
  if (blocked && credentials && starred) {
    $('browser').insertAdjacentHTML('beforeend', '<p class="why">Why: the server allowed it, but answered Access-Control-Allow-Origin: *, ' +
      'which is never valid for a request with credentials, so the browser refuses to let the page read the response. ' +
      'To allow it, list the origins (origin: [' + escape(JSON.stringify(location.origin).replace(/"/g, "'")) + ']) and set credentials: true on that policy' +
      (starred.policy ? ' (' + escape(starred.policy) + ')' : '') + '.</p>');
  }
}

function routeName(route) {
  return route.handler === '(no route)' ? 'none matches (the global policy applies)' : route.handler + ' (' + route.method + ' ' + route.path + ')';
}

function describe(d) {
  const title = d.preflight ? 'Preflight: OPTIONS ' + d.path + ' for ' + d.requestMethod + (d.requestHeaders ? ' with ' + d.requestHeaders : '') : d.method + ' ' + d.path;
  const allowed = 'access-control-allow-origin' in d.headers;
  const verdict = d.reason ? '<span class="verdict no reason">' + escape(d.reason) + '</span>'
    : allowed ? '<span class="verdict ok">' + (d.preflight ? 'Preflight accepted' : 'Allowed: CORS headers sent') + '</span>'
    : '<span class="verdict info">No CORS headers (no Origin, or same origin)</span>';
  const policy = d.policy ? '<div class="policy">Decided by ' + escape(d.policy) + ': its ' + d.field + '</div>' : '';
  const route = d.route ? '<div class="route">Route: ' + escape(routeName(d.route)) + ' · ' + (d.handlerRan ? 'handler ran' : 'handler did not run') + '</div>' : '';
  const notes = d.notes.map((note) => '<div class="note">Also logged: ' + escape(note) + '</div>').join('');
  const headers = Object.entries(d.headers).map(([n, v]) => n + ': ' + v).join('\\n');
  return '<div class="step"><b>' + escape(title) + '</b> → ' + d.status + '<br>Origin: ' + escape(d.origin ?? '(none)') + policy + route + verdict + notes +
    '<pre>' + escape(headers || '(no Access-Control-* or Vary headers)') + '</pre></div>';
}
</script>
</body>
</html>`;
}
