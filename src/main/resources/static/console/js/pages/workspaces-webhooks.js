// A workspace's failed webhook events (delivery given up): replay one or all (back to the outbox,
// posted again) or discard one with a reason, each asked first.
import * as api from '../api.js';
import { h, table, field, input, section, time, notify, notifyError, confirmDialog, cursorPager, busy } from '../dom.js';

export async function render(body, ctx) {
  const id = ctx.workspace.id;
  const listBox = h('div', { id: 'failed-webhook-list' });
  const url = ctx.workspace.settings.webhook.url;
  const replayAll = h('button', { type: 'button', id: 'replay-all-webhooks' }, 'Replay every failed event');
  body.append(section('Failed webhooks',
    h('p', { class: 'muted' }, url
      ? `Events the relay gave up posting to ${url}. Replaying sends them again, in their order; discarding drops them.`
      : 'This workspace has no webhook URL (set one in its settings): its events are not posted.'),
    h('div', { class: 'actions' }, replayAll), listBox));

  let hasRows = false;
  const pager = cursorPager(listBox,
    async (cursor) => {
      const page = await api.get(`/api/v1/webhooks/failed${api.query({ workspace: id, cursor, limit: 50 })}`);
      return { rows: page.events, next: page.next_cursor };
    },
    (rows) => {
      hasRows = rows.length > 0;
      replayAll.disabled = !hasRows;
      return table([
        { label: 'Event', class: 'num', cell: (e) => String(e.id) },
        { label: 'Type', cell: (e) => e.type },
        { label: 'Recipient', cell: (e) => h('span', { class: 'mono' }, e.recipient || '—') },
        { label: 'Message', cell: (e) => (e.message_id
          ? h('a', { href: `#/messages/${encodeURIComponent(e.message_id)}`, class: 'mono' }, e.message_id) : '—') },
        { label: 'Created', cell: (e) => time(e.created_at) },
        { label: 'Attempts', class: 'num', cell: (e) => String(e.attempts) },
        { label: 'Last error', cell: (e) => e.last_error || '—' },
        { label: 'Actions', cell: (e) => h('div', { class: 'row' }, replay(e), discard(e)) },
      ], rows, { empty: 'No failed webhook event: every event was posted, or is still being tried.' });
    });

  async function act(button, question, label, path, request, done) {
    const reason = request.reason === null ? input('reason', '', { required: true, maxlength: 500 }) : null;
    const ok = await confirmDialog(question, label, { extra: reason ? field('Why (kept in the audit log)', reason) : null });
    if (!ok) return;
    if (reason && !reason.value.trim()) {
      notify('A discard needs a reason: nothing was discarded.', 'warn');
      return;
    }
    const sent = reason ? { ...request, reason: reason.value.trim() } : request;
    await busy(button, async () => {
      try {
        const changed = await api.post(path, sent);
        notify(done(changed));
        await pager.refresh();
      } catch (e) {
        notifyError(e);
      }
    });
    replayAll.disabled = !hasRows;
  }

  function replay(event) {
    const button = h('button', { type: 'button', 'data-replay': String(event.id) }, 'Replay');
    button.addEventListener('click', () => act(button, `Post webhook event ${event.id} (${event.type}) of workspace ${id}`
      + ' again?', 'Replay', `/api/v1/webhooks/failed/${event.id}/replay`, {},
    (c) => (c.count ? `Replayed webhook event ${event.id}: it is posted again.` : `Event ${event.id} was not failed any more.`)));
    return button;
  }

  function discard(event) {
    const button = h('button', { type: 'button', class: 'danger', 'data-discard': String(event.id) }, 'Discard');
    button.addEventListener('click', () => act(button, `Discard webhook event ${event.id} (${event.type}) of workspace`
      + ` ${id}? It is never posted.`, 'Discard', `/api/v1/webhooks/failed/${event.id}/discard`, { reason: null },
    (c) => (c.count ? `Discarded webhook event ${event.id}.` : `Event ${event.id} was not failed any more.`)));
    return button;
  }

  replayAll.addEventListener('click', () => act(replayAll, `Post every failed webhook event of workspace ${id} again`
    + ' (at most 1000 this time, oldest first)?', 'Replay all', '/api/v1/webhooks/failed/replay', { workspace: id },
  (c) => `Replayed ${c.count} failed webhook event${c.count === 1 ? '' : 's'} of workspace ${id}.`));
  return undefined;
}
