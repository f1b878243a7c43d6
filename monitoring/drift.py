"""``python -m monitoring.drift`` (``make drift``): the drift report of a current batch vs the reference.

Examples::

    python -m monitoring.drift                              # request log of the last 7 days, else the test set
    python -m monitoring.drift --current test               # application_test features, scored now
    python -m monitoring.drift --current log --since 2025-03-01 --until 2025-03-07
    python -m monitoring.drift --current test --labels outcomes.csv   # + target and performance drift

Output: ``$HC_ARTIFACTS/reports/drift/<YYYYMMDDTHHMMSSZ>/{report.html,summary.json[,performance.html]}``,
``latest`` -> that folder, ``index.html`` listing every report. Bad input (no model version, missing
columns, bad labels, --since not before --until) exits with code 2 and writes nothing; a batch without
rows (no request in the window, an empty test set) exits with code 3 and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hc_contracts.log_privacy import coarsen_frame
from hc_contracts.request_log import InsecureConfiguration, RequestLogSettings, applicant_hash
from monitoring.analysis import analyse
from monitoring.columns import raw_application_columns, select_columns
from monitoring.errors import DriftError, EmptyBatchError, InputDataError
from monitoring.pages import banner
from monitoring.report import build_performance_report, build_report, evidently_verdicts, save_report_html
from monitoring.settings import MonitoringSettings
from monitoring.sources import (
    Current,
    attach_labels,
    default_window,
    load_log,
    load_model_context,
    load_reference,
    load_test,
    log_has_rows,
    parse_when,
    read_labels,
    request_log_view,
)
from monitoring.store import REPORT, SUMMARY, new_report_dir
from monitoring.summary import build_summary

PERFORMANCE = "performance.html"
EXIT_EMPTY_BATCH = 3  # the batch has no rows: nothing to compare (the demo on a sample without a test set)


def _log_hasher() -> Callable[[int], str] | None:
    """The request log's salted applicant hash (the API's salt setting, ``HC_API_LOG_SALT``), to key
    SK_ID_CURR labels to the request log; None without a usable salt."""
    try:
        salt = RequestLogSettings().log_salt()
    except InsecureConfiguration:
        return None  # labels must then be keyed by applicant_hash
    return partial(applicant_hash, salt)


def _evidently_version() -> str:
    from importlib.metadata import version

    try:
        return version("evidently")
    except Exception:  # pragma: no cover
        return "unknown"


def run(
    settings: MonitoringSettings,
    *,
    current: str = "auto",
    since: str | None = None,
    until: str | None = None,
    labels: Path | None = None,
    columns: list[str] | None = None,
    now: datetime | None = None,
) -> Path:
    """Build one report; return its folder. Raises ``DriftError`` (nothing written) on bad input."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    model = load_model_context(settings)

    start, end = default_window(now, settings.drift_window_days)
    if until:
        end = parse_when(until, end=True)
    if since:
        start = parse_when(since)
    if start >= end:
        raise InputDataError(f"empty window: --since {start.isoformat()} is not before --until {end.isoformat()}")

    notes: list[str] = []
    if current == "auto":
        if log_has_rows(settings, start, end):
            current = "log"
        else:
            current = "test"
            notes.append(f"no request in the log window [{start.isoformat()}, {end.isoformat()}): "
                         "compared the test set instead")
    if current == "log":
        model = request_log_view(model)
        batch: Current = load_log(settings, model, start, end)
        other = {v: n for v, n in batch.model_versions.items() if v != model.version}
        if other:
            notes.append(f"rows scored by other model versions {other}: their features are compared, their "
                         "probabilities are left out of the prediction drift")
            if "model_version" in batch.frame.columns:
                batch.frame.loc[batch.frame["model_version"] != model.version, "probability"] = float("nan")
    elif current == "test":
        batch = load_test(settings, model)
    else:
        raise InputDataError(f"--current must be auto, test or log; got {current!r}")

    reference = load_reference(settings, model)
    if batch.source == "log":  # compare at the precision the request log keeps (hc_contracts.log_privacy)
        reference.frame = coarsen_frame(reference.frame, model.kinds)
        notes.append("request log: personal fields are not logged (drift on them: --current test), the age "
                     "is compared in 5-year bands and other numbers at 2 significant digits on both sides")
    n_labelled = 0
    if labels is not None:
        n_labelled = attach_labels(batch, read_labels(labels), labels,
                                   _log_hasher() if batch.source == "log" else None)
    selection = select_columns(model.kinds, model.importance, raw_application_columns(),
                               settings.drift_top_n, settings.drift_max_columns, reference.frame, columns)

    analysis = analyse(reference.frame, batch.frame, model.kinds, selection.columns, settings, model.threshold)
    analysis.warnings[:0] = notes
    if labels is not None and n_labelled < len(batch.frame):
        analysis.warnings.append(f"labels cover {n_labelled} of {len(batch.frame)} current rows")

    snapshot = build_report(analysis.reference, analysis.current, model.kinds, analysis.evidently_columns,
                            settings, prediction=analysis.prediction is not None,
                            labels=analysis.target is not None)
    verdicts = evidently_verdicts(snapshot)
    performance = None
    if analysis.performance is not None:
        performance = build_performance_report(analysis.reference, analysis.current, model.threshold)

    summary = build_summary(
        analysis, settings, created_at=now, model_version=model.version, current_source=batch.source,
        current_description=batch.description,
        since=batch.since, until=batch.until, selection=selection,
        reference_source=reference.source, reference_prediction_source=reference.prediction_source,
        evidently_drifted=sorted(c for c, d in verdicts.items() if d and c in set(analysis.evidently_columns)),
        extra={"n_requests": batch.n_requests, "model_versions_in_batch": batch.model_versions,
               "labels_file": str(labels) if labels else None, "evidently_version": _evidently_version(),
               "files": {"report": REPORT, "summary": SUMMARY,
                         "performance": PERFORMANCE if performance is not None else None}},
    )
    with new_report_dir(settings.reports_dir, now) as folder:
        save_report_html(snapshot, folder / REPORT, banner(summary))
        if performance is not None:
            performance.save_html(str(folder / PERFORMANCE))
        (folder / SUMMARY).write_text(json.dumps(summary, indent=1, allow_nan=False), encoding="utf-8")
    return settings.layout.drift_latest.resolve()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m monitoring.drift", description=__doc__.split("\n\n")[0])
    parser.add_argument("--current", choices=["auto", "test", "log"], default="auto",
                        help="batch to compare with the reference (auto: the log if the window has requests, "
                             "else the test set)")
    parser.add_argument("--since", help="window start, YYYY-MM-DD or ISO date-time, UTC (default: until - 7 days)")
    parser.add_argument("--until", help="window end, exclusive; a bare date means the end of that day "
                                        "(default: now)")
    parser.add_argument("--labels", type=Path, help="CSV SK_ID_CURR,TARGET (or applicant_hash,TARGET) of the "
                                                    "current batch: adds target and performance drift")
    parser.add_argument("--columns", help="comma-separated columns to monitor instead of the automatic choice")
    parser.add_argument("--max-columns", type=int, help="cap on monitored columns (HC_DRIFT_MAX_COLUMNS)")
    parser.add_argument("--top-n", type=int, help="most important features monitored (HC_DRIFT_TOP_N)")
    parser.add_argument("--max-rows", type=int, help="rows sampled per side (HC_DRIFT_MAX_ROWS)")
    parser.add_argument("--seed", type=int, help="sampling seed (HC_DRIFT_SEED)")
    parser.add_argument("--rule", choices=["psi_and_evidently", "psi", "evidently"],
                        help="how a column is declared drifted (HC_DRIFT_RULE)")
    return parser.parse_args(argv)


