#!/usr/bin/env python3
"""Compares `essctl kpi --json` output with the truth simulate.py wrote.

    python3 check.py TRUTH_JSON KPI_DIR [--markdown]

KPI_DIR holds one `essctl kpi --json` document per window and tier, named
`<window>.<tier>.json` (window names from truth.json, tiers 1m and 15m).

Rules, per window, tier and indicator:
- the CSV determines the value: essd's value within 0.1 % of the truth (1e-6 absolute when the
  truth is 0) and status "ok";
- the CSV does not: a status other than "ok" with a note saying why, and a value (if any) inside
  the range the CSV allows;
- status "upper_bound" (a duration counted in whole slots longer than the sampling interval, as
  issue 12 asks where only a coarse tier is read): a note giving the resolution and a value at or
  above the truth;
- an indicator essd reports that truth.json lacks, or one truth.json has that essd does not
  report, fails: every indicator is compared.
Counter resets: each PCS counter's notes name exactly the true resets in the window, each at the
slot (of the tier read) that holds the true reset time; the meter counters name none.

Prints one row per comparison and exits 1 when any fails. By hand (the Swift test
TruthYearEndToEndTests does the same):

    python3 simulate.py /tmp/ty
    essctl import csv /tmp/ty/year.csv --map /tmp/ty/map.toml --config /tmp/ty/site.toml
    mkdir -p /tmp/ty/kpi   # then for each window of truth.json and tier 1m, 15m:
    essctl kpi --config /tmp/ty/site.toml --from FROM --to TO --tier TIER --json > /tmp/ty/kpi/NAME.TIER.json
    python3 check.py /tmp/ty/truth.json /tmp/ty/kpi --markdown
"""

import json
import os
import re
import sys

TIERS = ("1m", "15m")
SLOT_MS = {"1m": 60_000, "15m": 900_000}


def fmt(v):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        return f"{v:,.1f}"
    return f"{v:.4f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v)}"


def rel_error(v, t):
    if v is None:
        return "—"
    if t == 0:
        return f"{v - t:+.3g} abs"
    return f"{(v - t) / abs(t) * 100:+.3f} %"


def judge(entry, truth):
    """(passed, why) for one essd indicator against its truth for one tier."""
    if entry is None:
        return False, "not reported"
    value, status, notes = entry.get("value"), entry.get("status"), entry.get("notes") or []
    t = truth["truth"]
    tol = max(1e-3 * abs(t), 1e-6)
    if status == "upper_bound":
        if not any("upper bound" in n for n in notes):
            return False, "status upper_bound without a note giving the resolution"
        if value is None or value < t - tol:
            return False, f"upper bound {fmt(value)} below the truth"
        return True, "upper bound"
    if truth["determined"]:
        if value is None:
            return False, f"no value (status {status})"
        if abs(value - t) > tol:
            return False, f"off by {rel_error(value, t)}"
        if status != "ok":
            return False, f"status {status}"
        return True, ""
    lo, hi = truth["csv_range"]
    if status == "ok":
        return False, "status ok, but the CSV does not determine it"
    if not notes:
        return False, f"status {status} without a note"
    if value is not None and not (lo - tol <= value <= hi + tol):
        return False, f"value outside the CSV's range [{fmt(lo)}, {fmt(hi)}]"
    return True, f"status {status}"


RESET_NOTE = re.compile(r"(\d+) (charge|discharge) counter resets? \(never counted as energy\): (.*)")


