// /goods/{id}/: one goods with its live price, its price-history chart and its newest prices.

import { api, config, errorText, isLoggedIn } from "./api.js";
import { compareAmounts } from "./board.js";
import { INTERVAL_MS, PriceChart } from "./chart.js";
import { PriceFeed } from "./feed.js";
import { keepCurrency } from "./links.js";
import { shortages, StockLevel } from "./stock.js";

const $ = (selector, root = document) => root.querySelector(selector);
const CURRENCY_KEY = "tickshop.currency";
const GOODS = config.goodsId;
const HISTORY_PAGE = 20;
// How far back each interval looks: a few hours of minutes, a week of hours, 11 days of days.
// The 1d window stays under what one candles request may read (200,000 prices: 11 days of a
// goods ticking every 5 s); older days come from the rolled-up candles retention keeps.
const WINDOW_MS = { "1m": 3 * 3_600_000, "1h": 7 * 86_400_000, "1d": 11 * 86_400_000 };
const SOURCES = { tick: "Tick", on_demand: "On demand", manual: "Manual" };

const select = $("#currency");
const status = $("#feed-status");
const decimalsOf = (code) => config.currencies.find((c) => c.code === code)?.decimals ?? 2;
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

class History {
  constructor() {
    this.body = $("#history tbody");
    this.more = $("#load-more");
    this.empty = $("#history-empty");
    this.message = $("#history-message");
    this.next = null;
    this.shown = new Set();
    this.refreshing = null;
    this.again = false;
    this.more.addEventListener("click", () => this.loadMore());
  }

  row(price) {
    const tr = document.createElement("tr");
    tr.dataset.price = price.id;
    const when = document.createElement("time");
    when.dateTime = price.created_at;
    when.textContent = new Date(price.created_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
    const cells = [when, price.amount, SOURCES[price.source] ?? price.source];
    for (const content of cells) {
      const td = document.createElement("td");
      td.append(content);
      tr.append(td);
    }
    this.shown.add(price.id);
    return tr;
  }

  async first() {
    const answer = await api(`/api/prices/?goods=${GOODS}&limit=${HISTORY_PAGE}`, { auth: false });
    if (!answer.ok) {
      this.message.textContent = errorText(answer.data);
      return;
    }
    this.body.replaceChildren(...answer.data.results.map((p) => this.row(p)));
    this.setNext(answer.data.next);
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
      const older = answer.data.results.filter((p) => !this.shown.has(p.id));
      this.body.append(...older.map((p) => this.row(p)));
      this.message.textContent = older.length ? `${older.length} older prices added.` : "";
      this.setNext(answer.data.next);
    } finally {
      this.more.disabled = false;
      if (this.more.hidden) $("#history-heading").focus();
    }
  }

  /** A new price came: put the newest rows on top (one request at a time, however fast ticks come). */
  refresh() {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = (async () => {
      const answer = await api(`/api/prices/?goods=${GOODS}&limit=${HISTORY_PAGE}`, { auth: false });
      if (!answer.ok) return;
      const results = answer.data.results;
      const newer = results.filter((p) => !this.shown.has(p.id));
      if (newer.length === results.length) {
        // Nothing of it on screen yet (a first price, or a tab that slept through many ticks):
        // start again from this page, so the table never skips prices.
        this.shown.clear();
        this.body.replaceChildren(...results.map((p) => this.row(p)));
        this.setNext(answer.data.next);
        return;
      }
      this.body.prepend(...newer.map((p) => this.row(p)));
    })().finally(() => {
      this.refreshing = null;
      if (this.again) {
        this.again = false;
        this.refresh();
      }
    });
  }
}

// --- Wiring ------------------------------------------------------------------------------

const live = new LivePrice($("#live-price"));
const chart = new PriceChart($("#chart"), $("#chart-summary"));
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
    if (message.type === "prices") table.refresh();
  }
}

const feed = new PriceFeed({
  path: config.feedPath,
  goods: [GOODS], // this goods only
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

function useCurrency(code, { chosen = true } = {}) {
  for (const el of document.querySelectorAll(".chart-currency")) el.textContent = code;
  loadChart();
  feed.connect(code);
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

// --- Start -----------------------------------------------------------------------------------

const wanted = new URL(location.href).searchParams.get("currency") || localStorage.getItem(CURRENCY_KEY);
if (wanted && wanted !== select.value && config.currencies.some((c) => c.code === wanted)) select.value = wanted;
useCurrency(select.value, { chosen: false });
table.first();
