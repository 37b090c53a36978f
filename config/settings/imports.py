"""Goods import in the admin (shop.catalog.resources): what a file may be, checked before it is read.

(django-import-export's own option, IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT, is set in base.)
"""

from config.settings.base import env

# Largest file imported, in bytes (an export of 100,000 goods is about 13 MB as CSV, 3 MB as
# XLSX); an XLSX may also unpack to at most 8 times this.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=32 * 1024 * 1024)
# Most data rows in one file (the header aside), declared (an XLSX's dimension) or counted.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
