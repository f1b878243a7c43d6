"""Small static HTML: the verdict banner on top of each Evidently report, and the reports index."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
<style>
.hc-drift{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:16px auto;max-width:1100px;
  padding:16px 20px;border:1px solid #d0d7de;border-radius:8px;background:#fff;color:#1f2328}
.hc-drift h1{font-size:1.4em;margin:0 0 8px} .hc-drift h2{font-size:1.1em;margin:16px 0 6px}
.hc-drift table{border-collapse:collapse;font-size:.9em} .hc-drift td,.hc-drift th{border:1px solid #d0d7de;
  padding:3px 8px;text-align:left} .hc-drift th{background:#f6f8fa}
.hc-ok{color:#1a7f37;font-weight:600} .hc-bad{color:#cf222e;font-weight:600} .hc-mid{color:#9a6700;font-weight:600}
.hc-band-stable{background:#dafbe1} .hc-band-moderate{background:#fff8c5} .hc-band-significant{background:#ffebe9}
.hc-drift .note{color:#59636e;font-size:.85em}
</style>
"""


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def _verdict(summary: dict[str, Any]) -> str:
    if summary.get("dataset_drift"):
        return '<span class="hc-bad">dataset drift</span>'
    if summary.get("drifted_columns"):
        return f'<span class="hc-mid">{len(summary["drifted_columns"])} drifted column(s)</span>'
    return '<span class="hc-ok">no drift detected</span>'


def banner(summary: dict[str, Any]) -> str:
    """The verdict, window, drifted columns and the PSI table, shown above Evidently's report."""
    details = summary.get("column_details", {})
    window = summary.get("window") or {}
    pred = summary.get("prediction_drift") or {}
    rows = []
    for name, d in sorted(details.items(), key=lambda kv: -kv[1]["psi"]):
        ev = d.get("evidently") or {}
        rows.append(
            f'<tr class="hc-band-{escape(d["psi_band"])}"><td>{escape(name)}</td><td>{escape(d["kind"])}</td>'
            f'<td>{d["psi"]:.3f}</td><td>{escape(d["psi_band"])}</td><td>{escape(d["psi_top_bin"])}</td>'
            f'<td>{_fmt(ev.get("score"))}</td><td>{_fmt(ev.get("drift_detected"))}</td>'
            f'<td>{d["missing_share_reference"]:.1%} → {d["missing_share_current"]:.1%}</td>'
            f'<td>{"<b>yes</b>" if d["drifted"] else "no"}</td></tr>')
    drifted = ", ".join(escape(c) for c in summary.get("drifted_columns", [])) or "none"
    warnings = "".join(f"<li>{escape(w)}</li>" for w in summary.get("warnings", []))
    pred_line = "no prediction drift computed"
    if pred:
        pred_line = (f"PSI {_fmt(pred.get('psi'), 3)} ({escape(str(pred.get('psi_band')))}), "
                     f"mean score {_fmt(pred.get('reference_mean'))} → {_fmt(pred.get('current_mean'))}, "
                     f"drift: <b>{'yes' if pred.get('drift_detected') else 'no'}</b>")
    target = summary.get("target_drift")
    target_line = ""
    if target:
        perf = summary.get("performance") or {}
        auc = {side: (perf.get(side) or {}).get("roc_auc") for side in ("reference", "current")}
        target_line = (f"<p><b>Target</b>: default rate {_fmt(target.get('reference_rate'))} → "
                       f"{_fmt(target.get('current_rate'))} on {target.get('n_labelled')} labelled rows; "
                       f"ROC AUC {_fmt(auc.get('reference'))} → {_fmt(auc.get('current'))}.</p>")
    return f"""{_STYLE}
<div class="hc-drift">
<h1>Drift report {escape(summary.get("created_at", ""))}: {_verdict(summary)}</h1>
<p>Model <b>{escape(str(summary.get("model_version")))}</b>. Current batch: <b>{escape(str(summary.get("current_source")))}</b>
({escape(str(summary.get("current_description", "")))}), window {_fmt(window.get("since"))} → {_fmt(window.get("until"))};
{summary.get("n_current")} current rows vs {summary.get("n_reference")} reference rows
(compared: {summary.get("n_current_compared")} vs {summary.get("n_reference_compared")}).</p>
<p><b>Drifted columns</b> ({len(summary.get("drifted_columns", []))} of {len(summary.get("columns", []))},
share {summary.get("share_drifted", 0):.1%}; dataset drift from {summary.get("drift_share_threshold", 0):.0%}): {drifted}</p>
<p><b>Prediction</b> (probability of default): {pred_line}</p>
{target_line}
{"<ul>" + warnings + "</ul>" if warnings else ""}
<p class="note">Rule: {escape(summary.get("rule", ""))} PSI bands: stable &lt; 0.10, moderate 0.10–0.25,
significant ≥ 0.25. Evidently's own per-column tests below are more sensitive than this rule.</p>
<h2>PSI per monitored column</h2>
<table><tr><th>column</th><th>kind</th><th>PSI</th><th>band</th><th>bin moving most</th>
<th>Evidently score</th><th>Evidently drift</th><th>missing ref → cur</th><th>drifted</th></tr>
{"".join(rows)}
</table>
</div>
"""


def index_page(reports: list[tuple[str, dict[str, Any] | None]], latest: str | None) -> str:
    """All report folders, newest first, with their headline figures and links."""
    rows = []
    for name, s in reports:
        link = f'<a href="{escape(name)}/report.html">{escape(name)}</a>'
        mark = " (latest)" if name == latest else ""
        if s is None:
            rows.append(f"<tr><td>{link}{mark}</td><td colspan='7'>summary.json missing or unreadable</td></tr>")
            continue
        window = s.get("window") or {}
        pred = s.get("prediction_drift") or {}
        rows.append(
            f"<tr><td>{link}{mark}</td><td>{escape(str(s.get('model_version')))}</td>"
            f"<td>{escape(str(s.get('current_source')))} {_fmt(window.get('since'))} → {_fmt(window.get('until'))}</td>"
            f"<td>{s.get('n_current')}</td><td>{_verdict(s)}</td>"
            f"<td>{len(s.get('drifted_columns', []))}/{len(s.get('columns', []))}</td>"
            f"<td>{_fmt(pred.get('psi'), 3)}</td>"
            f'<td><a href="{escape(name)}/summary.json">summary.json</a></td></tr>')
    body = "".join(rows) or "<tr><td colspan='8'>no report yet</td></tr>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Drift reports</title>{_STYLE}</head>
<body><div class="hc-drift">
<h1>Drift reports</h1>
<p>One report per run of <code>make drift</code> (weekly). <a href="latest/report.html">Latest report</a>.</p>
<table><tr><th>report (UTC)</th><th>model version</th><th>current batch</th><th>rows</th><th>verdict</th>
<th>drifted</th><th>prediction PSI</th><th>data</th></tr>
{body}
</table></div></body></html>
"""
