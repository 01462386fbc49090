"""The editing map of a proposal (a draft with a parent plan): the parent's zones dashed, the demand
units that move against it highlighted, units locked on the map and the optimiser run again from
the parent with those locks (``maps/editor_proposal.js``; the page's other parts are ``maps/editor.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geo.models import Plan, Zone
from maps.styles import Lang, escape, label

PROPOSAL_LABELS: Mapping[str, Mapping[Lang, str]] = {
    "title": {"en": "Proposal from plan {id}", "zh": "由方案 {id} 生成的草案"},
    "moved_n": {"en": "{n} blocks move ({p} pupils); the parent's zones are dashed.",
                "zh": "{n} 个生源单元调整（{p} 名学生）；虚线为原方案招生片区。"},
    "locked_n": {"en": "Locked blocks: {n}", "zh": "已锁定生源单元：{n}"},
    "lock_hint": {"en": "Lock blocks from their popup, then run the optimiser again.",
                  "zh": "在生源单元弹窗中锁定，然后重新优化。"},
    "lock_to": {"en": "Lock to {school}", "zh": "锁定在 {school}"},
    "unlock": {"en": "Unlock", "zh": "取消锁定"},
    "rerun": {"en": "Run the optimiser again", "zh": "重新优化"},
    "starting": {"en": "Starting the optimiser…", "zh": "正在启动优化…"},
    "running": {"en": "Optimising: gap {gap}, {s} s", "zh": "正在优化：差距 {gap}，{s} 秒"},
    "done": {"en": "Done: {moved} pupils moved, {over} over capacity, gap {gap}",
             "zh": "完成：调整 {moved} 名学生，超额 {over} 名，差距 {gap}"},
    "open_draft": {"en": "Edit the new draft {id}", "zh": "编辑新草案 {id}"},
    "compare": {"en": "compare with the parent", "zh": "与原方案对比"},
}


@dataclass(frozen=True)
class ProposalView:
    """What the editing map needs to show a proposal against its parent and re-run the optimiser.

    ``optimise_url`` is the parent's ``POST .../optimise``; ``edit_url`` and ``compare_url`` hold
    ``{id}`` for the new draft's id; ``root`` is put before the job's ``href``.
    """

    parent: Plan
    parent_zones: Sequence[Zone]
    moved: Sequence[str]
    moved_pupils: float
    demand: str | None
    optimise_url: str
    edit_url: str
    compare_url: str
    root: str = ""
    time_limit_s: float = 60.0


def proposal_label(key: str, lang: Lang, **values: object) -> str:
    return label(key, lang, table=PROPOSAL_LABELS, **values)


def proposal_html(view: ProposalView, lang: Lang) -> str:
    """The proposal's part of the editor panel (escaped here)."""
    e = escape
    return (
        f'<div class="ce-proposal"><h4>{e(proposal_label("title", lang, id=view.parent.id))}: {e(view.parent.name)}</h4>'
        f'<div class="ce-moved">{e(proposal_label("moved_n", lang, n=len(view.moved), p=f"{view.moved_pupils:,.0f}"))}</div>'
        f'<div class="ce-hint">{e(proposal_label("lock_hint", lang))}</div>'
        '<div class="ce-locked"></div>'
        f'<button type="button" class="ce-rerun">{e(proposal_label("rerun", lang))}</button>'
        '<div class="ce-run-status ce-status" role="status"></div><div class="ce-run-result"></div></div>'
    )


def proposal_config(view: ProposalView, lang: Lang, zone_collection: Any) -> dict[str, Any]:
    """The script's configuration (``cfg.proposal``)."""
    return {"parentId": view.parent.id, "parentZones": zone_collection(view.parent_zones), "moved": list(view.moved),
            "demand": view.demand, "optimiseUrl": view.optimise_url, "editUrl": view.edit_url, "compareUrl": view.compare_url,
            "root": view.root, "timeLimit": view.time_limit_s, "labels": {k: v[lang] for k, v in PROPOSAL_LABELS.items()}}
