"""The cache and the channel layer: Redis in stack mode, this process's memory in embedded mode."""

from urllib.parse import urlsplit

from config.settings.base import REDIS_URL, env

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one connection pool per process instead of one per request.
            "BACKEND": "shop.core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Redis pub/sub channels ignore the database number: the prefix keeps two
    # deployments (or test runs) on one Redis server from hearing each other.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env.str(
                    "CHANNELS_PREFIX", default=f"tickshop{urlsplit(REDIS_URL).path.strip('/') or 0}"
                ),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
