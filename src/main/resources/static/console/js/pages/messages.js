// Messages: the list (GET /api/v1/messages, filtered, one cursor page at a time; the filters live
// in the hash, so a filtered view can be linked) and one message's detail at #/messages/<id>: its
// facts, its event timeline, its delivery attempts with the provider's replies and its raw MIME —
// shown as text in a <pre> (textContent), never rendered. Cancel and retry now, each confirmed.
import * as api from '../api.js';
import {
  h, replace, table, field, select, input, section, time, number, badge, notify, notifyError,
  confirmDialog, cursorPager, busy, localInputValue, isoFromLocalInput,
} from '../dom.js';

export const title = 'Messages';

const STATUSES = ['QUEUED', 'SENDING', 'SENT', 'DEFERRED', 'FAILED', 'REJECTED', 'CANCELLED'];
const TYPES = ['transactional', 'marketing', 'system', 'notification'];
/** The filters of the list, as the API and the hash name them. */
const FILTERS = ['status', 'workspace', 'type', 'campaign', 'recipient', 'since', 'until'];
const PAGE_SIZE = 50;
/** The list's orders; newest first unless the hash says order=oldest. */
const ORDERS = [['newest', 'Newest first'], ['oldest', 'Oldest first']];
/** Raw MIME above this size is fetched only when asked for. */
const RAW_AUTO_LIMIT = 512 * 1024;

export async function render(main, ctx) {
  if (ctx.parts.length > 0) return renderDetail(main, ctx, ctx.parts[0]);
  return renderList(main, ctx);
}

function filtersOf(params, session) {
  const filters = {};
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) filters[name] = value;
  }
  if (!session.admin) delete filters.workspace;
  return filters;
}

function orderOf(params) {
  return params.get('order') === 'oldest' ? 'oldest' : 'newest';
}

function recipientsText(recipients) {
  if (!Array.isArray(recipients)) return '';
  const shown = recipients.slice(0, 3).join(', ');
  return recipients.length > 3 ? `${shown} and ${recipients.length - 3} more` : shown;
}

function detailHref(id, filters) {
  const text = new URLSearchParams(filters).toString();
  return `#/messages/${encodeURIComponent(id)}${text ? `?${text}` : ''}`;
}

