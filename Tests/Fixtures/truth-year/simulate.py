#!/usr/bin/env python3
"""A year of a 1 MW / 2 MWh storage plant, simulated in continuous time, and its true indicators.

    python3 simulate.py OUT_DIR [--no-stamped-at]

Writes into OUT_DIR:
  year.csv          525,600 one-minute rows of 2025 (site time Asia/Shanghai), each stamped at the
                    END of its minute, some rows absent (communication gaps)
  map.toml          the import map (`[time] stamped_at = "end"`; --no-stamped-at leaves the key out)
  site.toml         the site (tiers raw, 1m, 15m, 1d; maintenance windows; state in OUT_DIR/state)
  profiles/*.toml   the three device profiles the site names
  truth.json        the true value of every indicator `essctl kpi` reports, per window and tier,
                    and whether the CSV alone determines it (else the range it allows, and why)

Independent of essd: nothing here reads essd's code or output. Standard library only,
deterministic (one seeded `random.Random`, only its `random()` is used).

The plant. Power P (kW, + discharge, − charge) is piecewise linear in time: each day a charge
in the valley and a discharge ending near the end of the evening peak, with ramps, a change of
set point during the discharge and seeded variation. Energy is integrated exactly from the
breakpoints. SoC = SoC0 + (η·E_charged − E_discharged/η) / E_N with one-way efficiency η.
Lifetime counters advance by the true energy; both PCS counters restart from 0 once (the PCS
controller is replaced while idle). A storage meter sees P − 12 kW of auxiliary load. The BMS
publishes the highest/lowest cell temperature and voltage once a minute (constant over the
minute, 0.01 °C / 0.1 mV resolution); `available` and `fault` change only on whole minutes.

A row stamped t describes the minute [t − 60 s, t): power is the mean over that minute,
counters and SoC are the values at t, the BMS and state columns the values over the minute.
"""

import bisect
import datetime
import json
import math
import os
import random
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

SEED = 20250101
DAYS = 365
MINUTES = DAYS * 1440
YEAR_START = datetime.datetime(2025, 1, 1)  # local (UTC+08:00, no daylight saving)
YEAR_START_UTC_S = 1735660800  # 2025-01-01T00:00:00+08:00
P_N = 1000.0  # kW
E_N = 2000.0  # kWh
ETA = 0.95  # one-way
AUX_KW = 12.0  # auxiliary load behind the storage meter
SOC0 = 8.0
THRESHOLD_KW = 0.01 * P_N  # discharge events: P > 1 % P_N (docs/indicators.md)
HOLD_ROWS = 3  # heartbeat = 3 × the 60 s row interval (docs/evidence.md)
TEMP_LIMIT_CENTI = 4500  # > 45 °C
ALARM_CENTI = 4300  # the BMS raises alarm bit 0 above 43 °C
V_HIGH = 36500  # > 3.65 V (0.1 mV units)
V_LOW = 25000  # < 2.5 V
FLAT_PRICE = 0.65  # CNY/kWh, the site's flat_price_cny_per_kwh
TOLERANCE = 0.001  # 0.1 %
CHARGE_C0 = 123456.789
DISCHARGE_C0 = 110000.5
IMPORT_C0 = 140000.0
EXPORT_C0 = 98000.0


def local_s(y, mo, d, h=0, mi=0, s=0):
    """Seconds from the local start of 2025."""
    return int((datetime.datetime(y, mo, d, h, mi, s) - YEAR_START).total_seconds())


def minute_of(y, mo, d, h=0, mi=0):
    return local_s(y, mo, d, h, mi) // 60


def day_of(y, mo, d):
    return (datetime.date(y, mo, d) - datetime.date(2025, 1, 1)).days


