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
        // only SystemCalls (and its tests) imports it.
        .systemLibrary(name: "CLinux"),
        // PostgreSQL's client library; only PostgresStore imports it.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

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
        .target(
            // The store in PostgreSQL (`store.backend: postgresql`): libpq, a connection pool on threads of its own,
            // the schema's migrations, import from a journal export.
            name: "PostgresStore",
            dependencies: ["CLibPQ", "Store", .product(name: "Logging", package: "swift-log")]
        ),
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
            // Bookings only: Seam calls and durable state come through its own protocols (AccessCodeService,
            // StateStore), which the Gateway implements (Sources/Gateway/SeamBridge).
            dependencies: ["Bookings", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Notifications",
            // access.* webhooks to the operator's endpoints: events derived from the reconciler's records (its
            // StateStore, decorated), a durable outbox in the same journal, Standard Webhooks signing
            // (WebhookAuth), sending through Seam's URLSession transport and its Retry-After parser.
            dependencies: [
                "Bookings", "Reconciler", "Seam", "WebhookAuth", .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: The application, stage by stage: configuration → intake → (reconciler) → assembly
        .target(
            name: "Configuration",
            // The YAML file as a person edits it: loading, validation, `check-config`.
            dependencies: ["Bookings", "WebhookAuth", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Intake",
            // `POST /webhooks/{source}`: verify, adapt, journal, then hand the bookings to the reconciler.
            dependencies: [
                "Bookings", "Configuration", "HTTPServer", "Observability", "Reconciler", "Store", "WebhookAuth",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The operator console's pages, sessions and CSRF tokens: pure functions of value types (no I/O).
        .target(name: "Console", dependencies: []),
        .target(
            name: "Gateway",
            // The assembly: starts and stops the parts, routes, and the Store and Seam adapters of the
            // Reconciler's protocols (SeamBridge).
            dependencies: [
                "Bookings", "Configuration", "FakeSeam", "HTTPServer", "Intake", "Observability", "Reconciler", "Seam",
                "Store", "WebhookAuth", .product(name: "Logging", package: "swift-log"),
                "Console", "Notifications", "PostgresStore",
            ]
        ),
        .target(
            name: "Replay",
            // Configuration for the sources, schemes, secrets and properties; Reconciler for the reservation
            // marker in code names; FakeSeam for its seeded generator.
            dependencies: [
                "WebhookAuth", "Bookings", "Configuration", "Reconciler", "FakeSeam",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: The thin executable
        .executableTarget(
            name: "latchkey",
            dependencies: [
                "Bookings", "Configuration", "FakeSeam", "Gateway", "HTTPServer", "Intake", "Observability",
                "Reconciler", "Replay", "Seam", "Store", "WebhookAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "PostgresStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests, one target per library, and the helpers they share
        .target(
            // Temporary directories, polling, captured logs (swift-log's InMemoryLogging), the repository's files,
            // a listener on a loopback port: linked only by the test targets that import it, never by the binary.
            name: "LatchkeyTestSupport",
            dependencies: [
                "HTTPServer", .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            path: "Tests/LatchkeyTestSupport"
        ),
        .testTarget(name: "SystemCallsTests", dependencies: ["SystemCalls", "CLinux"]),
        .testTarget(
            name: "HTTPServerTests",
            dependencies: [
                "HTTPServer", "SystemCalls", "LatchkeyTestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WebhookAuthTests", dependencies: ["WebhookAuth", "LatchkeyTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "BookingsTests", dependencies: ["Bookings", "LatchkeyTestSupport"], resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store", "SystemCalls", "LatchkeyTestSupport", "latchkey-store-bench",
                .product(name: "Logging", package: "swift-log"),
                // The contract suite runs against every backend, PostgreSQL included.
                "PostgresStore",
            ]
        ),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: [
                "PostgresStore", "Store", "LatchkeyTestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SeamTests",
            dependencies: [
                "Seam", "FakeSeam", "HTTPServer", "LatchkeyTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FakeSeamTests",
            dependencies: ["FakeSeam", "HTTPServer", "WebhookAuth", "LatchkeyTestSupport"]
        ),
        .testTarget(
            name: "ObservabilityTests",
            dependencies: [
                "Observability", "SystemCalls", "CZlib", "LatchkeyTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ReconcilerTests", dependencies: ["Reconciler", "Bookings", "LatchkeyTestSupport"]),
        .testTarget(
            name: "NotificationsTests",
            dependencies: [
                "Notifications", "Reconciler", "Bookings", "Seam", "WebhookAuth", "LatchkeyTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "HTTPServer", "FakeSeam", "WebhookAuth", "Configuration", "Observability", "Reconciler",
                "Seam",
                "Store", .product(name: "Logging", package: "swift-log"),
                "Bookings", "Console", "Intake", "LatchkeyTestSupport", "PostgresStore",
            ]
        ),
        .testTarget(name: "ConsoleTests", dependencies: ["Console"]),
        .testTarget(
            name: "ConfigurationTests",
            dependencies: ["Configuration", "Bookings", "LatchkeyTestSupport", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "IntakeTests",
            dependencies: [
                "Intake", "Bookings", "HTTPServer", "LatchkeyTestSupport", "Reconciler", "Store",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: [
                "Replay", "Configuration", "Gateway", "FakeSeam", "WebhookAuth", "Bookings", "Reconciler", "HTTPServer",
                "LatchkeyTestSupport",
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
