// Shared pieces of the Workspaces page: the tabs of a workspace, a secret shown once with its copy
// button, the API's field errors next to the fields they name, and durations as the API reads them.
import { h, notify } from '../dom.js';

export const EMAIL_TYPES = ['transactional', 'marketing', 'notification', 'system'];

export const TABS = [
  ['settings', 'Settings'],
  ['api-keys', 'API keys'],
  ['smtp-users', 'SMTP users'],
  ['suppression', 'Suppression list'],
  ['webhooks', 'Failed webhooks'],
  ['audit', 'Audit log'],
];

export function workspacePath(id, ...rest) {
  return `/api/v1/workspaces/${encodeURIComponent(id)}${rest.map((p) => `/${encodeURIComponent(p)}`).join('')}`;
}

export function tabLink(id, tab) {
  return `#/workspaces/${encodeURIComponent(id)}${tab === 'settings' ? '' : `/${tab}`}`;
}

/** The workspace's sub-navigation, the current tab marked. */
export function tabs(id, current) {
  return h('nav', { class: 'ws-tabs', 'aria-label': `Workspace ${id}` },
    h('ul', {}, TABS.map(([tab, label]) => h('li', {},
      h('a', { href: tabLink(id, tab), 'aria-current': tab === current ? 'page' : null, 'data-tab': tab }, label)))));
}

/** Copies text to the clipboard (with the older selection way when the Clipboard API is not there). */
async function copy(text, control) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) {
    // fall back to the selection below
  }
  control.focus();
  control.select();
  try {
    return document.execCommand('copy');
  } catch (e) {
    return false;
  }
}

/**
 * A secret the relay shows this once (an API key, a generated password): a read-only field with a
 * copy button, and a button that removes it. Nothing keeps it: leaving the page forgets it.
 */
export function secretBox(title, secret, explanation) {
  const value = h('input', { type: 'text', readonly: true, value: secret, class: 'mono secret-value',
    spellcheck: 'false', autocomplete: 'off', 'aria-label': title });
  const copyButton = h('button', { type: 'button', class: 'primary', 'data-copy': '' }, 'Copy');
  const box = h('div', { class: 'secret-box', role: 'region', 'aria-label': title, 'data-secret': '' },
    h('h3', {}, title),
    h('p', {}, explanation),
    h('div', { class: 'secret-row' }, value, copyButton),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => box.remove() }, 'I have stored it: hide it')));
  copyButton.addEventListener('click', async () => {
    const ok = await copy(secret, value);
    if (ok) {
      copyButton.textContent = 'Copied';
      notify('Copied to the clipboard.');
    } else {
      value.focus();
      value.select();
      notify('The browser did not let the page copy: the text is selected, press Ctrl+C (⌘C).', 'warn');
    }
  });
  value.addEventListener('focus', () => value.select());
  return box;
}

/** Removes the field errors a form shows. */
export function clearFieldErrors(form) {
  for (const node of form.querySelectorAll('.field-error')) node.remove();
  for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
}

/**
 * Shows each field error of an ApiError next to the control whose data-field names it (the longest
 * data-field the error's field starts with: "rate_limit.window" goes to rate_limit.window, else to
 * rate_limit); the rest in the form's summary. Returns how many errors were shown by a field.
 */
export function showFieldErrors(form, error, summary) {
  clearFieldErrors(form);
  const holders = [...form.querySelectorAll('[data-field]')];
  const left = [];
  let placed = 0;
  for (const e of (error && error.errors) || []) {
    const name = String(e.field || '');
    const holder = holders
      .filter((el) => name === el.dataset.field || name.startsWith(`${el.dataset.field}.`)
        || name.startsWith(`${el.dataset.field}[`))
      .sort((a, b) => b.dataset.field.length - a.dataset.field.length)[0];
    if (holder) {
      holder.append(h('p', { class: 'error field-error', role: 'alert' }, name === holder.dataset.field
        ? e.message : `${name}: ${e.message}`));
      const control = holder.querySelector('input, select, textarea');
      if (control) control.setAttribute('aria-invalid', 'true');
      placed += 1;
    } else {
      left.push(`${name}: ${e.message}`);
    }
  }
  if (summary) {
    summary.hidden = false;
    summary.textContent = [error && error.message ? error.message : String(error), ...left].join('\n');
  }
  return placed;
}

/** "PT1M" / "PT168H" / "P7D" (as Jackson writes a Duration) → "1m" / "7d"; null → "". */
export function shortDuration(iso) {
  if (iso === null || iso === undefined || iso === '') return '';
  const text = String(iso);
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!match) return text;
  const seconds = (Number(match[1] || 0) * 86400) + (Number(match[2] || 0) * 3600)
    + (Number(match[3] || 0) * 60) + Number(match[4] || 0);
  if (seconds === 0) return '0s';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** The error of a page part that could not be loaded, in place of it. */
export function failure(error) {
  return h('p', { class: 'error', role: 'alert' }, error && error.describe ? error.describe() : String(error));
}
