"""The Celery application: Redis broker, settings read from Django's `CELERY_*` names.

A task inherits the id of the request that enqueued it, so the task's log lines carry the same
`request_id` as the request's: one id follows an order from the POST to its confirmation.
"""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import before_task_publish, task_postrun, task_prerun

from config.logging import request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("aisle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A message header of ours; on the worker it comes back as an attribute of `task.request`.
REQUEST_ID_HEADER = "aisle_request_id"


@before_task_publish.connect(dispatch_uid="aisle-request-id-publish")
def request_id_attach(headers: dict[str, Any], **kwargs: Any) -> None:
    request_id = request_id_var.get()
    if request_id is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect(dispatch_uid="aisle-request-id-prerun")
def request_id_adopt(task: Task, **kwargs: Any) -> None:
    # An eager task runs inside the request and already has its id; a worker's task takes the
    # one its message carries (None for beat's tasks and anything enqueued outside a request).
    if not task.request.is_eager:
        request_id_var.set(getattr(task.request, REQUEST_ID_HEADER, None))


@task_postrun.connect(dispatch_uid="aisle-request-id-postrun")
def request_id_forget(task: Task, **kwargs: Any) -> None:
    if not task.request.is_eager:
        request_id_var.set(None)
