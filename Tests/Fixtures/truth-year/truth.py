"""The true indicators of the simulated year (simulate.py), per window and tier, from the
simulation's own exact quantities: minute energies integrated from the power breakpoints, the
minute-by-minute states, the true outage and reset times. Never from the CSV text, never from essd.

For each indicator it also says what the CSV alone determines. The CSV lacks the absent rows; by
the documented rules (docs/evidence.md, docs/indicators.md) a row's value holds for at most its
heartbeat (3 × 60 s from the start of the minute it describes) and power is interpolated across
gaps up to the heartbeat, so runs of one or two absent rows are bridged (simulate.py places them
where that gives the true values). A run of three or more absent rows leaves its minutes unknown
(beyond the two the hold covers, for states), except for what the counters around it pin down:
the energy inside it, not where in the run it flowed. Where such a run lets the true value lie
farther than the tolerance from the truth, the indicator is `determined: false` with the range
of values consistent with the CSV (bounded by P_N for energy) and why.
"""

import datetime

import simulate as S

KIND_GROUPS = {"valley": ("valley", "deep_valley"), "peak": ("peak", "sharp")}


def runs(absent):
    """(first minute, length) of every run of absent rows."""
    out = []
    m = 0
    n = len(absent)
    while m < n:
        if absent[m]:
            k = m
            while k < n and absent[k]:
                k += 1
            out.append((m, k - m))
            m = k
        else:
            m += 1
    return out


