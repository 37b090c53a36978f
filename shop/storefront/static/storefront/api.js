// The REST API and the shopper's session: JWT in sessionStorage, refreshed before it expires.

const ACCESS = "tickshop.access";
const REFRESH = "tickshop.refresh";
const RENEW_AT = "tickshop.renewAt"; // local clock, ms: when to refresh the access token
const EARLY_MS = 60_000; // refresh a minute before the access token expires

// The page's configuration, in a data attribute: the Content-Security-Policy allows no inline script.
export const config = JSON.parse(document.body.dataset.config);
// The server's clock less the browser's (ms), measured when the page came: windows the server
// times (a cancel window, a standing order's expiry) are counted by its clock, not the browser's.
export const skewMs = config.serverNow ? Date.parse(config.serverNow) - Date.now() : 0;

/**
 * The uid and token of an e-mailed link (/activate/{uid}/{token}, /password-reset/{uid}/{token}),
 * the address bar then left at ``path``: the token opens the account until it is used, so it is
 * sent as no Referer and kept in no history entry, bookmark or shared screen. Empty without them.
 */
export function takeLink(path) {
  const link = { uid: config.uid ?? "", token: config.token ?? "" };
  history.replaceState(null, "", path);
  return link;
}

const listeners = new Set();
const tokenListeners = new Set(); // told of each new access token (log in, refresh)
let timer = null;
let refreshing = null;

const FIELD_NAMES = {
  email: "Email",
  password: "Password",
  re_password: "Password",
  new_password: "New password",
  re_new_password: "New password",
  quantity: "Quantity",
  goods: "Goods",
  currency: "Currency",
  max_order_sum: "Order sum",
  price: "Price",
  direction: "Direction",
  limit_price: "Limit price",
  expires_at: "Expires",
  uid: "Link",
  token: "Link",
};

/** A human sentence from an error body: {"detail", "code"} or DRF's field errors. */
export function errorText(data, fallback = "Something went wrong; please try again.") {
  if (!data || typeof data !== "object") return fallback;
  if (typeof data.detail === "string") return data.detail;
  const parts = [];
  for (const [field, value] of Object.entries(data)) {
    const messages = [].concat(value).flatMap((m) => (typeof m === "object" && m ? Object.values(m).flat() : [m]));
    const label = FIELD_NAMES[field];
    parts.push(label ? `${label}: ${messages.join(" ")}` : messages.join(" "));
  }
  return parts.join(" ") || fallback;
}

function payload(token) {
  try {
    const json = atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json);
  } catch {
    return {};
  }
}

function store(access, refresh) {
  // Time the refresh by the token's own lifetime on the local clock: the browser's clock may be off.
  const { exp = 0, iat = 0 } = payload(access);
  const lifetimeMs = Math.max(0, (exp - iat) * 1000);
  sessionStorage.setItem(ACCESS, access);
  if (refresh) sessionStorage.setItem(REFRESH, refresh);
  sessionStorage.setItem(RENEW_AT, String(Date.now() + Math.max(lifetimeMs - EARLY_MS, lifetimeMs / 2)));
  schedule();
  for (const listener of tokenListeners) listener(access);
}

function schedule() {
  clearTimeout(timer);
  if (!sessionStorage.getItem(REFRESH)) return;
  const wait = Math.max(0, Number(sessionStorage.getItem(RENEW_AT) || 0) - Date.now());
  timer = setTimeout(() => refresh().catch(() => {}), wait);
}

function clear() {
  clearTimeout(timer);
  for (const key of [ACCESS, REFRESH, RENEW_AT]) sessionStorage.removeItem(key);
}

function notify(reason) {
  for (const listener of listeners) listener(isLoggedIn(), reason);
}

export const isLoggedIn = () => Boolean(sessionStorage.getItem(REFRESH));
export const onAuthChange = (listener) => listeners.add(listener);
/** ``listener(access)`` after each new access token: logging in, and every refresh. */
export const onToken = (listener) => tokenListeners.add(listener);

/** The access token to hand to the live feed (null when logged out), refreshed first when it is due. */
export async function accessToken() {
  if (!isLoggedIn()) return null;
  if (Date.now() >= Number(sessionStorage.getItem(RENEW_AT) || 0)) await refresh().catch(() => {});
  return sessionStorage.getItem(ACCESS);
}

async function request(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "omit" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: { detail: "The shop cannot be reached; check your connection." } };
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  return { ok: response.ok, status: response.status, data };
}

/** A new access token from the refresh token (rotated: the new refresh token replaces the old). */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const token = sessionStorage.getItem(REFRESH);
      if (!token) throw new Error("not logged in");
      const answer = await request("/auth/jwt/refresh/", { method: "POST", body: { refresh: token } });
      if (answer.ok) {
        store(answer.data.access, answer.data.refresh);
        return;
      }
      if (answer.status === 400 || answer.status === 401) {
        clear();
        notify("Your session has ended; please log in again.");
      } else {
        // The server is unreachable or failing: try again shortly, the session may still be good.
        sessionStorage.setItem(RENEW_AT, String(Date.now() + 10_000));
        schedule();
      }
      throw new Error(errorText(answer.data));
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Call the API; authenticated calls carry the access token and survive one expiry. */
export async function api(path, { method = "GET", body, auth = true, headers = {} } = {}) {
  const send = () => {
    const all = { ...headers };
    const access = sessionStorage.getItem(ACCESS);
    if (auth && access) all.Authorization = `Bearer ${access}`;
    return request(path, { method, body, headers: all });
  };
  if (auth && isLoggedIn() && Date.now() >= Number(sessionStorage.getItem(RENEW_AT) || 0)) {
    // A sleeping tab misses its timer: refresh now rather than send a dead token.
    await refresh().catch(() => {});
  }
  const answer = await send();
  if (answer.status === 401 && auth && isLoggedIn()) {
    try {
      await refresh();
    } catch {
      return answer;
    }
    return send();
  }
  return answer;
}

export async function logIn(email, password) {
  const answer = await request("/auth/jwt/create/", { method: "POST", body: { email, password } });
  if (answer.ok) {
    store(answer.data.access, answer.data.refresh);
    notify(null);
  }
  return answer;
}

/** Log out: the server blacklists the refresh token (it can never be used again), then the tab forgets both. */
export async function logOut(reason = null) {
  clearTimeout(timer);
  if (refreshing) await refreshing.catch(() => {}); // a rotation in flight: revoke the token it brings
  const token = sessionStorage.getItem(REFRESH);
  // Refused or unreachable, the tab still forgets the tokens; the refresh token then dies when it expires.
  if (token) await request("/auth/jwt/blacklist/", { method: "POST", body: { refresh: token } });
  clear();
  notify(reason);
}

export const register = (email, password) =>
  request("/auth/users/", { method: "POST", body: { email, password, re_password: password } });

export const me = () => api("/auth/users/me/");

/** A key for Idempotency-Key: random, and unique per attempt. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

schedule();