def _settings(args: argparse.Namespace) -> MonitoringSettings:
    overrides: dict[str, Any] = {}
    for arg, field in (("max_columns", "drift_max_columns"), ("top_n", "drift_top_n"),
                       ("max_rows", "drift_max_rows"), ("seed", "drift_seed"), ("rule", "drift_rule")):
        value = getattr(args, arg)
        if value is not None:
            overrides[field] = value
    return MonitoringSettings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as exc:  # names the setting and the expected range
        print(f"drift: error: bad setting: {exc}", file=sys.stderr)
        return 2
    try:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns else None
        folder = run(settings, current=args.current, since=args.since, until=args.until,
                     labels=args.labels, columns=columns)
    except EmptyBatchError as exc:  # not an input error: this week there is nothing to compare
        print(f"drift: nothing to compare: {exc}", file=sys.stderr)
        return EXIT_EMPTY_BATCH
    except DriftError as exc:
        print(f"drift: error: {exc}", file=sys.stderr)
        return 2
    summary = json.loads((folder / SUMMARY).read_text())
    pred = summary.get("prediction_drift") or {}
    print(f"drift report: {folder / REPORT}")
    print(f"  model {summary['model_version']}, current={summary['current_source']} "
          f"({summary['n_current']} rows), {len(summary['drifted_columns'])}/{len(summary['columns'])} columns "
          f"drifted, dataset_drift={summary['dataset_drift']}, prediction PSI="
          f"{pred.get('psi') if pred else 'n/a'}")
    if summary["drifted_columns"]:
        print("  drifted: " + ", ".join(summary["drifted_columns"]))
    for warning in summary.get("warnings", []):
        print(f"  note: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
