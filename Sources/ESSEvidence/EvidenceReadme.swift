import ESSCore
import ESSCriteria
import Foundation

/// `README.txt` of a bundle, in Chinese and English: what each file and column means, the
/// units and precision, how quality and coverage are decided, and how to verify the files.
enum EvidenceReadme {
    static func text(
        hasMeter: Bool, policy: Policy?, tariffID: String?, intervalMS: Int64, tier: TierDefinition, signed: Bool,
        timeZone: String
    ) -> String {
        let minutes = intervalMS / 60_000
        var s = """
            essd 储能电站运行证据包 / essd evidence bundle for an energy-storage site
            ======================================================================

            所有 CSV 文件均为 RFC 4180 格式（逗号分隔，CRLF 换行，含逗号/引号/换行的字段加双引号），UTF-8 编码；
            以 --excel 导出时文件以 UTF-8 BOM 开头，以便 Excel 正确显示中文。数字不使用千位分隔符，小数点为“.”。
            空字段表示“未知/无有效数据”，绝不表示 0。
            All CSV files are RFC 4180 (comma separated, CRLF line ends, fields holding a comma, quote or line
            break are quoted), UTF-8; exported with --excel they start with the UTF-8 BOM Excel needs for Chinese.
            Numbers have no thousands separator and "." as decimal point. An empty field means unknown / no valid
            data, never 0.

            精度 / Precision: 电量 energy kWh 3 位小数 (3 decimals, 1 Wh); 功率 power kW 3; SoC 与百分比
            percentages 2; 温度 temperature °C 1. 时区 / time zone: \(timeZone).

            时段 / Interval: \(minutes) 分钟 minutes, 由存储的 \(tier.name) 层读取 / read from the store's \(tier.name) tier.

            """
        s += """

            intervals.csv — 每个区间一行 / one row per interval
            ----------------------------------------------------
            interval_start_utc        区间起点（UTC, ISO 8601）/ interval start, UTC, ISO 8601
            interval_start_local      区间起点（当地时间，带 UTC 偏移）/ interval start, local time with its UTC offset
            duration_s                区间时长（秒）；最后一个区间可能较短 / length in seconds; the last may be shorter
            charge_kwh_counter        充电电量，由电量累计计数器差值得出（kWh）/ charge energy from counter deltas
            discharge_kwh_counter     放电电量，由累计计数器差值得出 / discharge energy from counter deltas
            charge_kwh_integrated     充电电量，由有功功率梯形积分得出（仅覆盖有数据的时间）/ charge energy integrated
                                      from active power (trapezoid rule, only over covered time)
            discharge_kwh_integrated  放电电量，由有功功率积分得出 / discharge energy integrated from active power
                                      （计数器与积分两种来源并列给出，便于比对 / both sources side by side, to compare）

            """
        if hasMeter {
            s += """
                meter_import_kwh          储能计量表正向（受电）电量 E_off / storage meter import (forward) energy E_off
                meter_export_kwh          储能计量表反向（上网）电量 E_on / storage meter export (reverse) energy E_on
                                          （计量表计数器在相邻时段之间的跳变计入后一时段；跨越缺失时段的跳变不计入 /
                                          a counter step between adjacent slots counts in the later one; a step across
                                          a gap is not counted, since when it happened is unknown）

                """
        }
        s += """
            soc_start_percent         区间内第一个有效 SoC（%）/ first valid site SoC in the interval
            soc_end_percent           区间内最后一个有效 SoC / last valid site SoC
            soc_min_percent           区间内 SoC 最小值 / minimum site SoC
            soc_max_percent           区间内 SoC 最大值 / maximum site SoC
            power_mean_kw             有功功率时间加权平均（kW，放电为正、充电为负）/ time-weighted mean active power
                                      (kW, positive = discharge, negative = charge)
            power_max_kw              有功功率最大值 / maximum active power
            cell_temp_max_c           所有设备电芯最高温度的最大值（°C）/ highest cell temperature of any device
            availability_percent      可用信号的时间加权平均（%）/ time-weighted mean of the site's availability signal
            tariff_period             分时电价时段（\(tariffID ?? "未配置 / none configured")）：sharp 尖峰, peak 高峰, flat 平段,
                                      valley 低谷, deep_valley 深谷；区间跨越多个时段时以“+”连接 / time-of-use period;
                                      several joined by "+" when the interval spans them
            quality                   数据质量：measured（覆盖率 ≥ 99.9 %），partial:<覆盖率 %>（向下取整到 0.1 %），
                                      missing（无有效数据）/ measured (coverage ≥ 99.9 %), partial:<coverage %> (rounded
                                      down to 0.1 %), missing (no valid data). 覆盖率 = 站级有功功率（无功率信号时为 SoC）
                                      有有效数据的时间 / 区间时长 / coverage = time with valid site active power (else SoC)
                                      / interval length

            daily.csv — 每个当地自然日一行（区间按起点所在日期归属）/ one row per local day (an interval belongs to the
            day of its start)
            ----------------------------------------------------
            date_local                当地日期 / local date
            hours_in_window           该日落在导出窗口内的小时数 / hours of the day inside the exported window
            charge_/discharge_kwh_*   当日各区间已知电量之和（同 intervals.csv 的来源）/ sum of the day's known interval
                                      energies (same sources as intervals.csv)
            soc_min/max_percent       当日 SoC 最小/最大值 / the day's SoC minimum and maximum
            coverage_percent          当日数据覆盖率（向下取整）/ the day's data coverage (rounded down)
            intervals_measured/partial/missing  各质量等级的区间数 / number of intervals of each quality

            devices.csv — 设备身份 / device identity
            ----------------------------------------------------
            device_id, vendor, model   设备编号、厂家、型号（来自寄存器配置文件）/ id, vendor, model from the register profile
            profile_name               寄存器配置文件名 / register profile name
            profile_sha256             配置文件规范文本的 SHA-256，相同哈希表示以相同方式读取相同寄存器 / SHA-256 of the
                                       profile's canonical text: the same hash reads the same registers the same way
            serial, firmware           设备上报的序列号与固件版本（窗口结束前最后一次读取）；设备不提供则为空 /
                                       serial number and firmware the device reported (last read before the
                                       window's end); empty when the device does not report them
            endpoint, unit_id, points  通信地址、Modbus 从站号、点位数 / link, Modbus unit id, number of points
            identity_history           essd 读到的全部身份文本及首次读取时间（UTC），如固件升级 / every identity
                                       text essd read, with when it was first read (UTC), e.g. a firmware update

            indicators.csv — 运行指标 / operating indicators
            ----------------------------------------------------
            indicator_id, value, unit  指标编号、数值（3 位小数）、单位 / id, value (3 decimals), unit
            coverage_percent           输入数据覆盖率 / coverage of the inputs
            status                     ok 或 insufficient_data（覆盖率不足或输入缺失）/ ok, or insufficient_data
            formula                    计算公式（见 docs/indicators.md）/ formula (see docs/indicators.md)
            confidence                 公式来源可信度：[V] 原文核实，[S] 二手来源，[I] 推断，site choice 站点自定 / how
                                       far the formula is verified: [V] read in the source, [S] secondary, [I] inferred
            notes                      说明 / notes

            completeness.csv — 每日各信号数据完整率 / data completeness per signal and local day
            ----------------------------------------------------
            date_local                 当地日期 / local date
            signal                     设备/信号，如 pcs1/active_power / group/signal
            coverage_percent           当日有效数据覆盖的时间占当日窗口时间的百分比（向下取整，100.00 表示完整）/
                                       covered time / the day's time in the window (rounded down: 100.00 is complete)

            criteria.csv — 政策条款判定 / policy criteria (\(policy.map { "\($0.id): \($0.titleZH) / \($0.titleEN), \($0.document)" } ?? "未选择政策，仅表头 / no policy chosen: header only"))
            ----------------------------------------------------
            verdict                    pass 通过, fail 未通过, insufficient_data 数据不足（绝不因缺数据判为通过 / never a
                                       pass on missing data）, manual_review 需人工审核 / a reviewer decides
            measured_value/_text       实测或配置值 / measured or configured value
            threshold                  阈值 / threshold;  clause_document, clause_article  条款出处 / clause served
            coverage_percent, source, confidence, notes  覆盖率、数值与阈值来源、可信度、说明 / coverage, sources of the
                                       value and the threshold, confidence, notes

            money.csv — 政策资金测算 / the policy's money estimates (仅为估算，不构成承诺，以主管部门审核为准 /
            estimates, never promises: the reviewing authority decides)
            ----------------------------------------------------
            rule_id, title_en/_zh      规则编号与名称 / rule id and title;  clause_document, clause_article  出处 / clause
            status                     estimated 已估算, conditions_not_met 前提条款未通过（见 criteria.csv）, insufficient_data
                                       输入缺失 / estimated, conditions not met (see criteria.csv), or an input is missing
            amount_cny                 点估算（元，2 位小数）；区间型规则或前提未通过时为空 / point estimate (CNY, 2
                                       decimals); empty for a band, and when a condition has not passed
            low_cny, high_cny          区间下限/上限（如江西 200 万–1000 万元）/ band limits (e.g. Jiangxi CNY 2M–10M)
            formula                    代入数值后的公式，例如 min(30000000, 0.3 × 投资) / the formula with its numbers, e.g.
                                       Beijing min(CNY 30M, 30 % of total investment); discharge-based: rate × metered
                                       discharge E_on over the window, capped
            inputs                     每个输入“名称 = 数值 单位 (来源)”，以“; ”分隔；missing 表示缺失 / every input as
                                       "name = value unit (source)", separated by "; "; missing when not known
            conditions                 须先通过的条款编号 / criteria that must pass first
            provenance, confidence, notes  规则来源、可信度、说明 / where the rule comes from, confidence, notes

            events.csv — 窗口内事件 / what happened in the window, in time order
            ----------------------------------------------------
            start_utc, end_utc         开始与结束（UTC；瞬时事件无结束）/ start and end (UTC; empty end for an instant)
            start_local                开始（站点时间）/ start in site time
            kind                       communication_gap 通信中断, counter_reset 计量器复位, essd_stopped /
                                       essd_ended_uncleanly 采集停止, rows_quarantined 时钟回拨隔离的数据, planned_outage
                                       计划检修, store_hint_repaired 存储索引修复 / communication gap (a run of steps each
                                       missing over 1 % of data), counter reset, essd stopped (cleanly or not), rows set
                                       aside after a clock that ran ahead was stepped back, planned outage, repaired store hint
            group                      站点、设备或电表 / the site, a device or the meter
            detail                     说明 / what it changed

            manifest.json — 清单 / manifest
            ----------------------------------------------------
            essd 版本、配置哈希（configuration_sha256）、存储编号、站点、时间窗口、时区、区间长度，以及除 manifest.json
            与 manifest.sig 外每个文件的名称、字节数、数据行数（不含表头）与 SHA-256。
            essd version, configuration hash, store id, site, window, time zone, interval, and for every file but
            manifest.json and manifest.sig: name, bytes, data rows (header not counted) and SHA-256.

            SHA256SUMS — 除自身及其签名外每个文件（含 manifest.json）的 SHA-256 / the SHA-256 of every file but itself and
            its signature (manifest.json included), as GNU sha256sum writes it.

            校验 / Verify:  essctl verify <目录 directory>
            不用 essctl / without essctl:  cd <目录 directory> && sha256sum -c SHA256SUMS

            """
        if signed {
            s += """

                manifest.sig — manifest.json 原始字节的 Ed25519 签名（十六进制）/ Ed25519 signature (hex) over the exact
                bytes of manifest.json.
                site.pub — 站点公钥（32 字节原始公钥，十六进制）；请与站点另行提供的公钥比对 / the site's public key (raw
                32 bytes, hex); compare it with the key the site gave you by another channel.
                site.pem — 同一公钥（PEM）/ the same key as PEM, for OpenSSL.
                SHA256SUMS.sig — SHA256SUMS 原始字节的 Ed25519 签名（64 字节）/ Ed25519 signature (64 raw bytes) over the
                exact bytes of SHA256SUMS. 不用 essctl 校验 / verify without essctl (OpenSSL 3):
                  openssl pkeyutl -verify -pubin -inkey site.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
                  sha256sum -c SHA256SUMS

                """
        }
        return s.replacingOccurrences(of: "\n", with: "\r\n")
    }
}
