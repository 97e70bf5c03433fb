// swift-tools-version: 6.1
import PackageDescription

/// The ecosystem's HTTP types: the only dependency a consumer with default traits fetches.
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")

/// What the PostgreSQL trait adds.
let postgres: [Target.Dependency] = [
    .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["PostgreSQL"])),
    .product(name: "Crypto", package: "swift-crypto", condition: .when(traits: ["PostgreSQL"])),
    .product(name: "Logging", package: "swift-log", condition: .when(traits: ["PostgreSQL"])),
]

/// What the OpenAPI trait adds.
let openAPI: [Target.Dependency] = [
    .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime", condition: .when(traits: ["OpenAPI"])),
]

/// What the Observability trait adds.
let observability: [Target.Dependency] = [
    .product(name: "Logging", package: "swift-log", condition: .when(traits: ["Observability"])),
    .product(name: "Metrics", package: "swift-metrics", condition: .when(traits: ["Observability"])),
    .product(name: "Tracing", package: "swift-distributed-tracing", condition: .when(traits: ["Observability"])),
]

/// What the AsyncHTTPClient trait adds.
let asyncHTTPClient: [Target.Dependency] = [
    .product(name: "AsyncHTTPClient", package: "async-http-client", condition: .when(traits: ["AsyncHTTPClient"])),
    .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["AsyncHTTPClient"])),
    .product(name: "NIOPosix", package: "swift-nio", condition: .when(traits: ["AsyncHTTPClient"])),
    .product(name: "NIOHTTP1", package: "swift-nio", condition: .when(traits: ["AsyncHTTPClient"])),
    .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["AsyncHTTPClient"])),
]

/// What the Hummingbird trait adds.
let hummingbird: [Target.Dependency] = [
    .product(name: "Hummingbird", package: "hummingbird", condition: .when(traits: ["Hummingbird"])),
]

