import AuthCore
@testable import AuthRuntime
import Foundation
import HTTPTypes
import Testing

@Suite struct SingleFlightTests {
    @Test func concurrentCallersShareOneOperation() async throws {
        let flight = SingleFlight<Int>()
        let runs = Locked(0)
        // A gate every operation can wait at (not a stream, which allows one waiter): without the
        // sharing, 200 operations run, pass it, and the count below says so.
        let open = Locked(false)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    try await flight.run {
                        let n = runs.withLock { $0 += 1; return $0 }
                        while !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
                        return n
                    }
                }
            }
            // Let every caller join before the one operation finishes.
            while runs.withLock({ $0 }) == 0 { await Task.yield() }
            try await Task.sleep(for: .milliseconds(20))
            open.withLock { $0 = true }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(runs.withLock { $0 } == 1)
        #expect(results.count == 200)
        #expect(Set(results) == [1])
        #expect(!flight.isRunning)
    }

    @Test func aFailureReachesEveryWaiterAndTheNextCallRunsAgain() async throws {
        struct Boom: Error {}
        let flight = SingleFlight<Int>()
        await #expect(throws: Boom.self) { try await flight.run { throw Boom() } }
        #expect(try await flight.run { 7 } == 7)
    }
}

@Suite struct ExecutorPoolTests {
    /// Actors made one after another spread over the pool: tenants do not all queue on one
    /// executor (with the alignment bits of the address used, every object would pick host 0).
    @Test func actorsSpreadOverThePool() {
        let objects = (0..<256).map { _ in Locked(0) }
        let hosts = Set(objects.map { ExecutorPool.hostIndex(of: $0) })
        #expect(hosts.count >= ExecutorPool.hosts.count / 2)
        // One object always gets the same host.
        #expect(objects.allSatisfy { ExecutorPool.hostIndex(of: $0) == ExecutorPool.hostIndex(of: $0) })
    }
}

/// A `WriteLine` behind a lock of its own, the way a cell keeps it.
final class LockedWriteLine: Sendable {
    private let state = Locked(WriteLine())
    func enqueue(_ operation: (@Sendable () async throws -> Void)?) -> WriteLine.Write {
        state.withLock { $0.enqueue(operation) { ticket in self.state.withLock { $0.ended(ticket) } } }
    }
    func isNewest(_ ticket: Int) -> Bool { state.withLock { $0.isNewest(ticket) } }
    var keepsTask: Bool { state.withLock { $0.keepsTask } }
    func settle() async {
        while let last = state.withLock({ $0.unfinished }) { _ = await last.value }
    }
}

@Suite struct WriteLineTests {
    /// Writes run in ticket order even when the earlier one is slower, and only the last
    /// ticket is the newest.
    @Test func writesRunInTicketOrderAndTheNewestWins() async throws {
        let writer = LockedWriteLine()
        let log = Locked<[Int]>([])
        let first = writer.enqueue {
            try await Task.sleep(for: .milliseconds(30))
            log.withLock { $0.append(1) }
        }
        let second = writer.enqueue { log.withLock { $0.append(2) } }
        #expect(await second.outcome() == nil)
        #expect(await first.outcome() == nil)
        #expect(log.withLock { $0 } == [1, 2])
        #expect(!writer.isNewest(first.ticket))
        #expect(writer.isNewest(second.ticket))
    }

    /// An idle line keeps no task: a provider that refreshed once does not hold its finished
    /// write for the rest of its life.
    @Test func anIdleLineKeepsNoTask() async throws {
        let writer = LockedWriteLine()
        #expect(!writer.keepsTask)
        let first = writer.enqueue { try await Task.sleep(for: .milliseconds(20)) }
        let second = writer.enqueue(nil)
        #expect(writer.keepsTask)
        #expect(await first.outcome() == nil)
        #expect(await second.outcome() == nil)
        await writer.settle()
        #expect(!writer.keepsTask)
    }

    @Test func aFailedWriteIsReportedAndDoesNotStopTheLine() async throws {
        struct Full: Error {}
        let writer = LockedWriteLine()
        let failed = writer.enqueue { throw Full() }
        let next = writer.enqueue(nil)
        #expect(await failed.outcome() is Full)
        #expect(await next.outcome() == nil)
        await writer.settle()
    }
}

