// swift-tools-version: 6.1
import PackageDescription

/// The ecosystem's HTTP types: the only dependency a consumer with default traits fetches.
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")

let package = Package(
    name: "swift-accounting-auth",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "AuthCore", targets: ["AuthCore"]),
        .library(name: "AuthTesting", targets: ["AuthTesting"]),
        .library(name: "ProfitAuthTesting", targets: ["ProfitAuthTesting"]),
        .library(name: "ProfixOAuthTesting", targets: ["ProfixOAuthTesting"]),
        .library(name: "EconomicAuthTesting", targets: ["EconomicAuthTesting"]),
        .library(name: "ProfitAuth", targets: ["ProfitAuth"]),
        .library(name: "ProfixOAuth", targets: ["ProfixOAuth"]),
        .library(name: "EconomicAuth", targets: ["EconomicAuth"]),
        .executable(name: "accounting-auth", targets: ["accounting-auth"]),
    ],
    dependencies: [
        // The only default dependency: the ecosystem's HTTP types (Apple, itself dependency-free).
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .target(name: "AuthCore", dependencies: [httpTypes, .product(name: "HTTPTypesFoundation", package: "swift-http-types")]),
        // The engine the provider modules share (credential cell, ordered writer, endpoint client,
        // wire helpers); `package` access only, not a product.
        .target(name: "AuthRuntime", dependencies: ["AuthCore", httpTypes]),
        // Test doubles that need nothing but the core (MockTransport, FaultInjectingTransport, TestClock).
        .target(name: "AuthTesting", dependencies: ["AuthCore", httpTypes]),
        // A behavioural sandbox of each service, for users' tests; each needs only its provider.
        .target(name: "ProfitAuthTesting", dependencies: ["AuthCore", "AuthTesting", "ProfitAuth", httpTypes]),
        .target(name: "ProfixOAuthTesting", dependencies: ["AuthCore", "AuthTesting", "ProfixOAuth", httpTypes]),
        .target(name: "EconomicAuthTesting", dependencies: ["AuthCore", "AuthTesting", "EconomicAuth", httpTypes]),
        .target(name: "ProfitAuth", dependencies: ["AuthCore", "AuthRuntime", httpTypes]),
        .target(name: "ProfixOAuth", dependencies: ["AuthCore", "AuthRuntime", httpTypes]),
        .target(name: "EconomicAuth", dependencies: ["AuthCore", "AuthRuntime", httpTypes]),
        .executableTarget(
            name: "accounting-auth",
            dependencies: ["AuthCore", "AuthTesting", "ProfitAuth", "ProfixOAuth", "EconomicAuth",
                           "ProfitAuthTesting", "ProfixOAuthTesting", "EconomicAuthTesting", httpTypes]
        ),
        // A helper process for the multi-process FileTokenStore tests; not a product.
        .executableTarget(name: "store-hammer", dependencies: ["AuthCore"], path: "Tests/StoreHammer"),
        // A worker process for the multi-process Profix refresh test; not a product.
        .executableTarget(name: "profix-worker", dependencies: ["AuthCore", "ProfixOAuth", httpTypes], path: "Tests/ProfixWorker"),
        .target(name: "TestSupport", dependencies: ["AuthCore", "AuthTesting", httpTypes], path: "Tests/TestSupport"),
        // Release-mode benchmarks: `swift run -c release auth-benchmarks`; not a product.
        .executableTarget(
            name: "auth-benchmarks",
            dependencies: ["AuthCore", "AuthTesting", "ProfitAuth", "ProfixOAuth", "EconomicAuth",
                           "ProfitAuthTesting", "ProfixOAuthTesting", "EconomicAuthTesting", httpTypes],
            path: "Benchmarks/AuthBenchmarks"
        ),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore", "AuthTesting", "TestSupport", httpTypes]),
        // The engine's own tests, and the "adding a provider" guide compiled and run.
        .testTarget(name: "AuthRuntimeTests", dependencies: ["AuthCore", "AuthRuntime", "AuthTesting", httpTypes]),
        .testTarget(name: "ProfitAuthTests", dependencies: ["ProfitAuth", "AuthTesting", "ProfitAuthTesting", "TestSupport", httpTypes]),
        .testTarget(name: "ProfixOAuthTests", dependencies: ["ProfixOAuth", "AuthTesting", "ProfixOAuthTesting", "TestSupport", httpTypes]),
        .testTarget(name: "EconomicAuthTests", dependencies: ["EconomicAuth", "AuthTesting", "EconomicAuthTesting", "TestSupport", httpTypes]),
        // Tests that drive every module together (secrets never leak, end-to-end flows).
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["AuthCore", "AuthTesting", "ProfitAuth", "ProfixOAuth", "EconomicAuth",
                           "ProfitAuthTesting", "ProfixOAuthTesting", "EconomicAuthTesting", "TestSupport", httpTypes]
        ),
    ]
)

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
