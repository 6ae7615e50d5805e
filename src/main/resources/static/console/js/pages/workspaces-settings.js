// A workspace's settings: what it is (state, where it is declared, times), the main settings in a
// form that PATCHes only what was changed (the API names each bad field, shown by it), and for an
// admin, disable / enable. Settings declared in application.yml are shown, not edited.
import * as api from '../api.js';
import { h, replace, field, input, select, section, time, notify, notifyError, confirmDialog, busy } from '../dom.js';
import { EMAIL_TYPES, workspacePath, showFieldErrors, clearFieldErrors, shortDuration } from './workspaces-util.js';

export async function render(body, ctx) {
  let workspace = ctx.workspace;
  const factsBox = h('div');
  const formBox = h('div');
  body.append(factsBox, formBox);

  function show() {
    replace(factsBox, facts(workspace, ctx, (changed) => { workspace = changed; ctx.showState(changed); show(); }));
    replace(formBox, settingsForm(workspace, (changed) => { workspace = changed; show(); }));
  }
  show();
  return undefined;
}

function facts(ws, ctx, changed) {
  const s = ws.settings;
  const list = h('dl', { class: 'facts ws-facts' },
    h('dt', {}, 'State'), h('dd', {}, ws.enabled ? 'enabled: its keys, SMTP users and mail work'
      : 'disabled: its keys are refused (401), its SMTP users too (535), its accepted mail waits'),
    h('dt', {}, 'Declared in'), h('dd', {}, ws.source === 'config'
      ? 'application.yml (relay.workspaces): its settings, keys and users of the file are changed there'
      : 'the API (this console)'),
    h('dt', {}, 'Created'), h('dd', {}, time(ws.created_at)),
    h('dt', {}, 'Changed'), h('dd', {}, time(ws.updated_at)),
    h('dt', {}, 'Webhook signing key'), h('dd', {}, s.webhook.key && s.webhook.key.set ? 'set' : 'not set'),
    h('dt', {}, 'Inbound keys'), h('dd', {}, `Mailgun ${s.inbound.mailgun_signing_key.set ? 'set' : 'not set'},`
      + ` SendGrid ${s.inbound.sendgrid_public_key.set ? 'set' : 'not set'}`),
    h('dt', {}, 'DKIM'), h('dd', {}, s.dkim.length ? s.dkim.map((k) => `${k.selector}._domainkey.${k.domain}`).join(', ')
      : 'no key: mail is not signed here'),
    h('dt', {}, 'Priorities'), h('dd', {}, `${Object.entries(s.priorities.types).map(([t, p]) => `${t} ${p}`).join(', ')};`
      + ` at most ${s.priorities.max}`),
    h('dt', {}, 'More limits'), h('dd', {}, `${s.rate_limit.limits.length} window(s),`
      + ` ${Object.keys(s.rate_limit.custom_user_limits || {}).length} user(s) with their own`));
  const actions = h('div', { class: 'actions' });
  if (ctx.session.admin) {
    const toggle = h('button', { type: 'button', class: ws.enabled ? 'danger' : 'primary', id: 'workspace-toggle' },
      ws.enabled ? 'Disable workspace' : 'Enable workspace');
    toggle.addEventListener('click', async () => {
      const ok = await confirmDialog(ws.enabled
        ? `Disable workspace ${ws.id}? Its keys and SMTP users are refused and its queue is paused until it is enabled.`
        : `Enable workspace ${ws.id}? Its keys and SMTP users work again and its queue resumes.`,
      ws.enabled ? 'Disable' : 'Enable', { danger: ws.enabled });
      if (!ok) return;
      await busy(toggle, async () => {
        try {
          const after = await api.post(workspacePath(ws.id, ws.enabled ? 'disable' : 'enable'));
          notify(after.enabled ? `Enabled workspace ${ws.id}: its queue resumes.`
            : `Disabled workspace ${ws.id}: its keys are refused and its mail waits.`);
          changed(after);
        } catch (e) {
          notifyError(e);
        }
      });
    });
    actions.append(toggle);
  }
  return section('Workspace', list, actions);
}

