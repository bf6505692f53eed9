from __future__ import annotations

from celery import shared_task

from socialcrm import outbox


@shared_task(name="socialcrm.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish outbox messages whose on-commit publish failed."""
    return outbox.relay_pending()


# smtplib's errors are OSErrors: a mail server that is down or refuses is retried with backoff.
@shared_task(
    name="socialcrm.tasks.send_invitation",
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=8,
)
def send_invitation(invitation_id: int) -> bool:
    """Email an invitation link once; running again (redelivery, retry) sends nothing more."""
    from socialcrm.services import invitation_send

    return invitation_send(invitation_id=invitation_id)
