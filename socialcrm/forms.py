from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation

from socialcrm import roles
from socialcrm.models import Team, User


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=roles.Role.choices, initial=roles.Role.SALES)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        team = cast(forms.ModelChoiceField, self.fields["team"])
        if roles.is_admin(user):
            team.queryset = Team.objects.all()
        else:
            # What invitation_create allows a manager, offered up front.
            team.queryset = user.managed_teams.all()
            team.required = True
            role = cast(forms.ChoiceField, self.fields["role"])
            role.choices = [choice for choice in roles.Role.choices if choice[0] != roles.Role.DPO]


class AcceptInvitationForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords differ.")
        elif password1:
            candidate = User(email=self.email, first_name=cleaned.get("first_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
