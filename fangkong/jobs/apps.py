from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "fangkong.jobs"
    label = "jobs"

    def ready(self) -> None:
        # Import `<app>.jobs` of every installed app so their handlers are registered before
        # anything enqueues or runs. By name: the jobs layer must not import the apps above it.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
