// Routes (admin key): the route files and how their last reload went, every running route with its
// exchanges, the provider templates, "Reload now", and — with relay.routes.upload-enabled — an
// editor that checks a version of a file (POST /api/v1/routes/files/{file}/validate) before
// saving it (PUT /api/v1/routes/{file}). A refused version keeps its text in the editor, with the
// reason and the line (and column) it names.
import * as api from '../api.js';
import {
  h, replace, table, field, select, input, section, time, number, badge, notify, notifyError, confirmDialog,
  cursorPager, busy,
} from '../dom.js';

export const title = 'Routes';

const REFRESH_MS = 10000;
const ROUTES_PER_PAGE = 25;
const NEW_FILE = '(new)';
const YAML = { contentType: 'application/yaml' };
const STARTER = `# A route file: routes in Camel's YAML DSL (README "Changing routing").
- route:
    id: chain-example
    from:
      uri: direct:chain-example
      steps:
        - to: direct:provider-outbox
`;

/** {line, column} named in a check's reason ("file, line 6: ..." or a YAML parser's "line 3, column 4"). */
export function placeOf(message) {
  const text = String(message || '');
  const named = text.match(/\.camel\.yaml, line (\d+)/);
  const line = named ? Number(named[1]) : null;
  let column = null;
  let parserLine = null;
  for (const m of text.matchAll(/line (\d+), column (\d+)/g)) {
    if (line === null || Number(m[1]) === line) {
      parserLine = Number(m[1]);
      column = Number(m[2]);
    }
  }
  return { line: line !== null ? line : parserLine, column };
}

/** A file's route ids: inline when few, folded behind their count when many. */
function routeIds(file) {
  if (!file.routes.length) return h('span', { class: 'muted' }, 'none');
  const ids = h('span', { class: 'mono' }, file.routes.join(', '));
  if (file.routes.length <= 3) return ids;
  return h('details', {}, h('summary', {}, `${file.routes.length} routes`), ids);
}

function fileState(file) {
  if (file.last_error) return badge('error');
  if (!file.last_reload_at) return badge('pending');
  return badge('loaded');
}

