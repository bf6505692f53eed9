from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from socialcrm import views

# The admin signs in through allauth, so its rate limits and MFA protect it too.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Social CRM administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("team/", include("socialcrm.team_urls")),
    path("contacts/", include("contacts.urls")),
    path("enrichment/", include("enrichment.urls")),
    path("privacy/audit/", include("socialcrm.audit.urls")),
    path("privacy/", include("consent.urls")),
    path("admin/", admin.site.urls),
]
