// The built-in policies. Keep in step with Config/policies/*.toml (gbt36549, beijing-2023,
// guangdong-2023, jiangxi-2024, yunnan-2022, zhejiang-2021): the same criteria ids,
// thresholds, clauses, provenance, confidence marks and money rules.
// Confidence: [V]/[S]/[I] as in shared/domain/KPIS.md; "site choice" where essd proposes a
// number that no document gives (a site changes it in its own policy file).

/// The policies essd ships, built in Swift from the same data as `Config/policies/`.
public enum BuiltInPolicies {
    public static let all: [Policy] = [gbt36549, beijing2023, guangdong2023, jiangxi2024, yunnan2022, zhejiang2021]

    public static func policy(id: String) -> Policy? { all.first { $0.id == id } }

    static let zjDoc = "浙发改能源〔2021〕393号"
    static let gbt = "GB/T 36549-2018"

    /// Generic operating evaluation after GB/T 36549-2018 (text not seen: formulas [S]).
    public static let gbt36549 = Policy(
        id: "gbt36549", titleEN: "Operating indicators and evaluation of electrochemical storage stations",
        titleZH: "电化学储能电站运行指标及评价", document: gbt, issuer: "SAMR / SAC", date: "2018-09-17",
        criteria: [
            Criterion(id: "gbt.completeness", titleEN: "Data completeness", titleZH: "数据完整率",
                clause: Clause(document: gbt, article: "operating data basis of every indicator"), subject: .indicator("completeness.samples_mean_percent"),
                comparison: .atLeast(90), unit: "%", provenance: "essd default minimum coverage", confidence: .siteChoice),
            Criterion(id: "gbt.ac_efficiency", titleEN: "AC-side round-trip efficiency", titleZH: "交流侧充放电效率",
                clause: Clause(document: gbt, article: "efficiency indicators"), subject: .indicator("efficiency.ac_round_trip_percent"),
                comparison: .atLeast(85), unit: "%", provenance: "\(zjDoc) (new lithium demonstration stations)", confidence: .siteChoice,
                notes: ["the number is Zhejiang's [V]; applying it here is a site choice"]),
            Criterion(id: "gbt.comprehensive_efficiency", titleEN: "Comprehensive efficiency", titleZH: "综合效率",
                clause: Clause(document: gbt, article: "综合效率 E_on / E_off"), subject: .indicator("efficiency.comprehensive_percent"),
                comparison: .atLeast(77.95), unit: "%", provenance: "CEC 2022 national average 77.95 % [V]", confidence: .siteChoice,
                notes: ["needs a storage meter"]),
            Criterion(id: "gbt.availability", titleEN: "Availability factor", titleZH: "可用系数",
                clause: Clause(document: gbt, article: "可用系数"), subject: .indicator("availability.factor_percent"),
                comparison: .atLeast(90), unit: "%", provenance: "\(zjDoc) 电站可用率 ≥ 90 %", confidence: .siteChoice),
            Criterion(id: "gbt.cell_temp", titleEN: "Minutes with cell temperature over the limit", titleZH: "电芯超温时长",
                clause: Clause(document: gbt, article: "safe operation"), subject: .indicator("safety.cell_temp_over_minutes"),
                comparison: .atMost(0), unit: "min", provenance: "essd default: 45 °C limit, no minutes over", confidence: .siteChoice),
            Criterion(id: "gbt.cell_voltage", titleEN: "Minutes with cell voltage outside its window", titleZH: "电芯电压越限时长",
                clause: Clause(document: gbt, article: "safe operation"), subject: .indicator("safety.cell_voltage_excursion_minutes"),
                comparison: .atMost(0), unit: "min", provenance: "essd default: 2.5–3.65 V (LFP), no minutes outside", confidence: .siteChoice),
        ],
        notes: ["GB/T 36549-2018 was not available; indicator formulas follow secondary sources [S]"])

    static let bjDoc = "北京市支持新型储能产业发展的若干政策措施 (interpretation 2023-11-23)"