@Suite struct RefreshTimingTests {
    let issued = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func leewayDefaultsToTenPercentUpToAMinuteAndIsCappedAtHalfTheLifetime() {
        let tenMinutes = StoredCredential(accessToken: Secret("a"), expiresAt: issued.addingTimeInterval(600), issuedAt: issued)
        let oneMinute = StoredCredential(accessToken: Secret("a"), expiresAt: issued.addingTimeInterval(60), issuedAt: issued)
        #expect(RefreshTiming.leeway(for: tenMinutes, configured: nil) == 60)
        #expect(RefreshTiming.leeway(for: oneMinute, configured: nil) == 6)
        #expect(RefreshTiming.leeway(for: oneMinute, configured: .seconds(45)) == 30)
        #expect(!RefreshTiming.isDue(tenMinutes, at: issued.addingTimeInterval(539), leeway: nil))
        #expect(RefreshTiming.isDue(tenMinutes, at: issued.addingTimeInterval(540), leeway: nil))
        #expect(RefreshTiming.isDue(tenMinutes, at: issued.addingTimeInterval(480), leeway: nil, soft: .seconds(60)))
    }

    @Test func theNewerCredentialIsTheLaterIssuedOne() {
        let old = StoredCredential(accessToken: Secret("old"), issuedAt: issued)
        let new = StoredCredential(accessToken: Secret("new"), issuedAt: issued.addingTimeInterval(1))
        let undated = StoredCredential(accessToken: Secret("undated"))
        #expect(RefreshTiming.newer(old, new) == new)
        #expect(RefreshTiming.newer(new, old) == new)
        #expect(RefreshTiming.newer(undated, old) == old)
    }
}

@Suite struct SystemClockTests {
    /// The request path's clock is allowed to run a few milliseconds ahead, never behind: a token
    /// must not be sent after the precise clock says it is due. (Mutation: without the margin,
    /// the coarse clock reads earlier than the precise one on nearly every call, and this fails.)
    @Test func theRequestPathsClockNeverReadsEarlierThanTheSystemClock() {
        var early = 0
        var ahead = 0.0
        for _ in 0..<200_000 {
            let precise = Date()
            let fast = SystemClock.notEarlierThanNow()
            if fast < precise { early += 1 }
            ahead = max(ahead, fast.timeIntervalSince(precise))
        }
        #expect(early == 0)
        // A few milliseconds ahead at most (twice a 4 ms tick and 10 ms here), not seconds.
        #expect(ahead < 0.2)
    }

    /// Only a cell given no clock reads the system clock's fast form; one given a clock (a
    /// test's) reads that clock everywhere.
    @Test func onlyCellsWithoutAClockOfTheirOwnReadTheFastForm() {
        func parts(_ now: (@Sendable () -> Date)?) -> CredentialParts<HTTPField, Void> {
            CredentialParts(name: "test", store: InMemoryTokenStore(), observer: nil, now: now, onChange: nil,
                            missingMessage: "none", renewal: nil,
                            preparer: CredentialPreparer { _ throws(AuthError) in HTTPField(name: .authorization, value: "Bearer token") }, context: ())
        }
        #expect(parts(nil).readsSystemClock)
        let fixed = Date(timeIntervalSince1970: 1_800_000_000)
        let given = parts { fixed }
        #expect(!given.readsSystemClock)
        #expect(given.now() == fixed)
    }
}

@Suite struct WireHelperTests {
    @Test func lenientJSONReadsNumbersAsTextAndKeysInAnyCase() throws {
        let object = try #require(JSONValue.object(in: Data(#"{"UserId": 42, "expires_in": "600", "flag": "True"}"#.utf8)))
        #expect(object.text("userid") == "42")
        #expect(object.value("expires_in")?.integer == 600)
        #expect(object.value("flag")?.isTrue == true)
        #expect(JSONValue.object(in: Data("[1]".utf8)) == nil)
        #expect(JSONValue.object(in: Data("<html>".utf8)) == nil)
    }

    @Test func urlsJoinWithOneSlashAndRefuseAbsolutePaths() throws {
        let base = try #require(URL(string: "https://api.example.com/v1/"))
        #expect(try URL.joining(base, "/items?x=1", provider: "t").absoluteString == "https://api.example.com/v1/items?x=1")
        #expect(throws: AuthError(.invalidRequest)) { try URL.joining(base, "https://evil.example/x", provider: "t") }
    }

    @Test func randomStatesAre64HexDigitsAndDiffer() {
        let a = RandomState.make().revealed
        #expect(a.count == 64 && a.allSatisfy(\.isHexDigit))
        #expect(a != RandomState.make().revealed)
    }
}
