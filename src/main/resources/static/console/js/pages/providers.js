// Providers (admin key): every running provider instance with its type, circuit breaker (state and
// recent transitions), quota use, deliveries, last success, last error and last probe, and a Test
// button per provider: a probe now (its type's lightweight call), or a probe and one test message
// to an address given (POST /api/v1/providers/{id}/test).
import * as api from '../api.js';
import {
  h, replace, field, input, number, time, badge, notify, notifyError, confirmDialog, busy, table,
} from '../dom.js';

export const title = 'Providers';

const PAGE_SIZE = 20;

export async function render(main, ctx) {
  if (!ctx.session.admin) {
    main.append(h('h1', {}, 'Providers'),
      h('p', { class: 'empty' }, 'Providers are managed with the admin key. Sign in with it to see them.'));
    return undefined;
  }
  if (ctx.parts[0]) return renderOne(main, ctx, ctx.parts[0]);
  return renderList(main, ctx);
}

/** #/providers/<id>: one provider's card, with every fact, its transitions, parameters and the test form. */
async function renderOne(main, ctx, id) {
  main.append(h('p', {}, h('a', { href: '#/providers' }, '← Every provider')));
  try {
    const provider = await api.get(`/api/v1/providers/${encodeURIComponent(id)}`);
    if (!ctx.isCurrent()) return undefined;
    main.append(h('h1', {}, `Provider ${provider.id} `, h('span', { class: 'muted provider-type' }, provider.type || '')),
      providerCard(provider));
  } catch (e) {
    main.append(h('h1', {}, `Provider ${id}`), h('p', { class: e.status === 404 ? 'empty' : 'error' },
      e.status === 404 ? 'No provider of this id is running (its route may have been removed or renamed).'
        : (e.describe ? e.describe() : String(e))));
  }
  return undefined;
}

