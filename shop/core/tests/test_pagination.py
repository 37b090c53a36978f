"""Pages: limit, offset and cursor are checked before any query, and documented with their ranges."""

from base64 import b64encode
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.pagination import Cursor
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from shop.core.errors import ValidationError
from shop.core.ids import MAX_ID
from shop.core.pagination import (
    INVALID_CURSOR,
    INVALID_LIMIT,
    INVALID_OFFSET,
    LimitOffsetPagination,
    NewestFirstCursorPagination,
    cursor_position,
)

NOT_WHOLE_NUMBERS = ["-1", "+5", "1e3", "1.0", " 5", "5 ", "٣", "1_000", "0x10", "\x00", "abc", "9" * 5000]


def request(**query: str) -> Request:
    return Request(APIRequestFactory().get("/", query))


def encoded(querystring: str) -> str:
    return b64encode(querystring.encode()).decode()


@pytest.mark.parametrize(("value", "expected"), [("", 50), ("1", 1), ("500", 500), ("007", 7)])
def test_a_limit_is_a_whole_number_from_1_to_500(value: str, expected: int) -> None:
    assert LimitOffsetPagination().get_limit(request(limit=value)) == expected
    assert NewestFirstCursorPagination().get_page_size(request(limit=value)) == expected
    assert LimitOffsetPagination().get_limit(request()) == 50


@pytest.mark.parametrize("value", ["0", "501", str(MAX_ID), str(MAX_ID + 1), *NOT_WHOLE_NUMBERS])
def test_any_other_limit_is_refused(value: str) -> None:
    for read in (LimitOffsetPagination().get_limit, NewestFirstCursorPagination().get_page_size):
        with pytest.raises(ValidationError) as refused:
            read(request(limit=value))
        assert (refused.value.message, refused.value.code) == (INVALID_LIMIT, "invalid_limit")


@pytest.mark.parametrize(("value", "expected"), [("", 0), ("0", 0), ("50", 50), (str(MAX_ID), MAX_ID)])
def test_an_offset_is_a_whole_number_from_0_to_the_largest_bigint(value: str, expected: int) -> None:
    assert LimitOffsetPagination().get_offset(request(offset=value)) == expected


@pytest.mark.parametrize("value", [str(MAX_ID + 1), "99999999999999999999999", *NOT_WHOLE_NUMBERS])
def test_any_other_offset_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        LimitOffsetPagination().get_offset(request(offset=value))
    assert (refused.value.message, refused.value.code) == (INVALID_OFFSET, "invalid_offset")


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("2026-01-01 00:00:00.123456+00:00", "2026-01-01 00:00:00.123456+00:00"),  # as the shop writes it
        ("2026-01-01T00:00:00Z", "2026-01-01 00:00:00+00:00"),
        ("2026-01-01T00:00:00-19:28", None),  # Python takes it, PostgreSQL does not
        ("2026-01-01T00:00:00+01:00", None),
        ("2026-01-01T00:00:00", None),
        ("2026-13-01T00:00:00Z", None),
        ("2026-01-01T00:00:00+99:00", None),
        ("garbage", None),
        ("", None),
        ("\x00", None),
    ],
)
def test_a_cursor_position_is_a_date_time_in_utc(position: str, expected: str | None) -> None:
    assert cursor_position(position) == expected


@pytest.mark.parametrize(
    "cursor",
    [
        encoded("p=garbage"),
        encoded("p=2026-01-01T00:00:00-19:28"),
        encoded("o=-1"),
        encoded("o=" + "9" * 5000),
        encoded("r=x"),
        "not base64!",
        "é",
        "cD1",  # cut short
    ],
)
def test_a_cursor_the_shop_did_not_write_is_invalid(cursor: str) -> None:
    with pytest.raises(ValidationError) as refused:
        NewestFirstCursorPagination().decode_cursor(request(cursor=cursor))
    assert (refused.value.message, refused.value.code) == (INVALID_CURSOR, "invalid_cursor")


def test_a_cursor_the_shop_wrote_reads_back() -> None:
    paginator = NewestFirstCursorPagination()
    paginator.base_url = "http://testserver/api/prices/"
    written = Cursor(offset=3, reverse=True, position="2026-01-01 00:00:00.123456+00:00")  # type: ignore[arg-type]
    link = paginator.encode_cursor(written)
    cursor = parse_qs(urlsplit(link).query)["cursor"][0]
    assert paginator.decode_cursor(request(cursor=cursor)) == written
    assert paginator.decode_cursor(request(cursor="")) == Cursor(offset=0, reverse=False, position=None)
    assert paginator.decode_cursor(request()) is None


@pytest.mark.django_db  # the schema's generation reads the database (the goods' currency quote)
def test_the_schema_documents_the_ranges_of_pages(schema: dict[str, Any]) -> None:
    ranges = {
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "offset": {"type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_ID, "default": 0},
        "cursor": {"type": "string"},
    }
    seen = set()
    # Not pages: /api/prices/recent/'s limit is how many prices of each goods (1 to 50).
    not_paged = {"/api/prices/recent/"}
    for path, operations in schema["paths"].items():
        if path in not_paged:
            continue
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in ranges:
                assert parameter["schema"] == ranges[parameter["name"]], (path, parameter)
                seen.add((path, parameter["name"]))
    assert {("/api/goods/", "offset"), ("/api/goods/", "limit"), ("/api/prices/", "cursor")} <= seen
    assert ("/api/prices/", "offset") not in seen
    # an invalid cursor is a 400; the history's list names no object, so it has no 404
    assert "404" not in schema["paths"]["/api/prices/"]["get"]["responses"]
