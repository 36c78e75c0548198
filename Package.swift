// swift-tools-version:6.1
// Latchkey: a gateway from vacation-rental booking webhooks to linked Seam access codes.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Latchkey",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "latchkey", targets: ["latchkey"])
    ],
    dependencies: [
        // CLI parsing for `latchkey serve|replay|fake-seam|...`.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Structured logging; we ship our own JSON handler on top.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // YAML configuration with line/column marks for error messages.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: C system libraries
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // epoll/eventfd/signalfd/accept4 declarations Glibc does not export (header only, nothing linked);
        // only SystemCalls imports it.
        .systemLibrary(name: "CLinux"),

        // MARK: Libraries, one job each
        // The one OS layer: typed descriptors and errno, one wrapper per system call (EINTR, EAGAIN, EBADF policy).
        .target(name: "SystemCalls", dependencies: ["CLinux"]),
        .target(
            name: "HTTPServer",
            dependencies: ["SystemCalls", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "WebhookAuth", dependencies: ["CLibCrypto"]),
        .target(name: "Bookings", dependencies: []),
        .target(
            name: "Store",
            dependencies: ["SystemCalls", "CZlib", "CLibCrypto", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Seam", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(
            name: "FakeSeam",
            dependencies: ["HTTPServer", "WebhookAuth", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Observability",
            dependencies: ["SystemCalls", "CZlib", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Reconciler",
            dependencies: [
                "Bookings", "Seam", "Store", "Observability", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "HTTPServer", "WebhookAuth", "Bookings", "Store", "Seam", "Reconciler", "Observability", "FakeSeam",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "Replay",
            // Gateway for the configuration loader (sources, schemes, secrets, properties); Reconciler for the
            // reservation marker in code names; FakeSeam for its seeded generator.
            dependencies: [
                "WebhookAuth", "Bookings", "Seam", "Gateway", "Reconciler", "FakeSeam",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: The thin executable
        .executableTarget(
            name: "latchkey",
            dependencies: [
                "Gateway", "FakeSeam", "Replay", "Store", "Observability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests, one target per library
        .testTarget(name: "SystemCallsTests", dependencies: ["SystemCalls", "CLinux"]),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: ["HTTPServer", "SystemCalls", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "WebhookAuthTests", dependencies: ["WebhookAuth"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BookingsTests", dependencies: ["Bookings"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "SystemCalls", "latchkey-store-bench", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "SeamTests", dependencies: ["Seam", "FakeSeam", "HTTPServer"]),
        .testTarget(name: "FakeSeamTests", dependencies: ["FakeSeam", "Seam", "HTTPServer", "WebhookAuth"]),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: ["Observability", "SystemCalls", "CZlib", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "FakeSeam", "Seam", "Store", "Bookings"]),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "HTTPServer", "FakeSeam", "WebhookAuth"]),
        .testTarget(
            name: "ReplayTests",
            dependencies: [
                "Replay", "Gateway", "FakeSeam", "WebhookAuth", "Bookings", "Reconciler", "HTTPServer",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Store benchmark and crash-test child (scripts/bench-store; StoreTests spawns it with --torture)
        .executableTarget(
            name: "latchkey-store-bench",
            dependencies: ["Store", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