/** #/providers: every provider in a table (a page at a time), filtered by id or type, each with its Test button. */
async function renderList(main, ctx) {
  const summary = h('p', { class: 'muted', id: 'providers-summary' }, 'Loading…');
  const filter = input('filter', ctx.params.get('q') || '', { type: 'search', autocomplete: 'off', spellcheck: 'false' });
  const list = h('div', { class: 'providers-list', id: 'providers-list' });
  const reload = h('button', { type: 'button', id: 'providers-reload' }, 'Reload');
  const previous = h('button', { type: 'button', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', disabled: true }, 'Next page');
  const where = h('span', { class: 'muted' });
  main.append(
    h('div', { class: 'spread' }, h('h1', {}, 'Providers'), reload),
    h('p', {}, 'Every provider instance the routes run. A provider is down while its breaker is open or its last probe '
      + 'failed. Test probes it now (its type\'s lightweight call, never a message); open a provider to see its '
      + 'breaker transitions, quotas and parameters, or to send a test message.'),
    h('form', { class: 'filters', role: 'search' },
      field('Find a provider', filter, 'By id or type'), summary),
    list,
    h('div', { class: 'pager' }, previous, where, next));

  let providers = [];
  let page = 0;

  function matching() {
    const text = filter.value.trim().toLowerCase();
    return providers.filter((p) => !text || p.id.toLowerCase().includes(text)
      || String(p.type).toLowerCase().includes(text));
  }

  function show() {
    const shown = matching();
    const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const rows = shown.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    replace(list, table([
      { label: 'Provider', cell: (p) => h('a', { href: `#/providers/${encodeURIComponent(p.id)}` }, p.id) },
      { label: 'Type', cell: (p) => p.type || '—' },
      { label: 'Breaker', cell: (p) => h('span', { 'data-breaker': p.id }, stateBadge(p.breaker), lastTransition(p.breaker)) },
      { label: 'Quota', cell: (p) => quotaSummary(p.quotas) },
      { label: 'Last success', cell: (p) => (p.last_success ? time(p.last_success.at) : h('span', { class: 'muted' }, 'none')) },
      { label: 'Last error', cell: (p) => errorSummary(p.last_error) },
      { label: 'Last probe', cell: (p) => h('span', { 'data-fact': 'last-probe' }, probeSummary(p.last_probe)) },
      { label: 'Test', cell: (p) => testButton(p, (fresh) => Object.assign(p, fresh)) },
    ], rows, {
      empty: providers.length ? 'No provider matches: clear the filter to see them all.'
        : 'No provider route is running. Add a provider route file (a templatedRoute of a provider template, see '
          + 'the README\'s "Adding an upstream SMTP provider") and it is listed here.',
      caption: 'Providers',
      rowProps: (p) => ({ 'data-provider': p.id }),
    }));
    const states = providers.reduce((acc, p) => {
      const s = (p.breaker && p.breaker.state) || 'no calls yet';
      acc[s] = (acc[s] || 0) + 1;
      return acc;
    }, {});
    const breakdown = Object.entries(states).map(([s, n]) => `${n} ${s}`).join(', ');
    summary.textContent = `${providers.length} provider(s)${breakdown ? ` (breakers: ${breakdown})` : ''}`
      + (shown.length !== providers.length ? `; ${shown.length} match` : '');
    where.textContent = `Page ${page + 1} of ${pages}`;
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  async function load() {
    try {
      const answer = await api.get('/api/v1/providers');
      if (!ctx.isCurrent()) return;
      providers = answer.providers || [];
      show();
    } catch (e) {
      replace(list, h('p', { class: 'error' }, e.describe ? e.describe() : String(e)));
    }
  }

  filter.addEventListener('input', () => { page = 0; show(); });
  filter.form.addEventListener('submit', (event) => event.preventDefault());
  previous.addEventListener('click', () => { page -= 1; show(); });
  next.addEventListener('click', () => { page += 1; show(); });
  reload.addEventListener('click', () => busy(reload, load));
  await load();
  return undefined;
}

/** A probe-only Test button with its outcome beneath it; onFresh gets the provider as it is after the test. */
function testButton(provider, onFresh) {
  const id = provider.id;
  const result = h('div', { class: 'provider-test-result', role: 'status', 'data-provider-result': id });
  const button = h('button', { type: 'button', 'data-test-provider': id, 'aria-label': `Test provider ${id}` }, 'Test');
  button.addEventListener('click', () => busy(button, async () => {
    const answer = await runTest(id, null, result);
    if (!answer) return;
    try {
      const fresh = await api.get(`/api/v1/providers/${encodeURIComponent(id)}`);
      onFresh(fresh);
      const row = button.closest('tr');
      const probe = row && row.querySelector('[data-fact=last-probe]');
      if (probe) replace(probe, probeSummary(fresh.last_probe));
      const breaker = row && row.querySelector('[data-breaker]');
      if (breaker) replace(breaker, stateBadge(fresh.breaker), lastTransition(fresh.breaker));
    } catch (e) { /* the outcome is shown; the row stays as it was */ }
  }));
  return h('div', { class: 'provider-test-cell' }, button, result);
}

/** Runs a test (a probe, and a message when to is given); shows and announces its outcome. */
async function runTest(id, to, result) {
  replace(result, h('span', { class: 'muted', 'aria-busy': 'true' }, `Testing ${id}…`));
  let answer;
  try {
    answer = await api.post(`/api/v1/providers/${encodeURIComponent(id)}/test`, to ? { to } : {});
  } catch (e) {
    if (e.status === 502 && e.body && e.body.provider) {
      answer = e.body;
    } else {
      replace(result, h('p', { class: 'error' }, e.describe ? e.describe() : String(e)));
      notifyError(e);
      return null;
    }
  }
  showResult(result, answer);
  const ok = !(answer.probe && answer.probe.status === 'failed') && !(answer.send && answer.send.outcome !== 'sent');
  notify(`Tested provider ${id}: ${describeTest(answer)}`, ok ? 'ok' : 'warn');
  return answer;
}

function lastTransition(breaker) {
  const all = (breaker && breaker.transitions) || [];
  if (!all.length) return null;
  const t = all[all.length - 1];
  return h('div', { class: 'muted provider-since' }, `${t.from} → ${t.to} `, time(t.at));
}

function quotaSummary(quotas) {
  if (!quotas || !quotas.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'provider-quotas' }, quotas.map((q) => h('li', {}, `${number(q.used)} of ${number(q.quota)} per ${q.window}`)));
}

function errorSummary(error) {
  if (!error) return h('span', { class: 'muted' }, 'none');
  const reply = error.reply && error.reply.length > 80 ? `${error.reply.slice(0, 80)}…` : error.reply;
  return h('span', {}, time(error.at), h('div', { class: 'mono provider-reply' }, `${error.code ? `${error.code} ` : ''}${reply || ''}`));
}

function probeSummary(probe) {
  if (!probe) return h('span', { class: 'muted' }, 'not probed yet');
  return h('span', {}, badge(probe.status), ' ', time(probe.at));
}

/** A provider's card: its facts (redrawn after a test) and its test form with the test's outcome. */
function providerCard(provider) {
  const id = provider.id;
  const facts = h('div', { class: 'provider-facts' });
  const result = h('div', { class: 'provider-test-result', role: 'status', 'aria-live': 'polite',
    'data-provider-result': id });
  const to = input('to', '', { type: 'email', autocomplete: 'off', placeholder: 'none: probe only', spellcheck: 'false' });
  const button = h('button', { type: 'submit', class: 'primary', 'data-test-provider': id }, 'Test');
  const form = h('form', { class: 'filters provider-test', 'aria-label': `Test provider ${id}` },
    field('Send a test message to (optional)', to), h('div', { class: 'field' }, button));
  const card = h('article', { class: 'card provider-card', id: `provider-${id}`, 'data-provider': id,
    'aria-labelledby': `provider-${id}-title` },
    h('div', { class: 'spread' },
      h('h2', { id: `provider-${id}-title` }, 'Health'),
      h('span', { 'data-breaker': id }, breakerBadge(provider.breaker))),
    facts, h('h3', {}, 'Test'), form, result);
  showFacts(facts, provider);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const recipient = to.value.trim();
    if (recipient && !await confirmDialog(`Send one test message to ${recipient} through provider ${id} (not through `
      + 'a chain)? It is delivered like any message.', 'Send test message')) {
      return;
    }
    await busy(button, async () => {
      const answer = await runTest(id, recipient || null, result);
      if (!answer) return;
      try {
        const fresh = await api.get(`/api/v1/providers/${encodeURIComponent(id)}`);
        showFacts(facts, fresh);
        replace(card.querySelector('[data-breaker]'), breakerBadge(fresh.breaker));
      } catch (e) { /* the test's outcome is shown; the facts stay as they were */ }
    });
  });
  return card;
}

