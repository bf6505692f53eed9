from __future__ import annotations

from celery import shared_task

from socialcrm import outbox


@shared_task(name="socialcrm.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Publish outbox messages whose on-commit publish failed."""
    return outbox.relay_pending()


@shared_task(name="socialcrm.tasks.send_invitation", ignore_result=True)
def send_invitation(invitation_id: int) -> None:
    """Email an invitation link; a no-op once the invitation is used or gone."""
    from socialcrm.models import Invitation
    from socialcrm.services import invitation_send

    invitation = Invitation.objects.filter(pk=invitation_id, accepted_at__isnull=True).first()
    if invitation is not None:
        invitation_send(invitation=invitation)