const lines = (text) => text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
const text = (n) => (n === null || n === undefined ? '' : String(n));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function typeChecks(name, chosen, label) {
  const boxes = EMAIL_TYPES.map((t) => h('input', { type: 'checkbox', name, value: t, checked: chosen.includes(t) }));
  const group = h('fieldset', { class: 'ws-checks' }, h('legend', {}, label), EMAIL_TYPES.map((t, i) => {
    boxes[i].id = `${name}-${t}`;
    return h('label', { for: boxes[i].id }, boxes[i], ` ${t}`);
  }));
  return { group, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

function wrap(name, ...children) {
  return h('div', { 'data-field': name, class: 'ws-field' }, children);
}

function settingsForm(ws, saved) {
  const s = ws.settings;
  const fromConfig = ws.source === 'config';
  const defaultType = select('default_type', EMAIL_TYPES, s.default_type);
  const domains = h('textarea', { name: 'sender_domains', rows: 3, class: 'ws-short', spellcheck: 'false' },
    s.sender_domains.join('\n'));
  const webhookUrl = input('webhook_url', s.webhook.url || '', { type: 'url', spellcheck: 'false', placeholder: 'https://hooks.example/relay' });
  const webhookKey = input('webhook_key', '', { type: 'password', autocomplete: 'new-password', spellcheck: 'false',
    placeholder: s.webhook.key.set ? 'set: leave empty to keep it' : 'not set' });
  const windowInput = input('rate_window', shortDuration(s.rate_limit.window), { spellcheck: 'false', placeholder: '1m' });
  const messages = input('rate_messages', text(s.rate_limit.messages), { type: 'number', min: 0, placeholder: 'no limit' });
  const perUser = input('rate_per_user', text(s.rate_limit.messages_per_user), { type: 'number', min: 0, placeholder: 'no limit' });
  const mode = select('rate_mode', [['hard', 'hard: refuse (429)'], ['soft', 'soft: accept and hold']], s.rate_limit.mode || 'hard');
  const opens = typeChecks('tracking_opens', s.tracking.opens, 'Track opens of');
  const clicks = typeChecks('tracking_clicks', s.tracking.clicks, 'Track clicks in');
  const unsubscribe = typeChecks('list_unsubscribe', s.list_unsubscribe, 'List-Unsubscribe header on');
  const rawMime = input('retention_raw_mime', shortDuration(s.retention.raw_mime), { spellcheck: 'false', placeholder: 'the relay\'s default' });
  const kept = input('retention_messages', shortDuration(s.retention.messages), { spellcheck: 'false', placeholder: 'the relay\'s default' });
  const override = h('input', { type: 'checkbox', name: 'provider_override', checked: s.provider_override, id: 'provider-override' });
  const variables = h('textarea', { name: 'variables', rows: 3, class: 'ws-short', spellcheck: 'false',
    placeholder: 'SHOP=Tea & Co' }, Object.entries(s.variables || {}).map(([k, v]) => `${k}=${v}`).join('\n'));
  const summary = h('p', { class: 'error', role: 'alert', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save settings');

  const fields = h('fieldset', { class: 'ws-settings', disabled: fromConfig },
    h('legend', { class: 'sr-only' }, `Settings of ${ws.id}`),
    h('div', { class: 'ws-grid' },
      h('div', {},
        h('h3', {}, 'Mail'),
        wrap('default_type', field('Default email type', defaultType, 'for messages that name none')),
        wrap('sender_domains', field('Sender domains', domains, 'one per line; none: any From domain')),
        wrap('provider_override', h('label', { for: override.id, class: 'ws-check' }, override,
          ' Messages may name their provider')),
        wrap('variables', field('Variables', variables, 'NAME=value, one per line ({{NAME}} in mail)'))),
      h('div', {},
        h('h3', {}, 'Webhook'),
        wrap('webhook.url', field('Webhook URL', webhookUrl, 'events are posted here; empty: none')),
        wrap('webhook.key', field('New signing key', webhookKey, s.webhook.key.set ? 'a key is set; type one to replace it' : 'none yet')),
        h('h3', {}, 'Rate limit'),
        wrap('rate_limit.window', field('Window', windowInput, 'e.g. 30s, 1m, 24h')),
        wrap('rate_limit.messages', field('Messages per window', messages)),
        wrap('rate_limit.messages_per_user', field('Messages per user per window', perUser)),
        wrap('rate_limit.mode', field('When reached', mode))),
      h('div', {},
        h('h3', {}, 'Tracking and unsubscribe'),
        wrap('tracking.opens', opens.group),
        wrap('tracking.clicks', clicks.group),
        wrap('list_unsubscribe', unsubscribe.group),
        h('h3', {}, 'Retention'),
        wrap('retention.raw_mime', field('Keep the raw MIME for', rawMime, 'e.g. 7d; empty: the relay\'s')),
        wrap('retention.messages', field('Keep messages for', kept, 'e.g. 30d; empty: the relay\'s')))));
  const form = h('form', { id: 'workspace-settings', novalidate: true }, fields, summary,
    fromConfig ? null : h('div', { class: 'actions' }, save));

  function numberOrNull(control) {
    const raw = String(control.value).trim();
    return raw === '' ? null : Number(raw);
  }

  function changes() {
    const patch = {};
    if (defaultType.value !== s.default_type) patch.default_type = defaultType.value;
    const domainList = lines(domains.value);
    if (!same(domainList, s.sender_domains)) patch.sender_domains = domainList;
    const webhook = {};
    const url = webhookUrl.value.trim() || null;
    if (url !== (s.webhook.url || null)) webhook.url = url;
    if (webhookKey.value) webhook.key = webhookKey.value;
    if (Object.keys(webhook).length) patch.webhook = webhook;
    const rate = {};
    const win = windowInput.value.trim() || null;
    if (win !== (shortDuration(s.rate_limit.window) || null)) rate.window = win;
    if (numberOrNull(messages) !== (s.rate_limit.messages ?? null)) rate.messages = numberOrNull(messages);
    if (numberOrNull(perUser) !== (s.rate_limit.messages_per_user ?? null)) rate.messages_per_user = numberOrNull(perUser);
    if (mode.value !== (s.rate_limit.mode || 'hard')) rate.mode = mode.value;
    if (Object.keys(rate).length) patch.rate_limit = rate;
    const tracking = {};
    if (!same(opens.value(), s.tracking.opens)) tracking.opens = opens.value();
    if (!same(clicks.value(), s.tracking.clicks)) tracking.clicks = clicks.value();
    if (Object.keys(tracking).length) patch.tracking = tracking;
    if (!same(unsubscribe.value(), s.list_unsubscribe)) patch.list_unsubscribe = unsubscribe.value();
    if (override.checked !== s.provider_override) patch.provider_override = override.checked;
    const retention = {};
    const raw = rawMime.value.trim() || null;
    const msgs = kept.value.trim() || null;
    if (raw !== (shortDuration(s.retention.raw_mime) || null)) retention.raw_mime = raw;
    if (msgs !== (shortDuration(s.retention.messages) || null)) retention.messages = msgs;
    if (Object.keys(retention).length) patch.retention = retention;
    const vars = {};
    for (const line of variables.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const at = line.indexOf('=');
      if (at < 0) vars[line] = '';
      else vars[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    if (!same(vars, s.variables || {})) patch.variables = vars;
    return patch;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    summary.hidden = true;
    const patch = changes();
    const names = Object.keys(patch);
    if (names.length === 0) {
      notify('Nothing to save: no setting was changed.', 'warn');
      return;
    }
    const ok = await confirmDialog(`Save ${names.length} changed setting${names.length === 1 ? '' : 's'} of workspace`
      + ` ${ws.id} (${names.join(', ')})? They apply to its next message.`, 'Save settings');
    if (!ok) return;
    await busy(save, async () => {
      try {
        const after = await api.patch(workspacePath(ws.id), patch);
        notify(`Saved workspace ${ws.id}: changed ${names.join(', ')}.`);
        saved(after);
      } catch (e) {
        showFieldErrors(form, e, summary);
      }
    });
  });

  return section('Settings',
    fromConfig ? h('p', { class: 'muted' }, `Workspace ${ws.id} is declared in application.yml: its settings are`
      + ` changed there (relay.workspaces.${ws.id}), and the relay applies them at its next start.`) : null,
    form);
}
