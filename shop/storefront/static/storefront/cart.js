// The cart (a quote the server computes), checkout with max_order_sum, and the shopper's orders
// (their status, its history, and Cancel while the shopper may: SPEC §13).
// No sum is computed here: every number comes from the API (SPEC §4).

import { api, config, errorText, newKey, skewMs } from "./api.js";
import { shortages } from "./stock.js";

const $ = (selector, root = document) => root.querySelector(selector);
const money = (amount, currency) => (amount === null || amount === undefined ? "—" : `${amount} ${currency}`);

function fill(root, values) {
  for (const [selector, text] of Object.entries(values)) $(selector, root).textContent = text;
}

const BY = { shopper: "by you", staff: "by staff", system: "by the shop" };
const REASONS = { expired: "not paid in time" };

/** When the shopper can no longer cancel this order (browser clock, ms); null when never could. */
export function cancelUntil(order) {
  if (order.status !== "placed" || config.orderCancelSeconds === undefined) return null;
  return Date.parse(order.created_at) + config.orderCancelSeconds * 1000 - skewMs;
}

function renderEvents(list, events) {
  list.replaceChildren(
    ...events.map((event) => {
      const li = document.createElement("li");
      const when = document.createElement("time");
      when.dateTime = event.at;
      when.textContent = new Date(event.at).toLocaleString();
      const reason = REASONS[event.reason] ? ` (${REASONS[event.reason]})` : "";
      li.append(when, ` ${event.from} → ${event.to}, ${BY[event.by] ?? event.by}${reason}`);
      li.dataset.to = event.to;
      return li;
    }),
  );
  list.hidden = events.length === 0;
}

/** An order as one <article>: its lines, the frozen parts and order_sum, its status history, and a
 * Cancel button while ``onCancel`` is given and the shopper may still cancel it. */
export function renderOrder(order, { onCancel = null } = {}) {
  const base = config.baseCurrency;
  const article = $("#tpl-order").content.firstElementChild.cloneNode(true);
  article.dataset.order = order.id;
  article.setAttribute("aria-labelledby", `order-${order.id}-title`);
  const title = $(".order-title", article);
  title.id = `order-${order.id}-title`;
  fill(article, {
    ".order-title": `Order #${order.id}`,
    ".status": order.status,
    ".subtotal": money(order.subtotal, base),
    ".markup": money(order.markup, base),
    ".fee": money(order.fee, base),
    ".total": money(order.total, base),
    ".rate": `1 ${base} = ${order.exchange_rate} ${order.currency}`,
    ".order-sum-value": money(order.order_sum, order.currency),
  });
  $(".status", article).dataset.status = order.status;
  for (const el of article.querySelectorAll(".base-ccy")) el.textContent = `(${base})`;
  const when = $(".when", article);
  when.dateTime = order.created_at;
  when.textContent = new Date(order.created_at).toLocaleString();
  const body = $("tbody", article);
  for (const item of order.items) {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    const link = document.createElement("a");
    link.href = `/goods/${item.goods}/`; // its page: the price history since the order
    link.textContent = item.goods_name;
    name.append(link);
    tr.append(name);
    for (const text of [item.quantity, item.unit_price, item.line_total]) {
      const td = document.createElement("td");
      td.textContent = String(text);
      tr.append(td);
    }
    body.append(tr);
  }
  renderEvents($(".order-events", article), order.events ?? []);
  const until = cancelUntil(order);
  const actions = $(".order-actions", article);
  if (onCancel && until !== null && until > Date.now()) {
    const button = $(".cancel-order", actions);
    button.setAttribute("aria-describedby", title.id);
    button.addEventListener("click", () => onCancel(order, article, button));
    actions.hidden = false;
    // The window closes while the page is open: the button goes (the server would refuse it).
    setTimeout(() => (actions.hidden = true), Math.min(until - Date.now(), 2 ** 31 - 1));
  }
  return article;
}

