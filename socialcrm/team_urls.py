from django.urls import path

from socialcrm import views

app_name = "team"

urlpatterns = [
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/accept/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
