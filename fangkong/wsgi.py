import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
application = get_wsgi_application()

# Load every view now, then leave what loading built (the models, schemas, url patterns:
# a few hundred thousand objects that live as long as the process) out of the cyclic
# garbage collector's passes: each full pass walked all of them, and a sampling batch makes
# enough short-lived tuples and dicts to set off several (about a sixth of a batch's CPU).
get_resolver().url_patterns  # noqa: B018 - imports every app's views and API
gc.freeze()
