"""The Celery application. Its settings are the Django settings named ``CELERY_*``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialcrm.settings")

app = Celery("socialcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