export class Cart {
  constructor({ board, getCurrency }) {
    this.board = board;
    this.getCurrency = getCurrency;
    this.quote = null;
    this.lines = new Map(); // goods id → <li>
    // Every request goes through one queue, in the shopper's order: a quote never overtakes a change.
    this.queue = Promise.resolve();
    this.queuedRefresh = null;
    this.active = false;
    this.shownLink = null; // the #order-N the page last showed
    window.addEventListener("hashchange", () => this.showLinkedOrder());
    this.el = {
      list: $("#cart-lines"),
      empty: $("#cart-empty"),
      summary: $("#cart-summary"),
      sum: $("#cart-sum"),
      checkout: $("#checkout"),
      conflict: $("#conflict"),
      short: $("#short-stock"),
      ordersMessage: $("#orders-message"),
      accept: $("#accept-sum"),
      message: $("#cart-message"),
      placed: $("#placed"),
      orders: $("#orders"),
      orderList: $("#order-list"),
      ordersEmpty: $("#orders-empty"),
    };
    this.el.checkout.addEventListener("click", () => this.checkout(this.quote?.order_sum, this.quote?.currency));
    this.el.accept.addEventListener("click", () =>
      this.checkout(this.el.accept.dataset.sum, this.el.accept.dataset.currency),
    );
    $("#dismiss-short").addEventListener("click", () => {
      this.el.short.hidden = true;
      this.el.checkout.focus();
    });
    $("#dismiss-conflict").addEventListener("click", () => {
      this.el.conflict.hidden = true;
      this.el.checkout.focus();
    });
    setInterval(() => this.active && document.visibilityState === "visible" && this.refresh(), 60_000);
  }

  path(suffix = "") {
    return `/api/cart/${suffix}?currency=${encodeURIComponent(this.getCurrency())}`;
  }

  say(text) {
    this.el.message.textContent = text;
  }

  start() {
    this.active = true;
    this.el.orders.hidden = false;
    this.el.empty.textContent = "Your cart is empty.";
    this.refresh();
    this.loadOrders();
  }

  stop() {
    this.active = false;
    this.quote = null;
    this.lines.clear();
    this.el.list.replaceChildren();
    this.el.summary.hidden = true;
    $("#cart-base-note").hidden = true;
    this.el.conflict.hidden = true;
    this.el.short.hidden = true;
    this.el.placed.hidden = true;
    this.el.orders.hidden = true;
    this.el.ordersMessage.textContent = "";
    this.el.orderList.replaceChildren();
    this.el.empty.hidden = false;
    this.el.empty.textContent = "Log in to fill a cart.";
    this.say("");
  }

  /** Ask the server for a new quote (prices moved, or the currency changed); a burst asks once. */
  refresh() {
    if (!this.active) return Promise.resolve();
    if (!this.queuedRefresh) {
      this.queuedRefresh = this.change(() => {
        this.queuedRefresh = null; // a price change from now on needs a request of its own
        return this.load();
      });
    }
    return this.queuedRefresh;
  }

  /** The quote now; only from inside the queue. */
  async load() {
    if (!this.active) return;
    const answer = await api(this.path());
    if (answer.ok) this.show(answer.data);
    else if (answer.status !== 401) this.say(errorText(answer.data));
  }

  /** Prices of these goods changed: re-quote when the cart holds one of them. */
  pricesChanged(goodsIds) {
    if (this.quote && this.quote.items.some((item) => goodsIds.includes(item.goods))) this.refresh();
  }

  change(run) {
    this.queue = this.queue.then(run).catch((error) => console.error(error));
    return this.queue;
  }

  /** Apply an answer that may be a quote; anything else means "ask again". */
  async after(answer) {
    if (answer.ok && answer.data && Array.isArray(answer.data.items) && "order_sum" in answer.data) {
      this.show(answer.data);
      return;
    }
    if (answer.data?.code === "insufficient_stock") this.short(answer.data, "Not enough in stock for your cart.");
    else if (!answer.ok) this.say(errorText(answer.data));
    await this.load();
  }

  add(goodsId) {
    return this.change(async () => {
      const answer = await api(this.path("items/"), { method: "POST", body: { goods: goodsId, quantity: 1 } });
      if (answer.ok) {
        this.el.short.hidden = true;
        this.say(`${this.board.name(goodsId)} is in your cart.`);
        this.el.placed.hidden = true; // a new cart: the last order is under Orders
      }
      await this.after(answer);
    });
  }

