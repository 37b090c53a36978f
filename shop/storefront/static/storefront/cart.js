// The cart (a quote the server computes), checkout with max_order_sum, and the shopper's orders.
// No sum is computed here: every number comes from the API (SPEC §4).

import { api, config, errorText, newKey } from "./api.js";

const $ = (selector, root = document) => root.querySelector(selector);
const money = (amount, currency) => (amount === null || amount === undefined ? "—" : `${amount} ${currency}`);

function fill(root, values) {
  for (const [selector, text] of Object.entries(values)) $(selector, root).textContent = text;
}

/** An order as one <article>: its lines, the frozen parts and order_sum. */
export function renderOrder(order) {
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
    this.el = {
      list: $("#cart-lines"),
      empty: $("#cart-empty"),
      summary: $("#cart-summary"),
      sum: $("#cart-sum"),
      checkout: $("#checkout"),
      conflict: $("#conflict"),
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
    this.el.placed.hidden = true;
    this.el.orders.hidden = true;
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
    if (!answer.ok) this.say(errorText(answer.data));
    await this.load();
  }

  add(goodsId) {
    return this.change(async () => {
      const answer = await api(this.path("items/"), { method: "POST", body: { goods: goodsId, quantity: 1 } });
      if (answer.ok) {
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
      $(".line-moved", li).textContent = this.moved(item, base);
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
    this.el.orderList.replaceChildren(...orders.map(renderOrder));
    this.el.ordersEmpty.hidden = orders.length > 0;
  }
}
