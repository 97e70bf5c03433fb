// swift-tools-version: 6.1
import PackageDescription

// Release-mode benchmarks of the SDK's hot paths, in a package of their own so the library's
// root package ships no executable that links the sandboxes.
// Run: `swift run -c release --package-path Benchmarks auth-benchmarks`.
let package = Package(
    name: "accounting-auth-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-accounting-auth", path: ".."),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "auth-benchmarks",
            dependencies: [
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AuthCore", package: "swift-accounting-auth"),
                .product(name: "AuthTesting", package: "swift-accounting-auth"),
                .product(name: "ProfitAuth", package: "swift-accounting-auth"),
                .product(name: "ProfixOAuth", package: "swift-accounting-auth"),
                .product(name: "EconomicAuth", package: "swift-accounting-auth"),
                .product(name: "ProfitAuthTesting", package: "swift-accounting-auth"),
                .product(name: "ProfixOAuthTesting", package: "swift-accounting-auth"),
                .product(name: "EconomicAuthTesting", package: "swift-accounting-auth"),
            ],
            path: "AuthBenchmarks"
        ),
    ]
)
