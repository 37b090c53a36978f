// /goods/{id}/: one goods with its live price, its price-history chart and its newest prices.

import { api, config, errorText, isLoggedIn, onAuthChange, skewMs } from "./api.js";
import { compareAmounts } from "./board.js";
import { INTERVAL_MS, PriceChart } from "./chart.js";
import { PriceFeed } from "./feed.js";
import { keepCurrency } from "./links.js";
import { followShopper, shopperFeed } from "./notices.js";
import { shortages, StockLevel } from "./stock.js";
import {
  alertWhat,
  cancelStandingOrder,
  createAlert,
  createStandingOrder,
  deleteAlert,
  loadList,
  renderAlert,
  renderStandingOrder,
  standingWhat,
} from "./watchlist.js";

const $ = (selector, root = document) => root.querySelector(selector);
const CURRENCY_KEY = "tickshop.currency";
const GOODS = config.goodsId;
const HISTORY_PAGE = 20;
// How far back each interval looks: a few hours of minutes, a week of hours, 11 days of days.
// The 1d window stays under what one candles request may read (200,000 prices: 11 days of a
// goods ticking every 5 s); older days come from the rolled-up candles retention keeps.
const WINDOW_MS = { "1m": 3 * 3_600_000, "1h": 7 * 86_400_000, "1d": 11 * 86_400_000 };
// The feed names each batch's source; "Live" only for a batch from a process that does not.
const SOURCES = { tick: "Tick", on_demand: "On demand", manual: "Manual", live: "Live" };

const select = $("#currency");
const status = $("#feed-status");
const decimalsOf = (code) => config.currencies.find((c) => c.code === code)?.decimals ?? 2;
const rateOf = (code) => Number(config.currencies.find((c) => c.code === code)?.rate);
const buyButton = $("#buy-form button[type=submit]");
const level = new StockLevel($("#stock"));

// --- The live price ------------------------------------------------------------------

class LivePrice {
  constructor(root) {
    this.root = root;
    this.amount = $(".amount", root);
    this.ccy = $(".ccy", root);
    this.move = $(".move", root);
    this.moveText = $(".move-text", root);
    const shown = this.amount.textContent.trim();
    this.price = shown === "—" ? null : shown;
    this.currency = config.currency;
  }

  apply(price, currency, { flash }) {
    const before = this.price;
    const sameCurrency = currency === this.currency;
    this.price = price;
    this.currency = currency;
    this.amount.textContent = price;
    this.ccy.textContent = currency;
    buyButton.disabled = level.soldOut;
    if (!sameCurrency) this.clear();
    if (!flash || !sameCurrency || before === null || before === price) return;
    const up = compareAmounts(price, before) > 0;
    this.move.textContent = up ? "▲" : "▼";
    this.moveText.textContent = `${up ? "up" : "down"} from ${before}`;
    this.root.dataset.move = up ? "up" : "down";
    this.root.classList.remove("flash");
    void this.root.offsetWidth; // restart the animation
    this.root.classList.add("flash");
  }

  clear() {
    this.move.textContent = "";
    this.moveText.textContent = "";
    delete this.root.dataset.move;
    this.root.classList.remove("flash");
  }
}

// --- The newest prices, walking back through the history ------------------------------

/** An ISO 8601 instant as microseconds since the epoch: the API writes "…Z", the feed "…+00:00",
 * both with the database's microseconds (or none when they are 0). */
function instant(iso) {
  const micro = (/\.(\d+)/.exec(iso)?.[1] ?? "").padEnd(6, "0").slice(3, 6);
  return Date.parse(iso) * 1000 + Number(micro);
}

class History {
  constructor() {
    this.body = $("#history tbody");
    this.more = $("#load-more");
    this.empty = $("#history-empty");
    this.message = $("#history-message");
    this.next = null;
    this.shown = new Set(); // instants of the rows on screen (a goods has one price per instant)
    this.newest = -Infinity; // the newest row's instant
    this.loaded = false;
    this.loading = null;
    this.pending = []; // prices the feed brought while the first page was loading
    this.more.addEventListener("click", () => this.loadMore());
  }

