// The live price feed (SPEC §7): reconnects with backoff, resynchronises on a gap in seq (prices)
// or stock_seq (stock levels, SPEC §13).
// A page that shows some goods only asks for those (``goods``), from the first message on.
// A page of a logged-in shopper authenticates its connection (SPEC §15) by a first message
// {"action": "auth", "token": …} (``auth`` gives the token), again after each reconnection and
// whenever the page has a new token (``authenticate``); the shopper's own messages (a price alert
// that fired, a standing order filled) go to ``onPersonal``.

const MAX_DELAY_MS = 30_000;

export class PriceFeed {
  constructor({
    path,
    goods = null,
    onSnapshot,
    onPrices,
    onStock = () => {},
    onStatus,
    auth = null,
    onAuth = () => {},
    onAuthFailed = () => {},
    onPersonal = () => {},
  }) {
    this.path = path;
    this.goods = goods; // ids, or null for every goods
    this.onSnapshot = onSnapshot;
    this.onPrices = onPrices;
    this.onStock = onStock;
    this.onStatus = onStatus;
    this.auth = auth; // async () => access token or null
    this.onAuth = onAuth; // (user id, or null when the connection is anonymous)
    this.onAuthFailed = onAuthFailed;
    this.onPersonal = onPersonal;
    this.authSent = 0;
    this.authRetried = false;
    this.socket = null;
    this.timer = null;
    this.attempt = 0;
    this.seq = null;
    this.stockSeq = null;
    this.currency = null;
    this.resyncs = 0;
    window.addEventListener("online", () => this.timer && this.open());
  }

  /** (Re)connect in ``currency``; an earlier connection is closed without a retry. */
  connect(currency) {
    this.currency = currency;
    this.attempt = 0;
    this.open();
  }

  open() {
    this.stop();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let url = `${scheme}://${location.host}${this.path}?currency=${encodeURIComponent(this.currency)}`;
    if (this.goods !== null) url += `&goods=${this.goods.join(",")}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.seq = null;
    this.stockSeq = null;
    this.authRetried = false;
    this.onAuth(null);
    this.onStatus(this.attempt ? "reconnecting" : "connecting");
    socket.addEventListener("open", () => this.socket === socket && this.authenticate());
    socket.addEventListener("message", (event) => this.socket === socket && this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return; // replaced on purpose
      this.socket = null;
      if (event.code === 4400) {
        this.onStatus("failed"); // the server refused this currency: retrying cannot help
        return;
      }
      this.retry();
    });
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000);
  }

  retry() {
    // 1, 2, 4 … 30 s, with jitter so that a restarted server is not hit by every client at once.
    const delay = Math.round(Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt) * (0.5 + Math.random() / 2));
    this.attempt += 1;
    this.onStatus("waiting", delay);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, delay);
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    switch (message.type) {
      case "snapshot":
        this.attempt = 0;
        this.seq = this.seq === null ? message.seq : Math.max(this.seq, message.seq);
        if (typeof message.stock_seq === "number") {
          this.stockSeq = this.stockSeq === null ? message.stock_seq : Math.max(this.stockSeq, message.stock_seq);
        }
        this.onStatus("live");
        this.onSnapshot(message);
        break;
      case "prices":
        if (this.seq !== null && message.seq > this.seq + 1) this.resync();
        if (this.seq === null || message.seq > this.seq) this.seq = message.seq;
        this.onPrices(message);
        break;
      case "stock":
        if (this.stockSeq !== null && message.stock_seq > this.stockSeq + 1) this.resync();
        if (this.stockSeq === null || message.stock_seq > this.stockSeq) this.stockSeq = message.stock_seq;
        this.onStock(message);
        break;
      case "heartbeat":
        // A batch or a stock message went missing.
        if (
          (this.seq !== null && message.seq > this.seq) ||
          (this.stockSeq !== null && message.stock_seq > this.stockSeq)
        ) {
          this.resync();
        }
        break;
      case "auth":
        this.onAuth(message.user ?? null);
        break;
      case "alert":
      case "standing_order.filled":
        this.onPersonal(message);
        break;
      case "error":
        if (typeof message.id === "string" && message.id.startsWith("auth-")) {
          // Refused token (expired while the tab slept, say): the page may get a new one, once
          // per connection; a refusal without a code (a server without auth) is left alone.
          this.onAuth(null);
          if (message.code && !this.authRetried) {
            this.authRetried = true;
            this.onAuthFailed(message);
          }
          break;
        }
        // A goods of ours left the shop since the page was drawn: start over with a new connection,
        // which takes any ids (the subscribe action refuses unknown ones).
        if (typeof message.id === "string" && message.id.startsWith("feed-")) this.open();
        break;
      default:
        break; // types we do not know
    }
  }

  /** Tell the server who is listening (no-op without a token or an open connection). */
  async authenticate() {
    if (!this.auth) return;
    const socket = this.socket;
    const token = await this.auth();
    if (!token || socket !== this.socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ action: "auth", token, id: `auth-${++this.authSent}` }));
  }

  /** Follow these goods from now on (null: every goods); answered by a snapshot of them. */
  subscribe(goods) {
    this.goods = goods;
    this.send(goods ?? "all", `feed-subscribe-${++this.resyncs}`);
  }

  /** A batch went missing: ask for a fresh snapshot of our goods. */
  resync() {
    this.resyncs += 1;
    this.send(this.goods ?? "all", `feed-resync-${this.resyncs}`);
  }

  send(goods, id) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ action: "subscribe", goods, id }));
    }
  }
}