  setQuantity(goodsId, quantity) {
    return this.change(async () => {
      const answer = await api(this.path(`items/${goodsId}/`), { method: "PATCH", body: { quantity } });
      await this.after(answer);
    });
  }

  remove(goodsId) {
    return this.change(async () => {
      const name = this.board.name(goodsId);
      const next = this.lines.get(goodsId)?.nextElementSibling ?? this.lines.get(goodsId)?.previousElementSibling;
      const answer = await api(this.path(`items/${goodsId}/`), { method: "DELETE" });
      if (answer.ok) this.say(`${name} is out of your cart.`);
      await this.after(answer);
      // The focused button is gone with its line: keep the keyboard user in the cart.
      const target = next?.isConnected ? $("button.remove", next) : $("#cart-heading");
      target.focus();
    });
  }

  show(quote) {
    if (!this.active) return;
    this.quote = quote;
    const base = config.baseCurrency;
    const seen = new Set(quote.items.map((item) => item.goods));
    for (const [id, li] of this.lines) {
      if (!seen.has(id)) {
        li.remove();
        this.lines.delete(id);
      }
    }
    for (const [index, item] of quote.items.entries()) {
      let li = this.lines.get(item.goods);
      if (!li) {
        li = this.newLine(item.goods);
        this.lines.set(item.goods, li);
      }
      // The server's order; a line moves only when it must, since moving it would drop its focus.
      const here = this.el.list.children[index] ?? null;
      if (here !== li) this.el.list.insertBefore(li, here);
      $(".line-name", li).textContent = item.goods_name;
      $(".line-total", li).textContent = money(item.line_total, base);
      $(".line-unit", li).textContent =
        item.unit_price === null ? "not available now" : `× ${money(item.unit_price, base)}`;
      const input = $("input", li);
      if (document.activeElement !== input) input.value = String(item.quantity);
      li.dataset.quantity = item.quantity;
      $(".line-moved", li).textContent = `${this.moved(item, base)}${this.held(item)}`;
    }
    const empty = quote.items.length === 0;
    this.el.empty.hidden = !empty;
    this.el.summary.hidden = empty;
    $("#cart-base-note").hidden = empty || quote.currency === base;
    fill(this.el.summary, {
      ".subtotal": money(quote.subtotal, base),
      ".markup": money(quote.markup, base),
      ".fee": money(quote.fee, base),
      ".total": money(quote.total, base),
      ".rate": `1 ${base} = ${quote.exchange_rate} ${quote.currency}`,
    });
    this.el.sum.textContent = money(quote.order_sum, quote.currency);
    this.el.sum.dataset.sum = quote.order_sum;
    this.el.sum.dataset.currency = quote.currency;
  }

  // With cart reservations on (CART_RESERVATION_SECONDS), how long the line keeps its units.
  held(item) {
    if (!item.held || !item.held_until) return "";
    const until = new Date(item.held_until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return ` ${item.held} held for you until ${until}.`;
  }

  moved(item, base) {
    if (item.added_price === null || item.unit_price === null || item.added_price === item.unit_price) {
      return item.added_price === null ? "" : `Price unchanged since you added it.`;
    }
    return `${money(item.added_price, base)} when you added it.`;
  }

  newLine(goodsId) {
    const li = $("#tpl-cart-line").content.firstElementChild.cloneNode(true);
    li.dataset.goods = goodsId;
    const input = $("input", li);
    input.addEventListener("change", () => {
      const quantity = Number(input.value);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000) {
        this.say("Quantity: enter a whole number from 1 to 1000, or use Remove.");
        input.value = li.dataset.quantity;
        return;
      }
      if (String(quantity) !== li.dataset.quantity) this.setQuantity(goodsId, quantity);
    });
    $("button.remove", li).addEventListener("click", () => this.remove(goodsId));
    return li;
  }

