// swift-tools-version: 6.1
import PackageDescription

// The `accounting-auth` command-line tool, on swift-argument-parser, in a package of its own so
// that the library never depends on swift-argument-parser (an ungated dependency is fetched by
// every consumer). It uses the library from the parent folder with the traits it needs:
// AsyncHTTPClient (`--transport ahc`) and Hummingbird (`sandbox serve`, the demo over loopback).
let package = Package(
    name: "accounting-auth-tools",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "accounting-auth", targets: ["accounting-auth"]),
    ],
    dependencies: [
        .package(name: "swift-accounting-auth", path: "..", traits: ["AsyncHTTPClient", "Hummingbird"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // The commands, as a library so the tests can reach their parts.
        .target(name: "AccountingAuthCommands", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "AuthCore", package: "swift-accounting-auth"),
            .product(name: "AuthTesting", package: "swift-accounting-auth"),
            .product(name: "ProfitAuth", package: "swift-accounting-auth"),
            .product(name: "ProfixOAuth", package: "swift-accounting-auth"),
            .product(name: "EconomicAuth", package: "swift-accounting-auth"),
            .product(name: "ProfitAuthTesting", package: "swift-accounting-auth"),
            .product(name: "ProfixOAuthTesting", package: "swift-accounting-auth"),
            .product(name: "EconomicAuthTesting", package: "swift-accounting-auth"),
            .product(name: "AuthAsyncHTTPClient", package: "swift-accounting-auth"),
            .product(name: "AuthSandboxServer", package: "swift-accounting-auth"),
        ]),
        .executableTarget(name: "accounting-auth", dependencies: [
            "AccountingAuthCommands", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "AccountingAuthToolTests", dependencies: [
            "AccountingAuthCommands",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "AuthCore", package: "swift-accounting-auth"),
            .product(name: "AuthTesting", package: "swift-accounting-auth"),
            .product(name: "ProfitAuth", package: "swift-accounting-auth"),
            .product(name: "ProfitAuthTesting", package: "swift-accounting-auth"),
            .product(name: "ProfixOAuthTesting", package: "swift-accounting-auth"),
            .product(name: "EconomicAuthTesting", package: "swift-accounting-auth"),
            .product(name: "AuthSandboxServer", package: "swift-accounting-auth"),
        ]),
    ]
)

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
