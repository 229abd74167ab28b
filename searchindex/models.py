"""The index outbox: pending updates written with each change, and the journal of rebuilds."""

from django.db import models
from django.utils import timezone

from searchindex.synonym_syntax import rule_clean, rule_line


class PendingIndexUpdate(models.Model):
    """One object whose document must be (re)written or deleted; repeats coalesce into one row.

    Every change, first or repeated, takes a fresh `seq` from a Postgres sequence. A drain deletes
    only the `seq` values it applied, so a change committed while it worked is never dropped.
    """

    model = models.CharField(max_length=100)  # a model label such as "catalog.product"
    object_pk = models.BigIntegerField()
    seq = models.BigIntegerField(unique=True)
    changes = models.PositiveIntegerField(default=1)  # how many changes coalesced into this row
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "object_pk"], name="pending_index_update_unique_object"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model}:{self.object_pk} (seq {self.seq})"


class IndexRebuild(models.Model):
    """A run of `rebuild_index`; while it runs, every drained change is journaled for replay."""

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        ABANDONED = "abandoned"

    index_name = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    documents = models.PositiveIntegerField(default=0)
    replayed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # Two concurrent rebuilds would swap the alias under each other.
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="running"),
                name="index_rebuild_one_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.index_name} ({self.state})"


class IndexRebuildJournal(models.Model):
    """An object drained while a rebuild ran; the rebuild replays it into its new index.

    Rows are never coalesced: the replay reads past a cursor, so a repeat written after it read
    an object is replayed again rather than lost.
    """

    rebuild = models.ForeignKey(IndexRebuild, on_delete=models.CASCADE, related_name="journal")
    model = models.CharField(max_length=100)
    object_pk = models.BigIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.model}:{self.object_pk} for {self.rebuild_id}"


class Synonym(models.Model):
    """One synonym rule for search: equivalent terms, or terms that map one way onto others.

    `terms` alone ("curd, yogurt, dahi") makes every term find the others; with `maps_to`
    ("tomato sauce" => "ketchup") the terms find only what they map to. Only enabled rows reach
    the index (see `searchindex.synonyms`).
    """

    terms = models.CharField(
        max_length=500,
        help_text="Comma-separated terms, e.g. “curd, yogurt, dahi”. Words, digits, spaces, "
        "hyphens, apostrophes, “&” and “.”; no “=>”.",
    )
    maps_to = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Optional: make this a one-way mapping; the terms then find only these "
        "(comma-separated) terms.",
    )
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(terms=""), name="synonym_terms_not_empty"),
        ]

    def __str__(self) -> str:
        return rule_line(self.terms, self.maps_to)

    def clean(self) -> None:
        self.terms, self.maps_to = rule_clean(terms=self.terms, maps_to=self.maps_to)
