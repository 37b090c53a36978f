"""DRF's search and ordering filters with their input bounded.

Each search term becomes a condition on every search field, all in one statement: a
request naming thousands of terms (``?search=e,e,e,…``) cost PostgreSQL seconds to plan and
run, and a burst of them held the database. A search has at most ``SEARCH_MAX_TERMS`` terms
in at most ``SEARCH_MAX_LENGTH`` characters, an ordering at most ``ORDERING_MAX_FIELDS``
fields; past that the answer is 400 with a code, before any query. The schema says so.
"""

from typing import Any

from django.conf import settings
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request

from shop.core.errors import CoreErrorCode, ValidationError

SEARCH_TOO_LONG = "A search has at most {terms} terms and {length} characters."
ORDERING_TOO_LONG = "An ordering names at most {fields} fields."


class LimitedSearchFilter(SearchFilter):
    def get_search_terms(self, request: Request) -> list[str]:
        raw = request.query_params.get(self.search_param, "")
        terms: list[str] = super().get_search_terms(request)  # DRF's own 400 for NUL characters
        if len(raw) > settings.SEARCH_MAX_LENGTH or len(terms) > settings.SEARCH_MAX_TERMS:
            raise ValidationError(
                SEARCH_TOO_LONG.format(terms=settings.SEARCH_MAX_TERMS, length=settings.SEARCH_MAX_LENGTH),
                code=CoreErrorCode.SEARCH_TOO_LONG,
            )
        return terms

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["maxLength"] = settings.SEARCH_MAX_LENGTH
            parameter["description"] += f" At most {settings.SEARCH_MAX_TERMS} terms."
        return parameters


class LimitedOrderingFilter(OrderingFilter):
    def get_ordering(self, request: Request, queryset: Any, view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param, "")
        if raw.count(",") >= settings.ORDERING_MAX_FIELDS:
            raise ValidationError(
                ORDERING_TOO_LONG.format(fields=settings.ORDERING_MAX_FIELDS),
                code=CoreErrorCode.ORDERING_TOO_LONG,
            )
        return super().get_ordering(request, queryset, view)
