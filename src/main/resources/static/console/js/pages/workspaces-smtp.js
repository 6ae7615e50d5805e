// A workspace's SMTP users: add one (with a password given, or one the relay makes and shows this
// once), list them, remove one (asked first).
import * as api from '../api.js';
import { h, replace, table, field, input, section, time, notify, notifyError, confirmDialog, busy } from '../dom.js';
import { workspacePath, secretBox, showFieldErrors, clearFieldErrors, failure } from './workspaces-util.js';

export async function render(body, ctx) {
  const id = ctx.workspace.id;
  const listBox = h('div', { id: 'smtp-user-list' });
  const shown = h('div', { class: 'ws-secret' });
  const username = input('username', '', { required: true, maxlength: 128, autocomplete: 'off', spellcheck: 'false' });
  const password = input('password', '', { type: 'password', autocomplete: 'new-password', spellcheck: 'false' });
  const summary = h('p', { class: 'error', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Add SMTP user');
  const form = h('form', { id: 'smtp-user-create', novalidate: true },
    h('div', { class: 'ws-form-row' },
      h('div', { 'data-field': 'username' }, field('User name', username, 'unique across the relay')),
      h('div', { 'data-field': 'password' }, field('Password', password, 'leave empty and the relay makes one'))),
    summary, h('div', { class: 'actions' }, button));

  async function load() {
    try {
      const page = await api.get(workspacePath(id, 'smtp-users'));
      if (!ctx.isCurrent()) return;
      replace(listBox, table([
        { label: 'User', cell: (u) => h('span', { class: 'mono' }, u.username) },
        { label: 'Declared in', cell: (u) => (u.source === 'config' ? 'application.yml' : 'the API') },
        { label: 'Created', cell: (u) => time(u.created_at) },
        { label: 'Password changed', cell: (u) => time(u.rotated_at) },
        { label: 'Actions', cell: (u) => actions(u) },
      ], page.smtp_users, { empty: 'No SMTP user: add one above to submit mail over SMTP (port 587, AUTH).' }));
    } catch (e) {
      replace(listBox, failure(e));
    }
  }

  function actions(user) {
    if (user.source === 'config') return h('span', { class: 'muted' }, 'remove it in application.yml');
    const remove = h('button', { type: 'button', class: 'danger', 'data-remove': user.username }, `Remove ${user.username}`);
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog(`Remove SMTP user ${user.username} of workspace ${id}? Its next sign-in is refused (535).`,
        'Remove user', { danger: true });
      if (!ok) return;
      await busy(remove, async () => {
        try {
          await api.del(workspacePath(id, 'smtp-users', user.username));
          notify(`Removed SMTP user ${user.username} of workspace ${id}.`);
          await load();
        } catch (e) {
          notifyError(e);
        }
      });
    });
    return remove;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(button, async () => {
      clearFieldErrors(form);
      summary.hidden = true;
      const request = { username: username.value.trim() };
      if (password.value) request.password = password.value;
      try {
        const made = await api.post(workspacePath(id, 'smtp-users'), request);
        username.value = '';
        password.value = '';
        replace(shown, made.password ? secretBox(`Password of SMTP user ${made.username}`, made.password,
          'The relay made this password and keeps only its BCrypt hash: this is the only time it is shown. Copy it now.')
          : null);
        notify(`Added SMTP user ${made.username} to workspace ${id}${made.password ? ': copy its password now' : ''}.`);
        await load();
      } catch (e) {
        showFieldErrors(form, e, summary);
      }
    });
  });

  body.append(section('Add an SMTP user', form, shown), section('SMTP users', listBox));
  await load();
  return () => replace(shown);
}
