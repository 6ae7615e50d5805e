// Overview: is the relay operational, degraded or down (and why); what happened to mail in the last
// hour and day; the queue now; throughput per minute (last hour) and per hour (last day), in total
// and per provider. Everything comes from /actuator/health and GET /api/v1/stats, read again every
// REFRESH_MS; each chart's numbers are also in a table (in a <details>) for screen readers.
import * as api from '../api.js';
import { h, replace, field, input, number, duration, time, badge, formatClock } from '../dom.js';

export const title = 'Overview';

const REFRESH_MS = 10000;
/** A message due longer than this and not sent makes the relay "degraded". */
const LATE_SECONDS = 300;
const OUTCOMES = [
  { key: 'sent', label: 'Sent', stroke: '#1a7f37' },
  { key: 'deferred', label: 'Deferred', stroke: '#9a6700' },
  { key: 'failed', label: 'Failed', stroke: '#c0362c' },
  { key: 'bounced', label: 'Bounced', stroke: '#8250df' },
];
const COUNTERS = [['accepted', 'Accepted'], ...OUTCOMES.map((o) => [o.key, o.label])];

export async function render(main, ctx) {
  const admin = ctx.session.admin;
  const workspace = admin ? (ctx.params.get('workspace') || '') : ctx.session.workspace;
  const charts = [];
  const providerCharts = new Map();
  let timer = null;
  let stopped = false;
  let loading = false;

  const statusBox = h('div', { class: 'overview-status', id: 'overview-status' });
  const updated = h('p', { class: 'muted overview-updated', id: 'overview-updated' }, 'Loading…');
  const hourStats = h('dl', { class: 'stats', id: 'stats-hour' });
  const dayStats = h('dl', { class: 'stats', id: 'stats-day' });
  const queueStats = h('dl', { class: 'stats', id: 'stats-queue' });
  const minuteChart = chartBlock('throughput-minute', 'Messages per minute, last hour', 'chart');
  const hourChart = chartBlock('throughput-hour', 'Messages per hour, last 24 hours', 'chart');
  const providerGrid = h('div', { class: 'grid overview-providers', id: 'overview-providers' });

  main.append(
    h('div', { class: 'spread' },
      h('h1', {}, workspace ? `Overview of workspace ${workspace}` : 'Overview of every workspace'),
      admin ? scopeForm(ctx, workspace) : null),
    h('section', { class: 'card', 'aria-labelledby': 'overview-status-title' },
      h('h2', { id: 'overview-status-title' }, 'Status'), statusBox, updated),
    h('section', { class: 'card', 'aria-labelledby': 'overview-counts-title' },
      h('h2', { id: 'overview-counts-title' }, 'Mail'),
      h('h3', {}, 'Last hour'), hourStats,
      h('h3', {}, 'Last 24 hours'), dayStats,
      h('p', { class: 'muted' }, 'Accepted: messages taken in the window. Sent, deferred and bounced: per recipient. '
        + 'Failed: the bounces whose message ended failed.')),
    h('section', { class: 'card', 'aria-labelledby': 'overview-queue-title' },
      h('h2', { id: 'overview-queue-title' }, 'Queue now'), queueStats),
    h('section', { class: 'card', 'aria-labelledby': 'overview-throughput-title' },
      h('h2', { id: 'overview-throughput-title' }, 'Throughput'),
      minuteChart.element, hourChart.element),
    h('section', { class: 'card', 'aria-labelledby': 'overview-providers-title' },
      h('h2', { id: 'overview-providers-title' }, 'Per provider, last 24 hours'), providerGrid));

  const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => {
    charts.forEach((c) => c.fit());
    providerCharts.forEach((entry) => entry.chart.fit());
  }) : null;
  const minutePlot = lineChart(minuteChart, 220, false);
  const hourPlot = lineChart(hourChart, 220, false);
  charts.push(minutePlot, hourPlot);
  if (resize) charts.forEach((c) => resize.observe(c.block.plot));

  async function refresh() {
    if (loading || stopped) return;
    loading = true;
    try {
      const scope = workspace ? { workspace } : {};
      const [health, minutes, hours] = await Promise.all([
        readHealth(),
        api.get(`/api/v1/stats${api.query({ ...scope, bucket: 'minute' })}`),
        api.get(`/api/v1/stats${api.query({ ...scope, bucket: 'hour', group_by: 'provider' })}`),
      ]);
      if (stopped || !ctx.isCurrent()) return;
      showStatus(statusBox, health, hours.queue, admin, workspace);
      showCounters(hourStats, 'hour', minutes);
      showCounters(dayStats, 'day', hours);
      showQueue(queueStats, hours.queue);

      const perMinute = fill(sumBuckets(minutes.series), minutes.since, minutes.until, 60);
      minutePlot.show(perMinute);
      showTable(minuteChart, perMinute, 'Minute', (start) => clockTime(start), 'No mail in the last hour.');
      const perHour = fill(sumBuckets(hours.series), hours.since, hours.until, 3600);
      hourPlot.show(perHour);
      showTable(hourChart, perHour, 'Hour', (start) => time(new Date(start * 1000).toISOString()),
        'No mail in the last 24 hours.');
      showProviders(hours);
      updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
    } catch (e) {
      if (stopped) return;
      updated.textContent = `Could not refresh: ${e.describe ? e.describe() : String(e)} (trying again in ${REFRESH_MS / 1000} s)`;
      updated.classList.add('error');
      return;
    } finally {
      loading = false;
    }
    updated.classList.remove('error');
  }

  /** One small card per provider its series names (a send before any provider is "none"). */
  function showProviders(hours) {
    const byProvider = new Map();
    for (const b of hours.series) {
      const id = b.provider || 'none';
      if (!byProvider.has(id)) byProvider.set(id, []);
      byProvider.get(id).push(b);
    }
    const ids = [...byProvider.keys()].sort();
    // Providers no longer in the window lose their card.
    for (const [id, entry] of providerCharts) {
      if (!byProvider.has(id)) {
        entry.chart.destroy();
        entry.card.remove();
        providerCharts.delete(id);
      }
    }
    if (ids.length === 0) {
      replace(providerGrid, h('p', { class: 'empty' },
        'No provider delivered or refused mail in the last 24 hours. Send a message and it shows here.'));
      return;
    }
    const empty = providerGrid.querySelector('p.empty');
    if (empty) empty.remove();
    for (const id of ids) {
      let entry = providerCharts.get(id);
      if (!entry) {
        const block = chartBlock(`provider-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`, null, 'chart-small');
        const card = h('article', { class: 'overview-provider', 'data-provider': id },
          h('h3', {}, id === 'none' ? 'No provider (failed before one)' : `Provider ${id}`), block.element);
        entry = { card, block, chart: lineChart(block, 120, true) };
        providerCharts.set(id, entry);
        providerGrid.append(card);
        if (resize) resize.observe(block.plot);
      }
      const points = fill(sumBuckets(byProvider.get(id)), hours.since, hours.until, 3600);
      entry.chart.show(points);
      showTable(entry.block, points, 'Hour', (start) => time(new Date(start * 1000).toISOString()),
        'No mail through this provider in the last 24 hours.', `Provider ${id}, per hour`);
    }
    for (const id of ids) providerGrid.append(providerCharts.get(id).card);
  }

  await refresh();
  timer = setInterval(refresh, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
    if (resize) resize.disconnect();
    charts.forEach((c) => c.destroy());
    providerCharts.forEach((entry) => entry.chart.destroy());
  };
}

