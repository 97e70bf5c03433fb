package import Foundation

/// Any JSON value, decoded leniently: the one JSON reader the provider modules share.
///
/// Services are vague about types (a user id arrives as a number or a string, `expires_in` as a
/// number or numeric text, a flag as `true` or `"True"`), so the accessors convert where the
/// meaning is unambiguous and return `nil` otherwise.
package enum JSONValue: Sendable, Equatable, Decodable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case object([String: JSONValue])
    case array([JSONValue])
    case null

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([String: JSONValue].self) { self = .object(value) }
        else { self = .array(try container.decode([JSONValue].self)) }
    }

    /// The top-level object of `data`, or `nil` when `data` is empty, not JSON or not an object.
    package static func object(in data: Data) -> JSONObject? {
        guard !data.isEmpty, case .object(let values)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            return nil
        }
        return JSONObject(values: values)
    }

    /// A string, or a number written as text (user ids arrive either way).
    package var text: String? {
        switch self {
        case .string(let value): return value
        case .number(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        default: return nil
        }
    }

    /// A number, or a string holding one.
    package var number: Double? {
        switch self {
        case .number(let value): return value
        case .string(let value): return Double(value.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    /// A whole number, or a string holding one; `nil` for fractions and values out of range.
    package var integer: Int? {
        guard let number, number.isFinite, number == number.rounded(), abs(number) < 1e15 else { return nil }
        return Int(number)
    }

    /// `true`, `"true"` in any case, or `1`.
    package var isTrue: Bool {
        switch self {
        case .bool(let value): return value
        case .string(let value): return value.lowercased() == "true"
        case .number(let value): return value == 1
        default: return false
        }
    }

    package var isNull: Bool { self == .null }

    /// The object this value holds, if it is one.
    package var object: JSONObject? {
        if case .object(let values) = self { return JSONObject(values: values) }
        return nil
    }
}

/// A JSON object (or a decoded form body) with case-insensitive key lookup.
package struct JSONObject: Sendable, Equatable {
    package var values: [String: JSONValue]

    package init(values: [String: JSONValue]) {
        self.values = values
    }

    /// The value under `key`, matched exactly first, then ignoring case.
    package func value(_ key: String) -> JSONValue? {
        if let exact = values[key] { return exact }
        let lower = key.lowercased()
        return values.first { $0.key.lowercased() == lower }?.value
    }

    /// The text under `key` (a string or a number written out).
    package func text(_ key: String) -> String? { value(key)?.text }
}
