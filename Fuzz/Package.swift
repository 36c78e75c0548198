// swift-tools-version:6.1
// libFuzzer targets for Latchkey's parsers (scripts/checks/70-fuzz, scripts/soak/fuzz).
//
// Not part of the product build: the library sources are symlinks to ../Sources, compiled here again with
// `-sanitize=fuzzer,address`, so the root package needs no extra products and the fuzz entry points can use
// internal API through `@testable import` (debug builds enable testability).
// Build: swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product latchkey-fuzz

import PackageDescription

let package = Package(
    name: "LatchkeyFuzz",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "latchkey-fuzz", targets: ["LatchkeyFuzz"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLinux"),
        .target(name: "SystemCalls", dependencies: ["CLinux"]),
        .target(name: "HTTPServer", dependencies: ["SystemCalls", .product(name: "Logging", package: "swift-log")]),
        .target(name: "WebhookAuth", dependencies: ["CLibCrypto"]),
        .target(name: "Bookings"),
        .target(name: "Store", dependencies: ["SystemCalls", "CZlib", "CLibCrypto", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "LatchkeyFuzz",
            dependencies: ["HTTPServer", "WebhookAuth", "Bookings", "Store"]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility"),
    ]
}
