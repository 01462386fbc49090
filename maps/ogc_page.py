"""HTML views of OGC API documents: a heading, the links, and the features or collections as a table.

Every value comes from storage or the request, so every value is escaped here.
"""

from __future__ import annotations

from html import escape
from typing import Any


def _cell(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return escape(", ".join(str(x) for x in v))
    if isinstance(v, dict):
        return escape(", ".join(f"{k}: {x}" for k, x in v.items()))
    return "" if v is None else escape(str(v))


def _links(links: list[dict[str, Any]]) -> str:
    items = "".join(f'<li><a href="{escape(str(ln["href"]))}">{escape(str(ln.get("title") or ln["rel"]))}</a> '
                    f'({escape(str(ln["rel"]))}, {escape(str(ln.get("type", "")))})</li>' for ln in links)
    return f"<ul>{items}</ul>"


def ogc_html(doc: dict[str, Any], *, title: str) -> str:
    """One OGC API document (landing page, conformance, collections, items, a feature) as an HTML page."""
    parts = [f"<h1>{escape(title)}</h1>"]
    if doc.get("description"):
        parts.append(f"<p>{escape(str(doc['description']))}</p>")
    if doc.get("links"):
        parts.append(_links(doc["links"]))
    if "conformsTo" in doc:
        parts.append("<ul>" + "".join(f"<li>{escape(c)}</li>" for c in doc["conformsTo"]) + "</ul>")
    if "collections" in doc:
        rows = "".join(f'<tr><td><a href="{escape(str(c["links"][0]["href"]))}?f=html">{escape(c["id"])}</a></td>'
                       f"<td>{escape(c['title'])}</td><td>{escape(c.get('description', ''))}</td></tr>" for c in doc["collections"])
        parts.append(f"<table><tr><th>id</th><th>title</th><th>description</th></tr>{rows}</table>")
    feats = doc.get("features") if doc.get("type") == "FeatureCollection" else ([doc] if doc.get("type") == "Feature" else None)
    if feats:
        keys = list(dict.fromkeys(k for f in feats for k in (f.get("properties") or {})))
        head = "".join(f"<th>{escape(k)}</th>" for k in ["id", *keys])
        rows = "".join("<tr>" + f"<td>{_cell(f.get('id'))}</td>" + "".join(f"<td>{_cell((f.get('properties') or {}).get(k))}</td>"
                                                                          for k in keys) + "</tr>" for f in feats)
        parts.append(f"<p>{escape(str(doc.get('numberReturned', len(feats))))} of "
                     f"{escape(str(doc.get('numberMatched', len(feats))))}</p><table><tr>{head}</tr>{rows}</table>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"</head><body>{''.join(parts)}</body></html>")