/// What the Hummingbird trait adds to the sandbox server (it runs and stops the application itself).
let sandboxServer: [Target.Dependency] = hummingbird + [
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["Hummingbird"])),
    .product(name: "NIOCore", package: "swift-nio", condition: .when(traits: ["Hummingbird"])),
    .product(name: "Logging", package: "swift-log", condition: .when(traits: ["Hummingbird"])),
]

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
        // Trait PostgreSQL: credentials in PostgreSQL, coordinated across app instances.
        .library(name: "PostgresTokenStore", targets: ["AuthPostgres"]),
        // Trait OpenAPI: a swift-openapi ClientMiddleware that authorizes generated clients.
        .library(name: "AuthOpenAPI", targets: ["AuthOpenAPI"]),
        // Trait Observability: AuthEvents to swift-log, swift-metrics and swift-distributed-tracing.
        .library(name: "AuthObservability", targets: ["AuthObservability"]),
        // Trait AsyncHTTPClient: an HTTPTransport over AsyncHTTPClient.
        .library(name: "AuthAsyncHTTPClient", targets: ["AuthAsyncHTTPClient"]),
        // Trait Hummingbird: routes for the browser callbacks.
        .library(name: "AuthHummingbird", targets: ["AuthHummingbird"]),
        // Trait Hummingbird: the three sandboxes served over HTTP on 127.0.0.1.
        .library(name: "AuthSandboxServer", targets: ["AuthSandboxServer"]),
    ],
    traits: [
        .trait(name: "PostgreSQL", description: "PostgresTokenStore: credentials in PostgreSQL, coordinated across app instances (postgres-nio, swift-crypto)"),
        .trait(name: "OpenAPI", description: "AuthOpenAPI: a ClientMiddleware that authorizes swift-openapi generated clients (swift-openapi-runtime)"),
        .trait(name: "Observability", description: "AuthObservability: events written to swift-log, timed and counted with swift-metrics, traced with swift-distributed-tracing"),
        .trait(name: "AsyncHTTPClient", description: "AuthAsyncHTTPClient: an HTTPTransport over AsyncHTTPClient (async-http-client, swift-nio)"),
        .trait(name: "Hummingbird", description: "AuthHummingbird: callback routes; AuthSandboxServer: the sandboxes over HTTP (hummingbird)"),
        .default(enabledTraits: []),
    ],
    dependencies: [
        // The only default dependency: the ecosystem's HTTP types (Apple, itself dependency-free).
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Fetched only by consumers that enable the trait that uses them.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-openapi-urlsession.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client.git", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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
        // A helper process for the multi-process FileTokenStore tests; not a product.
        .executableTarget(name: "store-hammer", dependencies: ["AuthCore"], path: "Tests/StoreHammer"),
        // A worker process for the multi-process Profix refresh test; not a product.
        .executableTarget(name: "profix-worker", dependencies: ["AuthCore", "ProfixOAuth", "AuthPostgres", httpTypes] + postgres,
                         path: "Tests/ProfixWorker"),
        .target(name: "TestSupport", dependencies: ["AuthCore", "AuthTesting", "ProfixOAuth", "ProfixOAuthTesting", "AuthAsyncHTTPClient", httpTypes] + asyncHTTPClient,
                path: "Tests/TestSupport"),
        // Trait PostgreSQL: the PostgreSQL token store (empty without the trait).
        .target(name: "AuthPostgres", dependencies: ["AuthCore", httpTypes] + postgres),
        // Trait OpenAPI: the swift-openapi client middleware (empty without the trait).
        .target(name: "AuthOpenAPI", dependencies: ["AuthCore", httpTypes] + openAPI),
        // Trait Observability: events to swift-log, swift-metrics and tracing (empty without the trait).
        .target(name: "AuthObservability", dependencies: ["AuthCore", httpTypes] + observability),
        // Trait AsyncHTTPClient: the AsyncHTTPClient transport (empty without the trait).
        .target(name: "AuthAsyncHTTPClient", dependencies: ["AuthCore", httpTypes] + asyncHTTPClient),
        // Trait Hummingbird: the callback routes (empty without the trait).
        .target(name: "AuthHummingbird", dependencies: ["AuthCore", "ProfixOAuth", "EconomicAuth", httpTypes] + hummingbird),
        // Trait Hummingbird: the sandboxes over HTTP (empty without the trait).
        .target(name: "AuthSandboxServer",
                dependencies: ["AuthCore", "ProfitAuthTesting", "ProfixOAuthTesting", "EconomicAuthTesting", httpTypes] + sandboxServer),
        // Every ```swift block of README.md and Docs/, generated by Scripts/docsnippets.py and
        // compiled with the tests, so a pasted snippet never fails; not a product.
        .target(
            name: "DocSnippets",
            dependencies: ["AuthCore", "AuthRuntime", "AuthTesting", "ProfitAuth", "ProfixOAuth", "EconomicAuth",
                           "ProfitAuthTesting", "ProfixOAuthTesting", "EconomicAuthTesting", "AuthOpenAPI", "AuthObservability",
                           "AuthAsyncHTTPClient", "AuthHummingbird", "AuthSandboxServer", httpTypes]
                + openAPI + observability + asyncHTTPClient + hummingbird,
            path: "Tests/DocSnippets",
            exclude: ["Manifests.txt"]
        ),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore", "AuthTesting", "TestSupport", "AuthAsyncHTTPClient", httpTypes] + asyncHTTPClient),
        // The engine's own tests, and the "adding a provider" guide compiled and run.
        .testTarget(name: "AuthRuntimeTests", dependencies: ["AuthCore", "AuthRuntime", "AuthTesting", "DocSnippets", httpTypes]),
        .testTarget(name: "ProfitAuthTests", dependencies: ["ProfitAuth", "AuthTesting", "DocSnippets", "ProfitAuthTesting", "TestSupport", httpTypes]),
        .testTarget(name: "ProfixOAuthTests", dependencies: ["ProfixOAuth", "AuthTesting", "ProfixOAuthTesting", "TestSupport", httpTypes]),
        .testTarget(name: "EconomicAuthTests", dependencies: ["EconomicAuth", "AuthTesting", "DocSnippets", "EconomicAuthTesting", "TestSupport", httpTypes]),
        // Runs against a real PostgreSQL server (started by .ci/run, or by the tests when the
        // server binaries are installed); compiled only with the PostgreSQL trait.
        .testTarget(name: "AuthPostgresTests",
                    dependencies: ["AuthCore", "AuthPostgres", "AuthTesting", "ProfixOAuth", "ProfixOAuthTesting", "TestSupport", httpTypes] + postgres),
        // Compiled only with the OpenAPI trait: the middleware with a client in the generated style,
        // over a mock transport and over swift-openapi-urlsession on loopback.
        .testTarget(name: "AuthOpenAPITests",
                    dependencies: ["AuthCore", "AuthOpenAPI", "AuthTesting", "ProfixOAuth", "ProfixOAuthTesting", "TestSupport", httpTypes] + openAPI
                        + [.product(name: "OpenAPIURLSession", package: "swift-openapi-urlsession", condition: .when(traits: ["OpenAPI"])),
                           .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client",
                                    condition: .when(traits: ["OpenAPI", "AsyncHTTPClient"]))]),
        // Compiled only with the Observability trait: a Profix-it flow observed through swift-log
        // and swift-metrics' test kit.
        .testTarget(name: "AuthObservabilityTests",
                    dependencies: ["AuthCore", "AuthObservability", "AuthTesting", "ProfixOAuth", "ProfixOAuthTesting", httpTypes] + observability
                        + [.product(name: "MetricsTestKit", package: "swift-metrics", condition: .when(traits: ["Observability"])),
                           .product(name: "InMemoryTracing", package: "swift-distributed-tracing", condition: .when(traits: ["Observability"]))]),
        // Compiled only with the Hummingbird trait: every flow over loopback sockets against the
        // sandbox server, through each transport, and the callback routes in a Hummingbird app.
        .testTarget(name: "EndToEndTests",
                    dependencies: ["AuthCore", "AuthTesting", "ProfitAuth", "ProfixOAuth", "EconomicAuth",
                                   "ProfitAuthTesting", "ProfixOAuthTesting", "EconomicAuthTesting", "TestSupport",
                                   "AuthSandboxServer", "AuthHummingbird", httpTypes] + hummingbird
                        + [.product(name: "HummingbirdTesting", package: "hummingbird", condition: .when(traits: ["Hummingbird"]))]),
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
