// Stock on the page (SPEC §13): "Only N left" up to LOW_STOCK_AT, "Sold out" at 0, as the server
// renders it (storefront/views.py stock_note); kept live by the feed's stock messages.

import { config } from "./api.js";

/** {state, text} for ``available`` (null: not tracked). */
export function stockNote(available) {
  if (available === null || available === undefined) return { state: "", text: "" };
  if (available <= 0) return { state: "out", text: "Sold out" };
  if (available <= (config.lowStockAt ?? 5)) return { state: "low", text: `Only ${available} left` };
  return { state: "in", text: "" };
}

/**
 * The level shown by one element (a board row's or the goods page's ``.stock``), ordered by the
 * goods' row version: the feed may bring two levels of one goods out of order, the older is dropped.
 */
export class StockLevel {
  constructor(el) {
    this.el = el;
    const shown = el?.dataset.available ?? "";
    this.available = shown === "" ? null : Number(shown);
    this.version = null; // unknown until the feed names one
  }

  get soldOut() {
    return this.available === 0;
  }

  /** A level from the feed; false when it is older than the one shown. */
  set(available, version) {
    if (version !== undefined && version !== null && this.version !== null && version < this.version) return false;
    this.version = version ?? null;
    this.available = available;
    if (this.el) {
      const note = stockNote(available);
      this.el.dataset.available = available === null ? "" : String(available);
      this.el.dataset.state = note.state;
      if (this.el.textContent !== note.text) this.el.textContent = note.text;
    }
    return true;
  }
}

/** The goods a 409 insufficient_stock names, as sentences: "Desk lamp: only 1 available." */
export function shortages(data, nameOf) {
  return (data?.goods ?? []).map(({ goods, available }) =>
    available > 0 ? `${nameOf(goods)}: only ${available} available.` : `${nameOf(goods)}: sold out.`,
  );
}
