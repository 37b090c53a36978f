"""SPEC §5: the e-mail transport comes from EMAIL_URL in django-environ's form."""

import os
import subprocess
import sys
from pathlib import Path

import environ
import pytest
from django.conf import settings

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


def test_filemail_url_selects_the_file_backend() -> None:
    config = environ.Env.email_url_config("filemail:///some/dir")

    assert config["EMAIL_BACKEND"] == FILE_BACKEND
    # django-environ drops the leading "/"; config/settings/email.py puts it back (next tests).
    assert config["EMAIL_FILE_PATH"] == "some/dir"


def run_python(code: str, **environment: str) -> list[str]:
    """Lines printed by ``code`` run in a fresh interpreter, settings read from ``environment``."""
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "SITE_URL")} | environment
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def settings_email(**environment: str) -> list[str]:
    """EMAIL_BACKEND and EMAIL_FILE_PATH as config/settings computes them."""
    code = "import config.settings as s; print(s.EMAIL_BACKEND); print(getattr(s, 'EMAIL_FILE_PATH', ''))"
    return run_python(code, **environment)


@pytest.mark.parametrize(
    ("email_url", "backend"),
    [
        pytest.param("filemail:///var/mail/tickshop", FILE_BACKEND, id="file"),
        pytest.param("consolemail://", "django.core.mail.backends.console.EmailBackend", id="console"),
        pytest.param("smtp://mail.example.com:25", "django.core.mail.backends.smtp.EmailBackend", id="smtp"),
    ],
)
def test_settings_take_the_transport_from_email_url(email_url: str, backend: str) -> None:
    assert settings_email(EMAIL_URL=email_url)[0] == backend


def test_settings_write_filemail_to_the_directory_given(tmp_path: Path) -> None:
    assert settings_email(EMAIL_URL=f"filemail://{tmp_path}") == [FILE_BACKEND, str(tmp_path)]


def test_settings_default_to_the_console() -> None:
    assert settings_email()[0] == "django.core.mail.backends.console.EmailBackend"


def test_email_links_start_with_site_url_even_below_a_path() -> None:
    # given: the shop served below a path prefix
    site_url = "https://shop.example.com/tick"
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
        "from djoser.conf import settings as d; "
        "print(d.EMAIL_FRONTEND_PROTOCOL + '://' + d.EMAIL_FRONTEND_DOMAIN + '/' + d.ACTIVATION_URL); "
        "print(d.EMAIL_FRONTEND_PROTOCOL + '://' + d.EMAIL_FRONTEND_DOMAIN + '/' + d.PASSWORD_RESET_CONFIRM_URL)"
    )

    # when
    activation, reset = run_python(code, SITE_URL=site_url)

    # then: the e-mail templates render "{protocol}://{domain}/{url}"
    assert activation == f"{site_url}/activate/{{uid}}/{{token}}"
    assert reset == f"{site_url}/password-reset/{{uid}}/{{token}}"
