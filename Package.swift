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
        // epoll/eventfd/signalfd/accept4 declarations Glibc does not export (header only, nothing linked).
        .systemLibrary(name: "CHTTPServerLinux"),

        // MARK: Libraries, one job each
        .target(
            name: "HTTPServer",
            dependencies: ["CHTTPServerLinux", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "WebhookAuth", dependencies: ["CLibCrypto"]),
        .target(name: "Bookings", dependencies: []),
        .target(name: "Store", dependencies: ["CZlib", "CLibCrypto", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Seam", dependencies: [.product(name: "Logging", package: "swift-log")]),
        .target(
            name: "FakeSeam",
            dependencies: ["HTTPServer", "WebhookAuth", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "Observability", dependencies: ["CZlib", .product(name: "Logging", package: "swift-log")]),
        .target(
            name: "Reconciler",
            // Bookings only: Seam calls and durable state come through its own protocols (AccessCodeService,
            // StateStore), which the Gateway implements (Sources/Gateway/SeamBridge).
            dependencies: ["Bookings", .product(name: "Logging", package: "swift-log")]
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
                "WebhookAuth", "Bookings", "Gateway", "Reconciler", "FakeSeam", .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: The thin executable
        .executableTarget(
            name: "latchkey",
            dependencies: [
                "Gateway", "FakeSeam", "Replay", "Store", "Observability", "Bookings", "HTTPServer", "Reconciler",
                "Seam",
                "WebhookAuth", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests, one target per library
        .testTarget(
            name: "HTTPServerTests", dependencies: ["HTTPServer", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "WebhookAuthTests", dependencies: ["WebhookAuth"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BookingsTests", dependencies: ["Bookings"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "latchkey-store-bench", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "SeamTests",
            dependencies: ["Seam", "FakeSeam", "HTTPServer", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "FakeSeamTests",
            dependencies: ["FakeSeam", "HTTPServer", "WebhookAuth", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: ["Observability", "CZlib", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "Bookings"]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "HTTPServer", "FakeSeam", "WebhookAuth", "Bookings", "Observability", "Reconciler", "Seam",
                "Store", .product(name: "Logging", package: "swift-log"),
            ]
        ),
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