  row(price) {
    const tr = document.createElement("tr");
    const at = instant(price.created_at);
    if (price.id) tr.dataset.price = price.id;
    else tr.dataset.live = ""; // from the feed, which names no price id
    const when = document.createElement("time");
    when.dateTime = price.created_at;
    when.textContent = new Date(price.created_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
    const cells = [when, price.amount, SOURCES[price.source] ?? price.source];
    for (const content of cells) {
      const td = document.createElement("td");
      td.append(content);
      tr.append(td);
    }
    this.shown.add(at);
    this.newest = Math.max(this.newest, at);
    return tr;
  }

  /** The newest page of the history, replacing what is shown (once at the start, and after the
   * feed lost messages); the feed's prices keep it current from then on. */
  first() {
    this.loading ??= (async () => {
      const answer = await api(`/api/prices/?goods=${GOODS}&limit=${HISTORY_PAGE}`, { auth: false });
      if (!answer.ok) {
        this.message.textContent = errorText(answer.data);
        return;
      }
      this.shown.clear();
      this.newest = -Infinity;
      this.body.replaceChildren(...answer.data.results.map((p) => this.row(p)));
      this.setNext(answer.data.next);
      this.loaded = true;
      const pending = this.pending;
      this.pending = [];
      for (const price of pending) this.prepend(price);
    })().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  setNext(next) {
    // The cursor link is absolute; keep its path and query (the page may sit behind a proxy).
    this.next = next ? (({ pathname, search }) => pathname + search)(new URL(next)) : null;
    this.more.hidden = !this.next;
    this.empty.hidden = this.shown.size > 0;
  }

  async loadMore() {
    if (!this.next) return;
    this.more.disabled = true;
    try {
      const answer = await api(this.next, { auth: false });
      if (!answer.ok) {
        this.message.textContent = errorText(answer.data);
        return;
      }
      const older = answer.data.results.filter((p) => !this.shown.has(instant(p.created_at)));
      this.body.append(...older.map((p) => this.row(p)));
      this.message.textContent = older.length ? `${older.length} older prices added.` : "";
      this.setNext(answer.data.next);
    } finally {
      this.more.disabled = false;
      if (this.more.hidden) $("#history-heading").focus();
    }
  }

  /** A message of the feed in the base currency. A batch's price goes on top, as it is: the feed
   * tells the price and its time (its prices' created_at), and the source when it names one.
   * A snapshot repeats the newest price, or comes after lost messages or a reconnection: when it
   * is newer than the newest row, prices may be missing in between, so the first page is read
   * again (rarely: not once a tick). */
  follow(message) {
    for (const entry of message.prices) {
      if (entry.goods !== GOODS) continue;
      const price = { created_at: entry.at, amount: entry.price, source: message.source ?? "live" };
      if (!this.loaded) this.pending = [...this.pending, price].slice(-HISTORY_PAGE);
      else if (message.type === "snapshot") {
        if (instant(price.created_at) > this.newest) this.first();
      } else this.prepend(price);
    }
  }

  prepend(price) {
    const at = instant(price.created_at);
    if (this.shown.has(at) || at < this.newest) return; // on screen already, or older than the top
    this.body.prepend(this.row(price));
    this.empty.hidden = true;
  }
}

// --- Wiring ------------------------------------------------------------------------------

const live = new LivePrice($("#live-price"));
const chart = new PriceChart($("#chart"), $("#chart-summary"), $("#chart-readout"));
const table = new History();
let interval = "1m";
let loadCount = 0;

async function loadChart() {
  const currency = select.value;
  const mine = ++loadCount; // a later click wins over an earlier answer
  chart.begin(interval, currency, decimalsOf(currency));
  for (const button of document.querySelectorAll(".intervals button")) {
    button.setAttribute("aria-pressed", String(button.dataset.interval === interval));
  }
  const since = new Date(Date.now() - WINDOW_MS[interval]);
  since.setTime(since.getTime() - (since.getTime() % INTERVAL_MS[interval]));
  const query = new URLSearchParams({ interval, currency, since: since.toISOString() });
  const answer = await api(`/api/goods/${GOODS}/candles/?${query}`, { auth: false });
  if (mine !== loadCount) return;
  if (answer.ok) chart.show(answer.data.candles);
  else chart.failed(`The price history could not be loaded: ${errorText(answer.data)}`);
}

/** The running sale's bounds (base currency, from /api/sales/{id}/) as the chart's price lines, in
 * the chart's currency: other currencies are converted at the page's rate, for drawing only. */
async function loadBounds() {
  const currency = select.value;
  const goods = await api(`/api/goods/${GOODS}/`, { auth: false });
  const sale = goods.ok ? goods.data.sale : null;
  const answer = sale ? await api(`/api/sales/${sale}/`, { auth: false }) : null;
  if (currency !== chart.currency) return; // the shopper chose another currency meanwhile
  if (!answer?.ok) {
    chart.setBounds(null);
    return;
  }
  const { min_price: min, max_price: max } = answer.data;
  if (currency === config.baseCurrency) {
    chart.setBounds({ min, max });
    return;
  }
  const rate = rateOf(currency);
  const decimals = decimalsOf(currency);
  const show = (amount) => (Number(amount) * rate).toFixed(decimals);
  if (rate > 0) chart.setBounds({ min: show(min), max: show(max) });
}

for (const button of document.querySelectorAll(".intervals button")) {
  button.addEventListener("click", () => {
    interval = button.dataset.interval;
    loadChart();
  });
}

const STATUS_TEXT = {
  connecting: "Connecting to live prices…",
  reconnecting: "Reconnecting…",
  live: "Live",
  failed: "Live prices are not available in this currency",
};

/** A new level of this goods' stock (SPEC §13): "Sold out" disables Add to cart. */
function stocked(available, version) {
  if (level.set(available, version)) buyButton.disabled = live.price === null || level.soldOut;
}

function received(message, { flash }) {
  const currency = message.currency ?? select.value;
  for (const entry of message.prices) {
    if (entry.goods !== GOODS) continue;
    if ("available" in entry) stocked(entry.available, entry.version);
    live.apply(entry.price, currency, { flash });
    if (currency === chart.currency) chart.add(Date.parse(entry.at), entry.price);
  }
  if (currency === config.baseCurrency) table.follow(message);
}

const feed = new PriceFeed({
  path: config.feedPath,
  goods: [GOODS], // this goods only
  // The shopper's news (any goods) as toasts; news of this goods redraws its lines and list.
  ...shopperFeed({
    known: (id) => (id === GOODS ? config.goodsName : null),
    onPersonal: (news) => news.goods === GOODS && mine.load(),
  }),
  onSnapshot: (message) => received(message, { flash: true }),
  onPrices: (message) => received(message, { flash: true }),
  onStock: (message) => {
    for (const entry of message.goods) if (entry.goods === GOODS) stocked(entry.available, entry.version);
  },
  onStatus: (state, delay) => {
    status.dataset.state = state;
    $(".feed-text", status).textContent =
      state === "waiting" ? `Connection lost; retrying in ${Math.ceil(delay / 1000)} s` : STATUS_TEXT[state];
  },
});

// The table shows base-currency prices. In another currency the page's feed converts them, so
// the table follows a second connection of its own, in the base currency and to this goods only.
let tableFeed = null;

function followTableIn(code) {
  if (code === config.baseCurrency) {
    tableFeed?.stop();
    tableFeed = null;
    return;
  }
  tableFeed ??= new PriceFeed({
    path: config.feedPath,
    goods: [GOODS],
    onSnapshot: (message) => table.follow(message),
    onPrices: (message) => table.follow(message),
    onStatus: () => {},
  });
  if (!tableFeed.socket) tableFeed.connect(config.baseCurrency);
}

function useCurrency(code, { chosen = true } = {}) {
  for (const el of document.querySelectorAll(".chart-currency, .watch-currency")) el.textContent = code;
  loadChart();
  loadBounds();
  mine.draw();
  feed.connect(code);
  followTableIn(code);
  keepCurrency(code);
  if (!chosen) return;
  const url = new URL(location.href);
  url.searchParams.set("currency", code);
  history.replaceState(null, "", url);
  localStorage.setItem(CURRENCY_KEY, code);
}

select.addEventListener("change", () => useCurrency(select.value));

// --- Add to cart --------------------------------------------------------------------------

const buyForm = $("#buy-form");
const buyMessage = $("#buy-message");

function say(text, link = null) {
  buyMessage.replaceChildren(text);
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    buyMessage.append(" ", a);
  }
}

buyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const quantity = Number($("#quantity").value);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000) {
    say("Quantity: enter a whole number from 1 to 1000.");
    $("#quantity").focus();
    return;
  }
  if (!isLoggedIn()) {
    say("Log in or register to fill a cart:", { href: "/#account", text: "go to your account" });
    return;
  }
  const button = buyButton;
  button.disabled = true;
  try {
    const answer = await api("/api/cart/items/", { method: "POST", body: { goods: GOODS, quantity } });
    if (answer.ok) say(`${quantity} × ${config.goodsName} added to your cart.`, { href: "/#cart", text: "See your cart" });
    else if (answer.data?.code === "insufficient_stock") {
      say(`Not enough in stock: ${shortages(answer.data, () => config.goodsName).join(" ")} Nothing was added.`);
    } else say(errorText(answer.data));
  } finally {
    button.disabled = live.price === null || level.soldOut;
  }
});