# Unavailability, on whole minutes: (first minute, end minute, fault, planned)
OUTAGES = [
    (minute_of(2025, 3, 18, 10, 7), minute_of(2025, 3, 18, 13, 7), False, True),  # 3 h, inside a window
    (minute_of(2025, 6, 10, 9, 7), minute_of(2025, 6, 13, 9, 7), False, True),  # 72 h, inside a window
    (minute_of(2025, 8, 20, 17, 22), minute_of(2025, 8, 20, 19, 35), True, False),  # PCS trip during a discharge
    (minute_of(2025, 11, 5, 12, 31), minute_of(2025, 11, 5, 12, 38), False, False),  # 7 min standby
]
# Declared maintenance windows (site.toml), [start, end) local seconds; the third has no outage.
MAINTENANCE = [
    (local_s(2025, 3, 18, 9, 30), local_s(2025, 3, 18, 14, 30), "inverter inspection"),
    (local_s(2025, 6, 10, 8, 0), local_s(2025, 6, 13, 12, 0), "battery rack replacement"),
    (local_s(2025, 10, 20, 9, 0), local_s(2025, 10, 20, 11, 0), "fire system test"),
]
# Communication gaps of more than one row: [first absent minute, end)
LONG_GAPS = [
    (minute_of(2025, 3, 5, 20, 41), minute_of(2025, 3, 5, 21, 41)),  # 1 h, idle
    (minute_of(2025, 3, 14, 4, 0), minute_of(2025, 3, 14, 10, 0)),  # 6 h, hides the end of a charge at 08:00
]
RESET_S = local_s(2025, 9, 9, 21, 37, 30)  # PCS controller replaced: both counters restart from 0
WINDOWS = [
    ("year", (2025, 1, 1), (2026, 1, 1)),
    ("2025-03", (2025, 3, 1), (2025, 4, 1)),
    ("2025-06", (2025, 6, 1), (2025, 7, 1)),
    ("2025-07", (2025, 7, 1), (2025, 8, 1)),
    ("2025-09", (2025, 9, 1), (2025, 10, 1)),
]
SINGLE_GAP_TARGET = 5000


class Plant:
    """The power breakpoints and everything integrated from them."""

    def __init__(self):
        self.rng = random.Random(SEED)
        self.t = [0.0]
        self.p = [0.0]
        self.soc = SOC0
        self.days = []  # per day: what was planned, for the record

    def r(self):
        return self.rng.random()

    def add(self, t, p):
        assert t > self.t[-1], (t, self.t[-1])
        self.t.append(float(t))
        self.p.append(float(p))

    def plan(self):
        no_charge = {day_of(2025, 6, 11), day_of(2025, 6, 12), day_of(2025, 6, 13)}
        no_discharge = {day_of(2025, 6, 10), day_of(2025, 6, 11), day_of(2025, 6, 12)}
        trip_s = OUTAGES[2][0] * 60
        for d in range(DAYS):
            day0 = d * 86400
            r = [self.r() for _ in range(12)]  # a fixed number of draws per day keeps days independent
            if d not in no_charge:
                hi = 88 + 7 * r[0]
                pc = 600 + 400 * r[1]
                ramp = 30 + 150 * r[2]
                start = day0 + 1200 + int(r[3] * 5.3 * 3600)
                if d == day_of(2025, 3, 14):
                    start, pc = day0 + 3 * 3600 + 10 * 60 + 17, 330.0  # runs past 08:00 inside the 6 h gap
                if d == day_of(2025, 6, 10):
                    start = day0 + 40 * 60 + 11  # done before the outage at 09:07
                energy = (hi - self.soc) / 100 * E_N / ETA
                length = energy / pc * 3600 + ramp
                self.add(start, 0)
                self.add(start + ramp, -pc)
                self.add(start + length - ramp, -pc)
                self.add(start + length, 0)
                self.soc = hi
                self.days.append({"day": d, "charge": [start, start + length, pc]})
            if d not in no_discharge:
                lo = 5 + 5 * r[4]
                p1 = 600 + 400 * r[5]
                p2 = 600 + 400 * r[6]
                ramp = 30 + 150 * r[7]
                if d == day_of(2025, 8, 20):
                    p1 = p2 = 650.0
                energy = (self.soc - lo) / 100 * E_N * ETA  # kWh at the AC side
                d1 = (0.3 + 0.3 * r[8]) * energy / p1 * 3600
                rest = energy * 3600 - p1 * ramp / 2 - p1 * d1 - (p1 + p2) / 2 * 60 - p2 * ramp / 2
                d2 = rest / p2
                assert d2 > 300, (d, d2)
                length = ramp + d1 + 60 + d2 + ramp
                end = day0 + 18 * 3600 + 40 * 60 + int(r[9] * 28 * 60)
                start = end - length
                points = [
                    (start, 0), (start + ramp, p1), (start + ramp + d1, p1), (start + ramp + d1 + 60, p2),
                    (end - ramp, p2), (end, 0),
                ]
                if start <= trip_s < end:  # the PCS trips: power falls to 0 within a second
                    assert trip_s > start + ramp
                    before = [q for q in points if q[0] < trip_s]
                    (t0, q0), (t1, q1) = before[-1], next(q for q in points if q[0] >= trip_s)
                    points = before + [(trip_s, q0 + (q1 - q0) * (trip_s - t0) / (t1 - t0)), (trip_s + 1, 0)]
                for q in points:
                    self.add(*q)
                self.soc -= self.energy_between(points) / ETA / E_N * 100
                self.days.append({"day": d, "discharge": [start, points[-1][0], p1, p2]})
        self.add(DAYS * 86400, 0)

    @staticmethod
    def energy_between(points):
        return sum((a[1] + b[1]) / 2 * (b[0] - a[0]) for a, b in zip(points, points[1:])) / 3600


