// The local console's token and keys pages. Every decision (who may mint what, valid scopes and
// expiries) is the server's; this script gathers choices, shows answers and explains failures.
'use strict';

const $ = (id) => document.getElementById(id);
const PROVIDERS = { aws: 'AWS', gcp: 'GCP', local: 'Local (this server)' };
const CACHE_ROLES = [['readwrite', 'ReadWrite'], ['readonly', 'ReadOnly'], ['writeonly', 'WriteOnly']];
const TOPIC_ROLES = [['publishsubscribe', 'PublishSubscribe'], ['subscribeonly', 'SubscribeOnly'],
  ['publishonly', 'PublishOnly']];
const state = { session: null, result: null, revoking: null };

function showError(message) {
  const e = $('error');
  e.textContent = message || '';
  e.hidden = !message;
}

function say(message) { $('status').textContent = message; }

// One call to the console API; failures become Errors with the server's own words.
async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw Object.assign(new Error('The console server does not answer. Is momento-auth-server still running?'), { status: 0 });
  }
  let data = {};
  try { data = await res.json(); } catch (e) { /* not JSON: use the status below */ }
  if (!res.ok) {
    throw Object.assign(new Error(data.error || `The server answered with status ${res.status}.`), { status: res.status });
  }
  return data;
}

// A failed call: a lost session sends the person back to sign in, with the reason.
function failed(e) {
  if (e.status === 401 && state.session) {
    state.session = null;
    render();
  }
  showError(e.message);
}

// A date in the browser's time zone; the epoch stays on hover (title).
function formatDate(epoch, short) {
  if (!epoch) return 'Never';
  return new Date(epoch * 1000).toLocaleString(undefined, short
    ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'long', timeStyle: 'long' });
}

function setDate(el, epoch, short = false) {
  el.textContent = formatDate(epoch, short);
  el.title = epoch ? `${epoch} (seconds since 1970-01-01 UTC)` : 'validUntil 0: never expires';
  if (epoch) el.dateTime = new Date(epoch * 1000).toISOString();
  else el.removeAttribute('datetime');
}

function focusHeading(section) {
  const h = section.querySelector('h1');
  h.tabIndex = -1;
  h.focus();
}

// ---- pages ----

function render() {
  const s = state.session;
  $('nav').hidden = !s;
  $('signout').hidden = !s;
  $('who').hidden = !s;
  if (s) {
    $('who').textContent = `Signed in with ${s.keyClass.replace('_', '-')} key ${s.keyId}`;
    fillProviders();
    $('scope-super-user').parentElement.title = s.canMintSuperUser
      ? '' : 'SuperUser keys are minted by a console session (the server\'s sign-in link).';
  }
  route(false);
}

function route(focus = true) {
  const page = !state.session ? 'signin' : location.hash === '#keys' ? 'keys' : 'token';
  for (const p of ['signin', 'token', 'keys']) $(`${p}-page`).hidden = p !== page;
  $('nav-tokens').toggleAttribute('aria-current', page === 'token');
  $('nav-keys').toggleAttribute('aria-current', page === 'keys');
  if (page === 'token') $('nav-tokens').setAttribute('aria-current', 'page');
  if (page === 'keys') { $('nav-keys').setAttribute('aria-current', 'page'); loadKeys(); }
  if (focus) focusHeading($(`${page}-page`));
}

async function loadSession() {
  try {
    state.session = await api('GET', '/api/session');
  } catch (e) {
    state.session = null;
    if (e.status !== 401) showError(e.message);
  }
  render();
}

async function signIn(body) {
  showError('');
  say('Signing in…');
  try {
    state.session = await api('POST', '/api/signin', body);
    $('signin-key').value = '';
    say('Signed in.');
    render();
    focusHeading($('token-page'));
  } catch (e) {
    say('');
    showError(e.message);
    render();
  }
}

async function signOut() {
  try { await api('POST', '/api/signout', {}); } catch (e) { /* signed out either way */ }
  state.session = null;
  state.result = null;
  $('result').hidden = true;
  say('Signed out.');
  render();
  focusHeading($('signin-page'));
}

// ---- token page ----

function fillProviders() {
  const regions = state.session.regions;
  const providers = [...new Set(regions.map((r) => r.provider))];
  const sel = $('provider');
  if (sel.options.length === providers.length) return;
  sel.replaceChildren(...providers.map((p) => new Option(PROVIDERS[p] || p, p)));
  fillRegions();
}

