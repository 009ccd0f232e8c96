// The public API as a dashboard or the app calls it. The sign-in (an access token) comes
// in the page's URL fragment, which browsers never send to the server.
const signIn = new URLSearchParams(location.hash.slice(1));
export const accessToken = signIn.get("token") || "";

export class Problem extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "unknown";
    this.body = body || {};
    this.retryAfter = retryAfter;
  }
}

// One API call: {status, body, etag}. A 304 comes back as {status: 304, body: null}.
export async function call(method, path, { body, etag, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (etag) headers["If-None-Match"] = etag;
  const response = await fetch(path.startsWith("/") ? path : `/api/v1/${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    signal,
  });
  if (response.status === 304) return { status: 304, body: null, etag };
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Problem(response.status, data, response.headers.get("Retry-After"));
  return { status: response.status, body: data, etag: response.headers.get("ETag") };
}

export const get = (path, options) => call("GET", path, options).then((r) => r.body);
export const post = (path, body) => call("POST", path, { body }).then((r) => r.body);
export const patch = (path, body) => call("PATCH", path, { body }).then((r) => r.body);

// An image or page of this service, loaded from the page's own origin (links carry
// PUBLIC_BASE_URL, which may name another host in front of this one).
export function local(url) {
  const parsed = new URL(url, location.href);
  return parsed.pathname + parsed.search;
}

// `<tag class=...>text</tag>`: every text goes in as textContent, never as markup.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function requireSignIn(where) {
  if (accessToken) return true;
  where.textContent =
    "Not signed in: open this page with the address that `make run` (python -m api demo) printed; " +
    "the sign-in is in the part after #.";
  where.hidden = false;
  return false;
}
