import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsmo.settings")
application = get_wsgi_application()

# Load the URL configuration now rather than in the first request: importing it builds every
# API schema (about two thirds of a second), which a worker's first caller would wait for.
import_module(settings.ROOT_URLCONF)

# Everything loaded so far (Django, the apps, the URL and template machinery) lives as long
# as the worker: move it out of the cyclic collector's sight, so that a collection walks only
# what requests allocate, and collect the youngest generation less often (a request makes
# thousands of short-lived objects, most freed by reference counting anyway).
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 20, 20)
