from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "shop.realtime"
    label = "realtime"