    /// Beijing, seed 001.
    public static let beijing2023 = Policy(
        id: "beijing-2023", titleEN: "Beijing: Several Policies and Measures for Supporting the New Energy Storage Industry",
        titleZH: "北京市支持新型储能产业发展的若干政策措施", document: bjDoc, issuer: "Beijing Municipal Government",
        date: "2023-11-23", sourceText: "001_7725fce8929aeca6.txt", tariffID: "beijing-2023",
        criteria: [
            Criterion(id: "bj.location", titleEN: "Pilot site in a non-populated area", titleZH: "非人员密集区域试点",
                clause: Clause(document: bjDoc, article: "pilot demonstrations: industrial plants, logistics parks, data centres"),
                subject: .siteFact("location_category"), comparison: .oneOf(["industrial_plant", "logistics_park", "data_center"]),
                provenance: "seed 001", confidence: .verified),
            Criterion(id: "bj.outside_5th_ring", titleEN: "Outside the 5th Ring Road", titleZH: "五环以外",
                clause: Clause(document: bjDoc, article: "pilot demonstrations outside the 5th Ring Road"),
                subject: .siteFact("outside_5th_ring_road"), comparison: .equalTo(1), unit: "1 = yes", provenance: "seed 001",
                confidence: .verified),
            Criterion(id: "bj.technology", titleEN: "High-safety technology route", titleZH: "高安全技术路线",
                clause: Clause(document: bjDoc, article: "high-safety routes: solid-state lithium-ion, flow batteries"),
                subject: .siteFact("technology_route"),
                comparison: .oneOf(["solid_state_lithium", "flow_vanadium", "flow_iron_chromium", "flow_zinc_bromine", "flow_battery"]),
                provenance: "seed 001", confidence: .verified, notes: ["the measures encourage these routes; others are not excluded"]),
            Criterion(id: "bj.efficiency_enhanced", titleEN: "In-plant storage enhanced energy efficiency", titleZH: "厂内储能提升能效",
                clause: Clause(document: bjDoc, article: "reward for manufacturers with in-plant storage"),
                subject: .manualReview("indicators.csv: efficiency, peak shifting and energy shifted over the claim period"),
                comparison: .none, provenance: "seed 001", confidence: .verified),
        ],
        money: [
            MoneyRule(id: "bj.reward", titleEN: "Reward for in-plant storage", titleZH: "厂内储能奖励",
                clause: Clause(document: bjDoc, article: "up to CNY 30M, ≤ 30 % of total investment"),
                formula: .shareCapped(share: 0.30, capCNY: 30_000_000, base: "total_investment_cny"),
                conditions: ["bj.efficiency_enhanced"], provenance: "seed 001", confidence: .verified),
            MoneyRule(id: "bj.small_batch", titleEN: "Small-batch validation reward", titleZH: "小批量验证奖励",
                clause: Clause(document: bjDoc, article: "≤ 30 % of small-batch test investment, ≤ CNY 10M per project"),
                formula: .shareCapped(share: 0.30, capCNY: 10_000_000, base: "small_batch_test_investment_cny"),
                provenance: "seed 001", confidence: .verified),
        ])

    static let gdDoc = "广东省推动新型储能产业高质量发展的若干措施 (press release 2023-04-05)"

