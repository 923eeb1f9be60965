"""Do a site's 5CRM ids exist in the account? The funnel, the stage (in that funnel), the
custom fields `f_N` and, when the managers list can be read, the manager: each wrong one is
a sentence naming the site and the setting, for `leadrelay doctor`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from config.mappings import Crm5Mapping
from integrations.crm5 import CustomField, Funnel, Manager

# How many of the account's own ids a message lists, as a hint of what is there.
_HINTS = 5


@dataclass(frozen=True)
class MappingProblem:
    setting: str  # the key in `[sites.crm5]`, e.g. "stage_id" or "custom_fields.f_3"
    message: str


def configured(mapping: Crm5Mapping) -> bool:
    """Whether the site names anything in 5CRM that could be wrong."""
    ids = (mapping.funnel_id, mapping.stage_id, mapping.manager_id)
    return any(value is not None for value in ids) or bool(mapping.custom_fields)


def mapping_problems(
    site_key: str,
    mapping: Crm5Mapping,
    *,
    funnels: Sequence[Funnel],
    fields: Sequence[CustomField],
    managers: Sequence[Manager] | None,
) -> list[MappingProblem]:
    """`managers`: None when the list cannot be read (no secret token): not checked."""
    problems: list[MappingProblem] = []
    funnel = next((f for f in funnels if f.id == mapping.funnel_id), None)
    if mapping.funnel_id is not None and funnel is None:
        known = _listed((f.id, f.name) for f in funnels)
        problems.append(
            MappingProblem(
                "funnel_id",
                f"site {site_key}: funnel_id {mapping.funnel_id} is not a 5CRM funnel"
                f" (the account has {known})",
            )
        )
    if mapping.stage_id is not None:
        # In the configured funnel; without one (or with a wrong one), in any funnel.
        searched = [funnel] if funnel is not None else list(funnels)
        stages = [stage for f in searched for stage in f.stages]
        if all(stage.id != mapping.stage_id for stage in stages):
            where = f"funnel {funnel.id} «{funnel.name}»" if funnel is not None else "any funnel"
            known = _listed((s.id, s.name) for s in stages)
            problems.append(
                MappingProblem(
                    "stage_id",
                    f"site {site_key}: stage_id {mapping.stage_id} is not a stage of {where}"
                    f" (stages: {known})",
                )
            )
    existing = {field.field.strip().lower() for field in fields}
    for number in sorted(mapping.custom_fields):
        if f"f_{number}" not in existing:
            known = ", ".join(sorted(existing, key=_field_order)[:_HINTS]) or "none"
            problems.append(
                MappingProblem(
                    f"custom_fields.f_{number}",
                    f"site {site_key}: 5CRM has no custom field f_{number}"
                    f" (the account has {known})",
                )
            )
    if (
        managers is not None
        and mapping.manager_id is not None
        and all(m.id != mapping.manager_id for m in managers)
    ):
        known = _listed((m.id, m.name) for m in managers)
        problems.append(
            MappingProblem(
                "manager_id",
                f"site {site_key}: manager_id {mapping.manager_id} is not a 5CRM manager"
                f" (the account has {known})",
            )
        )
    return problems


def _listed(items: Iterable[tuple[int, str]]) -> str:
    pairs = list(items)
    shown = ", ".join(f"{id_} «{name[:40]}»" for id_, name in pairs[:_HINTS])
    more = f" and {len(pairs) - _HINTS} more" if len(pairs) > _HINTS else ""
    return (shown + more) or "none"


def _field_order(name: str) -> tuple[int, str]:
    number = name.removeprefix("f_")
    return (int(number), name) if number.isdigit() else (10**6, name)
