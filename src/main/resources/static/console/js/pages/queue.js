// Queue: the queue now by workspace × email type (GET /api/v1/queue/summary) — due, held by a
// pause, sending, deferred, sent and failed today — with pause / resume per workspace and per type
// (POST /api/v1/queue/pause, /resume). Refreshes by itself every few seconds.
import * as api from '../api.js';
import {
  h, append, replace, field, input, time, number, badge, notify, notifyError, confirmDialog, busy, duration,
} from '../dom.js';

export const title = 'Queue';

const REFRESH_MS = 5000;
const PAGE_SIZE = 20;
const EVERY = '*';
const DISABLED = 'workspace disabled';

const COLUMNS = [
  ['Due', 'due', 'claimable now'],
  ['Held', 'held', 'waiting under a pause'],
  ['Queued', 'queued', 'QUEUED, due or not'],
  ['Sending', 'sending'],
  ['Deferred', 'deferred'],
  ['Sent today', 'sent_today'],
  ['Failed today', 'failed_today'],
];

function sum(types, key) {
  return types.reduce((total, t) => total + (t[key] || 0), 0);
}

export async function render(main, ctx) {
  const { session } = ctx;
  const search = input('q', ctx.params.get('q') || '', { type: 'search', placeholder: 'name contains', autocomplete: 'off', spellcheck: 'false' });
  const activeOnly = h('input', { type: 'checkbox', name: 'active', checked: ctx.params.get('active') === '1' });
  const asOf = h('span', { class: 'muted', id: 'queue-as-of' });
  const body = h('div', { id: 'queue-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const banner = h('div', { id: 'queue-global' });
  let page = Math.max(1, Number(ctx.params.get('page')) || 1);
  let summary = null;
  let timer = null;
  let stopped = false;

  const keepParams = () => ctx.navigate('queue', [], {
    q: search.value.trim(), active: activeOnly.checked ? '1' : '', page: page > 1 ? String(page) : '',
  });

  const filters = session.admin ? h('form', { class: 'filters queue-filters', role: 'search', 'aria-label': 'Filter workspaces' },
    field('Workspace', search),
    h('div', { class: 'field queue-check' },
      h('label', { class: 'queue-check-label' }, activeOnly, ' Only workspaces with mail waiting, failures or a pause')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show'))) : null;
  if (filters) {
    filters.addEventListener('submit', (event) => { event.preventDefault(); page = 1; keepParams(); });
    activeOnly.addEventListener('change', () => { page = 1; keepParams(); });
  }

  const refresh = h('button', { type: 'button' }, 'Refresh');
  refresh.addEventListener('click', () => busy(refresh, load));

  append(main, [
    h('div', { class: 'spread' }, h('h1', {}, 'Queue'), h('div', { class: 'row' }, asOf, refresh)),
    h('p', { class: 'muted' }, 'Mail waiting for delivery by workspace and email type, now. A pause holds delivery; accepting goes on and the mail waits QUEUED until the resume. "Today" is the UTC day.'),
    filters ? h('section', { class: 'card' }, filters) : null,
    banner,
    body]);

  let drawn = null;
  async function load() {
    try {
      const fresh = await api.get('/api/v1/queue/summary');
      if (stopped) return;
      summary = fresh;
      asOf.replaceChildren('As of ', time(summary.as_of));
      // Drawn again only when something changed, and with the focus kept on the same control:
      // a keyboard user's place survives the refresh.
      const key = JSON.stringify({ ...summary, as_of: String(summary.as_of).slice(0, 16) }); // and once a minute, for the ages
      if (key === drawn) return;
      drawn = key;
      const focused = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
      const where = focused ? focusKey(focused) : null;
      draw();
      if (where) {
        const again = body.querySelector(where);
        if (again) again.focus();
      }
    } catch (e) {
      if (stopped) return;
      replace(body, h('p', { class: 'error' }, e.describe ? e.describe() : String(e)));
    }
  }

  function schedule() {
    timer = setTimeout(async () => {
      if (stopped) return;
      // Not while a dialog asks: the numbers it quotes stay those the viewer saw.
      if (!document.querySelector('dialog.confirm')) await load();
      if (!stopped) schedule();
    }, REFRESH_MS);
  }

  function focusKey(element) {
    const row = element.closest('tr');
    const action = element.dataset.action;
    if (!row || !action) return null;
    const type = row.dataset.type ? `[data-type='${CSS.escape(row.dataset.type)}']` : '.queue-workspace';
    return `tr${type}[data-workspace='${CSS.escape(row.dataset.workspace)}'] button[data-action]`;
  }

  function draw() {
    drawGlobal();
    const q = search.value.trim().toLowerCase();
    let list = summary.workspaces.filter((w) => !q || w.workspace.toLowerCase().includes(q));
    if (activeOnly.checked) {
      list = list.filter((w) => w.pauses.length > 0
        || w.types.some((t) => t.queued || t.deferred || t.sending || t.failed_today));
    }
    if (list.length === 0) {
      replace(body, h('p', { class: 'empty' }, summary.workspaces.length === 0
        ? 'No workspace is configured yet. Create one on the Workspaces page.'
        : 'No workspace matches. Clear the name, or show every workspace.'));
      return;
    }
    const pages = Math.ceil(list.length / PAGE_SIZE);
    page = Math.min(page, pages);
    const shown = list.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
    const previous = h('button', { type: 'button', disabled: page === 1, onclick: () => { page -= 1; keepParams(); } }, 'Previous page');
    const next = h('button', { type: 'button', disabled: page === pages, onclick: () => { page += 1; keepParams(); } }, 'Next page');
    replace(body,
      h('div', { class: 'table-wrap queue-table' },
        h('table', {},
          h('caption', {}, `${list.length} workspace${list.length === 1 ? '' : 's'}`),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Workspace / type'),
            h('th', { scope: 'col' }, 'State'),
            COLUMNS.map(([label, , hint]) => h('th', { scope: 'col', class: 'num', title: hint || null }, label)),
            h('th', { scope: 'col' }, 'Oldest due'),
            h('th', { scope: 'col' }, 'Action'))),
          shown.map(workspaceRows))),
      pages > 1 ? h('div', { class: 'pager' }, previous, h('span', { class: 'muted' }, `Page ${page} of ${pages}`), next) : null);
  }

  /** Pauses of every workspace ('*'): only an admin lifts them; a workspace sees that it is held. */
  function drawGlobal() {
    const global = [];
    const seen = new Set();
    for (const w of summary.workspaces) {
      for (const p of w.pauses) {
        if (p.workspace === EVERY && !seen.has(p.email_type)) { seen.add(p.email_type); global.push(p); }
      }
    }
    replace(banner, global.length === 0 ? null : h('section', { class: 'card queue-global' },
      h('h2', {}, 'Every workspace is paused'),
      h('ul', {}, global.map((p) => h('li', {},
        `${p.email_type === EVERY ? 'All mail' : `${p.email_type} mail`} of every workspace, by ${p.paused_by}`,
        p.reason ? ` (${p.reason})` : '', ', since ', time(p.paused_at), ' ',
        session.admin ? resumeButton({ workspace: EVERY, email_type: p.email_type }, 'every workspace', null) : null)))));
  }

  function workspaceRows(w) {
    const own = (type) => w.pauses.find((p) => p.workspace === w.workspace && p.email_type === type);
    const whole = own(EVERY);
    const due = sum(w.types, 'due');
    const totals = COLUMNS.map(([label, key]) => h('td', { class: 'num', 'data-label': label }, number(sum(w.types, key))));
    const oldest = w.types.map((t) => t.oldest_due_at).filter(Boolean).sort()[0];
    let state;
    if (!w.enabled) state = badge('disabled');
    else if (whole || w.pauses.some((p) => p.workspace === EVERY && p.email_type === EVERY)) state = badge('paused');
    else if (w.types.some((t) => t.paused)) state = badge('partly paused');
    else state = badge('delivering');
    let action;
    if (whole && whole.reason === DISABLED) {
      action = h('span', { class: 'muted' }, 'Disabled: enable it on the Workspaces page');
    } else if (whole) {
      action = resumeButton({ workspace: w.workspace, email_type: EVERY }, `workspace ${w.workspace}`, w);
    } else {
      action = pauseButton(w, EVERY, due);
    }
    const header = h('tr', { class: 'queue-workspace', 'data-workspace': w.workspace },
      h('th', { scope: 'rowgroup', 'data-label': 'Workspace' }, w.workspace,
        whole ? h('div', { class: 'muted queue-reason' }, `paused by ${whole.paused_by}${whole.reason ? `: ${whole.reason}` : ''}, since `, time(whole.paused_at)) : null),
      h('td', { 'data-label': 'State' }, state),
      totals,
      h('td', { 'data-label': 'Oldest due' }, oldest ? ageOf(oldest, summary.as_of) : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': 'Action' }, action));
    const typeRows = w.types.map((t) => {
      const exact = own(t.email_type);
      let typeAction = null;
      if (exact) typeAction = resumeButton({ workspace: w.workspace, email_type: t.email_type }, `${t.email_type} mail of ${w.workspace}`, w);
      else if (!t.paused) typeAction = pauseButton(w, t.email_type, t.due);
      else typeAction = h('span', { class: 'muted' }, 'held by the workspace pause');
      return h('tr', { class: 'queue-type', 'data-workspace': w.workspace, 'data-type': t.email_type },
        h('td', { 'data-label': 'Type' }, h('span', { class: 'queue-type-name' }, t.email_type),
          exact ? h('div', { class: 'muted queue-reason' }, `paused by ${exact.paused_by}${exact.reason ? `: ${exact.reason}` : ''}`) : null),
        h('td', { 'data-label': 'State' }, t.paused ? badge('paused') : badge('delivering')),
        COLUMNS.map(([label, key]) => h('td', { class: 'num', 'data-label': label, 'data-count': key }, number(t[key]))),
        h('td', { 'data-label': 'Oldest due' }, t.oldest_due_at ? ageOf(t.oldest_due_at, summary.as_of) : h('span', { class: 'muted' }, '—')),
        h('td', { 'data-label': 'Action' }, typeAction));
    });
    return h('tbody', { 'data-workspace': w.workspace }, header, typeRows);
  }

  function ageOf(iso, now) {
    const seconds = Math.max(0, (new Date(now) - new Date(iso)) / 1000);
    return h('span', {}, time(iso), h('span', { class: 'muted' }, ` (${duration(seconds)} late)`));
  }

  function pauseButton(w, type, due) {
    const what = type === EVERY ? `workspace ${w.workspace}` : `${type} mail of ${w.workspace}`;
    const button = h('button', { type: 'button', 'data-action': 'pause', 'data-type': type },
      type === EVERY ? 'Pause workspace' : 'Pause', h('span', { class: 'sr-only' }, ` ${what}`));
    button.addEventListener('click', async () => {
      const reason = h('input', { name: 'reason', maxlength: '500', autocomplete: 'off', placeholder: 'e.g. complaint spike' });
      const ok = await confirmDialog(
        `Pause delivery of ${what}? Mail is still accepted and waits QUEUED until you resume; ${number(due)} due message${due === 1 ? '' : 's'} will be held.`,
        'Pause', { extra: field('Reason (optional, kept with the pause and in the audit log)', reason) });
      if (!ok) return;
      await busy(button, async () => {
        try {
          const body = { workspace: w.workspace, reason: reason.value.trim() || undefined };
          if (type !== EVERY) body.email_type = type;
          const pause = await api.post('/api/v1/queue/pause', body);
          notify(`Paused ${what}${pause.reason ? ` (${pause.reason})` : ''}: ${number(due)} due message${due === 1 ? '' : 's'} held; new mail waits QUEUED.`);
        } catch (e) {
          notifyError(e);
        }
      });
      await load();
    });
    return button;
  }

  function resumeButton(pause, what, w) {
    const held = w ? (pause.email_type === EVERY ? sum(w.types, 'held')
      : (w.types.find((t) => t.email_type === pause.email_type) || {}).held || 0) : null;
    const button = h('button', { type: 'button', class: 'primary', 'data-action': 'resume', 'data-type': pause.email_type },
      pause.email_type === EVERY && pause.workspace !== EVERY ? 'Resume workspace' : 'Resume', h('span', { class: 'sr-only' }, ` ${what}`));
    button.addEventListener('click', async () => {
      const ok = await confirmDialog(
        `Resume delivery of ${what}?${held === null ? '' : ` ${number(held)} held message${held === 1 ? '' : 's'} become claimable at once.`}`,
        'Resume');
      if (!ok) return;
      await busy(button, async () => {
        try {
          const answer = await api.post('/api/v1/queue/resume', pause);
          const still = answer.still_paused || [];
          notify(`Resumed ${what}${held === null ? '' : `: ${number(held)} held message${held === 1 ? '' : 's'} claimable now`}.`);
          if (still.length) {
            notify(`Still paused by ${still.map((p) => `${p.workspace}/${p.email_type}`).join(', ')}.`, 'warn');
          }
        } catch (e) {
          notifyError(e);
        }
      });
      await load();
    });
    return button;
  }

  await load();
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