/** The admin's choice of scope: every workspace, or one. */
function scopeForm(ctx, workspace) {
  const name = input('workspace', workspace, { list: 'overview-workspaces', placeholder: 'every workspace',
    autocomplete: 'off', spellcheck: 'false' });
  const list = h('datalist', { id: 'overview-workspaces' });
  api.get('/api/v1/workspaces?limit=1000').then((page) => {
    replace(list, (page.workspaces || []).map((w) => h('option', { value: w.id })));
  }).catch(() => { /* the list only helps typing */ });
  const form = h('form', { class: 'filters overview-scope', role: 'search' },
    field('Workspace', name, 'Empty: every workspace'), list,
    h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Show')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate('overview', [], { workspace: name.value.trim() });
  });
  return form;
}

/** /actuator/health answers 503 with its body when DOWN: that body is the answer too. */
async function readHealth() {
  try {
    return await api.get('/actuator/health');
  } catch (e) {
    if (e.body && e.body.status) return e.body;
    return { status: 'UNKNOWN', error: e.describe ? e.describe() : String(e) };
  }
}

/**
 * Operational, degraded or down, with the reasons: the health status and (admin) its components,
 * the providers its "providers" component names down, and mail overdue in the queue.
 */
export function assess(health, queue, admin) {
  const reasons = [];
  let level = 'operational';
  const worse = (to) => {
    if (to === 'down' || (to === 'degraded' && level === 'operational')) level = to;
  };
  if (health.error) {
    worse('degraded');
    reasons.push(`The health check did not answer: ${health.error}`);
  } else if (health.status === 'DOWN') {
    worse('down');
    reasons.push('The relay reports itself DOWN.');
  } else if (health.status !== 'UP') {
    worse('degraded');
    reasons.push(`The relay reports itself ${health.status}.`);
  }
  const components = health.components || {};
  for (const [name, component] of Object.entries(components)) {
    if (name === 'providers') continue;
    if (component.status && component.status !== 'UP') {
      reasons.push(`Component ${name} is ${component.status}${describeDetails(component.details)}.`);
    }
  }
  const providers = components.providers;
  if (providers) {
    const down = (providers.details && providers.details.down) || [];
    const detail = (providers.details && providers.details.providers) || {};
    if (providers.status === 'DOWN') {
      worse('down');
      reasons.push('Every provider is down: no mail leaves.');
    } else if (down.length) {
      worse('degraded');
    }
    for (const id of down) {
      const d = detail[id] || {};
      const why = [d.breaker && d.breaker !== 'CLOSED' ? `breaker ${d.breaker}` : null, d.probe ? `probe ${d.probe}` : null]
        .filter(Boolean).join(', ');
      reasons.push(`Provider ${id} is down${why ? ` (${why})` : ''}.`);
    }
  }
  if (queue && queue.oldest_due_age_seconds !== null && queue.oldest_due_age_seconds > LATE_SECONDS) {
    worse('degraded');
    reasons.push(`Mail has been due for ${duration(queue.oldest_due_age_seconds)} and is not sent yet `
      + `(${number(queue.due)} due now).`);
  }
  if (queue && queue.paused > 0) {
    reasons.push(`${number(queue.paused)} message(s) held by a pause (see Queue).`);
  }
  if (reasons.length === 0) {
    reasons.push(admin ? 'Every component is up and no mail is overdue.' : 'The relay is up and no mail of this workspace is overdue.');
  }
  return { level, reasons };
}

