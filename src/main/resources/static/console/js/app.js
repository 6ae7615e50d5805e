// The console: a sign-in, then one view per hash route (#/overview, #/messages/ID?...). Each view
// is a module under pages/ with render(main, ctx), which may return a function that stops what the
// view started (its refresh timer, say) when the viewer goes elsewhere.
import * as api from './api.js';
import { h, replace, notify, field } from './dom.js';

const PAGES = {
  overview: () => import('./pages/overview.js'),
  queue: () => import('./pages/queue.js'),
  messages: () => import('./pages/messages.js'),
  'dead-letters': () => import('./pages/dead-letters.js'),
  providers: () => import('./pages/providers.js'),
  routes: () => import('./pages/routes.js'),
  workspaces: () => import('./pages/workspaces.js'),
};

const main = document.getElementById('main');
let session = null;
let cleanup = null;
let rendering = 0;

function route() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [pathPart, queryPart] = hash.split('?');
  const parts = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', parts: parts.slice(1), params: new URLSearchParams(queryPart || '') };
}

export function navigate(page, parts = [], params = {}) {
  const path = [page, ...parts.map(encodeURIComponent)].join('/');
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  const text = search.toString();
  window.location.hash = `#/${path}${text ? `?${text}` : ''}`;
}

function showChrome(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('nav-toggle').hidden = !signedIn;
  document.getElementById('who').hidden = !signedIn;
  if (signedIn) {
    document.getElementById('who-name').textContent = session.admin
      ? 'admin' : `workspace ${session.workspace}${session.key_name ? ` (${session.key_name})` : ''}`;
    for (const link of document.querySelectorAll('#nav [data-admin]')) {
      link.parentElement.hidden = !session.admin;
    }
  }
}

function stopView() {
  if (typeof cleanup === 'function') {
    try { cleanup(); } catch (e) { /* the view is gone either way */ }
  }
  cleanup = null;
}

function signInView(reason) {
  stopView();
  showChrome(false);
  document.title = 'Sign in · Mail Relay';
  const key = h('input', { type: 'password', name: 'key', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', id: 'sign-in-error', role: 'alert', hidden: !reason }, reason || '');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'card sign-in', 'aria-describedby': 'sign-in-error' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Sign in with the admin key (every workspace) or a workspace\'s API key (that workspace only).'),
    field('API key', key),
    error,
    h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      session = await api.signIn(key.value.trim());
      key.value = '';
      start();
    } catch (e) {
      error.hidden = false;
      error.textContent = e.status === 429 ? e.message
        : e.status === 401 ? 'That key was refused: it is not an admin key nor a workspace\'s key.'
          : e.message;
      key.focus();
      key.select();
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  key.focus();
}

async function render() {
  if (!session) return;
  stopView();
  const current = route();
  const load = PAGES[current.page];
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.page === current.page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  closeMenu();
  if (!load) {
    replace(main, h('section', { class: 'card' }, h('h1', {}, 'Not found'),
      h('p', {}, 'There is no such page. '), h('a', { href: '#/overview' }, 'Go to the overview')));
    return;
  }
  const token = ++rendering;
  replace(main, h('p', { class: 'muted', 'aria-busy': 'true' }, 'Loading…'));
  try {
    const module = await load();
    if (token !== rendering) return;
    document.title = `${module.title || current.page} · Mail Relay`;
    main.replaceChildren();
    const ctx = { session, parts: current.parts, params: current.params, navigate, isCurrent: () => token === rendering };
    const stop = await module.render(main, ctx);
    if (token === rendering) cleanup = stop;
    else if (typeof stop === 'function') stop();
  } catch (e) {
    if (token !== rendering) return;
    replace(main, h('section', { class: 'card' }, h('h1', {}, 'This page could not be shown'),
      h('p', { class: 'error' }, e.describe ? e.describe() : String(e))));
  }
  main.focus({ preventScroll: true });
}

function closeMenu() {
  const toggle = document.getElementById('nav-toggle');
  toggle.setAttribute('aria-expanded', 'false');
  document.getElementById('nav').classList.remove('open');
}

function start() {
  showChrome(true);
  if (!window.location.hash || window.location.hash === '#' || window.location.hash === '#/') {
    window.location.hash = '#/overview';
  } else {
    render();
  }
}

api.whenSignedOut(() => {
  session = null;
  api.setSession(null);
  signInView('Your session has ended. Sign in again.');
});

window.addEventListener('hashchange', render);
document.getElementById('sign-out').addEventListener('click', async () => {
  await api.signOut().catch(() => {});
  session = null;
  signInView();
  notify('Signed out.');
});
document.getElementById('nav-toggle').addEventListener('click', () => {
  const toggle = document.getElementById('nav-toggle');
  const open = toggle.getAttribute('aria-expanded') !== 'true';
  toggle.setAttribute('aria-expanded', String(open));
  document.getElementById('nav').classList.toggle('open', open);
});

(async () => {
  try {
    session = await api.session();
  } catch (e) {
    session = null;
  }
  if (session) start();
  else signInView();
})();