// --- Price alerts and standing orders (SPEC §15) ---------------------------------------------

/** ``amount`` of ``from`` in the chart's currency, for drawing only (at the page's rates); null
 * when a rate is missing (a currency no longer offered). */
function inChart(amount, from) {
  const to = chart.currency;
  if (from === to) return amount;
  const [rateFrom, rateTo] = [rateOf(from), rateOf(to)];
  if (!(rateFrom > 0 && rateTo > 0)) return null;
  return ((Number(amount) / rateFrom) * rateTo).toFixed(decimalsOf(to));
}

const SIGNS = { below: "≤", above: "≥" };

/** The shopper's open alerts and standing orders of this goods: listed, and drawn on the chart. */
class Mine {
  constructor() {
    this.alerts = [];
    this.orders = [];
    this.loads = 0;
    this.box = $("#watch-mine");
    this.list = $("#mine-list");
    this.empty = $("#mine-empty");
    this.message = $("#mine-message");
  }

  async load() {
    if (!isLoggedIn()) return;
    const ticket = ++this.loads; // the last load wins
    const [alerts, orders] = await Promise.all([
      loadList(`/api/alerts/?goods=${GOODS}&status=open`),
      loadList(`/api/standing-orders/?goods=${GOODS}&status=open`),
    ]);
    if (ticket !== this.loads || !isLoggedIn()) return;
    if (!alerts.ok || !orders.ok) {
      this.message.textContent = (alerts.ok ? orders : alerts).error;
      return;
    }
    this.alerts = alerts.items;
    this.orders = orders.items;
    this.show();
  }

