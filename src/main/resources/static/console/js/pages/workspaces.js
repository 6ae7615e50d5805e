// Workspaces: the list (admin) with a form to create one, and a workspace's own page at
// #/workspaces/<id>[/<tab>] with its settings, API keys, SMTP users, suppression list, failed
// webhooks and audit log (one module each, workspaces-*.js). A workspace session sees only its own.
import * as api from '../api.js';
import { h, replace, table, field, input, section, time, badge, notify, cursorPager, busy } from '../dom.js';
import { renderAudit } from './workspaces-audit.js';
import { tabs, TABS, workspacePath, secretBox, showFieldErrors, clearFieldErrors, failure } from './workspaces-util.js';

export const title = 'Workspaces';

const TAB_MODULES = {
  settings: () => import('./workspaces-settings.js'),
  'api-keys': () => import('./workspaces-keys.js'),
  'smtp-users': () => import('./workspaces-smtp.js'),
  suppression: () => import('./workspaces-suppression.js'),
  webhooks: () => import('./workspaces-webhooks.js'),
  audit: () => import('./workspaces-audit.js'),
};

export async function render(main, ctx) {
  const { session, parts } = ctx;
  if (parts.length === 0) {
    if (!session.admin) {
      // a workspace session has one workspace: its own page
      ctx.navigate('workspaces', [session.workspace]);
      return undefined;
    }
    return renderList(main, ctx);
  }
  const id = parts[0];
  if (!session.admin && id !== session.workspace) {
    main.append(h('h1', {}, 'Workspace'),
      section('Not your workspace',
        h('p', { class: 'error', 'data-refused': '' },
          `This session belongs to workspace ${session.workspace}: it sees only its own workspace, not ${id}.`),
        h('a', { href: `#/workspaces/${encodeURIComponent(session.workspace)}` }, `Go to workspace ${session.workspace}`)));
    return undefined;
  }
  return renderWorkspace(main, ctx, id, parts[1] || 'settings');
}

// ---- the list (admin)

function renderList(main, ctx) {
  const listBox = h('div', { id: 'workspace-list' });
  const created = h('div', { class: 'ws-created' });
  const goTo = input('workspace', '', { autocomplete: 'off', spellcheck: 'false', required: true });
  const goForm = h('form', { class: 'filters', id: 'workspace-open' }, field('Workspace id', goTo),
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Open workspace')));
  goForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (goTo.value.trim()) ctx.navigate('workspaces', [goTo.value.trim()]);
  });
  const auditBox = h('div', { id: 'relay-audit' });
  main.append(h('h1', {}, 'Workspaces'), createForm(created, () => pager.reload()), created,
    section('Every workspace', goForm, listBox), auditBox);
  renderAudit(auditBox, ctx, null);
  const pager = cursorPager(listBox,
    async (cursor) => {
      const page = await api.get(`/api/v1/workspaces${api.query({ cursor, limit: 50 })}`);
      return { rows: page.workspaces, next: page.next_cursor };
    },
    (rows) => table([
      { label: 'Workspace', cell: (w) => h('a', { href: `#/workspaces/${encodeURIComponent(w.id)}` }, w.id) },
      { label: 'State', cell: (w) => badge(w.enabled ? 'enabled' : 'disabled') },
      { label: 'Declared in', cell: (w) => (w.source === 'config' ? 'application.yml' : 'the API') },
      { label: 'Sender domains', cell: (w) => (w.settings.sender_domains.length
        ? w.settings.sender_domains.join(', ') : h('span', { class: 'muted' }, 'any')) },
      { label: 'Default type', cell: (w) => w.settings.default_type },
      { label: 'Created', cell: (w) => time(w.created_at) },
    ], rows, { empty: 'No workspace yet: create the first one above.', caption: 'By id' }));
  return undefined;
}

function createForm(created, refresh) {
  const id = input('id', '', { required: true, maxlength: 64, pattern: '[a-z0-9-]{1,64}', autocomplete: 'off',
    spellcheck: 'false' });
  const keyName = input('key_name', 'console', { maxlength: 64, autocomplete: 'off', spellcheck: 'false' });
  const domains = input('sender_domains', '', { autocomplete: 'off', spellcheck: 'false', placeholder: 'shop.example' });
  const summary = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create workspace');
  const form = h('form', { class: 'ws-create', id: 'workspace-create', novalidate: true },
    h('div', { class: 'ws-form-row' },
      h('div', { 'data-field': 'id' }, field('Workspace id', id, '1-64 of a-z, 0-9 and -')),
      h('div', { 'data-field': 'key_name' }, field('First API key name', keyName, 'leave empty for no key')),
      h('div', { 'data-field': 'settings.sender_domains' },
        field('Sender domains', domains, 'comma-separated; empty: any'))),
    summary,
    h('div', { class: 'actions' }, button));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, async () => {
      clearFieldErrors(form);
      summary.hidden = true;
      const body = { id: id.value.trim() };
      if (keyName.value.trim()) body.key_name = keyName.value.trim();
      const list = domains.value.split(/[\s,]+/).filter(Boolean);
      if (list.length) body.settings = { sender_domains: list };
      try {
        const answer = await api.post('/api/v1/workspaces', body);
        const ws = answer.workspace;
        notify(`Created workspace ${ws.id}${answer.api_key ? ` with API key ${answer.api_key.name}` : ''}.`);
        replace(created, h('section', { class: 'card' },
          h('h2', {}, `Workspace ${ws.id} is created`),
          answer.api_key ? secretBox(`API key ${answer.api_key.name} of ${ws.id}`, answer.api_key.secret,
            'This is the only time the secret is shown: the relay keeps only its SHA-256. Copy it now.') : null,
          h('p', {}, h('a', { href: `#/workspaces/${encodeURIComponent(ws.id)}`, 'data-open': ws.id }, `Open workspace ${ws.id}`))));
        id.value = '';
        domains.value = '';
        refresh();
      } catch (e) {
        showFieldErrors(form, e, summary);
      }
    });
  });
  return section('Create a workspace', form);
}

// ---- one workspace

async function renderWorkspace(main, ctx, id, tab) {
  const known = TABS.some(([t]) => t === tab);
  const heading = h('h1', {}, `Workspace ${id}`);
  const state = h('span', { class: 'ws-state' });
  const body = h('div', { class: 'ws-tab' });
  if (ctx.session.admin) main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/workspaces' }, '← Every workspace')));
  main.append(h('div', { class: 'spread' }, heading, state), tabs(id, tab), body);
  let workspace;
  try {
    workspace = await api.get(workspacePath(id));
  } catch (e) {
    replace(body, section(e.status === 404 ? 'No such workspace' : 'This workspace could not be shown',
      failure(e), ctx.session.admin ? h('a', { href: '#/workspaces' }, 'See every workspace') : null));
    return undefined;
  }
  if (!ctx.isCurrent()) return undefined;
  const showState = (ws) => replace(state, badge(ws.enabled ? 'enabled' : 'disabled'),
    ws.source === 'config' ? h('span', { class: 'muted' }, ' declared in application.yml') : null);
  showState(workspace);
  if (!known) {
    replace(body, h('p', { class: 'empty' }, 'There is no such part of a workspace\'s page: pick one above.'));
    return undefined;
  }
  document.title = `${id} · ${TABS.find(([t]) => t === tab)[1]} · Mail Relay`;
  const module = await TAB_MODULES[tab]();
  if (!ctx.isCurrent()) return undefined;
  return module.render(body, { ...ctx, workspace, showState });
}
