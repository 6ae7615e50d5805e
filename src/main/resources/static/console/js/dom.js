// Small DOM helpers. Text always goes in as text (textContent), never as HTML: nothing the relay
// stores (subjects, addresses, provider replies, MIME) can become markup on these pages.

let idCounter = 0;

/** A unique id for label/input pairs. */
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * h('button', {type: 'button', onclick: f, class: 'primary'}, 'Save'): an element with properties
 * (on* are listeners, class/for/aria-* /data-* are attributes) and children (strings become text
 * nodes; null, undefined and false are skipped; arrays are flattened).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value' || name === 'checked' || name === 'selected' || name === 'disabled') {
      element[name] = value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces an element's children. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  timeZoneName: 'short',
});
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** A time from the API (ISO 8601, UTC) in the viewer's zone, in a <time> element; '—' when absent. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, String(iso));
  return h('time', { datetime: date.toISOString(), title: date.toISOString() }, dateTime.format(date));
}

/** An RFC 3339 time as the value of a datetime-local input, in the viewer's zone; '' when absent. */
export function localInputValue(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** A datetime-local input's value (the viewer's zone) as RFC 3339 in UTC; '' when empty. */
export function isoFromLocalInput(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatClock(date) {
  return timeOnly.format(date);
}

/** "3 s", "4 min", "2 h 5 min", "3 d" */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.round(Number(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export function number(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString();
}

/** A status as a badge: SENT, FAILED, open, degraded... */
export function badge(status) {
  const text = status === null || status === undefined ? '—' : String(status);
  return h('span', { class: `badge badge-${text.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` }, text);
}

/**
 * A table: columns are {label, cell: row => node|string, class?}; rows an array. An empty list
 * shows empty (a sentence saying what to do next) instead of an empty table.
 */
export function table(columns, rows, { empty = 'Nothing here yet.', caption, rowProps } = {}) {
  if (!rows || rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, rows.map((row) => h('tr', rowProps ? rowProps(row) : {},
        columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.cell(row))))))));
}

/** A labelled form field: field('Status', h('select', ...)). */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    hint ? h('small', { class: 'hint' }, hint) : null);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o === '' ? 'any' : o];
      return h('option', { value: v, selected: v === value }, label);
    }));
}

export function input(name, value, props = {}) {
  return h('input', { name, value: value || '', ...props });
}

/** A section with a heading. */
export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), children);
}

/** Shows a short message in the live region: what an action changed, or why it failed. */
export function notify(message, kind = 'ok') {
  const box = document.getElementById('notices');
  const note = h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : null },
    h('span', { class: 'notice-text' }, message),
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => note.remove() }, '×'));
  box.append(note);
  if (kind !== 'error') setTimeout(() => note.remove(), 8000);
  return note;
}

/** An error of an action, with the API's named fields. */
export function notifyError(error) {
  return notify(error && error.describe ? error.describe() : String(error), 'error');
}

/**
 * Asks before a change: a modal dialog naming what will change. Resolves true when confirmed.
 */
export function confirmDialog(question, actionLabel = 'Confirm', { danger = false, extra } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-text' });
    const done = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    append(dialog, [
      h('p', { id: 'confirm-text' }, question),
      extra || null,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', 'data-confirm': '', onclick: () => done(true) }, actionLabel),
        h('button', { type: 'button', onclick: () => done(false) }, 'Cancel')),
    ]);
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('[data-confirm]').focus();
  });
}

/**
 * A cursor pager under a list: load(cursor) resolves to {rows, next}; render(rows) makes the list.
 * Keeps the cursors seen so that "Previous" goes back.
 */
export function cursorPager(container, load, render) {
  const stack = [null];
  const body = h('div', { class: 'pager-body' });
  const previous = h('button', { type: 'button', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', disabled: true }, 'Next page');
  const where = h('span', { class: 'muted' });
  let nextCursor = null;
  async function show() {
    const cursor = stack[stack.length - 1];
    previous.disabled = true;
    next.disabled = true;
    try {
      const page = await load(cursor);
      nextCursor = page.next || null;
      replace(body, render(page.rows));
      where.textContent = `Page ${stack.length}`;
      previous.disabled = stack.length === 1;
      next.disabled = !nextCursor;
    } catch (e) {
      replace(body, h('p', { class: 'error' }, e.describe ? e.describe() : String(e)));
    }
  }
  previous.addEventListener('click', () => { if (stack.length > 1) { stack.pop(); show(); } });
  next.addEventListener('click', () => { if (nextCursor) { stack.push(nextCursor); show(); } });
  replace(container, body, h('div', { class: 'pager' }, previous, where, next));
  show();
  return { reload: () => { stack.length = 1; return show(); }, refresh: show };
}

/** A busy button while an action runs; the button comes back whatever the outcome. */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
