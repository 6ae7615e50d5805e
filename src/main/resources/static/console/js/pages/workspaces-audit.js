// The audit log: who changed what, newest first, a page at a time, filtered by action and actor;
// a workspace's (on its page), or the whole relay's (on the admin's list of workspaces).
import * as api from '../api.js';
import { h, table, field, input, section, time, cursorPager } from '../dom.js';

export async function render(body, ctx) {
  return renderAudit(body, ctx, ctx.workspace.id);
}

/** id null: every workspace's entries and the relay's own (an admin session). */
export function renderAudit(body, ctx, id) {
  const here = id === null ? [] : [id, 'audit'];
  const action = ctx.params.get('action') || '';
  const actor = ctx.params.get('actor') || '';
  const actionInput = input('action', action, { autocomplete: 'off', spellcheck: 'false', placeholder: 'api-key.create' });
  const actorInput = input('actor', actor, { autocomplete: 'off', spellcheck: 'false', placeholder: 'admin' });
  const form = h('form', { class: 'filters', id: 'audit-filter' },
    field('Action', actionInput), field('Actor', actorInput),
    h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary' }, 'Filter')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate('workspaces', here, { action: actionInput.value.trim(), actor: actorInput.value.trim() });
  });
  const listBox = h('div', { id: 'audit-list' });
  body.append(section(id === null ? 'Audit log of the relay' : 'Audit log', h('p', { class: 'muted' },
    `${id === null ? 'Every change to the relay, its workspaces and their mail' : 'Every change to this workspace and its mail'},`
    + ' newest first. Secrets are recorded as [redacted].'), form, listBox));
  cursorPager(listBox,
    async (cursor) => {
      const page = await api.get(`/api/v1/audit${api.query({ workspace: id || '', action, actor, cursor, limit: 50 })}`);
      return { rows: page.entries, next: page.next_cursor };
    },
    (rows) => table([
      { label: 'When', cell: (e) => time(e.at) },
      id === null ? { label: 'Workspace', cell: (e) => (e.workspace
        ? h('a', { href: `#/workspaces/${encodeURIComponent(e.workspace)}` }, e.workspace) : '—') } : null,
      { label: 'Actor', cell: (e) => h('span', { class: 'mono' }, e.actor) },
      { label: 'Action', cell: (e) => h('span', { class: 'mono' }, e.action) },
      { label: 'Target', cell: (e) => e.target || '—' },
      { label: 'From', cell: (e) => e.remote_address || h('span', { class: 'muted' }, 'the relay') },
      { label: 'Change', cell: (e) => (e.change === null || e.change === undefined ? '—'
        : h('pre', { class: 'ws-change' }, typeof e.change === 'string' ? e.change : JSON.stringify(e.change, null, 1))) },
    ].filter(Boolean), rows, { empty: action || actor ? 'No entry matches: clear the filter.' : (id === null ? 'Nothing was changed yet.' : 'Nothing was changed in this workspace yet.') }));
  return undefined;
}
