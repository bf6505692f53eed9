"""What the background jobs' pages share (contact imports, email uploads): the cancel button's answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from contacts.services.jobs import Job
from contacts.views.lists import HtmxHttpRequest


def job_cancel_answer(
    request: HtmxHttpRequest,
    job: Job,
    cancel: Callable[..., Job],
    *,
    fragment: str,
    context: Callable[[Job], Mapping[str, Any]],
    page: str,
) -> HttpResponse:
    """Cancel ``job`` with the service ``cancel``; answer htmx with the progress ``fragment``, a form post
    with a redirect to the job's ``page`` (URL name) and a message. An ended job stays as it is, with why.
    """
    error = ""
    try:
        job = cancel(actor=request.user, job=job)
    except ValidationError as exc:
        error = exc.messages[0]
    if request.htmx:
        return render(request, fragment, {**context(job), "cancel_error": error})
    if error:
        messages.error(request, error)
    elif job.stopping:
        messages.success(request, "Cancelling: it stops once the batch being written is saved.")
    else:
        messages.success(request, "Cancelled.")
    return redirect(page, pk=job.pk)
