// A workspace's API keys: make one (its secret shown this once, with a copy button), list them,
// revoke one (asked first). Keys of application.yml are listed but revoked there, not here.
import * as api from '../api.js';
import { h, replace, table, field, input, section, time, badge, notify, notifyError, confirmDialog, busy } from '../dom.js';
import { workspacePath, secretBox, showFieldErrors, clearFieldErrors, failure } from './workspaces-util.js';

export async function render(body, ctx) {
  const id = ctx.workspace.id;
  const listBox = h('div', { id: 'api-key-list' });
  const shown = h('div', { class: 'ws-secret' });
  const name = input('name', '', { required: true, maxlength: 64, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'ci-2026-12' });
  const summary = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create API key');
  const form = h('form', { id: 'api-key-create', novalidate: true },
    h('div', { class: 'ws-form-row' },
      h('div', { 'data-field': 'name' }, field('Key name', name, '1-64 of a-z, 0-9, . _ and -'))),
    summary, h('div', { class: 'actions' }, button));

  async function load() {
    try {
      const page = await api.get(workspacePath(id, 'api-keys'));
      if (!ctx.isCurrent()) return;
      replace(listBox, table([
        { label: 'Name', cell: (k) => h('span', { class: 'mono' }, k.name) },
        { label: 'State', cell: (k) => badge(k.revoked_at ? 'revoked' : 'active') },
        { label: 'Declared in', cell: (k) => (k.source === 'config' ? 'application.yml' : 'the API') },
        { label: 'Created', cell: (k) => time(k.created_at) },
        { label: 'Last used', cell: (k) => (k.last_used_at ? time(k.last_used_at) : h('span', { class: 'muted' }, 'never')) },
        { label: 'Revoked', cell: (k) => time(k.revoked_at) },
        { label: 'Actions', cell: (k) => actions(k) },
      ], page.api_keys, { empty: 'This workspace has no API key yet: create one above.', caption: 'Its keys (never their secrets)' }));
    } catch (e) {
      replace(listBox, failure(e));
    }
  }

  function actions(key) {
    if (key.revoked_at) return h('span', { class: 'muted' }, 'refused since revoked');
    if (key.source === 'config') return h('span', { class: 'muted' }, 'revoke it in application.yml');
    const revoke = h('button', { type: 'button', class: 'danger', 'data-revoke': key.name }, `Revoke ${key.name}`);
    revoke.addEventListener('click', async () => {
      const own = !ctx.session.admin && ctx.session.key_name === key.name;
      const ok = await confirmDialog(`Revoke API key ${key.name} of workspace ${id}? Every client using it is refused`
        + ` from now on; it cannot be undone.${own ? ' This session signed in with it: it ends too.' : ''}`,
      'Revoke key', { danger: true });
      if (!ok) return;
      await busy(revoke, async () => {
        try {
          await api.del(workspacePath(id, 'api-keys', key.name));
          notify(`Revoked API key ${key.name} of workspace ${id}: it is refused from now on.`);
          await load();
        } catch (e) {
          notifyError(e);
        }
      });
    });
    return revoke;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, async () => {
      clearFieldErrors(form);
      summary.hidden = true;
      try {
        const made = await api.post(workspacePath(id, 'api-keys'), { name: name.value.trim() });
        name.value = '';
        replace(shown, secretBox(`Secret of API key ${made.name}`, made.secret,
          `Workspace ${id}'s new key. This is the only time it is shown: the relay keeps only its SHA-256. `
          + 'Copy it now and store it where its client reads it; send it as Authorization: Bearer <secret>.'));
        notify(`Created API key ${made.name} of workspace ${id}. Copy its secret now: it is not shown again.`);
        await load();
      } catch (e) {
        showFieldErrors(form, e, summary);
      }
    });
  });

  body.append(section('Create an API key', form, shown), section('API keys', listBox));
  await load();
  return () => replace(shown);
}
