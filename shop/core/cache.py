"""Rendered representations kept in process memory, keyed by what they were made from.

A representation (the JSON of a goods detail, say) changes only when one of the
rows it shows changes, or the code that renders it. Its key is built from those
rows' versions, which the database moves on at every UPDATE of a row (the goods'
and its running sale's ``version``, the currency and rate it was converted at,
...), read on every request, and from the fingerprint of its serializer
(``shop.core.fingerprint``): after any write commits, the next read builds a new
key and misses, and a field added to the serializer changes every key. Nothing
expires on a timer and nothing has to be invalidated, so nothing stale can be
served; old keys are simply never asked for again and fall out of the
least-recently-used end. ETags are the keys' digests, and If-None-Match is
answered by Django's ``get_conditional_response``.

An entry may say until when its rows are sure to exist (``valid_until``: the
history retention drops old prices without any version changing); it is not
served after that. Each web process has its own (a hit costs no network round trip), holding at
most ``READ_CACHE_ENTRIES`` entries (0 turns it off) and ``READ_CACHE_BYTES`` bytes of them.

A representation is one per URL, and a URL is taken with only the query parameters the view
reads (``query_keep``), in one order: ``?junk=1``, ``?junk=2``, ... are all the URL without them,
answered from one entry, so no client can push the useful entries out by making up parameters.
"""

import hashlib
import math
import threading
from collections.abc import Callable, Collection, Hashable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from cachetools import TLRUCache
from django.conf import settings
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer

from shop.core.fingerprint import serializer_fingerprint

# A price can change at any moment (a tick, an on-demand generation, a manual price): clients may
# keep a representation but ask again every time, with If-None-Match (an unchanged one costs a 304).
CACHE_CONTROL = "no-cache"


# A rendered representation and its valid_until. (Named: in the class, ``bytes`` is the cache's size.)
Body = bytes
Entry = tuple[Body, datetime | None]


def _valid_until(_key: Hashable, entry: Entry, _now: float) -> float:
    return math.inf if entry[1] is None else entry[1].timestamp()


def _body_size(entry: Entry) -> int:
    return len(entry[0])


class RepresentationCache:
    """A thread-safe LRU of rendered bytes (cachetools' ``TLRUCache``, which drops an entry at its
    ``valid_until``), bounded in entries and in the bytes of their bodies."""

    _entries: "TLRUCache[Hashable, Entry]"

    def __init__(self, *, entries: int, max_bytes: int) -> None:
        self.entries = entries
        self._lock = threading.Lock()  # the web serves sync views on a thread pool; cachetools has no lock
        self.max_bytes = max_bytes

    @property
    def max_bytes(self) -> int:
        return int(self._entries.maxsize)

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        """A new bound starts an empty cache."""
        with self._lock:
            self._entries = TLRUCache(
                maxsize=value,
                ttu=_valid_until,
                timer=lambda: timezone.now().timestamp(),
                getsizeof=_body_size,
            )

    @property
    def bytes(self) -> int:
        with self._lock:  # reading drops the entries past their valid_until
            return int(self._entries.currsize)

    def get(self, key: Hashable) -> Body | None:
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: Hashable, body: Body, *, valid_until: datetime | None = None) -> None:
        if self.entries <= 0 or len(body) > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = (body, valid_until)  # the cache evicts to fit the bytes
            while len(self._entries) > self.entries:  # and the entries, a bound it has not
                self._entries.popitem()  # the least recently used

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def etag_of(key: Hashable) -> str:
    """A strong ETag naming the versions a representation was made from."""
    return quote_etag(hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest())


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
    request: Request,
    *,
    serializer: type[BaseSerializer[Any]],
    version: Hashable,
    render: Callable[[], tuple[bytes, datetime | None]],
) -> HttpResponse:
    """The JSON ``render()`` makes with ``serializer``, made once per ``version`` of what it shows,
    per URL (taken with the query parameters ``query_keep`` left) and per fingerprint of the
    serializer.

    ``version`` holds the versions of everything the representation is made from, as read for
    this request; ``render`` returns the body and, when it has one, its ``valid_until``. The
    answer carries the ETag of all three, and is a 304 when the client's ``If-None-Match`` names
    it (412 when an ``If-Match`` does not).
    """
    etag = etag_of((serializer_fingerprint(serializer), version, request.build_absolute_uri()))
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    conditional = get_conditional_response(request._request, etag=etag)
    if conditional is not None:
        for name, value in headers.items():
            conditional.headers[name] = value
        return conditional
    body = representations.get(etag)
    if body is None:
        body, valid_until = render()
        representations.put(etag, body, valid_until=valid_until)
    return HttpResponse(body, content_type="application/json", headers=headers)
