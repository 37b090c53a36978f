"""The Grafana dashboard's panels (deploy/grafana/tickshop.json), drawn with matplotlib from a
series of real /metrics scrapes, for places where Grafana cannot run.

    python scripts/metrics_plot.py var/bench-scale-scrapes.jsonl docs/metrics.png

The scrapes are JSON lines ``{"t": unix seconds, "text": <a /metrics answer>}``, as written by
``bench/scale.py --mixed N``. Each panel computes what its PromQL does: ``rate`` and
``increase`` over a sliding window of scrapes, ``histogram_quantile`` by linear interpolation
inside the bucket, sums over the labels the panel drops.
"""

import json
import math
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
WINDOW = 30.0  # seconds: the panels' [1m] on a short run, scraped every 2 s
HIDDEN_ROUTES = {"/metrics", "/healthz"}

Labels = frozenset[tuple[str, str]]
Scrape = dict[tuple[str, Labels], float]


def parse(text: str) -> Scrape:
    samples: Scrape = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = float(s.value)
    return samples


def load(path: Path) -> tuple[list[float], list[Scrape]]:
    times, scrapes = [], []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        times.append(record["t"])
        scrapes.append(parse(record["text"]))
    start = times[0]
    return [t - start for t in times], scrapes


def grouped(scrape: Scrape, name: str, by: tuple[str, ...], where: Callable[[dict[str, str]], bool]) -> dict:
    """sum by (``by``) of the samples called ``name``."""
    out: dict[tuple[str, ...], float] = defaultdict(float)
    for (sample, labels), value in scrape.items():
        if sample != name:
            continue
        as_dict = dict(labels)
        if where(as_dict):
            out[tuple(as_dict.get(k, "") for k in by)] += value
    return out


def everything(_: dict[str, str]) -> bool:
    return True


def visible_route(labels: dict[str, str]) -> bool:
    return labels.get("route") not in HIDDEN_ROUTES


