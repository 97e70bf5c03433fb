import AuthCore
import HTTPTypes
import AuthTesting
import ProfixOAuthTesting
import Foundation
import ProfixOAuth
import TestSupport
import Testing

/// Four OS processes share one `FileTokenStore` folder holding one Profix-it credential and all
/// force rotations against one `ProfixSandbox`, served to them over loopback HTTP. Coordinating
/// through the store's lock must redeem every rotated refresh token exactly once and lose no pair.
@Suite struct ProfixMultiProcessTests {
    static let workers = 4
    static let rotationsPerWorker = 60

    @Test func fourProcessesRotateOneRefreshTokenWithoutLosingAPair() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("profix-multiprocess-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let rig = try RotationRig()
        defer { rig.server.stop() }
        let key = try await rig.seed(try FileTokenStore(directory: folder))
        #expect(rig.ledger.issuedRefreshTokens.count == 1)

        let (summaries, seconds) = try await rig.run(workers: Self.workers, rotations: Self.rotationsPerWorker, storeArgument: folder.path)
        let stored = try await FileTokenStore(directory: folder).load(key)
        rig.expectOneUnbrokenChain(summaries, workers: Self.workers, rotations: Self.rotationsPerWorker, stored: stored)
        #expect(Self.workers * Self.rotationsPerWorker >= 200)

        // A fresh provider on the store uses the stored pair and refreshes it once more.
        let check = ProfixProvider(client: rig.client, transport: URLSessionTransport(), store: try FileTokenStore(directory: folder))
        let api = AuthorizingTransport(base: URLSessionTransport(), provider: check)
        #expect(try await api.reply(HTTPRequest(url: rig.server.baseURL.appendingPathComponent("api/v1/workorders"))).status == 200)
        try await check.refresh()
        #expect(rig.sandbox.counters.tokenErrors == 0)
        let adopted = summaries.reduce(0) { $0 + ($1["adopted"] ?? 0) }
        print("ProfixMultiProcessTests: \(Self.workers) processes, \(Self.workers * Self.rotationsPerWorker) rotations, \(adopted) adopted pairs, \(rig.server.requestCount) HTTP requests in \(String(format: "%.2f", seconds)) s")
    }
}
