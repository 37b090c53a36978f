// The price-history chart of a goods page: candlesticks drawn by TradingView's Lightweight Charts
// (vendored under vendor/lightweight-charts/, see `make vendor`; served by the shop, no CDN).
// It gives the crosshair (time and price under the pointer), zoom and pan over the loaded range,
// the current price line, and the running sale's bounds as price lines.
// Amounts stay the API's strings for everything a shopper reads in the page's text; numbers only
// place the shapes. The chart's state is mirrored in data attributes of its box, for tests and
// for anyone inspecting the page: data-state, data-interval, data-candles, data-last-close,
// data-bounds ("none" or "min max", as drawn), data-marks ("none" or "kind price,…": the shopper's
// open alerts and standing orders, as drawn in the chart's currency), data-range (the bars in view, "from to"), and
// data-pointer (the time of the candle under the pointer).

import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  LineStyle,
  TickMarkType,
  createChart,
} from "./vendor/lightweight-charts/lightweight-charts.standalone.production.mjs";

export const INTERVAL_MS = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 };
const INTERVAL_WORDS = { "1m": "1-minute", "1h": "1-hour", "1d": "1-day" };
const BUFFERED = 64; // live prices kept to replay over candles that were loading

// The library counts time in UTC seconds and labels it in UTC; a shopper reads local time.
const local = (options) => new Intl.DateTimeFormat(undefined, options);
const TICK_FORMATS = {
  [TickMarkType.Year]: local({ year: "numeric" }),
  [TickMarkType.Month]: local({ month: "short" }),
  [TickMarkType.DayOfMonth]: local({ month: "short", day: "numeric" }),
  [TickMarkType.Time]: local({ hour: "2-digit", minute: "2-digit" }),
  [TickMarkType.TimeWithSeconds]: local({ hour: "2-digit", minute: "2-digit", second: "2-digit" }),
};
const POINTER_FORMAT = local({ dateStyle: "medium", timeStyle: "short" });

/** The theme's colours (storefront.css custom properties), so the chart follows the page's style. */
function palette(element) {
  const style = getComputedStyle(element);
  const get = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    ink: get("--ink", "#17202a"),
    muted: get("--muted", "#5b6670"),
    line: get("--line", "#dde3e8"),
    paper: get("--paper", "#ffffff"),
    up: get("--up", "#0a7a36"),
    down: get("--down", "#b42318"),
    accent: get("--accent", "#1d4ed8"),
    bound: get("--chart-bound", "#8a4b00"),
    alert: get("--chart-alert", "#6d28d9"),
    standing: get("--chart-standing", "#0a7a36"),
  };
}

