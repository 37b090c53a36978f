// The shopper's price alerts and standing orders (SPEC §15) as list items, and the calls that
// change them: the /watch/ page lists them all, a goods page the open ones of its goods.
// Amounts are the API's strings in the item's own currency; nothing is computed here.

import { api, errorText } from "./api.js";

export const DIRECTION_WORDS = { below: "at or below", above: "at or above" };
const when = (iso) => new Date(iso).toLocaleString();

function time(iso) {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.textContent = when(iso);
  return el;
}

function line(className, ...content) {
  const p = document.createElement("p");
  p.className = className;
  p.append(...content);
  return p;
}

/** The item's frame: a title (the goods' name linking to its page, or ``title`` without one),
 * its status, and the id its buttons are described by. */
function frame(kind, item, { withGoods, title }) {
  const li = document.createElement("li");
  li.className = "watch-item";
  li.dataset[kind === "alert" ? "alert" : "standingOrder"] = item.id;
  li.dataset.status = item.status;
  const head = document.createElement("div");
  head.className = "watch-head";
  const name = document.createElement(withGoods ? "h3" : "p");
  name.className = "watch-title";
  name.id = `${kind}-${item.id}-title`;
  if (withGoods) {
    const a = document.createElement("a");
    a.href = `/goods/${item.goods}/`;
    a.textContent = item.goods_name;
    name.append(a);
  } else {
    name.textContent = title;
  }
  const status = document.createElement("span");
  status.className = "status";
  status.dataset.status = item.status;
  status.textContent = item.status;
  head.append(name, status);
  li.setAttribute("aria-labelledby", name.id);
  li.append(head);
  return { li, titleId: name.id };
}

function button(text, titleId, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-describedby", titleId);
  b.addEventListener("click", () => onClick(b));
  return line("buttons watch-actions", b);
}

export const alertWhat = (alert) =>
  `Alert ${DIRECTION_WORDS[alert.direction] ?? alert.direction} ${alert.price} ${alert.currency}`;

export const standingWhat = (order) =>
  `Buy ${order.quantity} at or below ${order.limit_price} ${order.currency}`;

/** An alert as an <li>: what it waits for, and when and at what it fired. */
export function renderAlert(alert, { withGoods = true, onDelete = null } = {}) {
  const { li, titleId } = frame("alert", alert, { withGoods, title: alertWhat(alert) });
  if (withGoods) li.append(line("watch-what", alertWhat(alert)));
  if (alert.status === "triggered" && alert.triggered_at) {
    const value = alert.value === null || alert.value === undefined ? "" : ` at ${alert.value} ${alert.currency}`;
    li.append(line("watch-outcome", "Triggered ", time(alert.triggered_at), value));
  }
  li.append(line("watch-when small muted", "Set ", time(alert.created_at)));
  if (onDelete) li.append(button("Delete alert", titleId, (b) => onDelete(alert, li, b)));
  return li;
}

/** A standing order as an <li>: what it buys, until when, and how it ended (filled: its order). */
export function renderStandingOrder(order, { withGoods = true, onCancel = null } = {}) {
  const { li, titleId } = frame("standing", order, { withGoods, title: standingWhat(order) });
  if (withGoods) li.append(line("watch-what", standingWhat(order)));
  if (order.status === "open") {
    li.append(line("watch-outcome", "Open until ", time(order.expires_at)));
  } else if (order.status === "filled") {
    const parts = ["Filled"];
    if (order.closed_at) parts.push(" ", time(order.closed_at));
    if (order.order) {
      const a = document.createElement("a");
      a.href = `/#order-${order.order}`;
      a.textContent = `Order #${order.order}`;
      parts.push(": ", a);
    }
    li.append(line("watch-outcome", ...parts));
  } else {
    const word = order.status === "expired" ? "Expired" : "Cancelled";
    li.append(line("watch-outcome", word, ...(order.closed_at ? [" ", time(order.closed_at)] : [])));
  }
  li.append(line("watch-when small muted", "Placed ", time(order.created_at)));
  if (onCancel && order.status === "open") {
    li.append(button("Cancel standing order", titleId, (b) => onCancel(order, li, b)));
  }
  return li;
}

/** Every page of a list endpoint (``limit`` a page), up to ``max`` items: {ok, items, more, error}. */
export async function loadList(path, { limit = 50, max = 500 } = {}) {
  const items = [];
  let next = `${path}${path.includes("?") ? "&" : "?"}limit=${limit}`;
  while (next && items.length < max) {
    const answer = await api(next);
    if (!answer.ok) return { ok: false, items, more: false, status: answer.status, error: errorText(answer.data) };
    items.push(...(answer.data.results ?? []));
    // The link is absolute; keep its path and query (the page may sit behind a proxy).
    next = answer.data.next ? (({ pathname, search }) => pathname + search)(new URL(answer.data.next)) : null;
  }
  return { ok: true, items, more: Boolean(next) };
}

export const deleteAlert = (id) => api(`/api/alerts/${id}/`, { method: "DELETE" });
export const cancelStandingOrder = (id) => api(`/api/standing-orders/${id}/cancel/`, { method: "POST" });
export const createAlert = (body) => api("/api/alerts/", { method: "POST", body });
export const createStandingOrder = (body) => api("/api/standing-orders/", { method: "POST", body });