def pos_int(a, b, dt):
    """∫ max(f, 0) over dt for f linear from a to b (units of a × dt)."""
    if a >= 0 and b >= 0:
        return (a + b) / 2 * dt
    if a <= 0 and b <= 0:
        return 0.0
    if a > 0:
        return a * a / (a - b) / 2 * dt
    return b * b / (b - a) / 2 * dt


FUNCS = {
    "charge": lambda p: -p,
    "discharge": lambda p: p,
    "import": lambda p: AUX_KW - p,
    "export": lambda p: p - AUX_KW,
}


class Integrals:
    """Exact ∫ max(f(P), 0) dt from the year's start, for each of FUNCS, in kWh."""

    def __init__(self, plant):
        self.t = plant.t
        self.p = plant.p
        self.at = {}
        for name, f in FUNCS.items():
            acc = [0.0]
            for i in range(len(self.t) - 1):
                acc.append(acc[-1] + pos_int(f(self.p[i]), f(self.p[i + 1]), self.t[i + 1] - self.t[i]) / 3600)
            self.at[name] = acc

    def power(self, t):
        i = min(bisect.bisect_right(self.t, t) - 1, len(self.t) - 2)
        t0, t1 = self.t[i], self.t[i + 1]
        return self.p[i] + (self.p[i + 1] - self.p[i]) * (t - t0) / (t1 - t0)

    def cum(self, name, t):
        i = min(bisect.bisect_right(self.t, t) - 1, len(self.t) - 2)
        f = FUNCS[name]
        return self.at[name][i] + pos_int(f(self.p[i]), f(self.power(t)), t - self.t[i]) / 3600

    def minute_boundaries(self, name):
        """cum(name, 60·m) for m = 0 … MINUTES, in one sweep."""
        f = FUNCS[name]
        out = []
        i = 0
        last = len(self.t) - 2
        acc = self.at[name]
        for m in range(MINUTES + 1):
            t = 60.0 * m
            while i < last and self.t[i + 1] <= t:
                i += 1
            t0, t1 = self.t[i], self.t[i + 1]
            pt = self.p[i] + (self.p[i + 1] - self.p[i]) * (t - t0) / (t1 - t0)
            out.append(acc[i] + pos_int(f(self.p[i]), f(pt), t - t0) / 3600)
        return out

    def constant(self, t0, t1):
        """True when no breakpoint lies in [t0, t1]: P is one straight line there."""
        return bisect.bisect_left(self.t, t0) == bisect.bisect_right(self.t, t1)


def tariff_kinds():
    """The tariff's period kind for every minute of the year, and its ratios, from the shipped file."""
    with open(os.path.join(REPO, "Config", "tariffs", "guangdong-2021.toml"), "rb") as fh:
        tariff = tomllib.load(fh)

    def table(bands):
        kinds = [None] * 1440
        for b in bands:
            h, m = map(int, b["from"].split(":"))
            h2, m2 = map(int, b["to"].split(":"))
            for k in range(h * 60 + m, h2 * 60 + m2):
                kinds[k] = b["kind"]
        return kinds

    holidays = set(tariff.get("holidays", []))
    out = []
    for d in range(DAYS):
        date = datetime.date(2025, 1, 1) + datetime.timedelta(days=d)
        if date.isoformat() in holidays and "holiday" in tariff:
            kinds = table(tariff["holiday"]["bands"])
        else:
            season = [s for s in tariff["season"] if date.month in s["months"]]
            assert len(season) == 1
            kinds = table(season[0]["bands"])
            for overlay in tariff.get("overlay", []):
                if date.month in overlay.get("months", []) or date.isoformat() in overlay.get("dates", []):
                    over = table(overlay["bands"])
                    kinds = [o if o is not None else k for k, o in zip(kinds, over)]
        assert all(k is not None for k in kinds)
        out.extend(kinds)
    return out, tariff["ratios"]


