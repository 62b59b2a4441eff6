"""`{% covenant_summary federation %}`: the covenant's current version and its rules in words."""

from __future__ import annotations

from typing import Any

from django import template

from circlework.circles.covenant import current_covenant, review_due, rules_from, rules_in_words
from circlework.circles.models import CovenantVersion
from circlework.core.diff import diff

register = template.Library()


@register.inclusion_tag("agreements/_covenant_summary.html")
def covenant_summary(federation: Any) -> dict[str, Any]:
    version = current_covenant(federation)
    return {
        "federation": federation,
        "version": version,
        "rules": rules_in_words(rules_from(version.parameters if version else {})),
        "review_due": review_due(version) if version else None,
    }


@register.inclusion_tag("agreements/_covenant_change.html")
def covenant_change(federation_proposal: Any) -> dict[str, Any]:
    """On a federation proposal's page: the covenant revision it carries, and what changes."""
    fp = federation_proposal
    if not getattr(fp, "revises_covenant", False):
        return {"fp": fp, "revises": False}
    adopted = CovenantVersion.objects.filter(adopted_by=fp).first()
    base: CovenantVersion | None
    if adopted is not None:
        base = (
            CovenantVersion.objects.filter(
                federation_id=fp.federation_id, number=adopted.number - 1
            ).first()
            or adopted
        )
    else:
        base = current_covenant(fp.federation)
    base_text = base.text if base else ""
    base_rules = rules_in_words(rules_from(base.parameters if base else {}))
    new_rules = rules_in_words(rules_from(fp.covenant_parameters))
    return {
        "fp": fp,
        "revises": True,
        "adopted": adopted,
        "base": base,
        "new_rules": new_rules,
        "rules_changed": new_rules != base_rules,
        "rules_diff": diff(
            base_rules.replace("; ", "\n"), new_rules.replace("; ", "\n"), markdown=False
        ),
        "text_diff": diff(base_text, fp.covenant_text),
    }