function fillRegions() {
  const provider = $('provider').value;
  const regions = state.session.regions.filter((r) => r.provider === provider);
  $('region').replaceChildren(...regions.map((r) => new Option(r.region, r.region)));
  showEndpoint();
}

function showEndpoint() {
  const r = state.session.regions.find((x) => x.provider === $('provider').value && x.region === $('region').value);
  $('endpoint').textContent = r ? `Endpoint ${r.endpoint} (control, cache and token services)` : '';
}

function addPermission() {
  const list = $('permissions');
  const li = document.createElement('li');
  const row = document.createElement('div');
  row.className = 'perm';
  const type = document.createElement('select');
  type.className = 'perm-type';
  type.append(new Option('Cache', 'cache'), new Option('Topic', 'topic'));
  const role = document.createElement('select');
  role.className = 'perm-role';
  const cache = document.createElement('input');
  cache.type = 'text';
  cache.className = 'perm-cache';
  cache.placeholder = 'all caches';
  const topic = document.createElement('input');
  topic.type = 'text';
  topic.className = 'perm-topic';
  topic.placeholder = 'all topics';
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'quiet small';
  remove.textContent = 'Remove';
  const roles = () => {
    role.replaceChildren(...(type.value === 'cache' ? CACHE_ROLES : TOPIC_ROLES).map(([v, t]) => new Option(t, v)));
    topic.hidden = type.value !== 'topic';
  };
  type.addEventListener('change', roles);
  remove.addEventListener('click', () => {
    li.remove();
    labelPermissions();
    $('add-permission').focus();
  });
  roles();
  row.append(type, role, cache, topic, remove);
  li.append(row);
  list.append(li);
  labelPermissions();
  return li;
}

// Every control of every row keeps a name that says which permission it belongs to.
function labelPermissions() {
  [...$('permissions').children].forEach((li, i) => {
    const n = `Permission ${i + 1}`;
    li.querySelector('.perm-type').setAttribute('aria-label', `${n}: kind`);
    li.querySelector('.perm-role').setAttribute('aria-label', `${n}: role`);
    li.querySelector('.perm-cache').setAttribute('aria-label', `${n}: cache name (empty for all caches)`);
    li.querySelector('.perm-topic').setAttribute('aria-label', `${n}: topic name (empty for all topics)`);
    li.querySelector('button').setAttribute('aria-label', `Remove permission ${i + 1}`);
  });
  $('add-permission').disabled = $('permissions').children.length >= 10;
}

function scopeChanged() {
  const fine = document.querySelector('input[name="scope"]:checked').value === 'fine_grained';
  $('fine').hidden = !fine;
  if (fine && !$('permissions').children.length) addPermission();
}

function tokenRequest() {
  const body = {
    provider: $('provider').value,
    region: $('region').value,
    scope: document.querySelector('input[name="scope"]:checked').value,
    description: $('description').value,
  };
  const expiry = $('expiry').value;
  if (expiry === 'never') {
    body.expiry = 'never';
  } else if (expiry === 'date') {
    body.expiry = 'date';
    const v = $('expiry-date').value;
    if (v) {
      // The end of the chosen day in this browser's time zone.
      const [y, m, d] = v.split('-').map(Number);
      body.validUntil = Math.floor(new Date(y, m - 1, d + 1).getTime() / 1000);
    }
  } else {
    body.expiry = 'days';
    body.days = Number(expiry);
  }
  if (body.scope === 'fine_grained') {
    body.permissions = [...$('permissions').children].map((li) => ({
      type: li.querySelector('.perm-type').value,
      role: li.querySelector('.perm-role').value,
      cache: li.querySelector('.perm-cache').value.trim(),
      topic: li.querySelector('.perm-topic').value.trim(),
    }));
  }
  return body;
}

async function generate(ev) {
  ev.preventDefault();
  showError('');
  const button = $('generate');
  button.disabled = true;
  say('Generating…');
  try {
    const r = await api('POST', '/api/tokens', tokenRequest());
    state.result = r;
    $('auth-token').textContent = r.authToken;
    $('refresh-token').textContent = r.refreshToken || 'None: a key that never expires has no refresh token.';
    document.querySelector('[data-copy="refresh-token"]').disabled = !r.refreshToken;
    setDate($('valid-until'), r.validUntil);
    $('result').dataset.keyId = r.keyId;
    $('result').hidden = false;
    say(`Generated key ${r.keyId}.`);
    $('result-title').focus();
  } catch (e) {
    say('');
    failed(e);
  } finally {
    button.disabled = false;
  }
}

