from rest_framework import pagination


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Cursor pagination for append-only history, newest first (SPEC §6)."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500
