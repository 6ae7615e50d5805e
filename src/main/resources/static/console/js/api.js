// The console's only way to the relay: the JSON API under /api/v1 (and /actuator/health),
// authenticated by the session cookie. Every change carries the session's CSRF token.

let csrfToken = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    const message = body && body.message ? body.message : `HTTP ${status}`;
    super(message);
    this.status = status;
    this.error = body ? body.error : null;
    this.errors = body && Array.isArray(body.errors) ? body.errors : [];
    this.body = body;
  }

  /** The message with each named field, as the API gives them. */
  describe() {
    const fields = this.errors.map((e) => `${e.field}: ${e.message}`);
    return [this.message, ...fields].join('\n');
  }
}

export function setSession(session) {
  csrfToken = session ? session.csrf_token : null;
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

async function read(response) {
  const type = response.headers.get('Content-Type') || '';
  if (response.status === 204) return null;
  if (type.includes('json')) return response.json();
  return response.text();
}

/**
 * One API call. path is relative to the origin ("/api/v1/messages?status=SENT"); body, when given,
 * is sent as JSON. Resolves to the parsed answer; rejects with ApiError (a 401 also signs out).
 */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: options.accept || 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let payload;
  if (body !== undefined) {
    if (options.contentType) {
      headers['Content-Type'] = options.contentType;
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  const answer = await read(response);
  if (!response.ok && !(options.accept207 && response.status === 207)) {
    if (response.status === 401 && !options.noSignOut) onSignedOut();
    throw new ApiError(response.status, typeof answer === 'object' ? answer : { message: String(answer || '') });
  }
  return answer;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body === undefined ? {} : body, options);
export const put = (path, body, options) => api('PUT', path, body, options);
export const patch = (path, body, options) => api('PATCH', path, body, options);
export const del = (path, body, options) => api('DELETE', path, body, options);

/** A query string of the given parameters, leaving out empty ones. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(name, v));
    else search.append(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export async function session() {
  try {
    const current = await api('GET', '/console/session', undefined, { noSignOut: true });
    setSession(current);
    return current;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signIn(key) {
  const current = await api('POST', '/console/session', { key }, { noSignOut: true });
  setSession(current);
  return current;
}

export async function signOut() {
  try {
    await api('DELETE', '/console/session', undefined, { noSignOut: true });
  } finally {
    setSession(null);
  }
}
