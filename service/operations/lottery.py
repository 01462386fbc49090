"""The lottery of a shared zone (随机派位 / 摇号), in two steps: publish the notice, then draw.

1. ``publish``: from the plan's stored admission data, the zone's applicant list and places
   table are fixed and hashed (SHA-256, canonical form of :mod:`geo.admission.draw`); the public
   notice carries the algorithm (``catchment-draw-1``), the categories in priority order, both
   hashes and either the seed itself (e.g. the digits of a public lottery announced in advance)
   or only the seed's SHA-256 (a commitment: the seed is revealed at the draw). Audited.
2. ``draw``: the stored data is hashed again and must match the notice (data changed since the
   notice: 422, nothing drawn); the seed must be the published one or hash to the commitment.
   :func:`geo.admission.draw.run_draw` orders applicants by category, then by
   ``SHA-256("catchment-draw-1" LF seed LF id)``: no float, no library generator, so anyone
   re-runs it bit for bit with any SHA-256 tool. The results and their SHA-256 are stored with
   an audit event; a draw is drawn once.

Applicant ids: a row with an ``id`` is that applicant; an aggregated row of ``count`` applicants
gives ids ``r<row>-<k>`` (k = 1..count), so the list is the same on every re-run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from typing import Any

from geo.admission.draw import ALGORITHM, DrawNotice, applicants_digest, draw_notice, places_digest, run_draw
from geo.admission.model import Applicant
from geo.errors import InvalidInput, NotFound, StaleVersion
from service.operations.admission import ZoneInput, zone_inputs
from service.operations.versions import parse_if_match
from service.storage.base import LotteryDraw, Repository

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
RESULT_COLUMNS = ("draw_rank", "applicant_id", "category", "category_rank", "school", "choice")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def applicants_of(z: ZoneInput) -> list[Applicant]:
    """The zone's applicants, one per person (see the module docstring for the ids)."""
    out: list[Applicant] = []
    for r in z.rows:
        ids = [r.applicant_id] if r.applicant_id else [f"r{r.row}-{k}" for k in range(1, r.count + 1)]
        out.extend(Applicant(i, r.category, r.preferences, r.accept_any, r.unit) for i in ids)
    return out


def _zone(repo: Repository, plan_id: int, school: str | None) -> ZoneInput:
    data = repo.admission.get(plan_id)
    zones = zone_inputs(data, repo.zones(plan_id))
    if not zones:
        msg = f"plan {plan_id} has no admission data for a shared zone: PUT /v1/plans/{plan_id}/admission first / 方案尚无招生数据"
        raise InvalidInput(msg, where="zone")
    if school is None:
        if len(zones) > 1:
            msg = f"plan {plan_id} has {len(zones)} shared zones: say which with zone= (a school code) / 请用 zone 指明片区"
            raise InvalidInput(msg, where="zone")
        return zones[0]
    for z in zones:
        if school in z.key:
            return z
    msg = f"school {school!r} serves no shared zone with admission data in plan {plan_id} / 该校不属于有招生数据的多校划片片区"
    raise InvalidInput(msg, where="zone")


def check_version(repo: Repository, plan_id: int, if_match: str | None) -> None:
    """A lottery is a plan write: If-Match with the plan's ETag (428 without, 412 stale). It changes
    no zone, so adopted plans (whose draws are the real ones) take it too."""
    version = parse_if_match(if_match)
    plan = repo.get_plan(plan_id)
    if plan.version != version:
        msg = f"plan {plan_id} is at version {plan.version}, not {version}; reload it and retry / 方案版本已变，请刷新后重试"
        raise StaleVersion(msg, where="If-Match")


def _notice_text(n: DrawNotice, seed: str | None, seed_sha: str, zone: tuple[str, ...]) -> dict[str, str]:
    said_en = f"seed {seed!r}" if seed is not None else f"seed committed as SHA-256 {seed_sha}, revealed at the draw"
    said_zh = f"种子 {seed!r}" if seed is not None else f"种子以 SHA-256 {seed_sha} 预先承诺，开奖时公布"
    en = (f"Lottery notice for the shared zone of {', '.join(zone)}: algorithm {n.algorithm}; {said_en}; {n.applicants} "
          f"applicants (SHA-256 {n.applicants_sha256}); {n.places} places (SHA-256 {n.places_sha256}); categories in "
          f"priority order: {', '.join(n.categories)}. Anyone can re-run the draw from these.")
    zh = (f"多校划片片区（{'、'.join(zone)}）随机派位公告：算法 {n.algorithm}；{said_zh}；报名 {n.applicants} 人"
          f"（SHA-256 {n.applicants_sha256}）；学位 {n.places} 个（SHA-256 {n.places_sha256}）；优先类别依次为："
          f"{'、'.join(n.categories)}。任何人均可据此复核派位结果。")
    return {"en": en, "zh": zh}


