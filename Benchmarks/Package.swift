// swift-tools-version: 6.1
// Benchmarks live in their own package so the main build stays lean.
// Run with: scripts/bench.sh (builds release, starts ess-sim, runs ess-bench) and
// scripts/bench-store.sh (ess-store-bench: the store against librrd).
import PackageDescription

let package = Package(
    name: "essd-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "essd", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The reference: a plain C loop over libmodbus, nothing of essd in it.
        .target(name: "CReferenceLoop", linkerSettings: [.linkedLibrary("modbus")]),
        .executableTarget(
            name: "ess-bench",
            dependencies: [
                "CReferenceLoop",
                .product(name: "ESSCore", package: "essd"),
                .product(name: "ESSModbus", package: "essd"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The store benchmark's reference: librrd (Debian librrd-dev), called from plain C.
        .target(name: "CRRD", linkerSettings: [.linkedLibrary("rrd")]),
        .target(name: "CRawFloor"),
        .executableTarget(
            name: "ess-store-bench",
            dependencies: [
                "CRRD", "CRawFloor",
                .product(name: "ESSCore", package: "essd"),
                .product(name: "ESSStore", package: "essd"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A few-hundred-KiB launcher that reports a program's own peak RSS (wait4's ru_maxrss),
        // for the evidence benchmark's essctl import runs.
        .executableTarget(name: "ess-peak-rss"),
        // Issue 5's evidence benchmark: indicators over a year at 1 min, export at 15 min, peak RSS.
        .executableTarget(
            name: "ess-evidence-bench",
            dependencies: [
                .product(name: "ESSCore", package: "essd"),
                .product(name: "ESSStore", package: "essd"),
                .product(name: "ESSCriteria", package: "essd"),
                .product(name: "ESSEvidence", package: "essd"),
                .product(name: "ESSSimulator", package: "essd"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
