"""The query rule: a condition on the shopper's query and what it does to the results."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

# Ids are bigint in Postgres: a larger number cannot name a row (and would overflow a query).
MAX_ID = 2**63 - 1


class QueryRule(models.Model):
    class Match(models.TextChoices):
        EXACT = "exact", "exact: the same words"
        CONTAINS = "contains", "contains: the words, in order, inside the query"

    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    priority = models.IntegerField(default=0, help_text="Higher first when several rules match.")
    query = models.CharField(max_length=200, help_text="The words the shopper's query must hold.")
    match = models.CharField(max_length=10, choices=Match.choices, default=Match.EXACT)
    # NULL is every store; a search without a store sees only these.
    stores = ArrayField(models.BigIntegerField(), null=True, blank=True, default=None)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Product ids are kept as numbers, not foreign keys: a product deleted later leaves the rule
    # in place (skipped and flagged), as the contract asks.
    pins = models.JSONField(default=list, blank=True, help_text='[{"product_id", "position"}]')
    hide = ArrayField(models.BigIntegerField(), default=list, blank=True)
    boosts = models.JSONField(default=list, blank=True, help_text='[{"filter", "factor"}]')
    replace_query = models.CharField(max_length=200, null=True, blank=True, default=None)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(starts_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="queryrule_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name
