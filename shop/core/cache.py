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
served after that. Each web process has its own (a hit costs no network round trip); the size is
``READ_CACHE_ENTRIES`` per process, 0 turns it off.
"""

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from rest_framework.request import Request

# A price can change at any moment (a tick, an on-demand generation, a manual price): clients may
# keep a representation but ask again every time, with If-None-Match (an unchanged one costs a 304).
CACHE_CONTROL = "no-cache"


class RepresentationCache:
    """A thread-safe LRU of rendered bytes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[bytes, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            body, valid_until = entry
            if valid_until is not None and timezone.now() >= valid_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes, *, valid_until: datetime | None = None) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = (body, valid_until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def etag_of(key: Hashable) -> str:
    """A strong ETag naming the versions a representation was made from."""
    return '"' + hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``); weak tags compare equal."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


representations = RepresentationCache(settings.READ_CACHE_ENTRIES)


def json_response(
    request: Request, version: Hashable, render: Callable[[], tuple[bytes, datetime | None]]
) -> HttpResponse:
    """The JSON ``render()`` makes, made once per ``version`` of what it shows and per URL.

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