export async function render(main, ctx) {
  if (!ctx.session.admin) {
    main.append(h('h1', {}, 'Routes'),
      h('p', { class: 'empty' }, 'Routing is managed with the admin key: sign in with it to see and change the routes.'));
    return undefined;
  }

  let overview = await api.get('/api/v1/routes');
  let templates = [];
  try {
    templates = (await api.get('/api/v1/routes/templates')).templates || [];
  } catch (e) {
    templates = [];
  }

  const reloadButton = h('button', { type: 'button', class: 'primary', id: 'routes-reload' }, 'Reload now');
  const updated = h('span', { class: 'muted', id: 'routes-updated' });
  const problems = h('div', { id: 'routes-problems' });
  const filesBox = h('div', { id: 'route-files' });
  const routesBox = h('div', { id: 'route-list' });
  const templatesBox = h('div', { id: 'template-files' });
  const editorBox = h('div', { id: 'route-editor-box' });

  // The routes list: filtered here, shown a page at a time (the API gives them all at once).
  const sourceFilter = select('source', [['', 'any source'], ['java', 'java (the relay itself)']], '');
  const idFilter = input('route-id', '', { type: 'search', placeholder: 'part of an id', autocomplete: 'off' });
  const filtered = () => {
    const wanted = idFilter.value.trim().toLowerCase();
    return overview.routes.filter((r) => (!sourceFilter.value || r.source === sourceFilter.value)
      && (!wanted || r.id.toLowerCase().includes(wanted)));
  };
  const routeColumns = [
    { label: 'Id', cell: (r) => h('span', { class: 'mono' }, r.id) },
    { label: 'Source', cell: (r) => (r.source === 'java' ? h('span', { class: 'muted' }, 'java') : r.source) },
    { label: 'State', cell: (r) => badge(r.state) },
    { label: 'Exchanges', class: 'num', cell: (r) => number(r.exchanges_total) },
    { label: 'Failed', class: 'num', cell: (r) => number(r.exchanges_failed) },
    { label: 'In flight', class: 'num', cell: (r) => number(r.inflight) },
  ];
  const pager = cursorPager(routesBox, async (cursor) => {
    const rows = filtered();
    const start = cursor ? Number(cursor) : 0;
    const next = start + ROUTES_PER_PAGE < rows.length ? String(start + ROUTES_PER_PAGE) : null;
    return { rows: rows.slice(start, start + ROUTES_PER_PAGE), next, total: rows.length };
  }, (rows) => [
    h('p', { class: 'muted', id: 'route-count' }, `${filtered().length} of ${overview.routes.length} routes`),
    table(routeColumns, rows, {
      empty: 'No route matches: clear the filters to see every route.',
      rowProps: (r) => ({ dataset: { route: r.id } }),
    })]);
  sourceFilter.addEventListener('change', () => pager.reload());
  idFilter.addEventListener('input', () => pager.reload());

  const editor = overview.upload_enabled ? makeEditor() : null;

  function drawSourceOptions() {
    const keep = sourceFilter.value;
    const sources = [['', 'any source'], ['java', 'java (the relay itself)'],
      ...overview.files.map((f) => [f.file, f.file])];
    replace(sourceFilter, sources.map(([v, label]) => h('option', { value: v, selected: v === keep }, label)));
  }

  function drawProblems() {
    const failing = overview.files.filter((f) => f.last_error);
    if (failing.length === 0) {
      replace(problems);
      return;
    }
    replace(problems, h('section', { class: 'card routes-alert', role: 'alert' },
      h('h2', {}, failing.length === 1 ? 'A route file did not load' : `${failing.length} route files did not load`),
      h('p', {}, 'Their previous routes keep running and delivering. Fix the file (on disk, or here when editing is on) and it is taken up again.'),
      h('ul', {}, failing.map((f) => {
        const place = placeOf(f.last_error);
        return h('li', {}, h('strong', {}, f.file),
          place.line ? ` (line ${place.line}${place.column ? `, column ${place.column}` : ''})` : '',
          ': ', h('span', { class: 'error' }, f.last_error));
      }))));
  }

  function drawFiles() {
    const columns = [
      { label: 'File', class: 'file', cell: (f) => h('span', { class: 'mono' }, f.file) },
      { label: 'State', cell: fileState },
      { label: 'Routes', cell: routeIds },
      { label: 'Last reload', cell: (f) => time(f.last_reload_at) },
      {
        label: 'Last error',
        cell: (f) => {
          if (!f.last_error) return h('span', { class: 'muted' }, '—');
          const place = placeOf(f.last_error);
          return h('div', {},
            place.line ? h('strong', {}, `line ${place.line}${place.column ? `, column ${place.column}` : ''}`) : null,
            h('div', { class: 'error' }, f.last_error));
        },
      },
    ];
    if (editor) {
      columns.push({
        label: 'Edit',
        cell: (f) => h('button', { type: 'button', dataset: { edit: f.file }, 'aria-label': `Edit ${f.file}`, onclick: () => editor.open(f.file) }, 'Edit'),
      });
    }
    replace(filesBox, h('p', { class: 'muted' }, `${overview.files.length} route files of the routes directory, taken up while the relay runs.`),
      table(columns, overview.files, {
        empty: 'No route file is loaded: put *.camel.yaml files in the routes directory (relay.routes.directory), then reload.',
        rowProps: (f) => ({ dataset: { file: f.file } }),
      }));
  }

  function drawTemplates() {
    const files = overview.template_files || [];
    const fileColumns = [
      { label: 'File', cell: (f) => h('span', { class: 'mono' }, f.file) },
      { label: 'State', cell: fileState },
      { label: 'Template', cell: (f) => h('span', { class: 'mono' }, (f.routes || []).join(', ') || '—') },
      { label: 'Last load', cell: (f) => time(f.last_reload_at) },
      { label: 'Last error', cell: (f) => (f.last_error ? h('span', { class: 'error' }, f.last_error) : h('span', { class: 'muted' }, '—')) },
    ];
    const templateColumns = [
      { label: 'Template', cell: (t) => h('span', { class: 'mono' }, t.id) },
      { label: 'Source', cell: (t) => (t.file ? `${t.source}: ${t.file}` : t.source) },
      { label: 'Description', cell: (t) => t.title || t.description || '—' },
      {
        label: 'Parameters',
        cell: (t) => h('span', { class: 'mono' }, (t.parameters || []).map((p) => `${p.name}${p.required ? '*' : ''}${p.secret ? ' (secret)' : ''}`).join(', ') || '—'),
      },
    ];
    replace(templatesBox,
      h('h3', {}, 'Template files'),
      table(fileColumns, files, {
        empty: 'No template file: put *.kamelet.yaml files in the templates folder (relay.routes.templates-directory) to add provider templates of your own.',
      }),
      h('h3', {}, 'Provider templates'),
      table(templateColumns, templates, { empty: 'No provider template is known.' }),
      templates.length ? h('p', { class: 'muted' }, '* a required parameter') : null);
  }

  function drawAll() {
    drawSourceOptions();
    drawProblems();
    drawFiles();
    drawTemplates();
    if (editor) editor.refreshFiles();
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  async function refresh() {
    try {
      overview = await api.get('/api/v1/routes');
      if (!ctx.isCurrent()) return;
      drawAll();
      await pager.refresh();
    } catch (e) {
      updated.textContent = `Could not refresh: ${e.message}`;
    }
  }

  reloadButton.addEventListener('click', () => busy(reloadButton, async () => {
    const ok = await confirmDialog('Reload the route and template files now? Changed files replace their running routes; a file that does not validate keeps its previous routes.', 'Reload now');
    if (!ok) return;
    try {
      const before = new Map(overview.files.map((f) => [f.file, f.last_reload_at]));
      overview = await api.post('/api/v1/routes/reload');
      drawAll();
      await pager.refresh();
      const changed = overview.files.filter((f) => f.last_reload_at !== before.get(f.file));
      const failing = overview.files.filter((f) => f.last_error);
      notify(`Reloaded: ${changed.length} file(s) taken up again${changed.length ? ` (${changed.map((f) => f.file).join(', ')})` : ''}`
        + `; ${failing.length ? `${failing.length} with an error` : 'none with an error'}; ${overview.routes.length} routes running.`,
      failing.length ? 'warn' : 'ok');
    } catch (e) {
      notifyError(e);
    }
  }));

  main.append(
    h('div', { class: 'spread' }, h('h1', {}, 'Routes'), h('div', { class: 'row' }, updated, reloadButton)),
    problems,
    section('Route files', filesBox),
    editorBox,
    section('Running routes',
      h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() },
        field('Source', sourceFilter), field('Route id', idFilter)),
      routesBox),
    section('Provider templates', templatesBox));

  if (editor) {
    editorBox.append(editor.element);
  } else {
    editorBox.append(section('Editing route files',
      h('p', { id: 'routes-upload-off' }, 'Editing route files here is off. To turn it on, set ',
        h('code', {}, 'relay.routes.upload-enabled: true'), ' in application.yml (or the environment variable ',
        h('code', {}, 'RELAY_ROUTES_UPLOADENABLED=true'), ') and restart the relay. The admin key can then write route files, after the same checks a reload makes.'),
      h('p', { class: 'muted' }, 'Until then, change the files in the routes directory: they are taken up within relay.routes.reload-interval, or at once with "Reload now". See README "Changing routing".')));
  }
  drawAll();

  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);

  // The editor: one file at a time; its text stays whatever the checks say.
  function makeEditor() {
    const fileSelect = h('select', { name: 'file', id: 'route-editor-file' });
    const newName = input('new-file', '', { id: 'route-editor-name', placeholder: 'e.g. chain-acme.camel.yaml', autocomplete: 'off', spellcheck: 'false' });
    const newField = field('New file name', newName, 'a-z, 0-9 and -, ending in .camel.yaml');
    const text = h('textarea', { name: 'content', id: 'route-editor-text', spellcheck: 'false', autocomplete: 'off', wrap: 'off' });
    const caret = h('span', { class: 'muted', id: 'route-editor-caret', 'aria-live': 'off' });
    const result = h('div', { id: 'route-editor-result', class: 'editor-result', 'aria-live': 'polite' });
    const checkButton = h('button', { type: 'button', id: 'route-editor-check' }, 'Check');
    const saveButton = h('button', { type: 'button', class: 'primary', id: 'route-editor-save' }, 'Save');
    const revertButton = h('button', { type: 'button', id: 'route-editor-revert' }, 'Discard changes');
    let current = null; // {file, content, isNew}

    const fileName = () => (fileSelect.value === NEW_FILE ? newName.value.trim() : fileSelect.value);
    const dirty = () => current && text.value !== current.content;

    let shownNames = null;
    function refreshFiles() {
      const keep = fileSelect.value;
      const names = overview.files.map((f) => f.file);
      // Rebuilt only when the files changed, so that a refresh never closes the list being chosen from.
      const key = `${names.join('\n')}|${current ? current.file : ''}|${current && current.isNew}`;
      if (key === shownNames) return;
      shownNames = key;
      replace(fileSelect,
        h('option', { value: '', disabled: true, selected: current === null }, 'choose a file…'),
        names.map((n) => h('option', { value: n, selected: current !== null && n === keep }, n)),
        h('option', { value: NEW_FILE, selected: current !== null && current.isNew }, 'New file…'));
      if (current === null) fileSelect.selectedIndex = 0;
    }

    function showCaret() {
      const before = text.value.slice(0, text.selectionStart);
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      caret.textContent = `Line ${line}, column ${column}`;
    }

    function goToLine(line, column) {
      const lines = text.value.split('\n');
      const index = Math.min(Math.max(line, 1), lines.length) - 1;
      const start = lines.slice(0, index).reduce((n, l) => n + l.length + 1, 0);
      const from = column ? Math.min(start + column - 1, start + lines[index].length) : start;
      text.focus();
      text.setSelectionRange(from, start + lines[index].length);
      // Scroll the line into view: about one line height per line.
      const lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 18;
      text.scrollTop = Math.max(0, index * lineHeight - text.clientHeight / 3);
      showCaret();
    }

    function showRefusal(file, message, place, saving) {
      const lines = text.value.split('\n');
      const where = place.line ? `line ${place.line}${place.column ? `, column ${place.column}` : ''}` : null;
      replace(result, h('div', { class: 'card editor-refused', role: 'alert' },
        h('h3', {}, `${saving ? 'Not saved' : 'Does not validate'}: ${file}${where ? `, ${where}` : ''}`),
        h('p', { class: 'error', id: 'route-editor-error' }, message),
        place.line && place.line <= lines.length
          ? h('pre', { class: 'raw editor-line', id: 'route-editor-line' }, `${place.line} | ${lines[place.line - 1]}`) : null,
        h('p', { class: 'muted' }, saving
          ? 'Nothing was written and the running routes are unchanged. Your text is kept in the editor: fix it and save again.'
          : 'Nothing was written. Fix the text and check again.'),
        place.line ? h('button', { type: 'button', id: 'route-editor-goto', onclick: () => goToLine(place.line, place.column) }, `Show line ${place.line} in the editor`) : null));
      result.scrollIntoView({ block: 'nearest' });
    }

    function validName(file) {
      if (/^[a-z0-9][a-z0-9-]{0,63}\.camel\.yaml$/.test(file)) return true;
      replace(result, h('p', { class: 'error', role: 'alert' }, 'The file name must look like chain-acme.camel.yaml: a-z, 0-9 and -, ending in .camel.yaml.'));
      newName.focus();
      return false;
    }

    /** Checks the editor's text; resolves to the check's answer, or null when it could not run. */
    async function check(file) {
      try {
        return await api.post(`/api/v1/routes/files/${encodeURIComponent(file)}/validate`, text.value, YAML);
      } catch (e) {
        replace(result, h('p', { class: 'error', role: 'alert' }, e.describe()));
        return null;
      }
    }

    async function open(file) {
      if (dirty() && !(await confirmDialog(`Discard your unsaved changes to ${current.file}?`, 'Discard changes', { danger: true }))) {
        refreshFiles();
        fileSelect.value = current.isNew ? NEW_FILE : current.file;
        return;
      }
      replace(result);
      if (file === NEW_FILE) {
        current = { file: '', content: STARTER, isNew: true };
        text.value = STARTER;
        newField.hidden = false;
        fileSelect.value = NEW_FILE;
        newName.focus();
        return;
      }
      try {
        const loaded = await api.get(`/api/v1/routes/files/${encodeURIComponent(file)}`);
        current = { file, content: loaded.content, isNew: false };
        text.value = loaded.content;
        newField.hidden = true;
        refreshFiles();
        fileSelect.value = file;
        replace(result, h('p', { class: 'muted' }, `Editing ${file} as it is on disk now`,
          loaded.last_error ? ' (its last reload failed: see above)' : '', '. Check validates it without saving; Save validates it, then writes and loads it.'));
        text.focus();
        text.setSelectionRange(0, 0);
        text.scrollTop = 0;
        showCaret();
        element.scrollIntoView({ block: 'start' });
      } catch (e) {
        notifyError(e);
      }
    }

    fileSelect.addEventListener('change', () => open(fileSelect.value));
    ['keyup', 'click', 'select'].forEach((type) => text.addEventListener(type, showCaret));

    checkButton.addEventListener('click', () => busy(checkButton, async () => {
      const file = fileName();
      if (!current || !validName(file)) return;
      const answer = await check(file);
      if (!answer) return;
      if (answer.valid) {
        replace(result, h('p', { class: 'editor-valid', role: 'status' },
          `${file} validates: routes ${answer.routes.join(', ') || 'none'}. Nothing is saved yet.`));
      } else {
        showRefusal(file, answer.message, { line: answer.line, column: answer.column }, false);
      }
    }));

    saveButton.addEventListener('click', () => busy(saveButton, async () => {
      const file = fileName();
      if (!current || !validName(file)) return;
      const answer = await check(file);
      if (!answer) return;
      if (!answer.valid) {
        showRefusal(file, answer.message, { line: answer.line, column: answer.column }, true);
        return;
      }
      const exists = overview.files.some((f) => f.file === file);
      const running = (overview.files.find((f) => f.file === file) || { routes: [] }).routes;
      const ok = await confirmDialog(exists
        ? `Save ${file}? Its routes ${running.join(', ') || '(none)'} are replaced by ${answer.routes.join(', ')}: messages inside them get a short drain, the rest are retried through the new version.`
        : `Create ${file} with the routes ${answer.routes.join(', ')}? They start at once.`, exists ? 'Save and load' : 'Create and load');
      if (!ok) return;
      try {
        overview = await api.put(`/api/v1/routes/${encodeURIComponent(file)}`, text.value, YAML);
      } catch (e) {
        if (e.status === 422) {
          showRefusal(file, e.message, placeOf(e.message), true);
        } else {
          replace(result, h('p', { class: 'error', role: 'alert' }, e.describe()));
        }
        return;
      }
      current = { file, content: text.value, isNew: false };
      newField.hidden = true;
      drawAll();
      fileSelect.value = file;
      await pager.reload();
      const loaded = overview.files.find((f) => f.file === file);
      const message = loaded && loaded.last_error
        ? `Saved ${file}, but it did not load: ${loaded.last_error}`
        : `Saved ${file}: routes ${(loaded ? loaded.routes : answer.routes).join(', ')} loaded and running.`;
      replace(result, h('p', { class: loaded && loaded.last_error ? 'error' : 'editor-valid', role: 'status', id: 'route-editor-saved' }, message));
      result.scrollIntoView({ block: 'nearest' });
      notify(message, loaded && loaded.last_error ? 'warn' : 'ok');
    }));

    revertButton.addEventListener('click', async () => {
      if (!current || !dirty()) return;
      if (!(await confirmDialog(`Discard your changes and go back to ${current.isNew ? 'the example' : `${current.file} as it was loaded`}?`, 'Discard changes', { danger: true }))) return;
      text.value = current.content;
      replace(result, h('p', { class: 'muted' }, 'Changes discarded.'));
    });

    newField.hidden = true;
    const element = section('Edit a route file',
      h('p', { class: 'muted' }, 'Edits are checked as a reload would check them (allow-list, ids, templates, direct: endpoints, build) before anything is written; a refused version changes nothing.'),
      h('div', { class: 'row editor-files' }, field('File', fileSelect), newField),
      field('YAML', text, h('span', {}, caret)),
      h('div', { class: 'actions' }, checkButton, saveButton, revertButton),
      result);
    element.id = 'route-editor';
    refreshFiles();
    return { element, open, refreshFiles };
  }
}