  clear() {
    this.loads += 1;
    this.alerts = [];
    this.orders = [];
    this.message.textContent = "";
    this.show();
  }

  show() {
    const focused = this.list.contains(document.activeElement);
    this.list.replaceChildren(
      ...this.alerts.map((a) => renderAlert(a, { withGoods: false, onDelete: (...args) => this.remove(...args) })),
      ...this.orders.map((o) =>
        renderStandingOrder(o, { withGoods: false, onCancel: (...args) => this.cancel(...args) }),
      ),
    );
    this.empty.hidden = this.list.children.length > 0;
    this.box.hidden = !isLoggedIn();
    if (focused) $("#mine-heading").focus();
    this.draw();
  }

  /** The lines on the chart, in its currency. */
  draw() {
    const marks = [];
    for (const a of this.alerts) {
      const price = inChart(a.price, a.currency);
      if (price !== null) marks.push({ kind: "alert", price, title: `Alert ${SIGNS[a.direction]} ${a.price} ${a.currency}` });
    }
    for (const o of this.orders) {
      const price = inChart(o.limit_price, o.currency);
      if (price !== null) marks.push({ kind: "standing", price, title: `Buy ${o.quantity} ≤ ${o.limit_price} ${o.currency}` });
    }
    chart.setMarks(marks);
  }

  async remove(alert, li, button) {
    button.disabled = true;
    const answer = await deleteAlert(alert.id);
    if (!answer.ok && answer.status !== 404) {
      button.disabled = false;
      this.message.textContent = errorText(answer.data, "The alert could not be deleted.");
      return;
    }
    this.message.textContent = `Deleted: ${alertWhat(alert)}.`;
    this.alerts = this.alerts.filter((a) => a.id !== alert.id);
    this.show();
  }

