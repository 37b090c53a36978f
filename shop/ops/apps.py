from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Start-up and wiring: migrate, demo data, serve, the ASGI lifespan, the uvicorn protocol.

    It sits above every other app and may import any of them; no app imports it.
    """

    name = "shop.ops"
    label = "ops"

    def ready(self) -> None:
        # First of INSTALLED_APPS: the folders are in place before other apps' ready() use them.
        from shop.ops.installation import installation_prepare

        installation_prepare()
