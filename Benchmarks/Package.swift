// swift-tools-version: 6.1
import PackageDescription

// The SDK's benchmarks on ordo-one/package-benchmark, in a package of their own (the library's
// root package keeps no benchmark dependency and no executable). The `MallocInterposer` trait
// counts allocations without jemalloc. Run from this folder:
//
//     swift package benchmark --no-progress                    # every figure, release build
//     swift package benchmark thresholds check --no-progress   # allocation counts against Thresholds/
/// The library's products the benchmarks and the probe both use.
let library: [Target.Dependency] = [
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "AuthCore", package: "swift-accounting-auth"),
    .product(name: "ProfitAuth", package: "swift-accounting-auth"),
    .product(name: "ProfixOAuth", package: "swift-accounting-auth"),
    .product(name: "EconomicAuth", package: "swift-accounting-auth"),
    .product(name: "ProfitAuthTesting", package: "swift-accounting-auth"),
]

let package = Package(
    name: "accounting-auth-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-accounting-auth", path: "..", traits: ["Hummingbird"]),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "AuthBenchmarks",
            dependencies: library + [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AuthTesting", package: "swift-accounting-auth"),
                .product(name: "ProfixOAuthTesting", package: "swift-accounting-auth"),
                .product(name: "EconomicAuthTesting", package: "swift-accounting-auth"),
                .product(name: "AuthSandboxServer", package: "swift-accounting-auth"),
                "IdleTenants",
                "RequestFixtures",
            ],
            path: "Benchmarks/AuthBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The memory-per-idle-tenant scenario, shared by the `memory/` benchmarks and the probe.
        .target(name: "IdleTenants", dependencies: library),
        // The same scenario without the harness, whose allocation counter puts a 16-byte header in
        // front of every malloc'd block: `swift run -c release idle-tenants`.
        .executableTarget(name: "idle-tenants", dependencies: ["IdleTenants"], path: "Sources/IdleTenantsProbe"),
        // The request benchmarks' transports and providers, shared with the instruction counter.
        .target(name: "RequestFixtures", dependencies: library + [
            .product(name: "ProfixOAuthTesting", package: "swift-accounting-auth"),
            .product(name: "EconomicAuthTesting", package: "swift-accounting-auth"),
        ]),
        // Instructions per request under valgrind's callgrind, the same on any host:
        // `swift run -c release request-instructions`.
        .executableTarget(name: "request-instructions", dependencies: library + ["RequestFixtures"], path: "Sources/RequestInstructionsProbe"),
    ]
)