    /// Guangdong, seeds 000 and 003.
    public static let guangdong2023 = Policy(
        id: "guangdong-2023", titleEN: "Guangdong: Several Measures on High-Quality Development of New Energy Storage",
        titleZH: "广东省推动新型储能产业高质量发展的若干措施", document: gdDoc, issuer: "Guangdong provincial leading group office",
        date: "2023-04-05", sourceText: "000_255f1e5d6c4b14ba.txt", tariffID: "guangdong-2021",
        criteria: [
            Criterion(id: "gd.high_efficiency", titleEN: "High efficiency: AC-side round-trip efficiency", titleZH: "高效率",
                clause: Clause(document: gdDoc, article: "large-capacity, high-safety, long-life, high-efficiency storage"),
                subject: .indicator("efficiency.ac_round_trip_percent"), comparison: .atLeast(85), unit: "%",
                provenance: zjDoc, confidence: .siteChoice, notes: ["the number is Zhejiang's [V]"]),
            Criterion(id: "gd.high_safety_temp", titleEN: "High safety: no minutes over the cell-temperature limit", titleZH: "高安全：电芯超温",
                clause: Clause(document: gdDoc, article: "high-safety storage; safety-critical technology"),
                subject: .indicator("safety.cell_temp_over_minutes"), comparison: .atMost(0), unit: "min",
                provenance: "essd default 45 °C", confidence: .siteChoice),
            Criterion(id: "gd.high_safety_faults", titleEN: "High safety: no fault slots", titleZH: "高安全：故障",
                clause: Clause(document: gdDoc, article: "high-safety storage"), subject: .indicator("safety.fault_slots"),
                comparison: .atMost(0), unit: "slots", provenance: "essd default", confidence: .siteChoice),
            Criterion(id: "gd.long_life", titleEN: "Long life: design life", titleZH: "长寿命：设计寿命",
                clause: Clause(document: gdDoc, article: "long-life storage"), subject: .siteFact("design_life_years"),
                comparison: .atLeast(10), unit: "years", provenance: "\(zjDoc) life ≥ 10 years", confidence: .siteChoice),
            Criterion(id: "gd.technology", titleEN: "Technology route named by the measures", titleZH: "鼓励的技术路线",
                clause: Clause(document: gdDoc, article: "sodium-ion, flow, hydrogen, supercapacitor routes"),
                subject: .siteFact("technology_route"),
                comparison: .oneOf(["sodium_ion", "flow_vanadium", "flow_iron_chromium", "flow_battery", "hydrogen", "supercapacitor"]),
                provenance: "seed 000", confidence: .verified, notes: ["the measures encourage these routes; others are not excluded"]),
            Criterion(id: "gd.valley_charge", titleEN: "Peak shifting: share of charge in valley periods", titleZH: "移峰填谷：谷段充电占比",
                clause: Clause(document: "粤发改价格〔2021〕331号", article: "time-of-use periods"),
                subject: .indicator("peak.valley_charge_share_percent"), comparison: .atLeast(80), unit: "%",
                provenance: "essd default", confidence: .siteChoice),
            Criterion(id: "gd.huangpu_size", titleEN: "Huangpu discharge subsidy: ≥ 1 MW", titleZH: "黄埔放电补贴：≥ 1 MW",
                clause: Clause(document: "Guangzhou Huangpu draft measures 2023-06", article: "projects ≥ 1 MW"),
                subject: .siteFact("rated_power_kw"), comparison: .atLeast(1000), unit: "kW", provenance: "Guangzhou Huangpu draft 2023-06",
                confidence: .verified, notes: ["applies only to projects in Huangpu district"]),
        ],
        money: [
            MoneyRule(id: "gd.huangpu_discharge", titleEN: "Huangpu discharge subsidy (draft)", titleZH: "黄埔放电补贴（征求意见稿）",
                clause: Clause(document: "Guangzhou Huangpu draft measures 2023-06", article: "CNY 0.3/kWh discharged, ≤ 2 years, cap CNY 3M"),
                formula: .perKWhDischarged(rateCNYPerKWh: 0.3, capCNY: 3_000_000), conditions: ["gd.huangpu_size"],
                provenance: "Guangzhou Huangpu draft 2023-06", confidence: .verified, notes: ["draft; Huangpu district only"])
        ])

    static let jxDoc = "赣府厅发〔2024〕15号"

