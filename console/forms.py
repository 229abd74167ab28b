"""The console's form: a synonym rule, validated as the admin validates it (Synonym.clean)."""

from django import forms

from searchindex.models import Synonym


class SynonymForm(forms.ModelForm):
    class Meta:
        model = Synonym
        fields = ["terms", "maps_to", "enabled"]
