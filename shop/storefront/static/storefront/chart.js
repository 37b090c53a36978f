// The price-history chart of a goods page: candlesticks drawn as SVG by this script (no library).
// Amounts stay the API's strings for everything a shopper reads; numbers only place the shapes.

const SVG = "http://www.w3.org/2000/svg";
export const INTERVAL_MS = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 };
const INTERVAL_WORDS = { "1m": "1-minute", "1h": "1-hour", "1d": "1-day" };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY,
];
const MARGIN = { top: 12, right: 14, bottom: 30, left: 68 };
const BUFFERED = 64; // live prices kept to replay over candles that were loading

function el(name, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

/** Round steps for the price axis: 1, 2 or 5 times a power of ten, at least one minor unit. */
function priceStep(span, decimals, count) {
  const raw = Math.max(span / count, 10 ** -decimals);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return Math.max(step, 10 ** -decimals);
}

export class PriceChart {
  constructor(svg, summary) {
    this.svg = svg;
    this.summary = summary;
    this.interval = "1m";
    this.currency = "";
    this.decimals = 2;
    this.candles = []; // [{t: ms, open, high, low, close}] with amounts as strings
    this.buffer = []; // live prices [{t, price}] seen since the last load began
    this.loading = true;
    new ResizeObserver(() => this.draw()).observe(svg.parentElement);
  }

  /** A new interval or currency is on its way: live prices from now on are replayed over it. */
  begin(interval, currency, decimals) {
    this.interval = interval;
    this.currency = currency;
    this.decimals = decimals;
    this.loading = true;
    this.buffer = [];
    this.svg.dataset.state = "loading";
    this.svg.dataset.interval = interval;
  }

  /** The candles endpoint's answer for the interval and currency of ``begin``. */
  show(candles) {
    this.candles = candles.map((c) => ({
      t: Date.parse(c.start),
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
    }));
    this.loading = false;
    for (const { t, price } of this.buffer) this.merge(t, price);
    this.draw();
  }

  failed(text) {
    this.loading = false;
    this.candles = [];
    this.svg.replaceChildren();
    this.svg.dataset.state = "error";
    this.summary.textContent = text;
  }

  /** A live price of the goods (feed, in the chart's currency): the newest candle follows it. */
  add(t, price) {
    if (!Number.isFinite(t) || price === null || price === undefined) return;
    this.buffer.push({ t, price });
    if (this.buffer.length > BUFFERED) this.buffer.shift();
    if (this.loading) return;
    if (this.merge(t, price)) this.draw();
  }

  merge(t, price) {
    const size = INTERVAL_MS[this.interval];
    const start = t - (t % size); // aligned to the epoch, as the server's candles are
    const last = this.candles[this.candles.length - 1];
    if (last && start < last.t) return false; // older than what is drawn: already in it
    if (last && start === last.t) {
      if (Number(price) > Number(last.high)) last.high = price;
      if (Number(price) < Number(last.low)) last.low = price;
      last.close = price;
    } else {
      this.candles.push({ t: start, open: price, high: price, low: price, close: price });
    }
    return true;
  }

  draw() {
    if (this.loading) return;
    const svg = this.svg;
    const box = svg.getBoundingClientRect();
    const width = Math.max(240, Math.round(box.width));
    const height = Math.max(160, Math.round(box.height));
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.replaceChildren();
    const candles = this.candles;
    svg.dataset.candles = String(candles.length);
    if (candles.length === 0) {
      svg.dataset.state = "empty";
      svg.append(el("text", { x: width / 2, y: height / 2, class: "chart-empty", "text-anchor": "middle" }, "No prices in this period yet"));
      this.summary.textContent = `No prices in this period yet (${INTERVAL_WORDS[this.interval]} candles).`;
      return;
    }
    svg.dataset.state = "ready";
    const size = INTERVAL_MS[this.interval];
    const first = candles[0].t;
    const last = candles[candles.length - 1].t;
    const slots = Math.round((last - first) / size) + 1;
    const plot = {
      left: MARGIN.left,
      right: width - MARGIN.right,
      top: MARGIN.top,
      bottom: height - MARGIN.bottom,
    };
    const slot = (plot.right - plot.left) / Math.max(slots, 1);
    const x = (t) => plot.left + ((t - first) / size + 0.5) * slot;

    let low = Infinity;
    let high = -Infinity;
    let lowText = "";
    let highText = "";
    for (const c of candles) {
      if (Number(c.low) < low) [low, lowText] = [Number(c.low), c.low];
      if (Number(c.high) > high) [high, highText] = [Number(c.high), c.high];
    }
    const pad = (high - low) * 0.08 || Math.max(Math.abs(high) * 0.01, 10 ** -this.decimals);
    const bottom = low - pad;
    const top = high + pad;
    const y = (v) => plot.bottom - ((Number(v) - bottom) / (top - bottom)) * (plot.bottom - plot.top);

    // Price axis: round steps with grid lines.
    const axes = el("g", { class: "chart-axes" });
    const step = priceStep(top - bottom, this.decimals, Math.max(2, Math.floor((plot.bottom - plot.top) / 48)));
    for (let v = Math.ceil(bottom / step) * step; v <= top; v += step) {
      const at = y(v);
      axes.append(el("line", { x1: plot.left, x2: plot.right, y1: at, y2: at, class: "chart-grid" }));
      axes.append(el("text", { x: plot.left - 8, y: at + 4, "text-anchor": "end", class: "chart-label" }, v.toFixed(this.decimals)));
    }
    // Time axis: round steps of at least one interval, as many labels as fit.
    const fit = Math.max(1, Math.floor((plot.right - plot.left) / 96));
    const span = last - first + size;
    const timeStep = TIME_STEPS.find((s) => s >= size && span / s <= fit) ?? TIME_STEPS[TIME_STEPS.length - 1];
    const format = this.timeFormat(timeStep, span);
    for (let t = Math.ceil(first / timeStep) * timeStep; t <= last; t += timeStep) {
      const at = x(t);
      axes.append(el("line", { x1: at, x2: at, y1: plot.bottom, y2: plot.bottom + 5, class: "chart-tick" }));
      axes.append(el("text", { x: at, y: plot.bottom + 19, "text-anchor": "middle", class: "chart-label" }, format.format(t)));
    }
    axes.append(el("line", { x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom, class: "chart-axis" }));
    svg.append(axes);

    // Candles: a wick from low to high, a body from open to close.
    const body = Math.max(1, Math.min(slot * 0.7, 18));
    const marks = el("g", { class: "chart-candles" });
    const when = this.timeFormat(size, span);
    for (const c of candles) {
      const up = Number(c.close) >= Number(c.open);
      const g = el("g", { class: `candle ${up ? "up" : "down"}` });
      const cx = x(c.t);
      const y1 = y(up ? c.close : c.open);
      const y2 = y(up ? c.open : c.close);
      g.append(
        el("title", {}, `${when.format(c.t)}: open ${c.open}, high ${c.high}, low ${c.low}, close ${c.close} ${this.currency}`),
        el("line", { x1: cx, x2: cx, y1: y(c.high), y2: y(c.low), class: "wick" }),
        el("rect", { x: cx - body / 2, y: y1, width: body, height: Math.max(1, y2 - y1), class: "body" }),
      );
      marks.append(g);
    }
    svg.append(marks);
    const newest = candles[candles.length - 1];
    marks.append(el("line", { x1: plot.left, x2: plot.right, y1: y(newest.close), y2: y(newest.close), class: "chart-last" }));

    this.summary.textContent =
      `${candles.length} ${INTERVAL_WORDS[this.interval]} candle${candles.length === 1 ? "" : "s"} ` +
      `from ${when.format(first)} to ${when.format(last)}: ` +
      `low ${lowText}, high ${highText}, latest ${newest.close} ${this.currency}.`;
  }

  timeFormat(step, span) {
    if (step >= DAY) return new Intl.DateTimeFormat(undefined, { year: span > 300 * DAY ? "numeric" : undefined, month: "short", day: "numeric" });
    if (span > DAY) return new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    return new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  }
}
