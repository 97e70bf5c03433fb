// A helper process for the FileTokenStore tests. Not part of the SDK.
//
//   store-hammer increment <dir> <worker> <count>
//     Adds 1 to a shared counter `count` times with FileTokenStore.update (read-modify-write
//     under the store's lock), and saves the worker's own key after each step.
//   store-hammer save-loop <dir>
//     Saves a credential with an increasing sequence number forever (until killed).
import AuthCore
import Foundation

let arguments = CommandLine.arguments
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

guard arguments.count >= 3 else { fail("usage: store-hammer increment|save-loop <dir> ...") }
let directory = URL(fileURLWithPath: arguments[2])
let store: FileTokenStore
do {
    store = try FileTokenStore(directory: directory)
} catch {
    fail("cannot open store: \(error)")
}

let shared = TokenKey(provider: "hammer", account: "shared")

switch arguments[1] {
case "increment":
    guard arguments.count == 5, let count = Int(arguments[4]) else { fail("usage: store-hammer increment <dir> <worker> <count>") }
    let worker = arguments[3]
    let own = TokenKey(provider: "hammer", account: worker)
    do {
        for step in 1...count {
            _ = try await store.update(shared) { current in
                let value = Int(current?.attributes["counter"] ?? "0") ?? 0
                var next = current ?? StoredCredential(accessToken: Secret("shared"))
                next.attributes["counter"] = String(value + 1)
                next.attributes["last"] = worker
                return next
            }
            try await store.save(StoredCredential(accessToken: Secret("\(worker)-\(step)"), attributes: ["step": String(step)]), for: own)
        }
    } catch {
        fail("worker \(worker) failed: \(error)")
    }
case "save-loop":
    var sequence = 0
    let key = TokenKey(provider: "hammer", account: "crash")
    while true {
        sequence += 1
        // A credential whose parts all name the same sequence number, so a reader can tell a
        // complete record from a torn one.
        let credential = StoredCredential(
            accessToken: Secret("access-\(sequence)-" + String(repeating: "a", count: 2048)),
            refreshToken: Secret("refresh-\(sequence)"),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(sequence)),
            attributes: ["sequence": String(sequence)]
        )
        do {
            try await store.save(credential, for: key)
        } catch {
            fail("save failed: \(error)")
        }
        if sequence == 1 { print("ready") ; fflush(nil) }
    }
default:
    fail("unknown mode \(arguments[1])")
}