/** The breaker's state as a badge (HALF_OPEN as "HALF OPEN"); "no calls yet" before its first call. */
function stateBadge(breaker) {
  const state = breaker && breaker.state;
  return state ? badge(state.replace('_', ' ')) : badge('no calls yet');
}

function breakerBadge(breaker) {
  return h('span', { class: 'provider-breaker' }, 'Breaker ', stateBadge(breaker));
}

function outcomeFacts(outcome) {
  if (!outcome) return h('span', { class: 'muted' }, 'none since the relay started');
  return h('span', {}, time(outcome.at), outcome.code ? ` · ${outcome.code}` : '',
    outcome.reply ? h('span', { class: 'mono provider-reply' }, ` ${outcome.reply}`) : null);
}

function probeFacts(probe) {
  if (!probe) return h('span', { class: 'muted' }, 'not probed yet: press Test');
  return h('span', {}, badge(probe.status), ' ', time(probe.at), ` · ${number(probe.duration_millis)} ms`,
    probe.failure ? ` · ${probe.failure}` : '',
    probe.reply ? h('span', { class: 'mono provider-reply' }, ` ${probe.reply}`) : null);
}

function showFacts(box, provider) {
  const d = provider.deliveries || {};
  const transitions = ((provider.breaker && provider.breaker.transitions) || []).slice().reverse();
  const quotas = provider.quotas || [];
  const parameters = Object.entries(provider.parameters || {}).sort(([a], [b]) => a.localeCompare(b));
  replace(box,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Type'), h('dd', {}, provider.type || '—'),
      h('dt', {}, 'Route'), h('dd', { class: 'mono' }, provider.route_id || '—'),
      h('dt', {}, 'Deliveries'), h('dd', {}, `${number(d.sent)} sent, ${number(d.deferred)} deferred, `
        + `${number(d.failed)} failed (since this instance started)`),
      h('dt', {}, 'Last success'), h('dd', { 'data-fact': 'last-success' }, outcomeFacts(provider.last_success)),
      h('dt', {}, 'Last error'), h('dd', { 'data-fact': 'last-error' }, outcomeFacts(provider.last_error)),
      h('dt', {}, 'Last probe'), h('dd', { 'data-fact': 'last-probe' }, probeFacts(provider.last_probe))),
    h('h3', {}, 'Quotas'),
    table([
      { label: 'Window', cell: (q) => `per ${q.window}` },
      { label: 'Used', cell: (q) => number(q.used), class: 'num' },
      { label: 'Quota', cell: (q) => number(q.quota), class: 'num' },
      { label: 'Use', cell: (q) => quotaMeter(q) },
      { label: 'Window ends', cell: (q) => time(q.window_ends_at) },
    ], quotas, { empty: 'No quotas: this provider is not limited (quotaPerSecond, quotaPerMinute… of its route).' }),
    h('h3', {}, 'Breaker transitions'),
    transitions.length
      ? h('ol', { class: 'timeline provider-transitions', 'aria-label': 'Breaker transitions, newest first' },
        transitions.map((t) => h('li', {}, time(t.at), ' ', badge(t.from.replace('_', ' ')), ' → ', badge(t.to.replace('_', ' ')))))
      : h('p', { class: 'empty' }, 'No transitions since the relay started: the breaker has not opened.'),
    h('details', { class: 'provider-parameters' }, h('summary', {}, `Parameters (${parameters.length})`),
      table([
        { label: 'Name', cell: ([name]) => name, class: 'mono' },
        { label: 'Value', cell: ([, value]) => String(value), class: 'mono' },
      ], parameters, { empty: 'No parameters.' })));
}