function renderList(main, ctx) {
  const { session } = ctx;
  const filters = filtersOf(ctx.params, session);
  const order = orderOf(ctx.params);
  // what the hash and the detail's back link keep: the filters, and the order when not the default
  const kept = order === 'oldest' ? { ...filters, order } : filters;

  const status = select('status', ['', ...STATUSES], filters.status || '');
  const type = select('type', ['', ...TYPES], filters.type || '');
  const workspace = session.admin
    ? input('workspace', filters.workspace, { placeholder: 'every workspace', autocomplete: 'off', spellcheck: 'false' })
    : null;
  const campaign = input('campaign', filters.campaign, { autocomplete: 'off', spellcheck: 'false' });
  const recipient = input('recipient', filters.recipient, { type: 'email', placeholder: 'alice@example.org', autocomplete: 'off' });
  const since = input('since', localInputValue(filters.since), { type: 'datetime-local' });
  const until = input('until', localInputValue(filters.until), { type: 'datetime-local' });
  const orderSelect = select('order', ORDERS, order);

  const submit = (values) => {
    const before = window.location.hash;
    ctx.navigate('messages', [], values);
    // the same filters again: show the list afresh (the hash did not change, so no route did)
    if (window.location.hash === before) window.dispatchEvent(new HashChangeEvent('hashchange'));
  };
  const current = () => ({
    status: status.value,
    workspace: workspace ? workspace.value.trim() : '',
    type: type.value,
    campaign: campaign.value.trim(),
    recipient: recipient.value.trim(),
    since: isoFromLocalInput(since.value),
    until: isoFromLocalInput(until.value),
    order: orderSelect.value === 'oldest' ? 'oldest' : '',
  });
  const lastHours = (hours) => () => submit({
    ...current(), since: new Date(Date.now() - hours * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'), until: '',
  });

  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter messages' },
    field('Status', status),
    workspace ? field('Workspace', workspace) : null,
    field('Type', type),
    field('Campaign', campaign),
    field('Recipient', recipient, 'exact address'),
    field('Accepted since', since),
    field('Accepted before', until),
    field('Order', orderSelect),
    h('div', { class: 'actions messages-filter-actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
      h('button', { type: 'button', onclick: lastHours(1) }, 'Last hour'),
      h('button', { type: 'button', onclick: lastHours(24) }, 'Last day'),
      h('button', { type: 'button', onclick: () => submit({ order: current().order }) }, 'Clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(current());
  });

  const active = Object.entries(filters).map(([name, value]) =>
    (name === 'since' || name === 'until' ? `${name} ${new Date(value).toLocaleString()}` : `${name} ${value}`));
  const ordered = `${order === 'oldest' ? 'Oldest' : 'Newest'} first by accept time`;
  const results = h('div', { class: 'messages-results' });
  // on a phone a filtered list starts with the results, the filters folded away
  const narrow = window.matchMedia('(max-width: 720px)').matches;
  main.append(
    h('h1', {}, 'Messages'),
    h('details', { class: 'card messages-filters', open: !narrow || active.length === 0 },
      h('summary', {}, active.length ? `Filters (${active.length} in use)` : 'Filters'), form),
    h('section', { class: 'card' },
      h('h2', {}, 'Results'),
      h('p', { class: 'muted' }, active.length
        ? `Filtered by ${active.join(', ')}. ${ordered}; ${PAGE_SIZE} a page.`
        : `Every message${session.admin ? ' of every workspace' : ` of workspace ${session.workspace}`}, ${ordered.toLowerCase()}; ${PAGE_SIZE} a page. Filter above to narrow it down.`),
      results));

  const columns = [
    { label: 'Accepted', cell: (m) => time(m.queued_at) },
    { label: 'Status', cell: (m) => badge(m.status) },
    session.admin ? { label: 'Workspace', cell: (m) => m.workspace } : null,
    { label: 'Type', cell: (m) => m.type },
    { label: 'Subject', cell: (m) => h('a', { href: detailHref(m.id, kept), class: 'message-link' }, m.subject || '(no subject)') },
    { label: 'From', cell: (m) => m.from, class: 'mono' },
    { label: 'To', cell: (m) => recipientsText(m.recipients), class: 'mono' },
    { label: 'Attempts', cell: (m) => number(m.attempts), class: 'num' },
    { label: 'Last reply', cell: (m) => (m.provider_reply ? h('span', { class: 'messages-reply' }, m.provider_reply) : h('span', { class: 'muted' }, '—')) },
  ].filter(Boolean);

  cursorPager(results,
    async (cursor) => {
      const page = await api.get(`/api/v1/messages${api.query({ ...filters, order, limit: PAGE_SIZE, cursor })}`);
      return { rows: page.messages, next: page.next_cursor };
    },
    (rows) => table(columns, rows, {
      empty: Object.keys(filters).length
        ? 'No message matches these filters. Widen the time window, or clear a filter.'
        : 'No messages yet. Send one with POST /api/v1/messages or over SMTP, and it shows here.',
      rowProps: (m) => ({ 'data-id': m.id }),
    }));
}

/** Counts the detail's drawings: only the latest one shows (a second Refresh overtakes the first). */
let detailDrawing = 0;

async function renderDetail(main, ctx, id) {
  const drawing = ++detailDrawing;
  const back = new URLSearchParams();
  for (const name of [...FILTERS, 'order']) if (ctx.params.get(name)) back.set(name, ctx.params.get(name));
  const backHref = `#/messages${back.toString() ? `?${back}` : ''}`;
  const path = `/api/v1/messages/${encodeURIComponent(id)}`;

  let message;
  try {
    message = await api.get(path);
  } catch (e) {
    if (!ctx.isCurrent() || drawing !== detailDrawing) return undefined;
    main.replaceChildren(h('p', {}, h('a', { href: backHref }, '← Messages')),
      h('section', { class: 'card' }, h('h1', {}, 'Message not shown'),
        h('p', { class: 'error' }, e.status === 404 ? `There is no message ${id} that you may see.` : e.describe())));
    return undefined;
  }
  if (!ctx.isCurrent() || drawing !== detailDrawing) return undefined;

  const rerender = () => renderDetail(main, ctx, id);

  const actions = h('div', { class: 'actions' });
  if (message.status === 'DEFERRED') {
    const retry = h('button', { type: 'button', class: 'primary', 'data-action': 'retry' }, 'Retry now');
    retry.addEventListener('click', () => act(retry, 'retry'));
    actions.append(retry);
  }
  if (message.status === 'QUEUED' || message.status === 'DEFERRED') {
    const cancel = h('button', { type: 'button', class: 'danger', 'data-action': 'cancel' }, 'Cancel message');
    cancel.addEventListener('click', () => act(cancel, 'cancel'));
    actions.append(cancel);
  }

  async function act(button, action) {
    const to = recipientsText(message.recipients || []);
    const question = action === 'cancel'
      ? `Cancel message "${message.subject || id}" to ${to}? It is ${message.status} and will never be sent.`
      : `Retry message "${message.subject || id}" to ${to} now, instead of at its next attempt?`;
    const ok = await confirmDialog(question, action === 'cancel' ? 'Yes, cancel it' : 'Retry now', { danger: action === 'cancel' });
    if (!ok) return;
    await busy(button, async () => {
      try {
        const result = action === 'cancel' ? await api.del(path) : await api.post(`${path}/retry`);
        notify(action === 'cancel'
          ? `Cancelled message ${result.id}: it was ${result.previous_status}, it is ${result.status} and will not be sent.`
          : `Message ${result.id} is due now (it was ${result.previous_status}); a worker sends it at its next claim.`);
      } catch (e) {
        notifyError(e);
      }
    });
    if (ctx.isCurrent()) await rerender();
  }

  const facts = [
    ['ID', h('span', { class: 'mono' }, message.id)],
    ['Status', badge(message.status)],
    ['Workspace', message.workspace],
    ['Type', message.type],
    ['Priority', message.priority],
    ['From', h('span', { class: 'mono' }, message.from || '—')],
    ['Recipients', h('span', { class: 'mono' }, (message.recipients || []).join(', '))],
    ['Size', `${number(message.size_bytes)} bytes`],
    ['Attempts', number(message.attempts)],
    ['Provider', message.provider || '—'],
    ['Provider message id', message.provider_message_id ? h('span', { class: 'mono' }, message.provider_message_id) : '—'],
    ['Last reply', message.provider_reply ? h('span', { class: 'messages-reply' }, message.provider_reply) : '—'],
    ['Accepted', time(message.queued_at)],
    message.send_at ? ['Send at', time(message.send_at)] : null,
    ['Next attempt', time(message.next_attempt_at)],
    ['Sent', time(message.sent_at)],
    ['Updated', time(message.updated_at)],
  ].filter(Boolean);

  const timeline = h('ol', { class: 'timeline', id: 'message-events' });
  const moreEvents = h('button', { type: 'button', hidden: true }, 'More events');
  let next = message.next;
  const addEvents = (events) => {
    for (const event of events) timeline.append(eventItem(event));
  };
  addEvents(message.events || []);
  moreEvents.hidden = !next;
  moreEvents.addEventListener('click', () => busy(moreEvents, async () => {
    try {
      const page = await api.get(next);
      addEvents(page.events || []);
      next = page.next;
      moreEvents.hidden = !next;
    } catch (e) {
      notifyError(e);
    }
  }));

  const attempts = h('div', { id: 'message-attempts' });
  const raw = h('div', { id: 'message-raw' });

  main.replaceChildren(
    h('p', {}, h('a', { href: backHref }, '← Messages')),
    h('div', { class: 'spread' },
      h('h1', { class: 'messages-title' }, message.subject || '(no subject)'),
      h('div', { class: 'row' }, badge(message.status),
        h('button', { type: 'button', onclick: () => rerender() }, 'Refresh'))),
    h('section', { class: 'card' }, h('h2', {}, 'Facts'),
      h('dl', { class: 'facts', id: 'message-facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      actions.childElementCount ? actions : h('p', { class: 'muted' },
        message.status === 'SENDING' ? 'A worker is sending it: nothing to cancel or retry now.'
          : `It is ${message.status}: it can be neither cancelled nor retried.`)),
    section('Events',
      (message.events || []).length ? timeline : h('p', { class: 'empty' }, 'No events yet: it was accepted and waits for a worker.'),
      moreEvents),
    section('Delivery attempts', attempts),
    section('Raw MIME', raw));

  cursorPager(attempts,
    async (cursor) => {
      const page = await api.get(`${path}/attempts${api.query({ limit: 50, cursor })}`);
      return { rows: page.attempts, next: page.next_cursor };
    },
    (rows) => table([
      { label: 'Attempt', cell: (a) => number(a.attempt), class: 'num' },
      { label: 'Started', cell: (a) => time(a.started_at) },
      { label: 'Provider', cell: (a) => a.provider },
      { label: 'Outcome', cell: (a) => badge(a.outcome) },
      { label: 'Code', cell: (a) => a.code || '—', class: 'mono' },
      { label: 'Provider reply', cell: (a) => h('pre', { class: 'messages-attempt-reply' }, a.reply || '') },
      { label: 'Took', cell: (a) => (a.duration_ms === null || a.duration_ms === undefined ? '—' : `${number(a.duration_ms)} ms`), class: 'num' },
    ], rows, { empty: 'No delivery attempt yet.' }));

  showRaw(raw, path, message);
  return undefined;
}

function eventItem(event) {
  let detail = null;
  if (event.detail !== undefined && event.detail !== null) {
    const d = typeof event.detail === 'object' ? event.detail : { detail: event.detail };
    const parts = Object.entries(d).filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    if (parts.length) detail = h('div', { class: 'messages-event-detail' }, parts.join(' · '));
  }
  return h('li', { 'data-event': event.type },
    h('div', { class: 'row' }, h('strong', {}, event.type), event.recipient ? h('span', { class: 'mono' }, event.recipient) : null,
      time(event.at)),
    detail);
}

/** The stored MIME as text: fetched, then set as the textContent of a <pre>; never parsed as HTML. */
function showRaw(container, path, message) {
  const pre = h('pre', { class: 'raw', id: 'raw-mime', tabindex: '0', 'aria-label': 'Raw MIME of the message' });
  const download = h('a', { href: `${path}/raw`, download: `${message.id}.eml` }, 'Download .eml');
  const load = async (button) => {
    try {
      const text = await api.get(`${path}/raw`, { accept: 'message/rfc822' });
      pre.textContent = typeof text === 'string' ? text : JSON.stringify(text);
      replace(container, h('p', { class: 'muted' }, 'The message exactly as stored and sent to providers, as text. ', download), pre);
    } catch (e) {
      replace(container, h('p', { class: e.status === 410 ? 'empty' : 'error' },
        e.status === 410 ? 'Its stored MIME was dropped by retention; the facts and history above remain.' : e.describe()));
    }
    if (button) button.remove();
  };
  if (message.size_bytes > RAW_AUTO_LIMIT) {
    const button = h('button', { type: 'button' }, `Show raw MIME (${number(message.size_bytes)} bytes)`);
    button.addEventListener('click', () => busy(button, () => load(button)));
    replace(container, h('div', { class: 'row' }, button, download));
  } else {
    replace(container, h('p', { class: 'muted' }, 'Loading…'));
    load();
  }
}
