"""URL map: the API contract's paths, operations endpoints, schema and admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import HealthView, ReadyView

handler400 = "config.errors.json_bad_request"
handler403 = "config.errors.json_permission_denied"
handler404 = "config.errors.json_not_found"
handler500 = "config.errors.json_server_error"

urlpatterns = [
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Served only where ADMIN_ENABLED and ADMIN_HOST allow (config.middleware.AdminGateMiddleware).
    path("admin/", admin.site.urls),
    path("", include("ordering.urls")),
    path("", include("inventory.urls")),
    path("api/search/rules/", include("merchandising.urls")),
    path("api/search/", include("searchevents.urls")),
    path("api/search/", include("searchindex.urls")),
]
