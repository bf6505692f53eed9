"""factory-boy factories for every app's models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils import timezone

from contacts.models import Activity, Contact, ContactMethod, EmailUploadJob, Organization, Reminder, SavedView, Tag
from contacts.normalize import normalize_email
from socialcrm.models import Invitation, Team, User
from socialcrm.roles import Role

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@staff.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[Role] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=[role.value for role in extracted]))

    @factory.post_generation
    def verified_email(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(self, create: bool, extracted: list[User] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.members.add(*extracted)

    @factory.post_generation
    def managers(self, create: bool, extracted: list[User] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.managers.add(*extracted)
            self.members.add(*extracted)


class InvitationFactory(factory.django.DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@staff.example")
    role = Role.SALES.value
    team = factory.SubFactory(TeamFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + Invitation.VALID_FOR)


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    team = factory.SubFactory(TeamFactory)
    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"org{n}.example")


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag
        django_get_or_create = ("team", "name")

    team = factory.SubFactory(TeamFactory)
    name = factory.Sequence(lambda n: f"tag-{n}")


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    """A contact; pass ``email="x@y.example"`` to give it a primary email method."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    display_name = factory.LazyAttribute(lambda o: Contact.compose_display_name(o.first_name, o.last_name))
    title = factory.Faker("job")

    @factory.post_generation
    def email(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        if create and extracted:
            ContactMethodFactory(contact=self, kind=ContactMethod.Kind.EMAIL, value=extracted, is_primary=True)


class ContactMethodFactory(factory.django.DjangoModelFactory[ContactMethod]):
    class Meta:
        model = ContactMethod

    contact = factory.SubFactory(ContactFactory)
    team = factory.LazyAttribute(lambda o: o.contact.team)
    kind = ContactMethod.Kind.EMAIL
    value = factory.Sequence(lambda n: f"person{n}@client.example")
    normalized = factory.LazyAttribute(
        lambda o: normalize_email(o.value) if o.kind == ContactMethod.Kind.EMAIL else o.value.strip().lower()
    )


class SavedViewFactory(factory.django.DjangoModelFactory[SavedView]):
    class Meta:
        model = SavedView

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"View {n}")
    query = "status=active"


class ActivityFactory(factory.django.DjangoModelFactory[Activity]):
    class Meta:
        model = Activity

    contact = factory.SubFactory(ContactFactory)
    kind = Activity.Kind.NOTE
    occurred_at = factory.LazyFunction(timezone.now)
    subject = factory.Faker("sentence", nb_words=5)
    body = factory.Faker("paragraph")
    source = "manual"


class ReminderFactory(factory.django.DjangoModelFactory[Reminder]):
    """An open manual reminder due tomorrow; give ``contact`` and ``assignee``."""

    class Meta:
        model = Reminder

    contact = factory.SubFactory(ContactFactory)
    assignee = factory.SubFactory(UserFactory)
    created_by = factory.LazyAttribute(lambda o: o.assignee)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    status = Reminder.Status.OPEN
    notify_at = factory.LazyAttribute(lambda o: o.due_at if o.status in ("open", "snoozed") else None)
    note = factory.Faker("sentence", nb_words=6)


class EmailUploadJobFactory(factory.django.DjangoModelFactory[EmailUploadJob]):
    """A background email upload waiting for its task; give ``created_by`` (and ``data``, an mbox)."""

    class Meta:
        model = EmailUploadJob

    created_by = factory.SubFactory(UserFactory)
    file_name = "mailbox.mbox"
    data = b"From x\nFrom: a@example.com\n\nHello\n"
    size = factory.LazyAttribute(lambda o: len(o.data))