def reset_rows(window, docs):
    """Rows for the counter resets of one window: count and slot per PCS counter, none on the meter."""
    rows = []
    for counter in ("charge", "discharge"):
        true = [r for r in window["counter_resets"] if r["counter"] == counter]
        cells = {}
        for tier in TIERS:
            doc = docs.get(tier)
            if doc is None:
                cells[tier] = (None, False, "no kpi output")
                continue
            entry = next((i for i in doc["indicators"] if i["id"] == f"energy.{counter}_counter_kwh"), None)
            notes = entry.get("notes", []) if entry else []
            found = [m for m in (RESET_NOTE.match(n) for n in notes) if m and m.group(2) == counter]
            further = [n for n in notes if "further counter drop" in n]
            count = int(found[0].group(1)) if found else 0
            times = re.findall(r"at (\d{4}-\d\d-\d\dT\d\d:\d\dZ)", found[0].group(3)) if found else []
            expected_times = []
            for r in true:
                slot = r["at_utc_ms"] // SLOT_MS[tier] * SLOT_MS[tier]
                expected_times.append(_utc_text(slot))
            ok = count == len(true) and sorted(times) == sorted(expected_times) and not further
            why = "" if ok else f"essd: {count} reset(s) at {times or '—'}{'; ' + further[0] if further else ''}; true: {len(true)} at {expected_times or '—'}"
            cells[tier] = (f"{count} at {', '.join(times)}" if count else "0", ok, why)
        truth_text = ", ".join(f"1 at {r['at_local']}" for r in true) or "0"
        rows.append((f"resets: pcs1 {counter} counter", truth_text, cells))
    for counter, id_ in (("meter import", "meter.import_kwh"), ("meter export", "meter.export_kwh")):
        cells = {}
        for tier in TIERS:
            doc = docs.get(tier)
            entry = next((i for i in doc["indicators"] if i["id"] == id_), None) if doc else None
            notes = entry.get("notes", []) if entry else []
            said = [n for n in notes if "reset" in n]
            cells[tier] = ("0" if not said else said[0][:60], not said, "" if not said else "a reset the meter never had")
        rows.append((f"resets: meter1 {counter.split()[1]} counter", "0", cells))
    return rows


def _utc_text(ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return f"{t:%Y-%m-%dT%H:%M}Z"


def main(argv):
    markdown = "--markdown" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        sys.exit("usage: check.py TRUTH_JSON KPI_DIR [--markdown]")
    with open(args[0], encoding="utf-8") as fh:
        truth = json.load(fh)
    failures = 0
    total = 0
    lines = []
    header = ["window", "indicator", "truth", "essd 1m", "essd 15m", "rel. error 1m", "rel. error 15m", "1m", "15m"]
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
    else:
        lines.append("\t".join(header))

    def emit(cells):
        if markdown:
            lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
        else:
            lines.append("\t".join(str(c) for c in cells))

    for window in truth["windows"]:
        docs = {}
        for tier in TIERS:
            path = os.path.join(args[1], f"{window['name']}.{tier}.json")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as fh:
                    docs[tier] = json.load(fh)
        reported = {tier: {i["id"]: i for i in doc["indicators"]} for tier, doc in docs.items()}
        ids = list(window["indicators"])
        for tier_ids in reported.values():
            ids += [i for i in tier_ids if i not in window["indicators"] and i not in ids]
        for id_ in ids:
            spec = window["indicators"].get(id_)
            verdicts, values, errors = [], [], []
            for tier in TIERS:
                entry = reported.get(tier, {}).get(id_)
                if spec is None:
                    ok, why = False, "no truth for this id (add it to truth.py)"
                    t = None
                else:
                    t = spec["tiers"][tier]
                    ok, why = judge(entry, t)
                total += 1
                failures += not ok
                values.append(None if entry is None else entry.get("value"))
                errors.append("—" if spec is None or entry is None else rel_error(entry.get("value"), t["truth"]))
                verdicts.append(("pass" if ok else "FAIL") + (f" ({why})" if why else ""))
            if spec is None:
                truth_text = "—"
            else:
                t1, t15 = spec["tiers"]["1m"], spec["tiers"]["15m"]
                truth_text = fmt(t1["truth"]) if t1["truth"] == t15["truth"] else f"{fmt(t1['truth'])} (1m) / {fmt(t15['truth'])} (15m)"
                if not t1["determined"] or not t15["determined"]:
                    lo, hi = t1["csv_range"]
                    truth_text += f"; CSV: [{fmt(lo)}, {fmt(hi)}]"
            emit([window["name"], id_, truth_text, fmt(values[0]), fmt(values[1]), errors[0], errors[1], verdicts[0], verdicts[1]])
        for label, truth_text, cells in reset_rows(window, docs):
            for tier in TIERS:
                total += 1
                failures += not cells[tier][1]
            emit([window["name"], label, truth_text, cells["1m"][0], cells["15m"][0], "", "",
                  ("pass" if cells["1m"][1] else "FAIL") + (f" ({cells['1m'][2]})" if cells["1m"][2] else ""),
                  ("pass" if cells["15m"][1] else "FAIL") + (f" ({cells['15m'][2]})" if cells["15m"][2] else "")])
    print("\n".join(lines))
    print(f"\n{total - failures} of {total} comparisons pass, {failures} fail")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
