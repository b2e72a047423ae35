// The built-in tariff calendars. Keep in step with Config/tariffs/*.toml: the same periods,
// ratios, confidence marks and notes, one file per calendar (guangdong-2021.toml,
// beijing-2023.toml, jiangxi-2025.toml, yunnan-2024.toml). The data is KPIS.md's
// secondary-source transcription [S]; stretches KPIS.md does not give are placeholders [I].

/// The tariff calendars essd ships, built in Swift from the same data as `Config/tariffs/`
/// so tests and a site without tariff files can use them. Owns the data, not its parsing.
public enum BuiltInTariffs {
    /// Every built-in calendar, by id.
    public static let all: [TariffCalendar] = [guangdong2021, beijing2023, jiangxi2025, yunnan2024]

    public static func calendar(id: String) -> TariffCalendar? { all.first { $0.id == id } }

    private static let allMonths = Array(1...12)

    /// 粤发改价格〔2021〕331号 (Shenzhen 深发改〔2021〕1005号 the same) [S].
    public static let guangdong2021 = TariffCalendar(
        id: "guangdong-2021", name: "Guangdong time-of-use tariff 广东省分时电价",
        document: "粤发改价格〔2021〕331号", region: "Guangdong", confidence: .secondary,
        seasons: [
            TariffSeason(name: "all-year", months: allMonths, bands: [
                TimeBand("00:00", "08:00", .valley, .secondary),
                TimeBand("08:00", "10:00", .flat, .secondary),
                TimeBand("10:00", "12:00", .peak, .secondary),
                TimeBand("12:00", "14:00", .flat, .secondary),
                TimeBand("14:00", "19:00", .peak, .secondary),
                TimeBand("19:00", "24:00", .flat, .secondary),
            ])
        ],
        overlays: [
            TariffOverlay(name: "sharp-jul-sep", months: [7, 8, 9], bands: [
                TimeBand("11:00", "12:00", .sharp, .secondary), TimeBand("15:00", "17:00", .sharp, .secondary),
            ]),
            TariffOverlay(name: "sharp-heat-days", months: [], dates: [], bands: [
                TimeBand("11:00", "12:00", .sharp, .secondary), TimeBand("15:00", "17:00", .sharp, .secondary),
            ]),
        ],
        ratios: [.sharp: 2.125, .peak: 1.7, .flat: 1.0, .valley: 0.38], ratioConfidence: .secondary,
        notes: [
            "peak : flat : valley = 1.7 : 1 : 0.38; sharp = peak × 1.25 [S]",
            "sharp peak also on days Guangzhou's forecast high is ≥ 35 °C: list those dates in overlay sharp-heat-days",
        ])

    /// 京发改规〔2023〕11号 [S].
    public static let beijing2023 = TariffCalendar(
        id: "beijing-2023", name: "Beijing time-of-use tariff 北京市分时电价",
        document: "京发改规〔2023〕11号", region: "Beijing", confidence: .secondary,
        seasons: [
            TariffSeason(name: "all-year", months: allMonths, bands: [
                TimeBand("00:00", "07:00", .valley, .secondary),
                TimeBand("07:00", "10:00", .flat, .secondary),
                TimeBand("10:00", "13:00", .peak, .secondary),
                TimeBand("13:00", "17:00", .flat, .secondary),
                TimeBand("17:00", "22:00", .peak, .secondary),
                TimeBand("22:00", "23:00", .flat, .secondary),
                TimeBand("23:00", "24:00", .valley, .secondary),
            ])
        ],
        overlays: [
            TariffOverlay(name: "sharp-jul-aug", months: [7, 8], bands: [
                TimeBand("11:00", "13:00", .sharp, .secondary), TimeBand("16:00", "17:00", .sharp, .secondary),
            ]),
            TariffOverlay(name: "sharp-jan-dec", months: [1, 12], bands: [TimeBand("18:00", "21:00", .sharp, .secondary)]),
        ],
        ratios: [.flat: 1.0], ratioConfidence: .secondary,
        notes: [
            "sharp = peak × 1.2 [S]",
            "peak and valley ratios are not in KPIS.md: add ratios or prices from the notice before valuing energy in CNY",
        ])

    /// 赣发改价管〔2025〕463号: only the midday valley is known [S]; the rest is a placeholder [I].
    public static let jiangxi2025 = TariffCalendar(
        id: "jiangxi-2025", name: "Jiangxi time-of-use tariff 江西省分时电价",
        document: "赣发改价管〔2025〕463号", region: "Jiangxi", confidence: .inferred,
        seasons: [
            TariffSeason(name: "spring-summer-autumn", months: Array(3...11), bands: [
                TimeBand("00:00", "11:30", .flat, .inferred),
                TimeBand("11:30", "12:00", .valley, .secondary),
                TimeBand("12:00", "14:00", .deepValley, .inferred),
                TimeBand("14:00", "14:30", .valley, .secondary),
                TimeBand("14:30", "24:00", .flat, .inferred),
            ]),
            TariffSeason(name: "winter", months: [12, 1, 2], bands: [TimeBand("00:00", "24:00", .flat, .inferred)]),
        ],
        ratios: [.sharp: 1.8, .peak: 1.6, .flat: 1.0, .valley: 0.4, .deepValley: 0.3], ratioConfidence: .inferred,
        notes: [
            "INCOMPLETE: KPIS.md gives only valley 11:30–14:30 in spring, summer and autumn and deep valley 12–14; every band marked [I] is a flat placeholder to be corrected from the notice",
            "peak : flat : valley = 1.6 : 1 : 0.4 [S]; deep valley −70 % and sharp +80 % read as relative to flat [I]",
            "months 3–11 for 'spring, summer and autumn' and the deep valley on every such day are [I]",
        ])

    /// 云发改价格〔2024〕924号 [S].
    public static let yunnan2024 = TariffCalendar(
        id: "yunnan-2024", name: "Yunnan time-of-use tariff 云南省分时电价",
        document: "云发改价格〔2024〕924号", region: "Yunnan", confidence: .secondary,
        seasons: [
            TariffSeason(name: "all-year", months: allMonths, bands: [
                TimeBand("00:00", "02:00", .flat, .secondary),
                TimeBand("02:00", "06:00", .valley, .secondary),
                TimeBand("06:00", "07:00", .flat, .secondary),
                TimeBand("07:00", "09:00", .peak, .secondary),
                TimeBand("09:00", "12:00", .flat, .secondary),
                TimeBand("12:00", "16:00", .valley, .secondary),
                TimeBand("16:00", "18:00", .flat, .secondary),
                TimeBand("18:00", "24:00", .peak, .secondary),
            ])
        ],
        ratios: [.peak: 1.5, .flat: 1.0, .valley: 0.5], ratioConfidence: .secondary,
        notes: ["peak +50 %, valley −50 % of flat [S]; two charging windows a day"])
}