def simulate():
    plant = Plant()
    plant.plan()
    ig = Integrals(plant)
    cum = {name: ig.minute_boundaries(name) for name in FUNCS}
    n = MINUTES

    # Per minute: mean power, availability, fault.
    p_mean = [(cum["discharge"][m + 1] - cum["discharge"][m] - cum["charge"][m + 1] + cum["charge"][m]) * 60 for m in range(n)]
    available = bytearray(b"\x01") * n
    fault = bytearray(n)
    for first, end, is_fault, _ in OUTAGES:
        for m in range(first, end):
            available[m] = 0
            fault[m] = 1 if is_fault else 0
    for m in range(n):
        if not available[m]:
            assert p_mean[m] == 0 or (m * 60 <= OUTAGES[2][0] * 60 < m * 60 + 60), ("power while unavailable", m)

    # SoC at every minute boundary, and at every breakpoint (its extremes lie there).
    def soc_of(charged, discharged):
        return SOC0 + (ETA * charged - discharged / ETA) / E_N * 100

    soc_b = [soc_of(c, d) for c, d in zip(cum["charge"], cum["discharge"])]
    soc_at_break = [soc_of(c, d) for c, d in zip(ig.at["charge"], ig.at["discharge"])]
    assert 4 < min(soc_at_break) and max(soc_at_break) < 96, (min(soc_at_break), max(soc_at_break))

    # BMS, once a minute: cell temperature (ambient + a lagged heating from |P|) and voltages.
    noise = random.Random(SEED + 1)
    temp_max = [0] * n  # 0.01 °C
    temp_min = [0] * n
    v_max = [0] * n  # 0.1 mV
    v_min = [0] * n
    heat = 0.0
    for m in range(n):
        doy = m // 1440
        hod = (m % 1440 + 0.5) / 60
        ambient = 24 + 8.5 * math.sin(2 * math.pi * (doy - 110) / 365) + 4 * math.sin(2 * math.pi * (hod - 9) / 24)
        p = p_mean[m]
        heat += (10.5 * abs(p) / P_N - heat) * 0.05
        t = ambient + heat + 2 + (noise.random() - 0.5) * 0.6
        temp_max[m] = round(t * 100)
        temp_min[m] = round((t - 3.5 - 0.3 * heat) * 100)
        soc = soc_b[m + 1]
        v = 3.28 + 0.0012 * soc + (noise.random() - 0.5) * 0.004
        if p < 0:
            v += 0.05 * -p / P_N + (0.25 * (soc - 92) / 3 if soc > 92 else 0)
        else:
            v -= 0.03 * p / P_N
        v_max[m] = round(v * 10000)
        v_min[m] = round((v - 0.02 - 0.04 * abs(p) / P_N) * 10000)
    over = bytearray(1 if x > TEMP_LIMIT_CENTI else 0 for x in temp_max)
    vexc = bytearray(1 if (a > V_HIGH or b < V_LOW) else 0 for a, b in zip(v_max, v_min))
    alarm = bytearray(1 if x > ALARM_CENTI else 0 for x in temp_max)

    # Absent rows: the long gaps, then single rows where the documented interpolation and hold
    # give the true values (power one straight line over the three minutes, states unchanged).
    absent = bytearray(n)
    for a, b in LONG_GAPS:
        for m in range(a, b):
            absent[m] = 1
    keep_clear = set()
    for first, end, _, _ in OUTAGES:
        keep_clear.update(range(first - 4, first + 4))
        keep_clear.update(range(end - 4, end + 4))
    for a, b, _ in MAINTENANCE:
        keep_clear.update(range(a // 60 - 4, a // 60 + 4))
        keep_clear.update(range(b // 60 - 4, b // 60 + 4))
    keep_clear.update(range(RESET_S // 60 - 4, RESET_S // 60 + 4))
    for d in range(DAYS + 1):
        date = datetime.date(2025, 1, 1) + datetime.timedelta(days=d)
        if date.day == 1:  # window edges
            keep_clear.update(range(d * 1440 - 6, d * 1440 + 6))
    for a, b in LONG_GAPS:
        keep_clear.update(range(a - 6, b + 6))

    def single_ok(m):
        if m < 3 or m > n - 4 or m in keep_clear:
            return False
        if any(absent[k] for k in range(m - 4, m + 5)):
            return False
        if not ig.constant((m - 1) * 60, (m + 2) * 60):
            return False
        same = lambda arr: arr[m - 1] == arr[m] == arr[m + 1]
        return same(available) and same(fault) and same(over) and same(vexc) and same(alarm)

    singles = []
    # On purpose: the minute before 19:00 (peak → flat) during a discharge, before 08:00 (valley →
    # flat) during a charge, each on the first days where power is steady across the boundary.
    for boundary, sign in ((19 * 60, 1), (8 * 60, -1), (15 * 60, 1)):
        found = 0
        for d in range(DAYS):
            m = d * 1440 + boundary - 1
            if sign * p_mean[m] > 0 and single_ok(m) and found < 2:
                absent[m] = 1
                singles.append(m)
                found += 1
    while len(singles) < SINGLE_GAP_TARGET:
        m = int(plant.rng.random() * n)
        if single_ok(m):
            absent[m] = 1
            singles.append(m)
    singles.sort()

    return {
        "plant": plant, "ig": ig, "cum": cum, "p_mean": p_mean, "available": available, "fault": fault,
        "soc_b": soc_b, "soc_at_break": soc_at_break, "temp_max": temp_max, "temp_min": temp_min,
        "v_max": v_max, "v_min": v_min, "over": over, "vexc": vexc, "alarm": alarm, "absent": absent,
        "singles": singles,
    }


def counters(sim):
    """Counter readings at every minute boundary: PCS charge/discharge (reset once), meter import/export."""
    cum = sim["cum"]
    ig = sim["ig"]
    reset_charge = ig.cum("charge", RESET_S)
    reset_discharge = ig.cum("discharge", RESET_S)
    charge, discharge = [], []
    for m in range(MINUTES + 1):
        if m * 60 < RESET_S:
            charge.append(CHARGE_C0 + cum["charge"][m])
            discharge.append(DISCHARGE_C0 + cum["discharge"][m])
        else:
            charge.append(cum["charge"][m] - reset_charge)
            discharge.append(cum["discharge"][m] - reset_discharge)
    imp = [IMPORT_C0 + x for x in cum["import"]]
    exp = [EXPORT_C0 + x for x in cum["export"]]
    resets = [
        {"counter": "charge", "group": "pcs1", "at_local": "2025-09-09T21:37:30+08:00", "at_utc_ms": (YEAR_START_UTC_S + RESET_S) * 1000,
         "from_kwh": CHARGE_C0 + reset_charge, "to_kwh": 0.0},
        {"counter": "discharge", "group": "pcs1", "at_local": "2025-09-09T21:37:30+08:00", "at_utc_ms": (YEAR_START_UTC_S + RESET_S) * 1000,
         "from_kwh": DISCHARGE_C0 + reset_discharge, "to_kwh": 0.0},
    ]
    return charge, discharge, imp, exp, resets


COLUMNS = [
    ("PCS1 P (kW)", "pcs1", "active_power"),
    ("PCS1 E charge (kWh)", "pcs1", "charge_energy_total"),
    ("PCS1 E discharge (kWh)", "pcs1", "discharge_energy_total"),
    ("PCS1 available", "pcs1", "available"),
    ("PCS1 fault", "pcs1", "fault"),
    ("BMS1 SOC (%)", "bms1", "soc"),
    ("BMS1 Tcell max (°C)", "bms1", "cell_temp_max"),
    ("BMS1 Tcell min (°C)", "bms1", "cell_temp_min"),
    ("BMS1 Ucell max (V)", "bms1", "cell_voltage_max"),
    ("BMS1 Ucell min (V)", "bms1", "cell_voltage_min"),
    ("BMS1 alarm", "bms1", "alarm_word"),
    ("Meter import (kWh)", "meter1", "meter_import_energy_total"),
    ("Meter export (kWh)", "meter1", "meter_export_energy_total"),
]


def write_csv(path, sim, ctr):
    charge, discharge, imp, exp, _ = ctr
    p_mean, soc_b = sim["p_mean"], sim["soc_b"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("time," + ",".join(c[0] for c in COLUMNS) + "\n")
        buf = []
        for m in range(MINUTES):
            if sim["absent"][m]:
                continue
            k = m + 1  # the row's stamp: the end of minute m
            stamp = YEAR_START + datetime.timedelta(minutes=k)
            buf.append(
                f"{stamp:%Y-%m-%d %H:%M:%S},{p_mean[m]:.4f},{charge[k]:.3f},{discharge[k]:.3f},"
                f"{sim['available'][m]},{sim['fault'][m]},{soc_b[k]:.4f},"
                f"{sim['temp_max'][m] / 100:.2f},{sim['temp_min'][m] / 100:.2f},"
                f"{sim['v_max'][m] / 10000:.4f},{sim['v_min'][m] / 10000:.4f},{sim['alarm'][m]},"
                f"{imp[k]:.3f},{exp[k]:.3f}\n")
            if len(buf) >= 20000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))

def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1 or any(a not in ("--no-stamped-at",) for a in argv if a.startswith("--")):
        sys.exit("usage: simulate.py OUT_DIR [--no-stamped-at]")
    out = os.path.abspath(args[0])
    os.makedirs(out, exist_ok=True)
    sim = simulate()
    ctr = counters(sim)
    write_csv(os.path.join(out, "year.csv"), sim, ctr)
    sys.dont_write_bytecode = True  # nothing written beside the sources
    sys.path.insert(0, HERE)
    import site_files
    import truth as T

    site_files.write_config(out, stamped_at="--no-stamped-at" not in argv)

    t = T.Truth(sim, ctr)
    document = {
        "generator": "Tests/Fixtures/truth-year/simulate.py",
        "seed": SEED,
        "plant": {"rated_power_kw": P_N, "rated_energy_kwh": E_N, "one_way_efficiency": ETA, "aux_load_kw": AUX_KW,
                  "time_zone": "Asia/Shanghai", "tariff": "guangdong-2021", "flat_price_cny_per_kwh": FLAT_PRICE},
        "tolerance_relative": TOLERANCE,
        "rows": {"expected": MINUTES, "received": MINUTES - sum(sim["absent"]), "single_row_gaps": len(sim["singles"]),
                 "long_gaps": [{"from": f"{YEAR_START + datetime.timedelta(minutes=a):%Y-%m-%dT%H:%M}+08:00",
                                "to": f"{YEAR_START + datetime.timedelta(minutes=b):%Y-%m-%dT%H:%M}+08:00", "rows": b - a}
                               for a, b in LONG_GAPS]},
        "outages": [{"from": f"{YEAR_START + datetime.timedelta(minutes=a):%Y-%m-%dT%H:%M}+08:00",
                     "to": f"{YEAR_START + datetime.timedelta(minutes=b):%Y-%m-%dT%H:%M}+08:00",
                     "hours": (b - a) / 60, "fault": f, "planned": p} for a, b, f, p in OUTAGES],
        "counter_resets": ctr[4],
        "conventions": [
            "a row stamped t describes [t − 60 s, t): power is the minute's mean, counters and SoC the values at t",
            "covered time: a row's minute, and its value held up to the heartbeat (3 × 60 s from the start of its minute) across absent rows",
            "communication loss: window − covered time; unaccounted hours: minutes without power rows beyond runs of ≤ 2 absent rows",
            "outage hours are the true unavailable time (available = 0 or fault = 1), planned inside a declared maintenance window",
            "slot counts (safety.fault_slots, safety.alarm_slots) are per tier: slots of that tier holding a non-zero minute",
            "completeness.samples_*: received ÷ expected rows (expected: one per minute); not yet an essd indicator id",
        ],
        "windows": [t.window(name, a, b) for name, a, b in WINDOWS],
    }
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