  /** Order the cart, refusing any sum above ``maxSum``: the one the shopper is looking at. */
  checkout(maxSum, currency) {
    if (!maxSum || !currency) return Promise.resolve();
    this.el.checkout.disabled = true; // now, not when its turn comes: one click, one order
    this.el.accept.disabled = true;
    return this.change(async () => {
      this.el.conflict.hidden = true;
      this.el.short.hidden = true;
      this.el.placed.hidden = true;
      this.say("Placing your order…");
      try {
        const answer = await api("/api/cart/checkout/", {
          method: "POST",
          body: { currency, max_order_sum: maxSum },
          headers: { "Idempotency-Key": newKey() },
        });
        if (answer.status === 201) {
          this.say("");
          this.placed(answer.data);
        } else if (answer.data?.code === "insufficient_stock") {
          this.say("");
          this.short(answer.data, "Not enough in stock; nothing was ordered.");
        } else if (answer.status === 409) {
          this.say("");
          this.conflict(maxSum, answer.data.order_sum, currency);
        } else {
          this.say(errorText(answer.data));
        }
        await this.load();
      } finally {
        this.el.checkout.disabled = false;
        this.el.accept.disabled = false;
        if (!this.el.conflict.hidden) this.el.accept.focus();
      }
    });
  }

  conflict(seen, now, currency) {
    $(".conflict-text", this.el.conflict).textContent =
      `The price went up while you were looking: you saw ${money(seen, currency)}, ` +
      `the order now costs ${money(now, currency)}. Nothing was ordered.`;
    this.el.accept.textContent = `Accept ${money(now, currency)} and order`;
    this.el.accept.dataset.sum = now;
    this.el.accept.dataset.currency = currency;
    this.el.conflict.hidden = false;
  }

  /** A 409 insufficient_stock: which goods are short and how many of each are left. */
  short(data, heading) {
    const items = this.quote?.items ?? [];
    const nameOf = (id) => items.find((item) => item.goods === id)?.goods_name ?? this.board.name(id);
    $(".short-text", this.el.short).textContent = heading;
    $(".short-list", this.el.short).replaceChildren(
      ...shortages(data, nameOf).map((text) => Object.assign(document.createElement("li"), { textContent: text })),
    );
    this.el.short.hidden = false;
  }

  placed(order) {
    const box = $(".placed-order", this.el.placed);
    box.replaceChildren(renderOrder(order));
    this.el.placed.hidden = false;
    this.el.placed.focus();
    this.loadOrders();
  }

  async loadOrders() {
    const answer = await api("/api/orders/?limit=20");
    if (!answer.ok || !this.active) return;
    const orders = answer.data.results ?? answer.data;
    this.el.orderList.replaceChildren(...orders.map((order) => this.renderOrder(order)));
    this.el.ordersEmpty.hidden = orders.length > 0;
    this.showLinkedOrder();
  }

  /** An address naming an order (/#order-77, from a filled standing order's toast or the alerts
   * page) shows that order once the list has it. */
  showLinkedOrder() {
    const wanted = /^#order-\d+$/.test(location.hash) ? location.hash.slice(1) : null;
    if (!wanted || this.shownLink === location.hash) return;
    const article = document.getElementById(wanted);
    if (!article) return;
    this.shownLink = location.hash;
    const title = $(".order-title", article);
    title.tabIndex = -1;
    title.focus();
    article.scrollIntoView({ block: "start" });
  }

  renderOrder(order) {
    const article = renderOrder(order, { onCancel: (...args) => this.cancelOrder(...args) });
    article.id = `order-${order.id}`; // the list's copy is the one an address (#order-77) names
    return article;
  }

  /** Cancel a placed order (SPEC §13: its units go back to stock), and show it as the server has it now. */
  async cancelOrder(order, article, button) {
    button.disabled = true;
    this.el.ordersMessage.textContent = `Cancelling order #${order.id}…`;
    const answer = await api(`/api/orders/${order.id}/cancel/`, { method: "POST" });
    if (!answer.ok) {
      this.el.ordersMessage.textContent = errorText(answer.data, `Order #${order.id} could not be cancelled.`);
      await this.loadOrders();
      return;
    }
    const shown = this.renderOrder(answer.data);
    article.replaceWith(shown);
    const placed = $(".placed-order article", this.el.placed);
    if (placed && placed.dataset.order === String(order.id)) placed.replaceWith(renderOrder(answer.data));
    this.el.ordersMessage.textContent = `Order #${order.id} is cancelled.`;
    $(".order-title", shown).tabIndex = -1;
    $(".order-title", shown).focus(); // the button is gone: keep the keyboard user on this order
  }
}