    /// Jiangxi, seed 004.
    public static let jiangxi2024 = Policy(
        id: "jiangxi-2024", titleEN: "Jiangxi: Measures for the lithium battery industry chain", titleZH: "江西省锂电新能源产业链若干措施",
        document: jxDoc, issuer: "Jiangxi provincial government office", date: "2024-05-11", sourceText: "004_80f370a30a1f2377.txt",
        tariffID: "jiangxi-2025",
        criteria: [
            Criterion(id: "jx.location", titleEN: "Grid location where storage is encouraged", titleZH: "鼓励配建新型储能的区域",
                clause: Clause(document: jxDoc, article: "五、特高压直流落点、枢纽变电站、新能源大规模汇集区、电力负荷中心"),
                subject: .siteFact("location_category"),
                comparison: .oneOf(["uhv_dc_landing_point", "hub_substation", "renewable_aggregation_area", "load_center"]),
                provenance: "seed 004", confidence: .verified),
            Criterion(id: "jx.valley_charge", titleEN: "Peak shifting: share of charge in valley periods", titleZH: "移峰填谷：谷段充电占比",
                clause: Clause(document: jxDoc, article: "十、移峰填谷降低用电成本"), subject: .indicator("peak.valley_charge_share_percent"),
                comparison: .atLeast(80), unit: "%", provenance: "essd default", confidence: .siteChoice,
                notes: ["the Jiangxi tariff file is incomplete [I]: correct it before relying on this"]),
            Criterion(id: "jx.peak_discharge", titleEN: "Peak shifting: share of discharge in peak periods", titleZH: "移峰填谷：峰段放电占比",
                clause: Clause(document: jxDoc, article: "十、移峰填谷"), subject: .indicator("peak.peak_discharge_share_percent"),
                comparison: .atLeast(50), unit: "%", provenance: "essd default", confidence: .siteChoice,
                notes: ["the Jiangxi tariff file gives no peak bands yet [I]"]),
            Criterion(id: "jx.major_investment", titleEN: "Major project: investment ≥ CNY 1B", titleZH: "重大项目：投资 10 亿元以上",
                clause: Clause(document: jxDoc, article: "一、投资10亿元以上"), subject: .siteFact("total_investment_cny"),
                comparison: .atLeast(1_000_000_000), unit: "CNY", provenance: "seed 004", confidence: .verified),
            Criterion(id: "jx.major_fixed_assets", titleEN: "Major project: fixed assets ≥ CNY 0.5B", titleZH: "重大项目：固定资产投资 5 亿元以上",
                clause: Clause(document: jxDoc, article: "一、实际完成固定资产投资5亿元以上"), subject: .siteFact("fixed_asset_investment_cny"),
                comparison: .atLeast(500_000_000), unit: "CNY", provenance: "seed 004", confidence: .verified),
            Criterion(id: "jx.echelon_traceability", titleEN: "Echelon use: traceability", titleZH: "梯次利用：溯源管理",
                clause: Clause(document: jxDoc, article: "四、强化溯源管理"),
                subject: .manualReview("devices.csv identities and completeness per signal"), comparison: .none,
                provenance: "seed 004", confidence: .verified),
        ],
        money: [
            MoneyRule(id: "jx.grant", titleEN: "Industrial development fund grant", titleZH: "省级工业发展专项资金补助",
                clause: Clause(document: jxDoc, article: "一、不低于200万元、最高不超过1000万元"),
                formula: .band(minCNY: 2_000_000, maxCNY: 10_000_000), provenance: "seed 004", confidence: .verified,
                notes: ["for selected key projects of the industrial base; amount decided per project"])
        ])

    static let ynDoc = "云南省新能源电池产业发展三年行动计划（2022—2024年）"

    /// Yunnan, seed 002.
    public static let yunnan2022 = Policy(
        id: "yunnan-2022", titleEN: "Yunnan: Three-year action plan for the new energy battery industry 2022–2024",
        titleZH: "云南省新能源电池产业发展三年行动计划（2022—2024年）", document: ynDoc, issuer: "Yunnan provincial government",
        date: "2022-05-23", sourceText: "002_4fa7c383d8b885db.txt", tariffID: "yunnan-2024",
        criteria: [
            Criterion(id: "yn.technology", titleEN: "Lithium iron phosphate chain", titleZH: "磷酸铁锂产业链",
                clause: Clause(document: ynDoc, article: "重点产品：磷酸铁锂、磷酸锰铁锂"), subject: .siteFact("technology_route"),
                comparison: .oneOf(["lithium_iron_phosphate", "lithium_manganese_iron_phosphate"]), provenance: "seed 002",
                confidence: .verified),
            Criterion(id: "yn.monitoring", titleEN: "Online monitoring: least complete signal", titleZH: "在线监测：数据完整率",
                clause: Clause(document: "国家能源局 2021 No. 47; 25 key anti-accident measures (2023) 2.12.2", article: "online monitoring of second-life batteries"),
                subject: .indicator("completeness.samples_worst_signal_percent"), comparison: .atLeast(90), unit: "%",
                provenance: "essd default", confidence: .siteChoice, notes: ["required for echelon (second-life) projects [V]"]),
            Criterion(id: "yn.cell_temp", titleEN: "Lifecycle supervision: cell temperature", titleZH: "全生命周期监管：电芯温度",
                clause: Clause(document: ynDoc, article: "全生命周期"), subject: .indicator("safety.cell_temp_over_minutes"),
                comparison: .atMost(0), unit: "min", provenance: "essd default 45 °C", confidence: .siteChoice),
            Criterion(id: "yn.valley_charge", titleEN: "Peak shifting: share of charge in valley periods", titleZH: "谷段充电占比",
                clause: Clause(document: "云发改价格〔2024〕924号", article: "two valley windows a day"),
                subject: .indicator("peak.valley_charge_share_percent"), comparison: .atLeast(80), unit: "%",
                provenance: "essd default", confidence: .siteChoice),
        ])

