"""The feed's subscription rules (shop.realtime.subscription): pure, no database or server."""

import json
from typing import Any

import pytest

from shop.realtime.limits import TOO_MANY_GOODS
from shop.realtime.subscription import (
    BAD_GOODS,
    BAD_GOODS_QUERY,
    MALFORMED,
    UNKNOWN_ACTION,
    UNKNOWN_GOODS,
    FeedRequest,
    FeedRequestError,
    Subscription,
)


def request(limit: int = 3, **message: Any) -> FeedRequest:
    return FeedRequest.of_text(json.dumps(message), limit=limit)


def refused(text: str, limit: int = 3) -> dict[str, Any]:
    with pytest.raises(FeedRequestError) as caught:
        FeedRequest.of_text(text, limit=limit)
    return caught.value.event


def test_a_request_names_goods_or_all_and_keeps_its_id() -> None:
    assert request(action="subscribe", goods=[2, 1, 2], id="x") == FeedRequest(
        action="subscribe", goods=frozenset({1, 2}), echo={"id": "x"}
    )
    assert request(action="subscribe", goods="all") == FeedRequest(action="subscribe", goods=None)
    assert request(action="unsubscribe", goods=[], id=None).echo == {"id": None}
    assert request(action="unsubscribe", goods=[]).echo == {}


def test_an_auth_request_carries_its_token_and_keeps_it_out_of_logs() -> None:
    auth = request(action="auth", token="secret.jwt.value", id=3)
    assert (auth.action, auth.goods, auth.echo, auth.token) == ("auth", None, {"id": 3}, "secret.jwt.value")
    assert "secret" not in repr(auth)
    # a missing or non-string token is one that names nobody; the consumer answers it
    assert request(action="auth").token == ""
    assert request(action="auth", token=["a"]).token == ""


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("{not json", {"type": "error", "detail": MALFORMED}),
        (None, {"type": "error", "detail": MALFORMED}),
        ('[{"id": 1}]', {"type": "error", "detail": MALFORMED}),
        ('{"action": "dance", "id": 5}', {"type": "error", "detail": UNKNOWN_ACTION, "id": 5}),
        ('{"action": "subscribe", "goods": "some"}', {"type": "error", "detail": BAD_GOODS}),
        (
            '{"action": "unsubscribe", "goods": "all", "id": 1}',
            {"type": "error", "detail": BAD_GOODS, "id": 1},
        ),
        ('{"action": "subscribe", "goods": [true]}', {"type": "error", "detail": BAD_GOODS}),
        ('{"action": "subscribe", "goods": ["1"]}', {"type": "error", "detail": BAD_GOODS}),
        ('{"action": "subscribe", "goods": [0]}', {"type": "error", "detail": BAD_GOODS}),
        ('{"action": "subscribe", "goods": [100000000000000000000]}', {"type": "error", "detail": BAD_GOODS}),
        (
            '{"action": "subscribe", "goods": [1, 2, 3, 3], "id": "many"}',
            {
                "type": "error",
                "detail": TOO_MANY_GOODS.format(limit=3),
                "code": "too_many_goods",
                "id": "many",
            },
        ),
    ],
)
def test_bad_requests_are_refused_with_the_error_event(text: str, event: dict[str, Any]) -> None:
    assert refused(text) == event


def test_subscribing_narrows_and_all_widens() -> None:
    # given: a connection that follows every goods
    everything = Subscription()
    assert everything.goods is None

    # when: it subscribes to two goods with a price
    narrowed = everything.apply(request(action="subscribe", goods=[1, 2]), priced={1, 2})

    # then: it follows those only, until it subscribes to "all"
    assert narrowed.goods == {1, 2}
    assert narrowed.apply(request(action="subscribe", goods="all")) == everything


def test_goods_without_a_price_are_refused_and_nothing_changes() -> None:
    narrowed = Subscription(only=frozenset({1}))
    with pytest.raises(FeedRequestError) as caught:
        narrowed.apply(request(action="subscribe", goods=[1, 7, 5], id="r"), priced={1})
    assert caught.value.event == {"type": "error", "detail": UNKNOWN_GOODS, "goods": [5, 7], "id": "r"}
    with pytest.raises(FeedRequestError):
        narrowed.apply(request(action="unsubscribe", goods=[9]), priced=())
    assert narrowed.goods == {1}


def test_unsubscribing_removes_goods_from_a_narrowed_subscription() -> None:
    narrowed = Subscription(only=frozenset({1, 2, 3}))
    assert narrowed.apply(request(action="unsubscribe", goods=[2]), priced={2}).goods == {1, 3}


def test_unsubscribing_from_everything_excludes_without_listing_every_goods() -> None:
    # given: a connection that follows every goods
    # when: it unsubscribes from goods 2, then from goods 3
    after = (
        Subscription()
        .apply(request(action="unsubscribe", goods=[2]), priced={2})
        .apply(request(action="unsubscribe", goods=[3]), priced={3})
    )

    # then: batches are filtered by "every goods but 2 and 3", new goods included
    goods = after.goods
    assert goods is not None
    assert (1 in goods, 2 in goods, 3 in goods, 10**6 in goods) == (True, False, False, True)
    # and subscribing again starts afresh
    assert after.apply(request(action="subscribe", goods=[2]), priced={2}).goods == {2}


def test_the_address_narrows_the_first_subscription() -> None:
    assert Subscription.of_query([], limit=3) == Subscription()
    assert Subscription.of_query(["1,2", "3,,4"], limit=3).goods == {3, 4}  # the last one counts
    assert Subscription.of_query([""], limit=3).goods == set()  # follows nothing until a subscribe
    assert Subscription.of_query(["5,5,5,5"], limit=3).goods == {5}


@pytest.mark.parametrize(
    ("value", "event"),
    [
        ("1,x", {"type": "error", "detail": BAD_GOODS_QUERY, "code": "bad_goods"}),
        ("0", {"type": "error", "detail": BAD_GOODS_QUERY, "code": "bad_goods"}),
        ("1,2,3,4", {"type": "error", "detail": TOO_MANY_GOODS.format(limit=3), "code": "too_many_goods"}),
    ],
)
def test_a_bad_address_is_refused(value: str, event: dict[str, Any]) -> None:
    with pytest.raises(FeedRequestError) as caught:
        Subscription.of_query([value], limit=3)
    assert caught.value.event == event