function quotaMeter(q) {
  if (!q.quota) return '—';
  return h('meter', { min: 0, max: q.quota, value: Math.min(q.used, q.quota), high: q.quota * 0.8, optimum: 0,
    'aria-label': `${q.used} of ${q.quota} used` }, `${q.used} of ${q.quota}`);
}

function describeTest(answer) {
  const parts = [];
  if (answer.probe) {
    parts.push(`probe ${answer.probe.status}${answer.probe.reply ? ` (${answer.probe.reply})` : ''}`);
  }
  if (answer.send) {
    parts.push(`test message ${answer.send.outcome}${answer.send.reply ? ` (${answer.send.reply})` : ''}`);
  }
  return parts.join('; ') || 'no answer';
}

function showResult(box, answer) {
  const probe = answer.probe;
  const send = answer.send;
  replace(box,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Probe'),
      h('dd', { 'data-result': 'probe' }, probe ? [badge(probe.status), ` in ${number(probe.duration_millis)} ms`,
        probe.failure ? ` · ${probe.failure}` : '', probe.code ? ` · ${probe.code}` : '',
        probe.reply ? h('div', { class: 'mono' }, probe.reply) : null, h('div', { class: 'muted' }, time(probe.at))]
        : 'none'),
      send ? [h('dt', {}, 'Test message'),
        h('dd', { 'data-result': 'send' }, badge(send.outcome), send.failure ? ` · ${send.failure}` : '',
          send.code ? ` · ${send.code}` : '', send.message_id ? h('div', { class: 'mono' }, `test message ${send.message_id}`) : null,
          send.reply ? h('div', { class: 'mono' }, send.reply) : null)] : null));
}
