"""The files besides year.csv that `essctl import csv` and `essctl kpi` need: the three device
profiles, the site file and the import map (formats: docs/configuration.md, docs/evidence.md).
The profiles' Modbus addresses are made up: the year is imported, never polled."""

import datetime
import os

from simulate import COLUMNS, E_N, FLAT_PRICE, MAINTENANCE, P_N, REPO, YEAR_START


def write_config(out, stamped_at):
    os.makedirs(os.path.join(out, "profiles"), exist_ok=True)
    profiles = {
        "truth-pcs": """[profile]
name = "truth-pcs"
description = "1 MW PCS of the truth year (addresses made up: the year is imported, never polled)"

[[point]]
name = "active_power"
role = "active_power_kw"
address = 0
type = "int32"
scale = 0.001

[[point]]
name = "charge_energy_total"
role = "charge_energy_total_kwh"
address = 2
type = "float64"

[[point]]
name = "discharge_energy_total"
role = "discharge_energy_total_kwh"
address = 6
type = "float64"

[[point]]
name = "available"
role = "available"
address = 10
type = "bit0"

[[point]]
name = "fault"
role = "fault"
address = 10
type = "bit1"
""",
        "truth-bms": """[profile]
name = "truth-bms"
description = "2 MWh BMS of the truth year"

[[point]]
name = "soc"
role = "soc_percent"
kind = "input"
address = 0
type = "float32"

[[point]]
name = "cell_temp_max"
role = "cell_temp_max_c"
kind = "input"
address = 2
type = "int16"
scale = 0.01

[[point]]
name = "cell_temp_min"
role = "cell_temp_min_c"
kind = "input"
address = 3
type = "int16"
scale = 0.01

[[point]]
name = "cell_voltage_max"
role = "cell_voltage_max_v"
kind = "input"
address = 4
type = "uint16"
scale = 0.0001

[[point]]
name = "cell_voltage_min"
role = "cell_voltage_min_v"
kind = "input"
address = 5
type = "uint16"
scale = 0.0001

[[point]]
name = "alarm_word"
role = "alarm_word"
kind = "input"
address = 6
type = "uint16"
""",
        "truth-meter": """[profile]
name = "truth-meter"
description = "Storage meter of the truth year"

[[point]]
name = "meter_import_energy_total"
role = "meter_import_energy_total_kwh"
address = 0
type = "float64"

[[point]]
name = "meter_export_energy_total"
role = "meter_export_energy_total_kwh"
address = 4
type = "float64"
""",
    }
    for name, text in profiles.items():
        with open(os.path.join(out, "profiles", name + ".toml"), "w", encoding="utf-8") as fh:
            fh.write(text)

    def local_text(s):
        return f"{YEAR_START + datetime.timedelta(seconds=s):%Y-%m-%dT%H:%M:%S}"

    maintenance = "".join(
        f'\n[[site.maintenance]]\nstart = {local_text(a)}\nend = {local_text(b)}\nreason = "{why}"\n'
        for a, b, why in MAINTENANCE)
    site = f"""profile_directory = "profiles"
tariff_directory = "{os.path.join(REPO, 'Config', 'tariffs')}"
policy_directory = "{os.path.join(REPO, 'Config', 'policies')}"

[site]
id = "truth-year"
name = "truth year plant"
province = "guangdong"
rated_power_kw = {P_N}
rated_energy_kwh = {E_N}
technology_route = "lithium_iron_phosphate"
location_category = "industrial_plant"
total_investment_cny = 3000000.0
commissioning_date = 2024-06-30
time_zone = "Asia/Shanghai"
tariff = "guangdong-2021"
flat_price_cny_per_kwh = {FLAT_PRICE}
{maintenance}
[daemon]
status_socket = "{os.path.join(out, 'essd.sock')}"

[store]
state_directory = "{os.path.join(out, 'state')}"
meter_device = "meter1"

[[store.tier]]
name = "raw"
slot_seconds = 0
retention_days = 1

[[store.tier]]
name = "1m"
slot_seconds = 60
retention_days = 400

[[store.tier]]
name = "15m"
slot_seconds = 900
retention_days = 400

[[store.tier]]
name = "1d"
slot_seconds = 86400
retention_days = 1095

[defaults]
poll_interval_ms = 60000

[[device]]
id = "pcs1"
profile = "truth-pcs"
transport = "tcp"
host = "127.0.0.1"
port = 1502
unit_id = 1
rated_power_kw = {P_N}

[[device]]
id = "bms1"
profile = "truth-bms"
transport = "tcp"
host = "127.0.0.1"
port = 1502
unit_id = 2
rated_energy_kwh = {E_N}

[[device]]
id = "meter1"
profile = "truth-meter"
transport = "tcp"
host = "127.0.0.1"
port = 1502
unit_id = 3
"""
    with open(os.path.join(out, "site.toml"), "w", encoding="utf-8") as fh:
        fh.write(site)
    text = '# essctl import csv map for year.csv (simulate.py)\ndelimiter = ","\nheader_line = 1\nsample_interval_seconds = 60\n\n'
    text += '[time]\ncolumn = "time"\nformat = "local"\n'
    if stamped_at:
        text += 'stamped_at = "end"\n'
    for header, group, signal in COLUMNS:
        text += f'\n[[column]]\ncolumn = "{header}"\ngroup = "{group}"\nsignal = "{signal}"\n'
    with open(os.path.join(out, "map.toml"), "w", encoding="utf-8") as fh:
        fh.write(text)

