// The goods board: live prices with a flash and an arrow on each change, a sparkline, and what is
// left in stock ("Only N left", "Sold out": the goods stays listed, its button disabled).

import { api } from "./api.js";
import { StockLevel } from "./stock.js";

const HISTORY = 30;
const SVG = "http://www.w3.org/2000/svg";

/** -1, 0 or 1: two amounts of one currency, compared as decimal strings (no float rounding). */
export function compareAmounts(a, b) {
  const scale = (s) => {
    const [whole, frac = ""] = s.split(".");
    return [whole, frac];
  };
  const [aw, af] = scale(a);
  const [bw, bf] = scale(b);
  const width = Math.max(af.length, bf.length);
  const big = (w, f) => BigInt(w + f.padEnd(width, "0"));
  const x = big(aw, af);
  const y = big(bw, bf);
  return x > y ? 1 : x < y ? -1 : 0;
}

export class Board {
  constructor(list, { currency, onAdd }) {
    this.currency = currency;
    this.rate = 1;
    this.onAdd = onAdd;
    this.load(list, currency);
  }

  /** Take the rows of ``list``, a page of the board rendered by the server in ``currency``. */
  load(list, currency) {
    this.list = list;
    this.rows = new Map();
    for (const li of list.querySelectorAll("li[data-goods]")) {
      const id = Number(li.dataset.goods);
      const amount = li.querySelector(".amount");
      const row = {
        li,
        name: li.querySelector(".goods-name").textContent.trim(),
        amount,
        ccy: li.querySelector(".ccy"),
        move: li.querySelector(".move"),
        moveText: li.querySelector(".move-text"),
        spark: li.querySelector(".spark"),
        add: li.querySelector("button.add"),
        level: new StockLevel(li.querySelector(".stock")),
        price: amount.textContent.trim() === "—" ? null : amount.textContent.trim(),
        priceCurrency: currency, // the server rendered the page in this currency
        series: [], // [{t: ms, v: base-currency units}] for the sparkline only
      };
      row.add.addEventListener("click", () => this.onAdd(id, row));
      this.rows.set(id, row);
    }
  }

  ids() {
    return [...this.rows.keys()];
  }

  name(id) {
    return this.rows.get(id)?.name ?? `Goods ${id}`;
  }

  /** Prices from now on come in ``code``; ``rate`` (units per base unit) only scales the sparkline. */
  setCurrency(code, rate) {
    const changed = code !== this.currency;
    this.currency = code;
    this.rate = Number(rate) || 1;
    for (const row of this.rows.values()) {
      if (changed) this.clearMove(row);
    }
    for (const el of document.querySelectorAll(".board-currency")) el.textContent = code;
  }

  /** A snapshot or a batch of the feed; ``flash`` marks changes. */
  apply(message, { flash }) {
    const currency = message.currency ?? this.currency;
    for (const entry of message.prices) {
      const row = this.rows.get(entry.goods);
      if (!row) continue;
      const before = row.price;
      const sameCurrency = row.priceCurrency === currency;
      row.price = entry.price;
      row.priceCurrency = currency;
      row.amount.textContent = entry.price;
      row.ccy.textContent = currency;
      row.add.disabled = row.level.soldOut;
      if ("available" in entry) this.setStock(row, entry.available, entry.version);
      if (flash && sameCurrency && before !== null && before !== entry.price) {
        this.showMove(row, compareAmounts(entry.price, before), before);
      }
      this.addPoint(row, Date.parse(entry.at), Number(entry.price) / this.rate);
    }
  }

  /** A ``stock`` message of the feed: the goods' new levels. */
  applyStock(message) {
    for (const entry of message.goods) {
      const row = this.rows.get(entry.goods);
      if (row) this.setStock(row, entry.available, entry.version);
    }
  }

  setStock(row, available, version) {
    if (row.level.set(available, version)) row.add.disabled = row.price === null || row.level.soldOut;
  }

  showMove(row, direction, before) {
    if (direction === 0) return;
    const up = direction > 0;
    row.move.textContent = up ? "▲" : "▼";
    row.li.dataset.move = up ? "up" : "down";
    row.moveText.textContent = `${up ? "up" : "down"} from ${before}`;
    // Restart the flash animation even when the previous one is still running.
    row.li.classList.remove("flash");
    void row.li.offsetWidth;
    row.li.classList.add("flash");
  }

  clearMove(row) {
    row.move.textContent = "";
    row.moveText.textContent = "";
    delete row.li.dataset.move;
    row.li.classList.remove("flash");
  }

  /** The newest prices of every goods on the page (base currency), for the sparklines: one request
   * a page (/api/prices/recent/ takes up to 100 goods; a page shows 50). */
  async loadHistory() {
    const ids = this.ids();
    if (!ids.length) return;
    const rows = this.rows;
    const answer = await api(`/api/prices/recent/?goods=${ids.join(",")}&limit=${HISTORY}`, { auth: false });
    if (!answer.ok || rows !== this.rows) return; // failed, or another page is on screen meanwhile
    for (const { goods, prices } of answer.data.results) {
      const row = rows.get(goods);
      if (!row) continue;
      const points = prices.map((p) => ({ t: Date.parse(p.created_at), v: Number(p.amount) })).reverse();
      // Points the feed delivered while the history loaded are newer: keep them after it.
      const last = points.length ? points[points.length - 1].t : -Infinity;
      row.series = [...points, ...row.series.filter((p) => p.t > last)].slice(-HISTORY);
      this.drawSpark(row);
    }
  }

  addPoint(row, t, v) {
    if (!Number.isFinite(t) || !Number.isFinite(v)) return;
    const last = row.series[row.series.length - 1];
    if (last && t <= last.t) return; // a snapshot repeats the newest price
    row.series.push({ t, v });
    if (row.series.length > HISTORY) row.series.shift();
    this.drawSpark(row);
  }

  drawSpark(row) {
    const svg = row.spark;
    const values = row.series.map((p) => p.v);
    svg.replaceChildren();
    if (values.length < 2) {
      svg.setAttribute("aria-label", "Price trend: not enough history yet");
      return;
    }
    const low = Math.min(...values);
    const high = Math.max(...values);
    const span = high - low || 1;
    const step = 100 / (values.length - 1);
    const points = values.map((v, i) => `${(i * step).toFixed(2)},${(29 - ((v - low) / span) * 26).toFixed(2)}`);
    const area = document.createElementNS(SVG, "polygon");
    area.setAttribute("points", `0,32 ${points.join(" ")} 100,32`);
    area.setAttribute("class", "spark-area");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("class", "spark-line");
    svg.append(area, line);
    const rising = values[values.length - 1] >= values[0];
    svg.dataset.trend = rising ? "up" : "down";
    svg.setAttribute("aria-label", `Price trend over the last ${values.length} prices: ${rising ? "rising" : "falling"}`);
  }
}
