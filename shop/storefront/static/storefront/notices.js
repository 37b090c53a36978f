// The shopper's own news on any open page (SPEC §15): a price alert that fired, a standing order
// filled. The page's feed is authenticated as the logged-in shopper (now, after each reconnection,
// after each token refresh) and its personal messages become toasts in one polite live region.

import { accessToken, api, isLoggedIn, onAuthChange, onToken, refresh } from "./api.js";

const $ = (selector, root = document) => root.querySelector(selector);
const MAX_TOASTS = 5;
const DIRECTION_WORDS = { below: "at or below", above: "at or above" };

let region = null;
let count = 0;

/** The live region the toasts go into: there before the first toast, so that it is announced. */
function toasts() {
  if (!region) {
    region = document.createElement("div");
    region.className = "toasts";
    region.id = "toasts";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.append(region);
  }
  return region;
}

/** One toast: a title, a sentence and a link; it stays until dismissed (no time limit to read it). */
export function toast({ kind, title, text, link }) {
  const box = document.createElement("div");
  const id = `toast-${++count}`;
  box.className = "toast";
  box.dataset.kind = kind;
  const heading = document.createElement("p");
  heading.className = "toast-title";
  heading.id = `${id}-title`;
  heading.textContent = title;
  const body = document.createElement("p");
  body.className = "toast-text";
  body.append(text);
  if (link) {
    const a = document.createElement("a");
    a.href = link.href;
    a.textContent = link.text;
    body.append(" ", a);
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "link-button toast-close";
  close.textContent = "Dismiss";
  close.setAttribute("aria-describedby", heading.id);
  close.addEventListener("click", () => box.remove());
  box.append(heading, body, close);
  const list = toasts();
  list.append(box);
  while (list.children.length > MAX_TOASTS) list.firstElementChild.remove();
  return box;
}

/** The goods' name, from the alert or standing order the message names (its own API knows it). */
async function goodsName(path, goodsId, known) {
  if (known(goodsId)) return known(goodsId);
  const answer = await api(path);
  return answer.ok && answer.data.goods_name ? answer.data.goods_name : `Goods #${goodsId}`;
}

async function announce(message, known) {
  if (message.type === "alert") {
    const name = await goodsName(`/api/alerts/${message.alert}/`, message.goods, known);
    const words = DIRECTION_WORDS[message.direction] ?? message.direction;
    toast({
      kind: "alert",
      title: "Price alert",
      text: `${name} is at ${message.value} ${message.currency}: ${words} your ${message.price} ${message.currency}.`,
      link: { href: "/watch/", text: "See your alerts" },
    });
  } else if (message.type === "standing_order.filled") {
    const name = await goodsName(`/api/standing-orders/${message.standing_order}/`, message.goods, known);
    toast({
      kind: "filled",
      title: "Standing order filled",
      text:
        `You bought ${message.quantity} × ${name} at ${message.unit_price} ${message.currency} a unit ` +
        `(your limit: ${message.limit_price} ${message.currency}).`,
      link: { href: `/#order-${message.order}`, text: `See order #${message.order}` },
    });
  }
}

/**
 * PriceFeed options that make a page's feed the shopper's: ``known(goodsId)`` names goods the
 * page shows (else the API is asked), ``onPersonal`` is told after the toast (a page that lists
 * alerts reloads them). Pass the feed to ``followShopper`` once it exists.
 */
export function shopperFeed({ known = () => null, onPersonal = () => {} } = {}) {
  return {
    auth: accessToken,
    // The server refused the token (it expired while the tab slept, say): a new one, once.
    onAuthFailed: () => isLoggedIn() && refresh().catch(() => {}),
    onAuth: (user) => {
      const status = $("#feed-status");
      if (!status) return;
      // Who the feed knows this page as: for tests and the curious.
      if (user === null) delete status.dataset.user;
      else status.dataset.user = String(user);
    },
    onPersonal: (message) => {
      announce(message, known).catch((error) => console.error(error));
      onPersonal(message);
    },
  };
}

/** Keep ``feed`` authenticated as whoever is logged in: a new token is sent on the open
 * connection; logging out reconnects without one. */
export function followShopper(feed) {
  toasts();
  onToken(() => feed.authenticate());
  onAuthChange((loggedIn) => {
    if (!loggedIn && feed.socket) feed.connect(feed.currency);
  });
}
