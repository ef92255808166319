// api.js — the HTTP API client of the page. Cookie auth: the session cookie
// (HttpOnly, set by POST /api/sessions) rides along with same-origin requests.

/** ApiError is a failed call: the API's error code and message, or "network". */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 when the server was not reached.
   * @param {string} code the API's error.code ("unauthorized", ...) or "network".
   * @param {string} message the API's error.message, fit to show a person.
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/**
 * api calls the notifyd HTTP API and returns the decoded JSON body (null for
 * 204). It throws ApiError for every non-2xx answer and for network failures.
 *
 * @param {string} method
 * @param {string} path e.g. "/api/me"
 * @param {any} [body] sent as JSON when given.
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    // A proxy error page, or an empty body: fall through with no data.
  }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, (e && e.code) || 'internal', (e && e.message) || `Request failed (HTTP ${res.status}).`);
  }
  return data;
}
