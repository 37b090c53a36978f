// The storefront page: wires the board, the feed, the account form, the cart and the orders.

import { api, config, errorText, isLoggedIn, logIn, logOut, me, onAuthChange, register } from "./api.js";
import { Board } from "./board.js";
import { Cart } from "./cart.js";
import { PriceFeed } from "./feed.js";
import { keepCurrency } from "./links.js";
import { followShopper, shopperFeed } from "./notices.js";

const $ = (selector) => document.querySelector(selector);
const CURRENCY_KEY = "tickshop.currency";

const select = $("#currency");
const accountForm = $("#account-form");
const accountMessage = $("#account-message");
const status = $("#feed-status");

const rateOf = (code) => config.currencies.find((c) => c.code === code)?.rate ?? "1";

// --- The board and the feed -------------------------------------------------------

const board = new Board($("#goods"), {
  currency: config.currency,
  onAdd: (goodsId) => {
    if (!isLoggedIn()) {
      accountMessage.textContent = "Log in or register to add goods to your cart.";
      $("#email").focus();
      return;
    }
    cart.add(goodsId);
  },
});

const STATUS_TEXT = {
  connecting: "Connecting to live prices…",
  reconnecting: "Reconnecting…",
  live: "Live",
  failed: "Live prices are not available in this currency",
};

// Only the goods on this page of the board: the feed does not send the rest of the catalog.
const feed = new PriceFeed({
  path: config.feedPath,
  goods: config.goods,
  onSnapshot: (message) => {
    board.apply(message, { flash: true });
    cart.pricesChanged(message.prices.map((p) => p.goods));
  },
  onPrices: (message) => {
    board.apply(message, { flash: true });
    cart.pricesChanged(message.prices.map((p) => p.goods));
  },
  onStock: (message) => board.applyStock(message),
  onStatus: (state, delay) => {
    status.dataset.state = state;
    $(".feed-text", status).textContent =
      state === "waiting" ? `Connection lost; retrying in ${Math.ceil(delay / 1000)} s` : STATUS_TEXT[state];
  },
  // The shopper's news as toasts; a filled standing order is a new order in the list.
  ...shopperFeed({
    known: (id) => (board.rows.has(id) ? board.name(id) : null),
    onPersonal: (news) => news.type === "standing_order.filled" && cart.loadOrders(),
  }),
});
followShopper(feed);

const cart = new Cart({ board, getCurrency: () => select.value });

function useCurrency(code, { chosen = true } = {}) {
  board.setCurrency(code, rateOf(code));
  feed.connect(code);
  cart.refresh();
  if (!chosen) return;
  // The shopper's choice: kept in the address (to share or reload) and for the next visit.
  const url = new URL(location.href);
  url.searchParams.set("currency", code);
  history.replaceState(null, "", url);
  boardShown = boardAddress();
  localStorage.setItem(CURRENCY_KEY, code);
  keepCurrency(code);
}

select.addEventListener("change", () => useCurrency(select.value));

// --- Account -----------------------------------------------------------------

function credentials() {
  const email = $("#email").value.trim();
  const password = $("#password").value;
  if (!email || !password) {
    accountMessage.textContent = "Enter your email and a password.";
    (email ? $("#password") : $("#email")).focus();
    return null;
  }
  return { email, password };
}

async function showUser() {
  const loggedIn = isLoggedIn();
  $("#account-nav").hidden = !loggedIn;
  $("#account").hidden = loggedIn;
  $("#guest-link").hidden = loggedIn;
  if (!loggedIn) {
    cart.stop();
    return;
  }
  cart.start();
  const answer = await me();
  if (answer.ok) {
    $("#whoami").textContent = answer.data.email;
    for (const link of document.querySelectorAll("[data-staff]")) link.hidden = !answer.data.is_staff;
  }
}

onAuthChange((loggedIn, reason) => {
  if (reason) accountMessage.textContent = reason;
  showUser();
  if (!loggedIn) $("#email").focus();
});

accountForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const given = credentials();
  if (!given) return;
  const buttons = accountForm.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    if (event.submitter?.value === "register") {
      const answer = await register(given.email, given.password);
      if (answer.ok) {
        accountMessage.textContent = `Almost there: we sent an activation link to ${given.email}. Open it, then log in here.`;
        $("#resend").hidden = false;
        $("#password").value = "";
      } else {
        accountMessage.textContent = errorText(answer.data);
      }
      return;
    }
    const answer = await logIn(given.email, given.password);
    if (answer.ok) {
      accountMessage.textContent = "";
      $("#password").value = "";
      $("#main").focus();
    } else if (answer.status === 401) {
      accountMessage.textContent =
        "That email and password do not match an active account. New here? Open the activation link we e-mailed you first.";
      $("#resend").hidden = false;
    } else {
      accountMessage.textContent = errorText(answer.data);
    }
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
});

async function sendEmail(path, done) {
  const email = $("#email").value.trim();
  if (!email) {
    accountMessage.textContent = "Enter your email first.";
    $("#email").focus();
    return;
  }
  const answer = await api(path, { method: "POST", body: { email }, auth: false });
  accountMessage.textContent = answer.ok ? done(email) : errorText(answer.data);
}

$("#forgot").addEventListener("click", () =>
  sendEmail("/auth/users/reset_password/", (email) => `If ${email} has an account, a link to choose a new password is on its way.`),
);
$("#resend").addEventListener("click", () =>
  sendEmail(
    "/auth/users/resend_activation/",
    (email) => `If ${email} has an account that still needs activating, a new link is on its way.`,
  ),
);
$("#logout").addEventListener("click", async (event) => {
  const button = event.currentTarget;
  button.disabled = true; // one logout at a time: the server revokes the session's refresh token
  try {
    await logOut("You are logged out.");
  } finally {
    button.disabled = false;
  }
});

// --- Pages of the board: fetched and swapped in, the feed re-subscribed to the goods on screen --

let boardRequest = 0;
// The address of the board page on screen: a popstate for another one (Back, Forward) shows that
// page; one for a link within this page (#cart, #account) must not.
let boardShown = location.pathname + location.search;
const boardAddress = () => location.pathname + location.search;

async function showBoard(url, { push = true } = {}) {
  const mine = ++boardRequest; // the last click wins
  let doc;
  try {
    const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    doc = new DOMParser().parseFromString(await response.text(), "text/html");
  } catch {
    location.assign(url); // let the browser show it, or its error
    return;
  }
  if (mine !== boardRequest) return;
  const next = JSON.parse(doc.body.dataset.config);
  for (const id of ["goods", "board-count", "board-pager"]) {
    $(`#${id}`).replaceWith(doc.getElementById(id));
  }
  for (const id of ["search", "sort"]) $(`#${id}`).value = doc.getElementById(id).value;
  board.load($("#goods"), next.currency);
  feed.subscribe(next.goods);
  board.loadHistory();
  keepCurrency(select.value);
  if (push) history.pushState(null, "", url);
  boardShown = boardAddress();
  // Keyboard and screen-reader users start again at the top of the new page.
  $("#goods-heading").focus();
  $("#goods-heading").scrollIntoView({ block: "start" });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest?.("#board-pager a");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  showBoard(link.getAttribute("href"));
});

$("#board-query").addEventListener("submit", (event) => {
  event.preventDefault();
  const params = new URLSearchParams(new FormData(event.target));
  if (!params.get("search")) params.delete("search");
  if (params.get("sort") === "name") params.delete("sort");
  showBoard(params.size ? `/?${params}` : "/");
});

window.addEventListener("popstate", () => {
  if (boardAddress() !== boardShown) showBoard(boardAddress(), { push: false });
});

// --- Start ---------------------------------------------------------------------

const wanted = new URL(location.href).searchParams.get("currency") || localStorage.getItem(CURRENCY_KEY);
if (wanted && wanted !== select.value && config.currencies.some((c) => c.code === wanted)) select.value = wanted;
useCurrency(select.value, { chosen: false });
board.loadHistory();
showUser();
