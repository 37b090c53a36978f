"""Rendered representations kept in process memory, keyed by what they were made from.

A representation (the JSON of a goods detail, say) changes only when one of the
rows it shows changes. Its key is built from those rows' versions (the goods'
current price id and ``updated_at``, the currency and rate it was converted
at, ...), read from the database on every request: after any write commits,
the next read builds a new key and misses. Nothing expires on a timer and
nothing has to be invalidated, so nothing stale can be served; old keys are
simply never asked for again and fall out of the least-recently-used end.

An entry may say until when its rows are sure to exist (``valid_until``: the
history retention drops old prices without any version changing); it is not
served after that. Each web process has its own (a hit costs no network round trip), holding at
most ``READ_CACHE_ENTRIES`` entries (0 turns it off) and ``READ_CACHE_BYTES`` bytes of them.

A representation is one per URL, and a URL is taken with only the query parameters the view
reads (``query_keep``), in one order: ``?junk=1``, ``?junk=2``, ... are all the URL without them,
answered from one entry, so no client can push the useful entries out by making up parameters.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified, QueryDict
from django.utils import timezone
from rest_framework.request import Request

# A price can change at any moment (a tick, an on-demand generation, a manual price): clients may
# keep a representation but ask again every time, with If-None-Match (an unchanged one costs a 304).
CACHE_CONTROL = "no-cache"


class RepresentationCache:
    """A thread-safe LRU of rendered bytes, bounded in entries and in the bytes of their bodies."""

    def __init__(self, *, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[Hashable, tuple[bytes, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            body, valid_until = entry
            if valid_until is not None and timezone.now() >= valid_until:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes, *, valid_until: datetime | None = None) -> None:
        if self.entries <= 0 or len(body) > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (body, valid_until)
            self.bytes += len(body)
            while len(self._entries) > self.entries or self.bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))  # the least recently used

    def _drop(self, key: Hashable) -> None:
        body, _ = self._entries.pop(key)
        self.bytes -= len(body)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0


def etag_of(key: Hashable) -> str:
    """A strong ETag naming the versions a representation was made from."""
    return '"' + hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``); weak tags compare equal."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


representations = RepresentationCache(
    entries=settings.READ_CACHE_ENTRIES, max_bytes=settings.READ_CACHE_BYTES
)


def query_keep(request: Request, names: Collection[str]) -> None:
    """Take ``request`` as if it named only the query parameters in ``names``, in name order
    (the values of one name in theirs): what a view reads and its links repeat, nothing else.

    Call it before anything reads the query: the view then filters, pages and links (DRF's
    next and previous links copy the request's query string) as for the URL without the
    others, and ``json_response`` keys and tags the answer by that URL.
    """
    params = request.query_params
    query = urlencode(
        [(name, value) for name in sorted(set(params) & set(names)) for value in params.getlist(name)]
    )
    django_request = request._request
    if query != django_request.META.get("QUERY_STRING", ""):
        django_request.META["QUERY_STRING"] = query
        django_request.GET = QueryDict(query)  # immutable, as Django's own


def json_response(
    request: Request, version: Hashable, render: Callable[[], tuple[bytes, datetime | None]]
) -> HttpResponse:
    """The JSON ``render()`` makes, made once per ``version`` of what it shows and per URL
    (taken with the query parameters ``query_keep`` left).

    ``version`` holds everything the representation is made from, as read for this request;
    ``render`` returns the body and, when it has one, its ``valid_until``. The answer carries
    the ETag of both, and is a 304 when the client's ``If-None-Match`` names it.
    """
    etag = etag_of((version, request.build_absolute_uri()))
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        return HttpResponseNotModified(headers=headers)
    body = representations.get(etag)
    if body is None:
        body, valid_until = render()
        representations.put(etag, body, valid_until=valid_until)
    return HttpResponse(body, content_type="application/json", headers=headers)