export class PriceChart {
  constructor(box, summary, readout) {
    this.box = box;
    this.summary = summary;
    this.readout = readout;
    this.interval = "1m";
    this.currency = "";
    this.decimals = 2;
    this.candles = []; // [{t: ms, open, high, low, close}] with amounts as strings
    this.buffer = []; // live prices [{t, price}] seen since the last load began
    this.loading = true;
    this.bounds = null; // {min, max} in the chart's currency, as strings; null: no running sale
    this.boundLines = [];
    this.marks = []; // [{kind: "alert"|"standing", price, title}] in the chart's currency
    this.markLines = [];
    const colors = palette(box);
    this.colors = colors;
    this.chart = createChart(box, {
      autoSize: true, // follows the box's size (a ResizeObserver inside the library)
      layout: {
        background: { type: ColorType.Solid, color: colors.paper },
        textColor: colors.muted,
        fontSize: 12,
        // The library's logo brings an inline <style>, which the page's CSP refuses; the page
        // credits TradingView in a link below the chart instead.
        attributionLogo: false,
      },
      grid: { vertLines: { color: colors.line }, horzLines: { color: colors.line } },
      crosshair: { mode: CrosshairMode.Normal }, // free: the price exactly under the pointer
      rightPriceScale: { borderColor: colors.line },
      timeScale: {
        borderColor: colors.line,
        timeVisible: true,
        secondsVisible: false,
        // Zoom and pan stay over the loaded range.
        fixLeftEdge: true,
        fixRightEdge: true,
        tickMarkFormatter: (time, type) => TICK_FORMATS[type]?.format(time * 1000) ?? "",
      },
      localization: { timeFormatter: (time) => POINTER_FORMAT.format(time * 1000) },
      handleScroll: true,
      handleScale: true,
    });
    this.series = this.chart.addSeries(CandlestickSeries, {
      upColor: colors.up,
      downColor: colors.down,
      borderUpColor: colors.up,
      borderDownColor: colors.down,
      wickUpColor: colors.up,
      wickDownColor: colors.down,
      // The current price: a line across the chart and its label on the price axis.
      priceLineVisible: true,
      priceLineColor: colors.accent,
      lastValueVisible: true,
      // The sale's bounds stay in view: the price axis covers them as well as the candles.
      autoscaleInfoProvider: (original) => this.withBounds(original()),
    });
    this.chart.subscribeCrosshairMove((param) => this.pointed(param));
    // What zoom and pan show (bar indexes from..to), for tests and the curious.
    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range) box.dataset.range = `${range.from.toFixed(1)} ${range.to.toFixed(1)}`;
    });
    box.dataset.bounds = "none";
    box.dataset.marks = "none";
  }

  /** A new interval or currency is on its way: live prices from now on are replayed over it. */
  begin(interval, currency, decimals) {
    const changed = currency !== this.currency;
    this.interval = interval;
    this.currency = currency;
    this.decimals = decimals;
    this.loading = true;
    this.buffer = [];
    if (changed) {
      // bounds and marks in the old currency no longer fit
      this.setBounds(null);
      this.setMarks([]);
    }
    this.series.applyOptions({
      priceFormat: { type: "price", precision: decimals, minMove: 10 ** -decimals },
    });
    this.box.dataset.state = "loading";
    this.box.dataset.interval = interval;
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
    this.series.setData(this.candles.map((c) => this.bar(c)));
    this.chart.timeScale().fitContent();
    this.described();
  }

  failed(text) {
    this.loading = false;
    this.candles = [];
    this.series.setData([]);
    this.box.dataset.state = "error";
    this.box.dataset.candles = "0";
    this.summary.textContent = text;
  }

  /** A live price of the goods (feed, in the chart's currency): the newest candle follows it. */
  add(t, price) {
    if (!Number.isFinite(t) || price === null || price === undefined) return;
    this.buffer.push({ t, price });
    if (this.buffer.length > BUFFERED) this.buffer.shift();
    if (this.loading) return;
    if (!this.merge(t, price)) return;
    this.series.update(this.bar(this.candles[this.candles.length - 1]));
    if (this.candles.length === 1) this.chart.timeScale().fitContent();
    this.described();
  }

  /** The running sale's bounds in the chart's currency ({min, max} as decimal strings), or null
   * when no sale runs for the goods. */
  setBounds(bounds) {
    for (const line of this.boundLines) this.series.removePriceLine(line);
    this.boundLines = [];
    this.bounds = bounds;
    this.box.dataset.bounds = bounds ? `${bounds.min} ${bounds.max}` : "none";
    if (bounds) {
      const line = (price, title) =>
        this.series.createPriceLine({
          price,
          title,
          color: this.colors.bound,
          lineWidth: 1,
          lineStyle: LineStyle.Dashed,
          axisLabelVisible: true,
        });
      this.boundLines = [line(Number(bounds.min), "Sale min"), line(Number(bounds.max), "Sale max")];
    }
    if (!this.loading) this.described();
  }

  /** The shopper's open alerts and standing orders of this goods as dotted lines: ``marks`` are
   * {kind: "alert"|"standing", price (a decimal string in the chart's currency), title}. */
  setMarks(marks) {
    for (const line of this.markLines) this.series.removePriceLine(line);
    this.marks = marks;
    this.box.dataset.marks = marks.length ? marks.map((m) => `${m.kind} ${m.price}`).join(",") : "none";
    this.markLines = marks.map((m) =>
      this.series.createPriceLine({
        price: Number(m.price),
        title: m.title,
        color: m.kind === "alert" ? this.colors.alert : this.colors.standing,
        lineWidth: 1,
        lineStyle: LineStyle.Dotted,
        axisLabelVisible: true,
      }),
    );
    if (!this.loading) this.described();
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

  bar(c) {
    return {
      time: c.t / 1000,
      open: Number(c.open),
      high: Number(c.high),
      low: Number(c.low),
      close: Number(c.close),
    };
  }

  /** The price axis covers the sale's bounds and the shopper's lines as well as the candles. */
  withBounds(range) {
    const levels = [
      ...(this.bounds ? [Number(this.bounds.min), Number(this.bounds.max)] : []),
      ...this.marks.map((m) => Number(m.price)),
    ];
    if (!range || levels.length === 0) return range;
    return {
      ...range,
      priceRange: {
        minValue: Math.min(range.priceRange.minValue, ...levels),
        maxValue: Math.max(range.priceRange.maxValue, ...levels),
      },
    };
  }

  /** The candle under the pointer, in words (the crosshair's axis labels give time and price). */
  pointed(param) {
    const bar = param.time === undefined ? null : param.seriesData.get(this.series);
    if (!bar || param.point === undefined) {
      this.readout.textContent = "";
      delete this.box.dataset.pointer;
      return;
    }
    const price = this.series.coordinateToPrice(param.point.y);
    const c = this.candles.find((candle) => candle.t === param.time * 1000);
    const ohlc = c ? `open ${c.open}, high ${c.high}, low ${c.low}, close ${c.close}` : "";
    const at = price === null ? "" : ` · pointer at ${price.toFixed(this.decimals)} ${this.currency}`;
    this.readout.textContent = `${POINTER_FORMAT.format(param.time * 1000)}: ${ohlc}${at}`;
    this.box.dataset.pointer = String(param.time);
  }

  /** The summary under the chart (what a screen reader hears for it) and the data attributes. */
  described() {
    const candles = this.candles;
    this.box.dataset.candles = String(candles.length);
    if (candles.length === 0) {
      this.box.dataset.state = "empty";
      delete this.box.dataset.lastClose;
      this.summary.textContent = `No prices in this period yet (${INTERVAL_WORDS[this.interval]} candles).`;
      return;
    }
    this.box.dataset.state = "ready";
    let [lowText, highText] = [candles[0].low, candles[0].high];
    for (const c of candles) {
      if (Number(c.low) < Number(lowText)) lowText = c.low;
      if (Number(c.high) > Number(highText)) highText = c.high;
    }
    const newest = candles[candles.length - 1];
    this.box.dataset.lastClose = newest.close;
    const when = local(
      this.interval === "1d"
        ? { month: "short", day: "numeric" }
        : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" },
    );
    const bounds = this.bounds
      ? ` The running sale keeps the price between ${this.bounds.min} and ${this.bounds.max} ${this.currency}.`
      : "";
    const marks = this.marks.length
      ? ` Dotted lines: your open ${this.marks.map((m) => `${m.title} (${m.price} ${this.currency})`).join(", ")}.`
      : "";
    this.summary.textContent =
      `${candles.length} ${INTERVAL_WORDS[this.interval]} candle${candles.length === 1 ? "" : "s"} ` +
      `from ${when.format(candles[0].t)} to ${when.format(newest.t)}: ` +
      `low ${lowText}, high ${highText}, latest ${newest.close} ${this.currency}.${bounds}${marks}`;
  }
}