    /// Zhejiang 浙发改能源〔2021〕393号: the one with numeric thresholds.
    public static let zhejiang2021 = Policy(
        id: "zhejiang-2021", titleEN: "Zhejiang: new storage demonstration projects", titleZH: "浙江省新型储能示范项目",
        document: zjDoc, issuer: "Zhejiang Development and Reform Commission", date: "2021",
        criteria: [
            Criterion(id: "zj.ac_efficiency", titleEN: "AC-side efficiency (new lithium stations)", titleZH: "交流侧效率",
                clause: Clause(document: zjDoc, article: "technical requirements"), subject: .indicator("efficiency.ac_round_trip_percent"),
                comparison: .atLeast(85), unit: "%", provenance: zjDoc, confidence: .verified),
            Criterion(id: "zj.dod_design", titleEN: "Depth of discharge (design)", titleZH: "放电深度（设计）",
                clause: Clause(document: zjDoc, article: "technical requirements"), subject: .siteFact("design_dod_percent"),
                comparison: .atLeast(90), unit: "%", provenance: zjDoc, confidence: .verified),
            Criterion(id: "zj.dod_measured", titleEN: "Depth of discharge (largest measured event)", titleZH: "放电深度（实测最大）",
                clause: Clause(document: zjDoc, article: "technical requirements"), subject: .indicator("discharge.dod_max_percent"),
                comparison: .atLeast(90), unit: "%", provenance: zjDoc, confidence: .inferred,
                notes: ["the threshold is a design value [V]; applying it to measured events is an inference [I]"]),
            Criterion(id: "zj.availability", titleEN: "Station availability", titleZH: "电站可用率",
                clause: Clause(document: zjDoc, article: "technical requirements"), subject: .indicator("availability.factor_percent"),
                comparison: .atLeast(90), unit: "%", provenance: zjDoc, confidence: .verified),
            Criterion(id: "zj.cycles_design", titleEN: "Cycle life (design)", titleZH: "循环次数（设计）",
                clause: Clause(document: zjDoc, article: "technical requirements"), subject: .siteFact("design_cycles"),
                comparison: .atLeast(6000), unit: "cycles", provenance: zjDoc, confidence: .verified),
            Criterion(id: "zj.life_design", titleEN: "Service life (design)", titleZH: "使用寿命（设计）",
                clause: Clause(document: zjDoc, article: "technical requirements"), subject: .siteFact("design_life_years"),
                comparison: .atLeast(10), unit: "years", provenance: zjDoc, confidence: .verified),
            Criterion(id: "zj.utilisation", titleEN: "Annual utilisation hours", titleZH: "年利用小时数",
                clause: Clause(document: zjDoc, article: "capacity compensation for peak-shaving projects"),
                subject: .indicator("utilisation.hours_annualised"), comparison: .atLeast(600), unit: "h/yr", provenance: zjDoc,
                confidence: .verified, notes: ["the hours definition E_d / P_N is [I]"]),
        ],
        money: [
            MoneyRule(id: "zj.capacity", titleEN: "Capacity compensation, 3 years", titleZH: "容量补偿（3 年）",
                clause: Clause(document: zjDoc, article: "CNY 200 / 180 / 170 per kW·yr"),
                formula: .perKWYear(ratesCNYPerKWYear: [200, 180, 170]), conditions: ["zj.utilisation"], provenance: zjDoc,
                confidence: .verified),
            MoneyRule(id: "zj.wenzhou_discharge", titleEN: "Wenzhou discharge subsidy (distributed storage)", titleZH: "温州放电补贴",
                clause: Clause(document: "Wenzhou 2021–2024", article: "CNY 0.8/kWh discharged"),
                formula: .perKWhDischarged(rateCNYPerKWh: 0.8, capCNY: nil), provenance: "Wenzhou 2021–2024", confidence: .verified,
                notes: ["Wenzhou distributed storage only; a generic discharge rule a site can copy with its own rate and cap"]),
        ])
}
