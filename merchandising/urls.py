"""URLs of the query rules API, mounted under /api/search/rules/."""

from django.urls import path

from merchandising.views import RuleDetailView, RuleListView

urlpatterns = [
    path("", RuleListView.as_view(), name="search-rules"),
    path("<int:rule_id>/", RuleDetailView.as_view(), name="search-rule"),
]
