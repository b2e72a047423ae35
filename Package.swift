// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "essd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "essd", targets: ["essd"]),
        .executable(name: "essctl", targets: ["essctl"]),
        .executable(name: "ess-sim", targets: ["ess-sim"]),
        .library(name: "ESSCore", targets: ["ESSCore"]),
        .library(name: "ESSModbus", targets: ["ESSModbus"]),
        .library(name: "ESSStore", targets: ["ESSStore"]),
        .library(name: "ESSCriteria", targets: ["ESSCriteria"]),
        .library(name: "ESSEvidence", targets: ["ESSEvidence"]),
        // ess-sim's plant models, also the synthetic history of the evidence benchmark.
        .library(name: "ESSSimulator", targets: ["ESSSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(
            name: "CModbus",
            pkgConfig: "libmodbus",
            providers: [.apt(["libmodbus-dev"])]
        ),
        // Pure core: no I/O, time always passed in.
        .target(name: "ESSCore"),
        .target(name: "ESSConfig", dependencies: ["ESSCore", "ESSCriteria"]),
        .target(name: "ESSCriteria", dependencies: ["ESSCore"]),
        .target(
            name: "ESSEvidence",
            dependencies: ["ESSCore", "ESSCriteria", "ESSStore", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "ESSModbus",
            dependencies: [
                "CModbus", "ESSCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // CRC-32C with the CPU's instruction (SSE4.2 / ARMv8 CRC), checked at run time.
        .target(name: "CCRC32C"),
        .target(name: "CClockSync"),
        .target(
            name: "ESSStore",
            dependencies: [
                "ESSCore", "CCRC32C",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ESSSimulator",
            dependencies: [
                "CModbus", "ESSCore", "ESSConfig",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ESSDaemon",
            dependencies: [
                "ESSCore", "ESSConfig", "ESSModbus", "ESSStore", "CClockSync",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "essd",
            dependencies: [
                "ESSCore", "ESSConfig", "ESSModbus", "ESSStore", "ESSDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "essctl",
            dependencies: [
                "ESSCore", "ESSConfig", "ESSStore", "ESSDaemon", "ESSEvidence", "ESSCriteria",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ess-sim",
            dependencies: [
                "ESSSimulator", "ESSConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ess-store-crashtest",
            dependencies: ["ESSStore", "ESSCore", .product(name: "Logging", package: "swift-log"), "ESSTestSupport"]
        ),
        // Helpers for tests that start real processes: child processes, free ports, paths.
        .target(name: "ESSTestSupport", dependencies: ["ESSCore"], path: "Tests/ESSTestSupport"),
        .testTarget(name: "ESSCoreTests", dependencies: ["ESSCore", "ESSTestSupport"], exclude: ["scancases"]),
        .testTarget(name: "ESSCriteriaTests", dependencies: ["ESSCriteria", "ESSCore", "ESSTestSupport"]),
        .testTarget(
            name: "ESSEvidenceTests",
            dependencies: ["ESSEvidence", "ESSCore", "ESSCriteria", "ESSStore", "ESSTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ESSDaemonTests", dependencies: ["ESSDaemon", "ESSTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ESSConfigTests", dependencies: ["ESSConfig", "ESSCore", "ESSCriteria"], exclude: ["testcases"]),
        .testTarget(
            name: "ESSModbusTests",
            dependencies: [
                "ESSModbus", "ESSCore", "ESSConfig", "ESSTestSupport", "ess-sim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ESSStoreTests",
            dependencies: ["ESSStore", "ESSCore", "ESSTestSupport", "ess-store-crashtest", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ESSConfig", "ESSCore", "ESSSimulator", "ESSStore", "ESSTestSupport", "essd", "essctl", "ess-sim",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ESSSimulatorTests",
            dependencies: ["ESSSimulator", "ESSCore", "ESSConfig", "ESSTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The same strict settings for every target.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