async function copy(ev) {
  const which = ev.currentTarget.dataset.copy;
  const r = state.result;
  const text = which === 'auth-token' ? r.authToken : which === 'refresh-token' ? r.refreshToken : String(r.validUntil);
  const name = ev.currentTarget.getAttribute('aria-label').replace(/^Copy /, '');
  try {
    await navigator.clipboard.writeText(text);
    say(`${name} copied to the clipboard.`);
  } catch (e) {
    showError('The browser did not allow copying: select the text and copy it yourself.');
  }
}

function download() {
  const r = state.result;
  const url = URL.createObjectURL(new Blob([r.downloadJson], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `momento-api-key-${r.keyId}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  say(`Saved ${a.download} (authToken, refreshToken, validUntil).`);
}

// ---- keys page ----

async function loadKeys() {
  try {
    const { keys } = await api('GET', '/api/keys');
    keys.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
    $('keys').tBodies[0].replaceChildren(...keys.map(keyRow));
  } catch (e) {
    failed(e);
  }
}

function keyRow(k) {
  const tr = document.createElement('tr');
  tr.className = k.state;
  tr.dataset.keyId = k.id;
  const cell = (text, cls) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.append(td);
    return td;
  };
  cell(k.id, 'id');
  cell(k.scope);
  cell([k.description, k.bootstrap ? '(bootstrap key)' : '', k.yours ? '(you are signed in with it)' : '']
    .filter(Boolean).join(' '));
  const created = document.createElement('time');
  setDate(created, k.createdAt, true);
  cell('').append(created);
  const until = document.createElement('time');
  setDate(until, k.validUntil, true);
  cell('').append(until);
  cell(k.state);
  const actions = cell('');
  if (k.state !== 'revoked') {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'danger small';
    b.textContent = 'Revoke';
    b.setAttribute('aria-label', `Revoke key ${k.id}`);
    b.addEventListener('click', () => askRevoke(k, b));
    actions.append(b);
  }
  return tr;
}

function askRevoke(k, button) {
  state.revoking = { key: k, button };
  $('revoke-text').textContent = `Key ${k.id} (${k.scope}) stops working at once, for every client that holds it.`
    + (k.yours ? ' You are signed in with this key: revoking it signs you out.' : '')
    + ' This cannot be undone.';
  $('revoke-dialog').returnValue = '';
  $('revoke-dialog').showModal();
}

async function revokeClosed() {
  const pending = state.revoking;
  state.revoking = null;
  if (!pending) return;
  if ($('revoke-dialog').returnValue !== 'revoke') {
    pending.button.focus();
    return;
  }
  showError('');
  try {
    await api('POST', '/api/keys/revoke', { id: pending.key.id });
    say(`Key ${pending.key.id} revoked.`);
    await loadKeys();
    if (state.session) focusHeading($('keys-page'));
  } catch (e) {
    failed(e);
  }
}

// ---- start ----

function init() {
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn({ key: $('signin-key').value });
  });
  $('signout').addEventListener('click', signOut);
  $('provider').addEventListener('change', fillRegions);
  $('region').addEventListener('change', showEndpoint);
  $('expiry').addEventListener('change', () => {
    $('expiry-date-field').hidden = $('expiry').value !== 'date';
  });
  for (const r of document.querySelectorAll('input[name="scope"]')) r.addEventListener('change', scopeChanged);
  $('add-permission').addEventListener('click', () => addPermission().querySelector('select').focus());
  $('token-form').addEventListener('submit', generate);
  for (const b of document.querySelectorAll('button.copy')) b.addEventListener('click', copy);
  $('download').addEventListener('click', download);
  $('revoke-dialog').addEventListener('close', revokeClosed);
  window.addEventListener('hashchange', () => {
    showError('');
    if (!signInByLink()) route();
  });
  if (!signInByLink()) loadSession();
}

// The one-time sign-in link: take the code out of the address bar, then trade it for a session.
function signInByLink() {
  const m = location.hash.match(/^#code=([A-Za-z0-9_-]+)$/);
  if (!m) return false;
  history.replaceState(null, '', location.pathname);
  signIn({ code: m[1] });
  return true;
}

init();
