// /watch/: the shopper's price alerts and standing orders (SPEC §15) with their states; Delete
// (an alert) and Cancel (an open standing order). The page's feed brings the shopper's news:
// a toast, and the lists read again.

import { config, errorText, isLoggedIn, onAuthChange } from "./api.js";
import { PriceFeed } from "./feed.js";
import { followShopper, shopperFeed } from "./notices.js";
import {
  cancelStandingOrder,
  deleteAlert,
  loadList,
  renderAlert,
  renderStandingOrder,
} from "./watchlist.js";

const $ = (selector, root = document) => root.querySelector(selector);
const message = $("#watch-message");
const status = $("#feed-status");

const STATUS_TEXT = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  live: "Live",
  failed: "Live news is not available",
};

const lists = {
  alerts: {
    section: $("#alerts"),
    list: $("#alert-list"),
    empty: $("#alerts-empty"),
    more: $("#alerts-more"),
    path: "/api/alerts/",
    render: (alert) => renderAlert(alert, { onDelete: remove }),
  },
  standing: {
    section: $("#standing-orders"),
    list: $("#standing-list"),
    empty: $("#standing-empty"),
    more: $("#standing-more"),
    path: "/api/standing-orders/",
    render: (order) => renderStandingOrder(order, { onCancel: cancel }),
  },
};

const loads = { alerts: 0, standing: 0 };

async function load(key) {
  const part = lists[key];
  if (!isLoggedIn()) return;
  const mine = ++loads[key]; // the last load wins
  const answer = await loadList(part.path, { max: 200 });
  if (mine !== loads[key] || !isLoggedIn()) return;
  if (!answer.ok) {
    if (answer.status !== 401) message.textContent = answer.error;
    return;
  }
  // Keep the focus where it was when the list is drawn again (a button of the same item).
  const focused = document.activeElement?.closest?.(".watch-item");
  const focusKey = focused && part.list.contains(focused) ? focused.getAttribute("aria-labelledby") : null;
  part.list.replaceChildren(...answer.items.map(part.render));
  part.empty.hidden = answer.items.length > 0;
  part.more.hidden = !answer.more;
  part.section.dataset.loaded = "";
  if (focusKey) {
    const again = part.list.querySelector(`[aria-labelledby="${focusKey}"] button`);
    (again ?? $("h2", part.section)).focus();
  }
}

const loadAll = () => Promise.all([load("alerts"), load("standing")]);

/** After an item's button is gone: the next item's button, else the list's heading. */
function focusAfter(li, section) {
  const next = li.nextElementSibling ?? li.previousElementSibling;
  const target = next?.isConnected ? $("button", next) : null;
  (target ?? $("h2", section)).focus();
}

async function remove(alert, li, button) {
  button.disabled = true;
  const answer = await deleteAlert(alert.id);
  if (answer.ok || answer.status === 404) {
    message.textContent = `The alert for ${alert.goods_name} is deleted.`;
    const next = li.nextElementSibling ?? li.previousElementSibling;
    li.remove();
    lists.alerts.empty.hidden = lists.alerts.list.children.length > 0;
    (next ? $("button", next) : $("#alerts-heading")).focus();
    return;
  }
  button.disabled = false;
  message.textContent = errorText(answer.data, "The alert could not be deleted.");
}

async function cancel(order, li, button) {
  button.disabled = true;
  const answer = await cancelStandingOrder(order.id);
  if (answer.ok) {
    const shown = renderStandingOrder(answer.data, { onCancel: cancel });
    li.replaceWith(shown);
    message.textContent = `The standing order for ${order.goods_name} is cancelled.`;
    const title = $(".watch-title", shown);
    title.tabIndex = -1;
    title.focus(); // its button is gone: keep the keyboard user on this item
    return;
  }
  message.textContent = errorText(answer.data, "The standing order could not be cancelled.");
  // Filled or expired meanwhile (409 invalid_transition): show it as it is now.
  if (answer.status === 409) {
    await load("standing");
    focusAfter(li, lists.standing.section);
  } else button.disabled = false;
}

function showUser() {
  const loggedIn = isLoggedIn();
  $("#watch-guest").hidden = loggedIn;
  for (const part of Object.values(lists)) {
    part.section.hidden = !loggedIn;
    if (!loggedIn) part.list.replaceChildren();
  }
  if (loggedIn) loadAll();
}

// The feed follows no goods here (``goods: []``): it carries the shopper's own messages.
const feed = new PriceFeed({
  path: config.feedPath,
  goods: [],
  onSnapshot: () => {},
  onPrices: () => {},
  onStatus: (state, delay) => {
    status.dataset.state = state;
    $(".feed-text", status).textContent =
      state === "waiting" ? `Connection lost; retrying in ${Math.ceil(delay / 1000)} s` : STATUS_TEXT[state];
  },
  ...shopperFeed({ onPersonal: (news) => load(news.type === "alert" ? "alerts" : "standing") }),
});
followShopper(feed);
onAuthChange((loggedIn, reason) => {
  if (reason) message.textContent = reason;
  showUser();
});

// Standing orders expire on the server's clock: read them again now and then while the page is seen.
setInterval(() => document.visibilityState === "visible" && load("standing"), 60_000);

feed.connect(config.baseCurrency);
showUser();
