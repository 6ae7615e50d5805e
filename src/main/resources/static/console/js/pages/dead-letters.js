// Dead letters: FAILED messages nobody has discarded, grouped by reason and provider
// (GET /api/v1/dead-letters/groups), each group expandable to its messages with their last reply.
// One message, a selection (checkboxes) or everything a filter names can be replayed (back to the
// queue, due now) or discarded (stays FAILED, leaves the list); each action asks first, naming how
// many it will change, and says how many it changed. Messages replayed from here are followed
// until they are sent (or fail again).
import * as api from '../api.js';
import {
  h, replace, field, select, input, section, time, number, badge, notify, notifyError, confirmDialog,
  cursorPager, busy, formatTime, table, localInputValue, isoFromLocalInput,
} from '../dom.js';

export const title = 'Dead letters';

const TYPES = ['', 'transactional', 'marketing', 'system', 'notification'];
const FILTERS = ['workspace', 'provider', 'reason', 'type', 'since', 'until'];
const PAGE_SIZE = 25;
const MAX_BULK = 10000;
const FINAL = new Set(['SENT', 'FAILED', 'REJECTED', 'CANCELLED']);


function plural(n, one, many = `${one}s`) {
  return `${number(n)} ${n === 1 ? one : many}`;
}

/** A filter in words, for a confirmation: "provider w-dead, reason contains “550”". */
function describe(filter) {
  const parts = [];
  if (filter.workspace) parts.push(`workspace ${filter.workspace}`);
  if (filter.provider) parts.push(`provider ${filter.provider}`);
  if (filter.reason) parts.push(`reason contains “${filter.reason}”`);
  if (filter.type) parts.push(`type ${filter.type}`);
  if (filter.since) parts.push(`failed since ${formatTime(filter.since)}`);
  if (filter.until) parts.push(`failed before ${formatTime(filter.until)}`);
  return parts.length ? parts.join(', ') : 'every dead letter you may see';
}

function recipients(row) {
  let list = row.recipients;
  if (typeof list === 'string') {
    try { list = JSON.parse(list); } catch (e) { list = [list]; }
  }
  return Array.isArray(list) ? list.join(', ') : String(list || '');
}

/** The discard reason's field in a confirmation, prefilled. */
function reasonField() {
  const control = h('input', { name: 'discard_reason', maxlength: 500, required: true, value: 'Discarded from the console' });
  return { control, node: field('Why (kept with each message, at most 500 characters)', control) };
}