function describeDetails(details) {
  if (!details) return '';
  const text = details.error || details.reason || details.message;
  return text ? `: ${text}` : '';
}

function showStatus(box, health, queue, admin, workspace) {
  const { level, reasons } = assess(health, queue, admin);
  const label = { operational: 'Operational', degraded: 'Degraded', down: 'Down' }[level];
  replace(box,
    h('p', { class: 'overview-level' }, badge(label)),
    h('ul', { class: 'overview-reasons' }, reasons.map((r) => h('li', {}, r))),
    admin ? null : h('p', { class: 'muted' },
      `The relay's components are shown to the admin only; the queue figures are workspace ${workspace}'s.`));
  box.dataset.level = level;
}

function showCounters(list, window, stats) {
  const totals = sumAll(stats.series);
  totals.accepted = Object.values(stats.messages_by_status || {}).reduce((a, b) => a + b, 0);
  replace(list, COUNTERS.map(([key, label]) => h('div', { class: 'stat', 'data-stat': `${window}-${key}` },
    h('dt', {}, label), h('dd', {}, number(totals[key])))));
}

function showQueue(list, queue) {
  const items = [
    ['queued', 'Queued', number(queue.queued)],
    ['deferred', 'Deferred (waiting to retry)', number(queue.deferred)],
    ['sending', 'Sending', number(queue.sending)],
    ['due', 'Due now', number(queue.due)],
    ['paused', 'Held by a pause', number(queue.paused)],
    ['oldest', 'Oldest due message waiting', queue.oldest_due_at ? duration(queue.oldest_due_age_seconds) : 'none'],
  ];
  replace(list, items.map(([key, label, value]) => h('div', { class: 'stat', 'data-stat': `queue-${key}` },
    h('dt', {}, label), h('dd', {}, value),
    key === 'oldest' && queue.oldest_due_at ? h('dd', { class: 'muted overview-since' }, 'due since ', time(queue.oldest_due_at)) : null)));
}

/** Sums the outcome counts of every row. */
function sumAll(series) {
  const totals = {};
  OUTCOMES.forEach((o) => { totals[o.key] = 0; });
  for (const b of series || []) OUTCOMES.forEach((o) => { totals[o.key] += b[o.key] || 0; });
  return totals;
}

/** Rows (one per bucket and group) summed per bucket start: Map(epoch seconds → totals). */
function sumBuckets(series) {
  const byStart = new Map();
  for (const b of series || []) {
    const start = Math.floor(new Date(b.start).getTime() / 1000);
    if (!byStart.has(start)) byStart.set(start, Object.fromEntries(OUTCOMES.map((o) => [o.key, 0])));
    const totals = byStart.get(start);
    OUTCOMES.forEach((o) => { totals[o.key] += b[o.key] || 0; });
  }
  return byStart;
}

