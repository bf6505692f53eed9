from django.urls import URLPattern

app_name = "enrichment"

urlpatterns: list[URLPattern] = []