export async function render(main, ctx) {
  const { session, params } = ctx;
  const filter = {};
  for (const name of FILTERS) filter[name] = params.get(name) || '';
  if (!session.admin) filter.workspace = '';

  const selected = new Map(); // id -> dead letter row
  const followed = new Map(); // id -> {row, status, at, settled}
  const expanded = new Set(); // the groups shown open, by provider and reason
  let timer = null;
  let stopped = false;

  // --- filter form ---------------------------------------------------------------------------
  const controls = {
    workspace: input('workspace', filter.workspace, { placeholder: 'any', spellcheck: 'false' }),
    provider: input('provider', filter.provider, { placeholder: 'any', spellcheck: 'false' }),
    reason: input('reason', filter.reason, { placeholder: 'e.g. 550', maxlength: 500 }),
    type: select('type', TYPES.map((t) => [t, t || 'any']), filter.type),
    since: h('input', { type: 'datetime-local', name: 'since', value: localInputValue(filter.since) }),
    until: h('input', { type: 'datetime-local', name: 'until', value: localInputValue(filter.until) }),
  };
  const form = h('form', { class: 'filters', 'aria-label': 'Filter dead letters' },
    session.admin ? field('Workspace', controls.workspace) : null,
    field('Provider', controls.provider),
    field('Reason contains', controls.reason),
    field('Type', controls.type),
    field('Failed since', controls.since),
    field('Failed before', controls.until),
    h('div', { class: 'field' }, h('span', { class: 'sr-only' }, 'Filter actions'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary' }, 'Apply filter'),
        h('button', { type: 'button', onclick: () => ctx.navigate('dead-letters') }, 'Clear'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate('dead-letters', [], {
      workspace: session.admin ? controls.workspace.value.trim() : '',
      provider: controls.provider.value.trim(),
      reason: controls.reason.value.trim(),
      type: controls.type.value,
      since: isoFromLocalInput(controls.since.value),
      until: isoFromLocalInput(controls.until.value),
    });
  });

  // On a phone the filter folds away unless one is set.
  const set = Object.keys(cleanFilter(filter)).length;
  const filterBox = h('details', { class: 'dl-filter' },
    h('summary', {}, set ? `Filter (${set} set)` : 'Filter'), form);
  filterBox.open = set > 0 || !window.matchMedia('(max-width: 720px)').matches;

  // --- the whole filter's actions --------------------------------------------------------------
  const summary = h('p', { id: 'dl-summary', 'aria-live': 'polite' }, 'Counting…');
  const replayAll = h('button', { type: 'button', 'data-action': 'replay-filter' }, 'Replay all matching');
  const discardAll = h('button', { type: 'button', class: 'danger', 'data-action': 'discard-filter' }, 'Discard all matching');
  const refresh = h('button', { type: 'button', 'data-action': 'refresh' }, 'Refresh');
  replayAll.addEventListener('click', () => busy(replayAll, () => byFilter('replay', cleanFilter(filter))));
  discardAll.addEventListener('click', () => busy(discardAll, () => byFilter('discard', cleanFilter(filter))));
  refresh.addEventListener('click', () => busy(refresh, () => reload()));

  // --- the selection ---------------------------------------------------------------------------
  const selectionText = h('span', { id: 'dl-selection-count' }, '');
  const replaySelected = h('button', { type: 'button', class: 'primary', 'data-action': 'replay-selected' }, 'Replay selected');
  const discardSelected = h('button', { type: 'button', class: 'danger', 'data-action': 'discard-selected' }, 'Discard selected');
  const clearSelected = h('button', { type: 'button', 'data-action': 'clear-selection' }, 'Clear selection');
  const selectionBar = h('div', { class: 'dl-selection card', role: 'region', 'aria-label': 'Selected dead letters', hidden: true },
    h('div', { class: 'spread' }, selectionText, h('div', { class: 'row' }, replaySelected, discardSelected, clearSelected)));
  replaySelected.addEventListener('click', () => busy(replaySelected, () => bySelection('replay')));
  discardSelected.addEventListener('click', () => busy(discardSelected, () => bySelection('discard')));
  clearSelected.addEventListener('click', () => {
    selected.clear();
    for (const box of main.querySelectorAll('input[name=select]')) box.checked = false;
    selectionChanged();
  });

  const groupsBox = h('div', { id: 'dl-groups' });
  const followedBox = h('section', { class: 'card', id: 'dl-followed', hidden: true, 'aria-live': 'polite' },
    h('h2', {}, 'Replayed from this page'),
    h('p', { class: 'muted' }, 'Each message replayed here, until it is sent or fails again.'),
    h('div', { class: 'dl-followed-list' }));

  replace(main,
    h('h1', {}, 'Dead letters'),
    h('p', { class: 'muted' }, 'Messages that failed for good and that nobody has discarded, grouped by the reason they failed and'
      + ' the provider that refused them. Replay sends a message back to the queue (due now, attempts reset);'
      + ' discard takes it off this list (it stays FAILED, with your reason).'),
    h('section', { class: 'card' }, filterBox,
      h('div', { class: 'spread' }, summary, h('div', { class: 'row' }, refresh, replayAll, discardAll))),
    selectionBar,
    followedBox,
    groupsBox);

  function cleanFilter(f) {
    const out = {};
    for (const name of FILTERS) if (f[name]) out[name] = f[name];
    return out;
  }

  function selectionChanged() {
    const n = selected.size;
    selectionBar.hidden = n === 0;
    selectionText.textContent = `${plural(n, 'dead letter')} selected`;
    for (const all of main.querySelectorAll('input[name=select-page]')) {
      const boxes = [...all.closest('.dl-messages').querySelectorAll('input[name=select]')];
      all.checked = boxes.length > 0 && boxes.every((b) => b.checked);
      all.indeterminate = !all.checked && boxes.some((b) => b.checked);
    }
  }

  // --- groups ----------------------------------------------------------------------------------
  async function loadGroups() {
    let answer;
    try {
      answer = await api.get(`/api/v1/dead-letters/groups${api.query({ ...cleanFilter(filter), limit: 100 })}`);
    } catch (e) {
      replace(groupsBox, h('p', { class: 'error' }, e.describe ? e.describe() : String(e)));
      summary.textContent = '';
      return;
    }
    if (!ctx.isCurrent() || stopped) return;
    const total = answer.total;
    const filtered = Object.keys(cleanFilter(filter)).length > 0;
    summary.textContent = total === 0 ? '' : `${plural(total, 'dead letter')} ${filtered ? `${total === 1 ? 'matches' : 'match'} this filter` : 'in all'}`
      + ` in ${plural(answer.groups.length, 'group')}${answer.more ? ' (the largest are shown)' : ''}.`;
    replayAll.hidden = total === 0;
    discardAll.hidden = total === 0;
    replayAll.textContent = `Replay all ${number(total)} matching`;
    discardAll.textContent = `Discard all ${number(total)} matching`;
    if (total === 0) {
      replace(groupsBox, h('section', { class: 'card' },
        h('p', { class: 'empty' }, filtered
          ? 'No dead letter matches this filter. Clear the filter to see every one.'
          : 'No dead letters: every message was delivered or is still being tried. Failed messages appear here when a'
            + ' provider refuses them for good or their retries run out.'),
        filtered ? h('button', { type: 'button', onclick: () => ctx.navigate('dead-letters') }, 'Clear the filter') : null,
        h('p', {}, h('a', { href: '#/messages?status=FAILED' }, 'Discarded and other failed messages are in Messages'))));
      return;
    }
    replace(groupsBox, h('h2', {}, 'By reason and provider'),
      h('ul', { class: 'dl-groups' }, answer.groups.map(group)),
      answer.more ? h('p', { class: 'muted' }, 'More groups match: narrow the filter to see them.') : null);
  }

  function group(g) {
    const groupFilter = { ...cleanFilter(filter) };
    if (g.provider) groupFilter.provider = g.provider;
    if (g.reason) groupFilter.reason = g.reason;
    const body = h('div', { class: 'dl-messages', hidden: true });
    const toggle = h('button', { type: 'button', 'aria-expanded': 'false', 'data-action': 'expand' },
      `Show ${plural(g.count, 'message')}`);
    const replay = h('button', { type: 'button', 'data-action': 'replay-group' }, 'Replay group');
    const discard = h('button', { type: 'button', class: 'danger', 'data-action': 'discard-group' }, 'Discard group');
    const key = `${g.provider || ''}\n${g.reason || ''}`;
    let pager = null;
    const show = (open) => {
      toggle.setAttribute('aria-expanded', String(open));
      toggle.textContent = open ? 'Hide messages' : `Show ${plural(g.count, 'message')}`;
      body.hidden = !open;
      if (open) expanded.add(key); else expanded.delete(key);
      if (open && !pager) pager = messages(body, groupFilter);
    };
    toggle.addEventListener('click', () => show(toggle.getAttribute('aria-expanded') !== 'true'));
    if (expanded.has(key)) show(true);
    replay.addEventListener('click', () => busy(replay, () => byFilter('replay', groupFilter)));
    discard.addEventListener('click', () => busy(discard, () => byFilter('discard', groupFilter)));
    const id = `dl-group-${Math.random().toString(36).slice(2)}`;
    body.id = `${id}-messages`;
    toggle.setAttribute('aria-controls', body.id);
    return h('li', { class: 'card dl-group', dataset: { provider: g.provider || '', reason: g.reason || '' }, 'aria-labelledby': id },
      h('div', { class: 'dl-group-head' },
        h('div', { class: 'dl-group-what' },
          h('h3', { id, class: 'dl-reason' }, g.reason || 'no reason recorded'),
          h('p', { class: 'muted' },
            'Provider ', g.provider ? h('strong', { class: 'dl-provider' }, g.provider) : h('em', {}, 'none reached'),
            ' · failed ', time(g.first_failed_at), g.count > 1 ? [' to ', time(g.last_failed_at)] : null)),
        h('p', { class: 'dl-count' }, h('span', { class: 'dl-count-n' }, number(g.count)), ' ',
          g.count === 1 ? 'dead letter' : 'dead letters')),
      h('div', { class: 'row' }, toggle, replay, discard),
      body);
  }

  /** A group's messages, a page at a time, each with a checkbox. */
  function messages(container, groupFilter) {
    return cursorPager(container, async (cursor) => {
      const page = await api.get(`/api/v1/dead-letters${api.query({ ...groupFilter, cursor, limit: PAGE_SIZE })}`);
      return { rows: page.dead_letters, next: page.next_cursor };
    }, (rows) => {
      if (rows.length === 0) {
        return h('p', { class: 'empty' }, 'These dead letters were replayed or discarded meanwhile: refresh the page.');
      }
      const all = h('input', { type: 'checkbox', name: 'select-page' });
      all.addEventListener('change', () => {
        for (const row of rows) {
          if (all.checked) selected.set(row.id, row); else selected.delete(row.id);
        }
        for (const box of container.querySelectorAll('input[name=select]')) box.checked = all.checked;
        selectionChanged();
      });
      const list = h('ul', { class: 'dl-list' }, rows.map((row) => message(row)));
      const node = h('div', {},
        h('label', { class: 'dl-check dl-check-all' }, all, ` Select all ${plural(rows.length, 'message')} on this page`),
        list);
      queueMicrotask(selectionChanged);
      return node;
    });
  }

  function message(row) {
    const box = h('input', { type: 'checkbox', name: 'select', value: row.id, checked: selected.has(row.id) });
    box.addEventListener('change', () => {
      if (box.checked) selected.set(row.id, row); else selected.delete(row.id);
      selectionChanged();
    });
    const replay = h('button', { type: 'button', 'data-action': 'replay' }, 'Replay');
    const discard = h('button', { type: 'button', 'data-action': 'discard' }, 'Discard');
    replay.addEventListener('click', () => busy(replay, () => one('replay', row)));
    discard.addEventListener('click', () => busy(discard, () => one('discard', row)));
    const last = row.last_attempt;
    const to = recipients(row);
    return h('li', { class: 'dl-item', dataset: { id: row.id } },
      h('label', { class: 'dl-check' }, box, h('span', { class: 'sr-only' }, `Select the message to ${to}`)),
      h('div', { class: 'dl-item-body' },
        h('p', { class: 'dl-item-title' },
          h('a', { href: `#/messages/${encodeURIComponent(row.id)}`, class: 'mono' }, row.id), ' ',
          badge('FAILED')),
        h('dl', { class: 'facts' },
          h('dt', {}, 'To'), h('dd', {}, to),
          h('dt', {}, 'Subject'), h('dd', {}, row.subject || h('span', { class: 'muted' }, '(none)')),
          h('dt', {}, 'Workspace · type'), h('dd', {}, `${row.workspace} · ${row.type}`),
          h('dt', {}, 'Last reply'), h('dd', { class: 'dl-reply' },
            last ? [last.code ? h('strong', {}, last.code) : null, last.code ? ' ' : null, last.reply || '(no reply text)',
              h('span', { class: 'muted' }, ' from ', last.provider || 'no provider', ', ', time(last.at))]
              : [row.reason || '—', h('span', { class: 'muted' }, ' (no delivery attempt recorded)')]),
          h('dt', {}, 'Failed'), h('dd', {}, time(row.failed_at), h('span', { class: 'muted' },
            ` after ${plural(row.attempts, 'attempt')}, accepted `), time(row.queued_at)))),
      h('div', { class: 'dl-item-actions row' }, replay, discard));
  }

  // --- actions ---------------------------------------------------------------------------------
  async function one(action, row) {
    const to = recipients(row);
    let reason = null;
    if (action === 'replay') {
      if (!await confirmDialog(`Replay 1 dead letter, the message to ${to}? It goes back to the queue, due now, with its`
        + ' attempts reset.', 'Replay 1 message')) return;
    } else {
      reason = reasonField();
      if (!await confirmDialog(`Discard 1 dead letter, the message to ${to}? It stays FAILED and leaves this list.`,
        'Discard 1 message', { danger: true, extra: reason.node })) return;
    }
    try {
      const path = `/api/v1/dead-letters/${encodeURIComponent(row.id)}/${action}`;
      const answer = action === 'replay' ? await api.post(path)
        : await api.post(path, { discard_reason: reason.control.value.trim() || 'Discarded from the console' });
      notify(action === 'replay'
        ? `Replayed 1 dead letter (to ${to}): ${answer.status}, due now`
        : `Discarded 1 dead letter (to ${to}): it stays ${answer.status}`);
      selected.delete(row.id);
      if (action === 'replay') follow([row]);
    } catch (e) {
      notifyError(e);
    }
    await reload();
  }

  async function bySelection(action) {
    const rows = [...selected.values()];
    if (rows.length === 0) return;
    const n = rows.length;
    let reason = null;
    if (action === 'replay') {
      if (!await confirmDialog(`Replay the ${plural(n, 'selected dead letter')}? They go back to the queue, due now, with`
        + ' their attempts reset.', `Replay ${plural(n, 'message')}`)) return;
    } else {
      reason = reasonField();
      if (!await confirmDialog(`Discard the ${plural(n, 'selected dead letter')}? They stay FAILED and leave this list.`,
        `Discard ${plural(n, 'message')}`, { danger: true, extra: reason.node })) return;
    }
    const body = { ids: rows.map((r) => r.id) };
    if (reason) body.discard_reason = reason.control.value.trim() || 'Discarded from the console';
    try {
      const answer = await api.post(`/api/v1/dead-letters/${action}`, body);
      const verb = action === 'replay' ? 'Replayed' : 'Discarded';
      const missed = n - answer.count;
      notify(`${verb} ${answer.count} of the ${plural(n, 'selected dead letter')}`
        + (missed > 0 ? `; ${missed} no longer ${missed === 1 ? 'was a dead letter' : 'were dead letters'}` : ''),
      missed > 0 ? 'warn' : 'ok');
      selected.clear();
      if (action === 'replay') follow(rows);
    } catch (e) {
      notifyError(e);
    }
    await reload();
  }

  async function byFilter(action, f) {
    let total;
    try {
      total = (await api.get(`/api/v1/dead-letters/groups${api.query({ ...f, limit: 1 })}`)).total;
    } catch (e) {
      notifyError(e);
      return;
    }
    const words = describe(f);
    if (total === 0) {
      notify(`No dead letter matches (${words}): nothing to ${action}.`, 'warn');
      await reload();
      return;
    }
    const n = Math.min(total, MAX_BULK);
    const cap = total > MAX_BULK ? ` (the oldest ${number(MAX_BULK)} of ${number(total)}: run it again for the rest)` : '';
    let reason = null;
    if (action === 'replay') {
      if (!await confirmDialog(`Replay ${plural(n, 'dead letter')}${cap} — ${words}? They go back to the queue, due now,`
        + ' with their attempts reset.', `Replay ${plural(n, 'message')}`)) return;
    } else {
      reason = reasonField();
      if (!await confirmDialog(`Discard ${plural(n, 'dead letter')}${cap} — ${words}? They stay FAILED and leave this list.`,
        `Discard ${plural(n, 'message')}`, { danger: true, extra: reason.node })) return;
    }
    const body = { ...f };
    if (reason) body.discard_reason = reason.control.value.trim() || 'Discarded from the console';
    try {
      const answer = await api.post(`/api/v1/dead-letters/${action}`, body);
      notify(`${action === 'replay' ? 'Replayed' : 'Discarded'} ${plural(answer.count, 'dead letter')} (${words})`
        + (answer.more ? '; more match: run it again for the rest' : ''));
    } catch (e) {
      notifyError(e);
    }
    await reload();
  }

  // --- messages replayed from here, until they are final --------------------------------------
  function follow(rows) {
    for (const row of rows.slice(0, 50)) followed.set(row.id, { row, status: 'QUEUED' });
    drawFollowed();
    poll();
  }

  function drawFollowed() {
    followedBox.hidden = followed.size === 0;
    replace(followedBox.querySelector('.dl-followed-list'), table([
      { label: 'Message', cell: (f) => h('a', { href: `#/messages/${encodeURIComponent(f.row.id)}`, class: 'mono' }, f.row.id) },
      { label: 'To', cell: (f) => recipients(f.row) },
      { label: 'Status', cell: (f) => badge(f.status) },
      { label: 'Last change', cell: (f) => (f.at ? time(f.at) : '—') },
    ], [...followed.values()], { rowProps: (f) => ({ 'data-id': f.row.id }) }));
  }

  async function poll() {
    clearTimeout(timer);
    timer = null;
    const open = [...followed.values()].filter((f) => !f.settled);
    if (open.length === 0 || stopped) return;
    await Promise.all(open.map(async (f) => {
      try {
        const m = await api.get(`/api/v1/messages/${encodeURIComponent(f.row.id)}?limit=1`);
        f.status = m.status;
        f.at = m.sent_at || m.updated_at || null;
        f.settled = FINAL.has(m.status);
      } catch (e) {
        f.settled = true;
      }
    }));
    if (stopped || !ctx.isCurrent()) return;
    drawFollowed();
    if ([...followed.values()].some((f) => !f.settled)) timer = setTimeout(poll, 1500);
  }

  async function reload() {
    if (stopped) return;
    await loadGroups();
    selectionChanged();
  }

  await loadGroups();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