class Truth:
    def __init__(self, sim, ctr):
        self.sim = sim
        self.ctr = ctr
        n = S.MINUTES
        cum = sim["cum"]
        self.ec = [cum["charge"][m + 1] - cum["charge"][m] for m in range(n)]
        self.ed = [cum["discharge"][m + 1] - cum["discharge"][m] for m in range(n)]
        self.kinds, self.ratios = S.tariff_kinds()
        absent = sim["absent"]
        self.runs = runs(absent)
        # covered: the row of the minute, or the previous row's hold (≤ 2 minutes after its own).
        self.covered = bytearray(0 if a else 1 for a in absent)
        self.power_known = bytearray(0 if a else 1 for a in absent)
        self.long_runs = []
        for first, length in self.runs:
            assert first > 0
            for k in range(first, first + min(length, S.HOLD_ROWS - 1)):
                self.covered[k] = 1
                for name in ("available", "fault", "over", "vexc", "alarm"):
                    assert sim[name][k] == sim[name][first - 1], ("a hold would not give the true value", name, k)
            if length <= S.HOLD_ROWS - 1:
                for k in range(first, first + length):
                    self.power_known[k] = 1
                # the documented interpolation gives the true power (one straight line)
                assert sim["ig"].constant((first - 1) * 60, (first + length + 1) * 60)
            else:
                self.long_runs.append((first, first + length))
        self.site_available = bytearray(a and not f for a, f in zip(sim["available"], sim["fault"]))
        self.in_maintenance = bytearray(n)
        for a, b, _ in S.MAINTENANCE:
            for m in range(a // 60, b // 60):
                self.in_maintenance[m] = 1
        self.events = self.discharge_events()

    def discharge_events(self):
        """Every discharge: start and end (s), SoC before and after (the idle levels around it)."""
        ig = self.sim["ig"]
        out = []
        for day in self.sim["plant"].days:
            if "discharge" not in day:
                continue
            start, end = day["discharge"][0], day["discharge"][1]
            soc = lambda t: S.SOC0 + (S.ETA * ig.cum("charge", t) - ig.cum("discharge", t) / S.ETA) / S.E_N * 100
            out.append({"start_s": start, "end_s": end, "soc_start": soc(start), "soc_end": soc(end)})
        return out

    # ---- one window ---------------------------------------------------------------------------

    def window(self, name, start, end):
        wa = S.minute_of(*start)
        wb = S.minute_of(*end)
        minutes = wb - wa
        hours = minutes / 60
        sim = self.sim
        cum = sim["cum"]
        e_c = cum["charge"][wb] - cum["charge"][wa]
        e_d = cum["discharge"][wb] - cum["discharge"][wa]
        e_off = cum["import"][wb] - cum["import"][wa]
        e_on = cum["export"][wb] - cum["export"][wa]

        # Unknown stretches inside the window: power (whole long runs), states (beyond the hold).
        stretches = []
        for a, b in self.long_runs:
            a2, b2 = max(a, wa), min(b, wb)
            if a2 < b2:
                stretches.append((a2, b2))
        uncovered = [m for a, b in stretches for m in range(a, b) if not self.covered[m]]
        power_unknown_min = sum(b - a for a, b in stretches)

        ind = {}

        def put(id_, unit, truth, lo=None, hi=None, why="", by_tier=None):
            """One indicator; lo/hi: the range the CSV allows (None: exactly determined)."""
            tiers = {}
            for tier in ("1m", "15m"):
                t, l, h = (by_tier[tier] if by_tier else (truth, lo, hi))
                l = t if l is None else l
                h = t if h is None else h
                tol = max(S.TOLERANCE * abs(t), 1e-6)
                determined = max(t - l, h - t) <= tol
                tiers[tier] = {"truth": t, "determined": determined, "csv_range": [l, h],
                               "why": "" if determined else why}
            ind[id_] = {"unit": unit, "tiers": tiers}

        gap_text = ", ".join(
            f"{S.YEAR_START + datetime.timedelta(minutes=a):%Y-%m-%d %H:%M}–{S.YEAR_START + datetime.timedelta(minutes=b):%H:%M}"
            for a, b in stretches)

        # Energy: counters bracket every gap, so the totals are determined.
        put("energy.charge_kwh", "kWh", e_c)
        put("energy.discharge_kwh", "kWh", e_d)
        put("energy.charge_counter_kwh", "kWh", e_c)
        put("energy.discharge_counter_kwh", "kWh", e_d)
        u_c = sum(self.ec[m] for a, b in stretches for m in range(a, b))
        u_d = sum(self.ed[m] for a, b in stretches for m in range(a, b))
        cap = S.P_N * power_unknown_min / 60
        why_int = f"no power rows for {power_unknown_min} min ({gap_text}): up to P_N × that time may be missing"
        put("energy.charge_integrated_kwh", "kWh", e_c, e_c - u_c, e_c - u_c + cap, why_int)
        put("energy.discharge_integrated_kwh", "kWh", e_d, e_d - u_d, e_d - u_d + cap, why_int)
        # energy.unaccounted_hours is defined (docs/indicators.md) as the time not integrated
        # from power: essd takes each row as an instant sample (at its interval's start, the map
        # being stamped_at = "end") and integrates between samples no more than the heartbeat
        # apart. So a run of n missing rows leaves the n + 1 minutes between the rows either
        # side un-integrated, and the minute after the file's last row (no sample after it) too:
        # one row interval per gap more than the minutes without rows (conservative).
        not_integrated = sum(min(b, wb) - max(a - 1, wa) for a, b in self.long_runs if max(a - 1, wa) < min(b, wb))
        if wb >= S.MINUTES:
            not_integrated += 1
        put("energy.unaccounted_hours", "h", not_integrated / 60)
        put("meter.import_kwh", "kWh", e_off)
        put("meter.export_kwh", "kWh", e_on)
        put("efficiency.ac_round_trip_percent", "%", e_d / e_c * 100)
        put("efficiency.comprehensive_percent", "%", e_on / e_off * 100)
        put("efficiency.loss_rate_percent", "%", (e_c - e_d) / e_off * 100)
        put("efficiency.station_service_rate_percent", "%", ((e_off - e_c) + (e_d - e_on)) / e_off * 100)
        put("utilisation.equivalent_full_cycles", "", e_d / S.E_N)
        put("utilisation.hours", "h", e_d / S.P_N)
        put("utilisation.hours_annualised", "h", e_d / S.P_N * 8760 / hours)
        put("utilisation.factor_percent", "%", (e_c + e_d) / (S.P_N * hours) * 100)

        # Availability: communication loss counts as not available (docs/indicators.md).
        covered = sum(self.covered[wa:wb])
        comm_loss_h = (minutes - covered) / 60
        available_h = sum(1 for m in range(wa, wb) if self.covered[m] and self.site_available[m]) / 60
        down = [m for m in range(wa, wb) if not self.site_available[m]]
        planned = sum(1 for m in down if self.in_maintenance[m]) / 60
        unplanned = sum(1 for m in down if not self.in_maintenance[m]) / 60
        planned_known = sum(1 for m in down if self.in_maintenance[m] and self.covered[m]) / 60
        unplanned_known = sum(1 for m in down if not self.in_maintenance[m] and self.covered[m]) / 60
        unk_in = sum(1 for m in uncovered if self.in_maintenance[m]) / 60
        unk_out = sum(1 for m in uncovered if not self.in_maintenance[m]) / 60
        why_state = f"no rows for {len(uncovered)} min beyond the heartbeat ({gap_text}): the plant's state then is unknown"
        put("availability.factor_percent", "%", available_h / hours * 100)
        put("availability.factor_excl_comm_loss_percent", "%", available_h / (hours - comm_loss_h) * 100)
        put("availability.available_hours", "h", available_h)
        put("availability.comm_loss_hours", "h", comm_loss_h)
        put("availability.planned_outage_hours", "h", planned, planned_known, planned_known + unk_in, why_state)
        put("availability.unplanned_outage_hours", "h", unplanned, unplanned_known, unplanned_known + unk_out, why_state)
        put("availability.planned_outage_factor_percent", "%", planned / hours * 100,
            planned_known / hours * 100, (planned_known + unk_in) / hours * 100, why_state)
        put("availability.unplanned_outage_factor_percent", "%", unplanned / hours * 100,
            unplanned_known / hours * 100, (unplanned_known + unk_out) / hours * 100, why_state)

        # Discharge events and SoC: no gap holds a discharge (the discharge counter does not move
        # across any of them) and only one counter moves across each, so SoC is monotone there.
        for a, b in stretches:
            assert sum(self.ed[m] for m in range(a, b)) == 0
            assert min(sum(self.ec[m] for m in range(a, b)), sum(self.ed[m] for m in range(a, b))) == 0
        events = [e for e in self.events if wa * 60 <= e["start_s"] < wb * 60]
        for e in events:
            assert all(e["end_s"] + 120 < a * 60 or b * 60 + 120 < e["start_s"] for a, b in self.long_runs)
        dods = [e["soc_start"] - e["soc_end"] for e in events]
        put("discharge.events", "", float(len(events)))
        put("discharge.dod_mean_percent", "%", sum(dods) / len(dods))
        put("discharge.dod_max_percent", "%", max(dods))
        soc_b = sim["soc_b"]
        t_break = sim["plant"].t
        socs = [soc_b[wa], soc_b[wb]] + [s for t, s in zip(t_break, sim["soc_at_break"]) if wa * 60 <= t <= wb * 60]
        put("soc.min_percent", "%", min(socs))
        put("soc.max_percent", "%", max(socs))

        # Safety: minutes from the BMS's once-a-minute readings; slots per tier.
        def minutes_where(flag):
            return sum(flag[wa:wb])

        def known_minutes_where(flag):
            return sum(1 for m in range(wa, wb) if flag[m] and self.covered[m])

        why_bms = f"no BMS rows for {len(uncovered)} min ({gap_text})"
        for id_, flag in (("safety.cell_temp_over_minutes", sim["over"]), ("safety.cell_voltage_excursion_minutes", sim["vexc"])):
            k = known_minutes_where(flag)
            put(id_, "min", float(minutes_where(flag)), float(k), float(k + len(uncovered)), why_bms)

        def slots(flag, size):
            true = known = maybe = 0
            for s in range(wa, wb, size):
                part = range(s, min(s + size, wb))
                t = any(flag[m] for m in part)
                k = any(flag[m] and self.covered[m] for m in part)
                u = any(not self.covered[m] for m in part)
                true += t
                known += k
                maybe += (not k) and u
            return float(true), float(known), float(known + maybe)

        for id_, flag in (("safety.fault_slots", sim["fault"]), ("safety.alarm_slots", sim["alarm"])):
            by = {"1m": slots(flag, 1), "15m": slots(flag, 15)}
            put(id_, "", None, by_tier=by, why=why_bms)

        # Peak shifting, from the same source as E_c/E_d (counters): energy per tariff period.
        by_kind_c, by_kind_d = {}, {}
        for m in range(wa, wb):
            k = self.kinds[m]
            by_kind_c[k] = by_kind_c.get(k, 0.0) + self.ec[m]
            by_kind_d[k] = by_kind_d.get(k, 0.0) + self.ed[m]

        def group(d, g):
            return sum(d.get(k, 0.0) for k in KIND_GROUPS[g])

        def group_range(series, g, unknown_energy):
            """Range of energy in group g's periods over the stretches, given each stretch's energy."""
            lo = hi = 0.0
            for (a, b), u in zip(stretches, unknown_energy):
                tau = sum(1 for m in range(a, b) if self.kinds[m] in KIND_GROUPS[g])
                rest = (b - a) - tau
                lo += max(0.0, u - S.P_N * rest / 60)
                hi += min(u, S.P_N * tau / 60)
            known = sum(series[m] for m in range(wa, wb) if self.kinds[m] in KIND_GROUPS[g]) - sum(
                series[m] for a, b in stretches for m in range(a, b) if self.kinds[m] in KIND_GROUPS[g])
            return known + lo, known + hi

        uc_each = [sum(self.ec[m] for m in range(a, b)) for a, b in stretches]
        ud_each = [sum(self.ed[m] for m in range(a, b)) for a, b in stretches]
        why_split = (f"a counter delta spans {gap_text} across tariff periods: the CSV says how much energy, "
                     "not in which period it flowed")
        v_true = group(by_kind_c, "valley")
        p_true = group(by_kind_d, "peak")
        v_lo, v_hi = group_range(self.ec, "valley", uc_each)
        p_lo, p_hi = group_range(self.ed, "peak", ud_each)
        put("peak.valley_charge_share_percent", "%", v_true / e_c * 100, v_lo / e_c * 100, v_hi / e_c * 100, why_split)
        put("peak.peak_discharge_share_percent", "%", p_true / e_d * 100, p_lo / e_d * 100, p_hi / e_d * 100, why_split)
        put("peak.shifted_kwh", "kWh", min(v_true, p_true), min(v_lo, p_lo), min(v_hi, p_hi), why_split)
        value = S.FLAT_PRICE * sum(self.ratios[k] * (by_kind_d.get(k, 0.0) - by_kind_c.get(k, 0.0)) for k in sorted(set(by_kind_c) | set(by_kind_d)))
        value_lo, value_hi = self.value_range(wa, wb, stretches, uc_each, ud_each)
        put("peak.value", "CNY", value, value_lo, value_hi, why_split)

        # Completeness: every signal has a value in every row, so all signals are alike.
        received = minutes - sum(sim["absent"][wa:wb])
        put("completeness.mean_percent", "%", covered / minutes * 100)
        put("completeness.worst_signal_percent", "%", covered / minutes * 100)
        put("completeness.samples_mean_percent", "%", received / minutes * 100)
        put("completeness.samples_worst_signal_percent", "%", received / minutes * 100)

        resets = [r for r in self.ctr[4] if wa * 60 <= (r["at_utc_ms"] // 1000 - S.YEAR_START_UTC_S) < wb * 60]
        return {
            "name": name,
            "from": f"{datetime.date(*start).isoformat()}T00:00:00+08:00",
            "to": f"{datetime.date(*end).isoformat()}T00:00:00+08:00",
            "hours": hours,
            "indicators": ind,
            "counter_resets": resets,
            "discharge_events": [
                {"start_utc_ms": (S.YEAR_START_UTC_S + e["start_s"]) * 1000, "end_utc_ms": (S.YEAR_START_UTC_S + e["end_s"]) * 1000,
                 "soc_start_percent": e["soc_start"], "soc_end_percent": e["soc_end"]} for e in events],
            "rows": {"expected": minutes, "received": received, "absent_runs": [
                {"first_minute_local": f"{S.YEAR_START + datetime.timedelta(minutes=a):%Y-%m-%dT%H:%M}", "rows": n}
                for a, n in self.runs if wa <= a < wb and n > 1]},
        }

    def value_range(self, wa, wb, stretches, uc_each, ud_each):
        """peak.value's range: each stretch's energy placed in its cheapest / dearest periods (≤ P_N)."""
        inside = set(m for a, b in stretches for m in range(a, b))
        known = S.FLAT_PRICE * sum(self.ratios[self.kinds[m]] * (self.ed[m] - self.ec[m]) for m in range(wa, wb) if m not in inside)

        def place(a, b, energy, dearest_first):
            minutes = sorted((self.ratios[self.kinds[m]] for m in range(a, b)), reverse=dearest_first)
            total = 0.0
            left = energy
            for ratio in minutes:
                e = min(left, S.P_N / 60)
                total += ratio * e
                left -= e
                if left <= 0:
                    break
            return total

        lo = hi = known
        for (a, b), uc, ud in zip(stretches, uc_each, ud_each):
            hi += S.FLAT_PRICE * (place(a, b, ud, True) - place(a, b, uc, False))
            lo += S.FLAT_PRICE * (place(a, b, ud, False) - place(a, b, uc, True))
        return lo, hi