def publish(repo: Repository, plan_id: int, *, if_match: str | None, zone: str | None, seed: str | None,
            seed_sha256: str | None, actor: str) -> LotteryDraw:
    """Step 1: fix and hash the zone's lists and publish the notice (seed, or the seed's SHA-256)."""
    check_version(repo, plan_id, if_match)
    if (seed is None) == (seed_sha256 is None):
        msg = "give either seed (published now) or seed_sha256 (its SHA-256, seed revealed at the draw) / 须给出 seed 或 seed_sha256 之一"
        raise InvalidInput(msg, where="seed")
    if seed_sha256 is not None and not _HEX64.match(seed_sha256):
        raise InvalidInput("seed_sha256 must be 64 lower-case hex digits / seed_sha256 须为 64 位小写十六进制", where="seed_sha256")
    z = _zone(repo, plan_id, zone)
    applicants = applicants_of(z)
    n = draw_notice(z.places, z.categories, applicants, seed=seed if seed is not None else "committed")
    seed_sha = sha256(seed) if seed is not None else str(seed_sha256)
    text = _notice_text(n, seed, seed_sha, z.key)
    notice = {"algorithm": n.algorithm, "seed": seed, "seed_sha256": seed_sha, "zone": list(z.key),
              "categories": list(n.categories), "applicants": n.applicants, "applicants_sha256": n.applicants_sha256,
              "places": n.places, "places_sha256": n.places_sha256, "text_en": text["en"], "text_zh": text["zh"]}
    return repo.admission.publish(plan_id=plan_id, zone=z.key, algorithm=ALGORITHM, seed=seed, seed_sha256=seed_sha,
                                  applicants_sha256=n.applicants_sha256, places_sha256=n.places_sha256, notice=notice,
                                  actor=actor)


def get_draw(repo: Repository, plan_id: int, draw_id: int) -> LotteryDraw:
    d = repo.admission.draw(draw_id)
    if d.plan_id != plan_id:
        msg = f"no lottery draw {draw_id} in plan {plan_id} / 方案 {plan_id} 没有编号为 {draw_id} 的摇号"
        raise NotFound(msg, where="draw_id")
    return d


def results_csv(rows: list[dict[str, Any]]) -> str:
    """The results as CSV (draw order; the bytes whose SHA-256 is ``results_sha256``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=RESULT_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows({k: ("" if r.get(k) is None else r.get(k)) for k in RESULT_COLUMNS} for r in rows)
    return buf.getvalue()


def draw(repo: Repository, plan_id: int, draw_id: int, *, if_match: str | None, seed: str | None, actor: str) -> LotteryDraw:
    """Step 2: check the lists against the notice and the seed against its commitment, draw, store."""
    check_version(repo, plan_id, if_match)
    d = get_draw(repo, plan_id, draw_id)
    if d.seed is not None and seed is not None and seed != d.seed:
        raise InvalidInput("the seed differs from the published one / 种子与公告不符", where="seed")
    use = d.seed if d.seed is not None else seed
    if use is None:
        raise InvalidInput("this draw's seed was committed by its hash: reveal it with seed= / 请公布种子", where="seed")
    if sha256(use) != d.seed_sha256:
        raise InvalidInput("the seed does not hash to the published SHA-256 / 种子的 SHA-256 与公告不符", where="seed")
    z = _zone(repo, plan_id, d.zone[0])
    applicants = applicants_of(z)
    n = d.notice
    published = DrawNotice(d.algorithm, use, tuple(n["categories"]), int(n["applicants"]), d.applicants_sha256,
                           int(n["places"]), d.places_sha256, {"en": n["text_en"], "zh": n["text_zh"]})
    if applicants_digest(applicants) != d.applicants_sha256 or places_digest(z.places) != d.places_sha256:
        msg = ("the applicant list or places changed since the notice was published; publish a new notice / "
               "公告后报名名单或学位已改变，请重新发布公告")
        raise InvalidInput(msg, where="draw_id")
    result = run_draw(z.places, z.categories, applicants, seed=use, notice=published)
    rows = result.csv_rows()
    return repo.admission.record(draw_id, seed=use, results=rows, results_sha256=sha256(results_csv(rows)), actor=actor)


def notice_dict(d: LotteryDraw) -> dict[str, Any]:
    """A draw without its result rows: what the public notice lists."""
    return {k: v for k, v in draw_dict(d).items() if k != "results"}


def draw_dict(d: LotteryDraw) -> dict[str, Any]:
    """A draw, JSON-ready: the notice, and once drawn the seed, results and their SHA-256."""
    placed = sum(1 for r in d.results or () if r.get("school"))
    return {"id": d.id, "plan_id": d.plan_id, "zone": list(d.zone), "status": d.status, "algorithm": d.algorithm,
            "seed": d.seed, "seed_sha256": d.seed_sha256, "applicants_sha256": d.applicants_sha256,
            "places_sha256": d.places_sha256, "notice": d.notice, "published_by": d.published_by,
            "published_at": d.published_at.isoformat() if d.published_at else None,
            "drawn_by": d.drawn_by, "drawn_at": d.drawn_at.isoformat() if d.drawn_at else None,
            "results_sha256": d.results_sha256, "placed": placed if d.results is not None else None,
            "results": d.results}
