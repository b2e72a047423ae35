#!/usr/bin/env python3
"""Writes the benchmark site for scripts/bench-daemon.sh: DEVICES battery racks, each a BMS
with REGISTERS input registers (a few role points, the rest cell voltages and temperatures
kept in the raw and 15-min tiers only, as a big plant would configure them)."""
import os
import sys

out, devices, registers, first_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
realtime = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None
os.makedirs(os.path.join(out, "profiles"), exist_ok=True)
points = [
    ("soc", "soc_percent", 0.1), ("soh", "soh_percent", 0.1), ("power", "active_power_kw", 0.1),
    ("cell_temp_max", "cell_temp_max_c", 0.1), ("cell_temp_min", "cell_temp_min_c", 0.1),
    ("cell_v_max", "cell_voltage_max_v", 0.001), ("cell_v_min", "cell_voltage_min_v", 0.001),
]
lines = ['[profile]', 'name = "rack-%d"' % registers, 'vendor = "essd"', 'model = "bench-rack"', '']
for address in range(registers):
    if address < len(points):
        name, role, scale = points[address]
        extra = ""
    elif address % 2 == 0:
        name, role, scale, extra = "cell_v_%03d" % address, "other", 0.001, 'tiers = ["raw", "15m"]\n'
    else:
        name, role, scale, extra = "cell_t_%03d" % address, "other", 0.1, 'tiers = ["raw", "15m"]\n'
    kind = "int16" if role == "active_power_kw" else "uint16"
    lines.append('[[point]]\nname = "%s"\nrole = "%s"\nkind = "input"\naddress = %d\ntype = "%s"\nscale = %s\n%s'
                 % (name, role, address, kind, scale, extra))
open(os.path.join(out, "profiles", "rack-%d.toml" % registers), "w").write("\n".join(lines))
site = ['profile_directory = "profiles"', '', '[site]', 'id = "bench-big"', 'name = "benchmark plant"',
        'province = "guangdong"', 'rated_power_kw = %d.0' % (devices * 250), 'rated_energy_kwh = %d.0' % (devices * 500),
        'technology_route = "lithium_iron_phosphate"', 'location_category = "grid_side"', 'total_investment_cny = 0.0',
        'commissioning_date = 2025-01-01', 'time_zone = "Asia/Shanghai"', '',
        '[daemon]', 'status_socket = "%s/essd.sock"' % out] + (['realtime_priority = %d' % realtime] if realtime else []) + ['', '[metrics]', 'enabled = false', '',
        '[store]', 'state_directory = "%s/state"' % out, 'raw_budget_mb = 1024', '',
        '[[store.tier]]\nname = "raw"\nslot_seconds = 0\nretention_days = 2\n',
        '[[store.tier]]\nname = "1m"\nslot_seconds = 60\nretention_days = 30\n',
        '[[store.tier]]\nname = "15m"\nslot_seconds = 900\nretention_days = 30\n',
        '[[store.tier]]\nname = "1d"\nslot_seconds = 86400\nretention_days = 3650\n']
for d in range(devices):
    site.append('[[device]]\nid = "rack%02d"\nprofile = "rack-%d"\ntransport = "tcp"\nhost = "127.0.0.1"\nport = %d\nunit_id = 1\n'
                'poll_interval_ms = 1000\nresponse_timeout_ms = 500\nrated_energy_kwh = 500.0\n' % (d, registers, first_port + d))
open(os.path.join(out, "site.toml"), "w").write("\n".join(site))