class Series:
    def __init__(self, times: list[float], scrapes: list[Scrape]) -> None:
        self.times, self.scrapes = times, scrapes

    def _window_start(self, i: int) -> int:
        j = i
        while j > 0 and self.times[i] - self.times[j - 1] <= WINDOW:
            j -= 1
        return j

    def increase(self, name: str, by: tuple[str, ...] = (), where=everything) -> dict:  # type: ignore[no-untyped-def]
        """increase(name[WINDOW]) summed by ``by``: {group: [(t, value)]}."""
        out: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
        for i in range(1, len(self.scrapes)):
            j = self._window_start(i)
            if j == i:
                continue
            now, before = grouped(self.scrapes[i], name, by, where), grouped(self.scrapes[j], name, by, where)
            for group, value in now.items():
                delta = value - before.get(group, 0.0)
                out[group].append((self.times[i], max(0.0, delta)))
        return out

    def rate(self, name: str, by: tuple[str, ...] = (), where=everything) -> dict:  # type: ignore[no-untyped-def]
        out: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
        for group, points in self.increase(name, by, where).items():
            for t, delta in points:
                i = self.times.index(t)
                span = self.times[i] - self.times[self._window_start(i)]
                out[group].append((t, delta / span if span else 0.0))
        return out

    def gauge(self, name: str) -> list[tuple[float, float]]:
        return [
            (t, sum(grouped(s, name, (), everything).values()))
            for t, s in zip(self.times, self.scrapes, strict=True)
        ]

    def quantile(self, q: float, name: str, by: tuple[str, ...] = (), where=everything) -> dict:  # type: ignore[no-untyped-def]
        """histogram_quantile(q, sum by (by, le) (rate(name_bucket[WINDOW])))."""
        buckets = self.increase(f"{name}_bucket", (*by, "le"), where)
        per_time: dict[tuple[str, ...], dict[float, list[tuple[float, float]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for group, points in buckets.items():
            *key, le = group
            for t, count in points:
                per_time[tuple(key)][t].append((float(le), count))
        out: dict[tuple[str, ...], list[tuple[float, float]]] = defaultdict(list)
        for key, times in per_time.items():
            for t, pairs in sorted(times.items()):
                value = histogram_quantile(q, sorted(pairs))
                if not math.isnan(value):
                    out[key].append((t, value))
        return out


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' estimate: the bucket holding rank q·total, linear inside it."""
    if not buckets or buckets[-1][1] <= 0:
        return math.nan
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            inside = count - lower_count
            return lower_bound + (bound - lower_bound) * ((rank - lower_count) / inside if inside else 0)
        lower_bound, lower_count = bound, count
    return lower_bound


def draw(ax, series: dict, label: Callable[[tuple[str, ...]], str], scale: float = 1.0) -> None:  # type: ignore[no-untyped-def]
    for group, points in sorted(series.items()):
        if points:
            ax.plot([t for t, _ in points], [v * scale for _, v in points], label=label(group), linewidth=1)


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "var" / "bench-scale-scrapes.jsonl"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "metrics.png"
    times, scrapes = load(source)
    s = Series(times, scrapes)
    titles = [
        p["title"] for p in json.loads((ROOT / "deploy" / "grafana" / "tickshop.json").read_text())["panels"]
    ]
    fig, axes = plt.subplots(4, 2, figsize=(14, 15), sharex=True)
    panels = dict(zip(titles, axes.flat, strict=True))

    ax = panels["Tick duration"]
    draw(ax, s.quantile(0.5, "tickshop_tick_duration_seconds"), lambda g: "p50", 1000)
    draw(ax, s.quantile(0.99, "tickshop_tick_duration_seconds"), lambda g: "p99", 1000)
    ax.set_ylabel("ms")

    ax = panels["Skipped tick slots"]
    draw(ax, s.increase("tickshop_tick_slots_skipped_total"), lambda g: f"skipped in {WINDOW:.0f} s")
    epoch = scrape_epoch(source)
    since = [(t, epoch + t - v) for t, v in s.gauge("tickshop_tick_last_success_timestamp_seconds") if v]
    ax.plot([t for t, _ in since], [v for _, v in since], label="seconds since the last tick", linewidth=1)

    ax = panels["Feed clients"]
    ax.plot(*zip(*s.gauge("tickshop_feed_connections"), strict=True), label="connected", linewidth=1)
    draw(ax, s.increase("tickshop_feed_dropped_total", ("reason",)), lambda g: f"dropped: {g[0]}")

    ax = panels["Feed lag (commit to socket)"]
    draw(ax, s.quantile(0.5, "tickshop_feed_batch_lag_seconds"), lambda g: "p50", 1000)
    draw(ax, s.quantile(0.99, "tickshop_feed_batch_lag_seconds"), lambda g: "p99", 1000)
    ax.set_ylabel("ms")

    ax = panels["Requests per second by route"]
    draw(ax, s.rate("tickshop_http_requests_total", ("route",), visible_route), lambda g: g[0])
    ax.set_ylabel("requests/s")

    ax = panels["p99 by route"]
    draw(ax, s.quantile(0.99, "tickshop_http_request_duration_seconds", ("route",), visible_route),
         lambda g: g[0], 1000)  # fmt: skip
    ax.set_ylabel("ms")

    ax = panels["Orders by outcome"]
    draw(ax, s.rate("tickshop_orders_total", ("outcome",)), lambda g: g[0], 60)
    ax.set_ylabel("per minute")

    ax = panels["429s by limit"]
    draw(ax, s.rate("tickshop_throttled_total", ("scope",)), lambda g: g[0], 60)
    ax.set_ylabel("per minute")

    for title, ax in panels.items():
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    for ax in axes[-1]:
        ax.set_xlabel("seconds into the run")
    fig.suptitle(
        f"tickshop: the Grafana dashboard's panels drawn from {len(scrapes)} real /metrics scrapes "
        f"(matplotlib, not Grafana; windows of {WINDOW:.0f} s)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=90)
    print(f"{target}: {len(titles)} panels from {len(scrapes)} scrapes over {times[-1]:.0f} s")


def scrape_epoch(path: Path) -> float:
    return float(json.loads(path.read_text().splitlines()[0])["t"])


if __name__ == "__main__":
    main()
