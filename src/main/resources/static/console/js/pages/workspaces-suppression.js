// A workspace's suppression list: search by address, filter by status, a page at a time; lift a
// suppression (ACTIVE again, asked first). Reads /api/v1/workspaces/{id}/recipients.
import * as api from '../api.js';
import { h, table, field, input, select, section, time, badge, number, notify, notifyError, confirmDialog,
  cursorPager, busy } from '../dom.js';
import { workspacePath } from './workspaces-util.js';

const STATUSES = [['SUPPRESSED', 'suppressed (any)'], ['BOUNCED', 'bounced'], ['UNSUBSCRIBED', 'unsubscribed'],
  ['COMPLAINED', 'complained'], ['ACTIVE', 'active (not suppressed)'], ['', 'every entry']];

export async function render(body, ctx) {
  const id = ctx.workspace.id;
  const q = ctx.params.get('q') || '';
  const status = ctx.params.has('status') ? ctx.params.get('status') : 'SUPPRESSED';
  const search = input('q', q, { type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'bob@ or example.org' });
  const statusSelect = select('status', STATUSES, status);
  const form = h('form', { class: 'filters', role: 'search', id: 'suppression-search' },
    field('Address contains', search), field('Status', statusSelect),
    h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary' }, 'Search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate('workspaces', [id, 'suppression'], { q: search.value.trim(), status: statusSelect.value || 'any' });
  });
  const listBox = h('div', { id: 'suppression-list' });
  body.append(section('Suppression list', h('p', { class: 'muted' },
    'Addresses that bounced, unsubscribed or complained are left out of every message of this workspace. '
    + 'Lift a suppression once the address is fine again.'), form, listBox));
  const wanted = status === 'any' ? '' : status;

  const pager = cursorPager(listBox,
    async (cursor) => {
      const page = await api.get(`${workspacePath(id, 'recipients')}${api.query({ status: wanted, q, cursor, limit: 50 })}`);
      return { rows: page.recipients, next: page.next_cursor };
    },
    (rows) => table([
      { label: 'Address', cell: (r) => h('span', { class: 'mono' }, r.email) },
      { label: 'Status', cell: (r) => badge(r.status) },
      { label: 'Bounces', class: 'num', cell: (r) => number(r.bounce_count) },
      { label: 'Last bounce', cell: (r) => time(r.last_bounce_at) },
      { label: 'Reason', cell: (r) => r.reason || h('span', { class: 'muted' }, '—') },
      { label: 'Changed', cell: (r) => time(r.updated_at) },
      { label: 'Actions', cell: (r) => (r.status === 'ACTIVE' ? h('span', { class: 'muted' }, 'receives mail') : lift(r)) },
    ], rows, {
      empty: q || wanted !== 'SUPPRESSED'
        ? 'No address matches: change the search or the status.'
        : 'Nobody is suppressed: every recipient of this workspace receives its mail.',
    }));

  function lift(recipient) {
    const button = h('button', { type: 'button', 'data-lift': recipient.email }, 'Lift');
    button.setAttribute('aria-label', `Lift the suppression of ${recipient.email}`);
    button.addEventListener('click', async () => {
      const ok = await confirmDialog(`Lift the suppression of ${recipient.email} (${recipient.status.toLowerCase()}) in`
        + ` workspace ${id}? Its next messages are sent to it again.`, 'Lift suppression');
      if (!ok) return;
      await busy(button, async () => {
        try {
          await api.put(workspacePath(id, 'recipients', recipient.email),
            { status: 'ACTIVE', reason: 'lifted in the console' });
          notify(`Lifted the suppression of ${recipient.email} (was ${recipient.status}): it receives mail again.`);
          await pager.refresh();
        } catch (e) {
          notifyError(e);
        }
      });
    });
    return button;
  }
  return undefined;
}
