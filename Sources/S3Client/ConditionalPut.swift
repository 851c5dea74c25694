import CurlTransport
import DynamoCore
import Foundation

/// The precondition of a conditional PutObject (S3's compare-and-swap, as of 2024).
public enum S3PutCondition: Sendable, Equatable {
    /// `If-None-Match: *`: only when there is no object under the key yet.
    case noObject
    /// `If-Match: "etag"`: only when the object is still the one with this ETag.
    case etag(String)
}

/// What a conditional PutObject did.
public enum S3ConditionalPutResult: Sendable, Equatable {
    /// Stored; the new ETag.
    case stored(etag: String)
    /// `412 PreconditionFailed` (or `404` for If-Match on a key that is gone): someone else wrote first.
    case preconditionFailed
    /// `409 ConditionalRequestConflict`: another conditional write to the key was in flight; read and try again.
    case conflict
}

extension S3Client {
    /// PutObject with `If-None-Match` or `If-Match`: the object is replaced only when the condition
    /// holds, atomically on S3's side. A failed condition is an answer, not an error.
    public func putObject(bucket: String, key: String, body: [UInt8], condition: S3PutCondition) async throws(S3Error) -> S3ConditionalPutResult {
        var request = S3Request(operation: "PutObject", method: "PUT", bucket: bucket, key: key, body: body)
        request.headers = [("Content-Type", "application/octet-stream"), ("Content-MD5", Base64.encode(Self.md5(body)))]
        switch condition {
        case .noObject: request.headers.append(("If-None-Match", "*"))
        case .etag(let etag): request.headers.append(("If-Match", "\"\(etag)\""))
        }
        do {
            let response = try await send(request)
            return .stored(etag: Self.unquoted(response.header("etag") ?? ""))
        } catch {
            switch error {
            case .noSuchKey: return .preconditionFailed
            case .service(let code, _, let status, _, _, _, _) where status == 412 || code == "PreconditionFailed": return .preconditionFailed
            case .service(let code, _, let status, _, _, _, _) where status == 409 || code == "ConditionalRequestConflict": return .conflict
            default: throw error
            }
        }
    }
}

extension S3Client {
    /// The whole object and the ETag of exactly those bytes (from the same answer), or nil when there is
    /// no such object: what a compare-and-swap reads before it writes.
    public func getObjectWithETag(bucket: String, key: String) async throws(S3Error) -> (body: [UInt8], etag: String)? {
        let response: HTTPResponse
        do {
            response = try await send(S3Request(operation: "GetObject", method: "GET", bucket: bucket, key: key))
        } catch {
            if case .noSuchKey = error { return nil }
            throw error
        }
        let info = Self.info(key: key, response)
        if let expected = info.etagMD5, Self.hex(Self.md5(response.body)) != expected {
            throw .integrity(
                bucket: bucket, key: key, reason: "the bytes received have MD5 \(Self.hex(Self.md5(response.body))), but S3's ETag says \(expected)")
        }
        return (response.body, info.etag)
    }
}
