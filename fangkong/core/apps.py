from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "fangkong.core"
    label = "core"

    def ready(self) -> None:
        # Outside demo/debug/test, refuse to start without real keys: generating a key
        # silently would make already-encrypted data unreadable on the next machine.
        if not settings.FANGKONG_GENERATE_KEYS:
            from fangkong.core.crypto import load_keyring

            load_keyring(generate=False)