  async cancel(order, li, button) {
    button.disabled = true;
    const answer = await cancelStandingOrder(order.id);
    if (answer.ok) this.message.textContent = `Cancelled: ${standingWhat(order)}.`;
    else this.message.textContent = errorText(answer.data, "The standing order could not be cancelled.");
    await this.load(); // as the server has them now (filled or expired meanwhile: gone from here)
  }
}

const mine = new Mine();

/** An amount as the API takes it: digits, and at most the currency's decimals after a point. */
function amountIn(text, currency) {
  const value = text.trim().replace(",", ".");
  const decimals = decimalsOf(currency);
  const pattern = decimals ? new RegExp(`^\\d{1,12}(\\.\\d{1,${decimals}})?$`) : /^\d{1,12}$/;
  return pattern.test(value) && Number(value) > 0 ? value : null;
}

function amountHint(currency) {
  const decimals = decimalsOf(currency);
  return decimals ? `an amount above 0 like ${(80).toFixed(decimals)}, at most ${decimals} decimals` : "a whole amount above 0";
}

/** A form's submit: ``build()`` gives the body or a sentence of what is wrong; ``done(data)`` says
 * what was made. Errors the API answers (400 with field errors, 409 with a code) are shown as they are. */
function watchForm(form, { message, build, send, done }) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const built = build();
    if (typeof built === "string") {
      message.textContent = built;
      return;
    }
    const button = $("button[type=submit]", form);
    button.disabled = true;
    message.textContent = "";
    try {
      const answer = await send(built);
      if (answer.ok) {
        message.textContent = done(answer.data);
        await mine.load();
      } else {
        message.textContent = errorText(answer.data, `Refused (${answer.status}); please try again.`);
      }
    } finally {
      button.disabled = false;
    }
  });
}

watchForm($("#alert-form"), {
  message: $("#alert-message"),
  build: () => {
    const currency = select.value;
    const price = amountIn($("#alert-price").value, currency);
    if (price === null) {
      $("#alert-price").focus();
      return `Alert price: enter ${amountHint(currency)}.`;
    }
    return { goods: GOODS, currency, direction: $("#alert-direction").value, price };
  },
  send: createAlert,
  done: (alert) => `Alert set: we tell you when ${config.goodsName} is ${alertWhat(alert).replace(/^Alert /, "")}.`,
});

watchForm($("#standing-form"), {
  message: $("#standing-message"),
  build: () => {
    const currency = select.value;
    const quantity = Number($("#standing-quantity").value);
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000) {
      $("#standing-quantity").focus();
      return "Quantity to buy: enter a whole number from 1 to 1000.";
    }
    const limit = amountIn($("#standing-limit").value, currency);
    if (limit === null) {
      $("#standing-limit").focus();
      return `Limit price: enter ${amountHint(currency)}.`;
    }
    // A minute short of the choice: the request takes a moment, and the server counts from its arrival.
    const seconds = Number($("#standing-expires").value);
    const expires = new Date(Date.now() + skewMs + seconds * 1000 - 60_000);
    return { goods: GOODS, quantity, currency, limit_price: limit, expires_at: expires.toISOString() };
  },
  send: createStandingOrder,
  done: (order) =>
    `Standing order placed: ${standingWhat(order).replace(/^Buy/, "we buy")} until ${new Date(order.expires_at).toLocaleString()}.`,
});

function showShopper() {
  const loggedIn = isLoggedIn();
  $("#watch-guest").hidden = loggedIn;
  $("#watch-forms").hidden = !loggedIn;
  $("#watch-link").hidden = !loggedIn;
  if (loggedIn) mine.load();
  else mine.clear();
}

followShopper(feed);
onAuthChange(() => showShopper());

// --- Start -----------------------------------------------------------------------------------

const wanted = new URL(location.href).searchParams.get("currency") || localStorage.getItem(CURRENCY_KEY);
if (wanted && wanted !== select.value && config.currencies.some((c) => c.code === wanted)) select.value = wanted;
useCurrency(select.value, { chosen: false });
table.first();
showShopper();