/** Every bucket of the window, in order, the empty ones as zeros: [{start, sent, ...}]. */
function fill(byStart, since, until, size) {
  const first = Math.floor(new Date(since).getTime() / 1000 / size) * size;
  const last = Math.floor((new Date(until).getTime() / 1000 - 1) / size) * size;
  const points = [];
  for (let start = first; start <= last; start += size) {
    const totals = byStart.get(start) || {};
    points.push({ start, ...Object.fromEntries(OUTCOMES.map((o) => [o.key, totals[o.key] || 0])) });
  }
  return points;
}

function clockTime(start) {
  const date = new Date(start * 1000);
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, formatClock(date));
}

/** A chart's place: a heading (or none), the plot, and a <details> with the numbers. */
function chartBlock(id, heading, plotClass) {
  const plot = h('div', { class: plotClass, id: `${id}-chart`, role: 'img',
    'aria-label': `${heading || id}: chart of sent, deferred, failed and bounced; the numbers are in the table below` });
  const tableBox = h('div', { class: 'chart-data', id: `${id}-data` });
  const details = h('details', { class: 'chart-details' }, h('summary', {}, 'The numbers'), tableBox);
  const element = h('div', { class: 'overview-chart', id },
    heading ? h('h3', {}, heading) : null, plot, details);
  return { element, plot, tableBox, heading };
}

/** The chart's numbers, one row per bucket with mail, newest first (the empty ones are left out). */
function showTable(block, points, label, when, empty, caption) {
  const rows = points.filter((p) => OUTCOMES.some((o) => p[o.key] > 0)).reverse();
  replace(block.tableBox,
    rows.length ? h('p', { class: 'muted' }, `Newest first; ${label.toLowerCase()}s without mail are left out.`) : null,
    tableOf(rows, label, when, empty, caption || block.heading));
}

function tableOf(rows, label, when, empty, caption) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'chart-table' },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, label),
        OUTCOMES.map((o) => h('th', { scope: 'col', class: 'num' }, o.label)))),
      h('tbody', {}, rows.map((p) => h('tr', { 'data-start': new Date(p.start * 1000).toISOString() },
        h('th', { scope: 'row', 'data-label': label }, when(p.start)),
        OUTCOMES.map((o) => h('td', { class: 'num', 'data-label': o.label, 'data-outcome': o.key }, number(p[o.key]))))))));
}

/** A uPlot line chart of the four outcomes over time, sized to its box. */
function lineChart(block, height, small) {
  const target = block.plot;
  let plot = null;
  const width = () => Math.max(160, Math.floor(target.clientWidth || target.parentElement.clientWidth || 600));
  let drawnWidth = 0;
  return {
    block,
    show(points) {
      const data = [points.map((p) => p.start), ...OUTCOMES.map((o) => points.map((p) => p[o.key]))];
      if (!window.uPlot) {
        target.textContent = 'The chart could not be drawn; the numbers are below.';
        return;
      }
      if (plot) {
        plot.setData(data);
        return;
      }
      drawnWidth = width();
      plot = new window.uPlot({
        width: drawnWidth,
        height,
        legend: { show: !small },
        cursor: { show: !small, points: { show: false } },
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        axes: [
          { stroke: '#5b6470', grid: { stroke: '#e7eaee' }, ticks: { show: false }, size: small ? 24 : 40,
            space: small ? 70 : 50,
            // small charts: the hour only ("14:00"), in the viewer's zone
            values: small ? (u, splits) => splits.map((v) => formatClock(new Date(v * 1000))) : undefined },
          { stroke: '#5b6470', grid: { stroke: '#e7eaee' }, ticks: { show: false }, size: small ? 35 : 50,
            values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        ],
        series: [{}, ...OUTCOMES.map((o) => ({ label: o.label, stroke: o.stroke, width: small ? 1.5 : 2,
          // a dot on each bucket with mail, none on the empty ones
          points: { show: false, size: small ? 4 : 6, filter: (u, seriesIndex) => {
            const idxs = u.data[seriesIndex].map((v, i) => (v > 0 ? i : -1)).filter((i) => i >= 0);
            return idxs.length ? idxs : null;
          } } }))],
      }, data, target);
    },
    fit() {
      if (!plot || width() === drawnWidth) return;
      drawnWidth = width();
      plot.setSize({ width: drawnWidth, height });
    },
    destroy() {
      if (plot) plot.destroy();
      plot = null;
    },
  };
}
