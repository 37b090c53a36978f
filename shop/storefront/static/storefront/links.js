// Links and forms of a page carry the chosen currency, so the next page shows the same one.

import { config } from "./api.js";

/** Put ``code`` into the board's goods links, its page links and its search form. */
export function keepCurrency(code) {
  const base = config.baseCurrency;
  for (const link of document.querySelectorAll("a.goods-link, a.keeps-currency, .pager a")) {
    const url = new URL(link.href);
    if (code === base) url.searchParams.delete("currency");
    else url.searchParams.set("currency", code);
    link.href = url.pathname + url.search;
  }
  const form = document.getElementById("board-query");
  if (!form) return;
  let field = form.querySelector("input[name=currency]");
  if (code === base) {
    field?.remove();
    return;
  }
  if (!field) {
    field = document.createElement("input");
    field.type = "hidden";
    field.name = "currency";
    form.append(field);
  }
  field.value = code;
}
