import AWSAuth
import Crypto
import CurlTransport
import DynamoCore
import Foundation

/// An object as S3 describes it (HeadObject, ListObjectsV2).
public struct S3ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int
    /// The ETag without its quotes: the hex MD5 of a single-part, unencrypted (or SSE-S3) object;
    /// `<hex>-<parts>` for a multipart upload.
    public var etag: String
    public var serverSideEncryption: String?

    public init(key: String, size: Int, etag: String, serverSideEncryption: String? = nil) {
        self.key = key; self.size = size; self.etag = etag; self.serverSideEncryption = serverSideEncryption
    }

    /// The MD5 the ETag is, when it is one (single part, not SSE-KMS).
    public var etagMD5: String? {
        guard serverSideEncryption != "aws:kms", S3Client.isHexMD5(etag) else { return nil }
        return etag.lowercased()
    }
}

/// One page of ListObjectsV2.
public struct S3ListPage: Sendable {
    public var objects: [S3ObjectInfo]
    public var commonPrefixes: [String]
    public var nextContinuationToken: String?
}

/// A part of a multipart upload, as CompleteMultipartUpload needs it.
public struct S3CompletedPart: Sendable, Equatable {
    public var partNumber: Int
    public var etag: String
    public init(partNumber: Int, etag: String) { self.partNumber = partNumber; self.etag = etag }
}

/// A multipart upload in progress (ListMultipartUploads).
public struct S3PendingUpload: Sendable, Equatable {
    public var key: String
    public var uploadId: String
}

extension S3Client {
    static let xmlNamespace = "http://s3.amazonaws.com/doc/2006-03-01/"

    static func isHexMD5(_ text: String) -> Bool { text.count == 32 && text.allSatisfy(\.isHexDigit) }

    static func unquoted(_ etag: String) -> String {
        var etag = etag
        if etag.hasPrefix("W/") { etag.removeFirst(2) }
        if etag.hasPrefix("\""), etag.hasSuffix("\""), etag.count >= 2 { etag = String(etag.dropFirst().dropLast()) }
        if etag.hasPrefix("&quot;"), etag.hasSuffix("&quot;") { etag = String(etag.dropFirst(6).dropLast(6)) }
        return etag
    }

    static func md5(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: bytes)) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // MARK: - Buckets

    /// Creates `bucket` in `region` (the client's by default), with the `LocationConstraint` S3 needs
    /// outside us-east-1. Returns false when the bucket already exists and is ours.
    @discardableResult
    public func createBucket(_ bucket: String, region: String? = nil) async throws(S3Error) -> Bool {
        if let problem = S3Location.bucketNameProblem(bucket) {
            throw .invalidRequest("\"\(bucket)\" is not a valid S3 bucket name: \(problem)")
        }
        let region = region ?? self.region
        var request = S3Request(operation: "CreateBucket", method: "PUT", bucket: bucket)
        if region != "us-east-1" {
            request.body = Array(
                "<CreateBucketConfiguration xmlns=\"\(Self.xmlNamespace)\"><LocationConstraint>\(S3XML.escape(region))</LocationConstraint></CreateBucketConfiguration>"
                    .utf8)
        }
        do {
            _ = try await send(request)
            return true
        } catch {
            if error.code == "BucketAlreadyOwnedByYou" { return false }
            throw error
        }
    }

    /// Checks that `bucket` exists and may be used; returns its region when S3 says it.
    @discardableResult
    public func headBucket(_ bucket: String) async throws(S3Error) -> String? {
        let response = try await send(S3Request(operation: "HeadBucket", method: "HEAD", bucket: bucket))
        return response.header("x-amz-bucket-region")
    }

    // MARK: - Objects

    /// Stores `body` under `key` in one request, with `Content-MD5` so S3 refuses damaged bytes, and
    /// checks the ETag S3 returns when it is an MD5. Returns the ETag (unquoted).
    @discardableResult
    public func putObject(
        bucket: String, key: String, body: [UInt8], contentType: String = "application/octet-stream",
        encryption: S3ServerSideEncryption? = nil
    ) async throws(S3Error) -> String {
        let digest = Self.md5(body)
        var request = S3Request(operation: "PutObject", method: "PUT", bucket: bucket, key: key, body: body)
        request.headers = [("Content-Type", contentType), ("Content-MD5", Base64.encode(digest))] + (encryption?.headers ?? [])
        let response = try await send(request)
        let etag = Self.unquoted(response.header("etag") ?? "")
        if encryption?.algorithm != "aws:kms", Self.isHexMD5(etag), etag.lowercased() != Self.hex(digest) {
            throw .integrity(bucket: bucket, key: key, reason: "S3 stored an object whose MD5 is \(etag), not \(Self.hex(digest)) as sent")
        }
        return etag
    }

    /// The object's size and ETag, or nil when there is no such object.
    public func headObject(bucket: String, key: String) async throws(S3Error) -> S3ObjectInfo? {
        do {
            let response = try await send(S3Request(operation: "HeadObject", method: "HEAD", bucket: bucket, key: key))
            return Self.info(key: key, response)
        } catch {
            if case .noSuchKey = error { return nil }
            throw error
        }
    }

    static func info(key: String, _ response: HTTPResponse) -> S3ObjectInfo {
        let size = response.header("content-range").flatMap { $0.split(separator: "/").last.flatMap { Int($0) } }
            ?? Int(response.header("content-length") ?? "") ?? 0
        return S3ObjectInfo(
            key: key, size: size, etag: unquoted(response.header("etag") ?? ""),
            serverSideEncryption: response.header("x-amz-server-side-encryption"))
    }

    /// The whole object in memory (manifests, small records). Checked against its ETag when that is an MD5.
    public func getObject(bucket: String, key: String) async throws(S3Error) -> [UInt8] {
        let response = try await send(S3Request(operation: "GetObject", method: "GET", bucket: bucket, key: key))
        let info = Self.info(key: key, response)
        if let expected = info.etagMD5, Self.hex(Self.md5(response.body)) != expected {
            throw .integrity(bucket: bucket, key: key, reason: "the bytes received have MD5 \(Self.hex(Self.md5(response.body))), but S3's ETag says \(expected)")
        }
        return response.body
    }

    /// Streams the object to `body` in ranges of `chunkSize` bytes, each range pinned to the ETag seen
    /// first (`If-Match`), so an object replaced mid-download fails instead of mixing two versions.
    /// The MD5 of the whole is checked against the ETag when that is an MD5. Returns the object's
    /// info and the MD5 of the bytes delivered.
    @discardableResult
    public func downloadObject(
        bucket: String, key: String, chunkSize: Int = 8 << 20,
        _ body: ([UInt8]) async throws -> Void
    ) async throws -> (info: S3ObjectInfo, md5: [UInt8]) {
        guard let info = try await headObject(bucket: bucket, key: key) else { throw S3Error.noSuchKey(bucket: bucket, key: key) }
        var md5 = Insecure.MD5()
        var offset = 0
        let chunk = max(1 << 16, chunkSize)
        while offset < info.size {
            let last = min(info.size, offset + chunk) - 1
            var request = S3Request(operation: "GetObject", method: "GET", bucket: bucket, key: key)
            request.headers = [("Range", "bytes=\(offset)-\(last)")]
            if !info.etag.isEmpty { request.headers.append(("If-Match", "\"\(info.etag)\"")) }
            let response = try await send(request)
            guard response.body.count == last - offset + 1 else {
                throw S3Error.integrity(
                    bucket: bucket, key: key,
                    reason: "asked for bytes \(offset)-\(last), received \(response.body.count) bytes")
            }
            md5.update(data: response.body)
            try await body(response.body)
            offset = last + 1
        }
        let digest = Array(md5.finalize())
        if let expected = info.etagMD5, Self.hex(digest) != expected {
            throw S3Error.integrity(bucket: bucket, key: key, reason: "the bytes received have MD5 \(Self.hex(digest)), but S3's ETag says \(expected)")
        }
        return (info, digest)
    }

    /// Downloads the object into `file` (written beside it, then renamed, so a failed download leaves
    /// no partial file under the final name).
    @discardableResult
    public func downloadObject(bucket: String, key: String, to file: URL, chunkSize: Int = 8 << 20) async throws -> (info: S3ObjectInfo, md5: [UInt8]) {
        let partial = file.deletingLastPathComponent().appendingPathComponent("." + file.lastPathComponent + ".partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil), let handle = try? FileHandle(forWritingTo: partial) else {
            throw S3Error.invalidRequest("cannot create \(partial.path)")
        }
        do {
            let result = try await downloadObject(bucket: bucket, key: key, chunkSize: chunkSize) { bytes in
                try handle.write(contentsOf: bytes)
            }
            try handle.close()
            if FileManager.default.fileExists(atPath: file.path) { try FileManager.default.removeItem(at: file) }
            try FileManager.default.moveItem(at: partial, to: file)
            return result
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    /// One page of ListObjectsV2 under `prefix`.
    public func listObjectsV2(
        bucket: String, prefix: String, delimiter: String? = nil, continuationToken: String? = nil, maxKeys: Int? = nil
    ) async throws(S3Error) -> S3ListPage {
        var request = S3Request(operation: "ListObjectsV2", method: "GET", bucket: bucket)
        request.query = [("list-type", "2"), ("prefix", prefix)]
        if let delimiter { request.query.append(("delimiter", delimiter)) }
        if let continuationToken { request.query.append(("continuation-token", continuationToken)) }
        if let maxKeys { request.query.append(("max-keys", String(maxKeys))) }
        let response = try await send(request)
        let text = Substring(String(decoding: response.body, as: UTF8.self))
        var objects: [S3ObjectInfo] = []
        for block in S3XML.elements("Contents", in: text) {
            guard let key = S3XML.value("Key", in: block) else {
                throw .malformedAnswer(operation: "ListObjectsV2", bucket: bucket, reason: "an entry has no Key")
            }
            objects.append(
                S3ObjectInfo(
                    key: key, size: Int(S3XML.value("Size", in: block) ?? "") ?? 0,
                    etag: Self.unquoted(S3XML.value("ETag", in: block) ?? "")))
        }
        let prefixes = S3XML.elements("CommonPrefixes", in: text).compactMap { S3XML.value("Prefix", in: $0) }
        let truncated = S3XML.value("IsTruncated", in: text) == "true"
        let next = truncated ? S3XML.value("NextContinuationToken", in: text) : nil
        if truncated && next == nil {
            throw .malformedAnswer(operation: "ListObjectsV2", bucket: bucket, reason: "the listing is truncated but gives no NextContinuationToken")
        }
        return S3ListPage(objects: objects, commonPrefixes: prefixes, nextContinuationToken: next)
    }

    /// Every object under `prefix`, following continuation tokens. A token S3 hands out twice would
    /// loop forever; it is an error instead.
    public func listAllObjects(bucket: String, prefix: String, pageSize: Int? = nil) async throws(S3Error) -> [S3ObjectInfo] {
        var objects: [S3ObjectInfo] = []
        var token: String?
        var seen = Set<String>()
        repeat {
            let page = try await listObjectsV2(bucket: bucket, prefix: prefix, continuationToken: token, maxKeys: pageSize)
            objects += page.objects
            token = page.nextContinuationToken
            if let token, !seen.insert(token).inserted {
                throw .malformedAnswer(
                    operation: "ListObjectsV2", bucket: bucket,
                    reason: "S3 returned the continuation token \(token) twice; stopping instead of listing the same objects forever")
            }
        } while token != nil
        return objects
    }

    /// Deletes one object (no error when it is already gone).
    public func deleteObject(bucket: String, key: String) async throws(S3Error) {
        _ = try await send(S3Request(operation: "DeleteObject", method: "DELETE", bucket: bucket, key: key))
    }

    /// Deletes `keys` with DeleteObjects, 1000 per request; any key S3 could not delete is an error naming it.
    public func deleteObjects(bucket: String, keys: [String]) async throws(S3Error) {
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(keys.count, start + 1000)]
            start += batch.count
            let xml =
                "<Delete xmlns=\"\(Self.xmlNamespace)\"><Quiet>true</Quiet>"
                + batch.map { "<Object><Key>\(S3XML.escape($0))</Key></Object>" }.joined() + "</Delete>"
            let body = Array(xml.utf8)
            var request = S3Request(operation: "DeleteObjects", method: "POST", bucket: bucket, body: body)
            request.query = [("delete", nil)]
            request.headers = [("Content-Type", "application/xml"), ("Content-MD5", Base64.encode(Self.md5(body)))]
            let response = try await send(request)
            let text = Substring(String(decoding: response.body, as: UTF8.self))
            if let failed = S3XML.elements("Error", in: text).first {
                throw .service(
                    code: S3XML.value("Code", in: failed) ?? "Error", message: S3XML.value("Message", in: failed) ?? "",
                    status: response.status, operation: "DeleteObjects", bucket: bucket, key: S3XML.value("Key", in: failed),
                    requestId: nil)
            }
        }
    }

    // MARK: - Multipart upload

    /// Starts a multipart upload; returns its upload id.
    public func createMultipartUpload(
        bucket: String, key: String, contentType: String = "application/octet-stream", encryption: S3ServerSideEncryption? = nil
    ) async throws(S3Error) -> String {
        var request = S3Request(operation: "CreateMultipartUpload", method: "POST", bucket: bucket, key: key)
        request.query = [("uploads", nil)]
        request.headers = [("Content-Type", contentType)] + (encryption?.headers ?? [])
        let response = try await send(request)
        guard let id = S3XML.value("UploadId", in: response.body), !id.isEmpty else {
            throw .malformedAnswer(operation: "CreateMultipartUpload", bucket: bucket, reason: "the answer has no UploadId")
        }
        return id
    }

    /// Uploads one part (with `Content-MD5`, so S3 refuses damaged bytes); returns its ETag.
    public func uploadPart(bucket: String, key: String, uploadId: String, partNumber: Int, body: [UInt8]) async throws(S3Error) -> String {
        var request = S3Request(operation: "UploadPart", method: "PUT", bucket: bucket, key: key, body: body)
        request.query = [("partNumber", String(partNumber)), ("uploadId", uploadId)]
        request.headers = [("Content-MD5", Base64.encode(Self.md5(body)))]
        let response = try await send(request)
        guard let etag = response.header("etag") else {
            throw .malformedAnswer(operation: "UploadPart", bucket: bucket, reason: "part \(partNumber) of \(key) came back without an ETag")
        }
        return Self.unquoted(etag)
    }

    /// Completes a multipart upload; returns the object's ETag. S3 may answer 200 and still fail (an
    /// `<Error>` in the body): that is an error here too.
    public func completeMultipartUpload(bucket: String, key: String, uploadId: String, parts: [S3CompletedPart]) async throws(S3Error) -> String {
        let xml =
            "<CompleteMultipartUpload xmlns=\"\(Self.xmlNamespace)\">"
            + parts.sorted { $0.partNumber < $1.partNumber }.map {
                "<Part><PartNumber>\($0.partNumber)</PartNumber><ETag>\"\(S3XML.escape($0.etag))\"</ETag></Part>"
            }.joined() + "</CompleteMultipartUpload>"
        var request = S3Request(operation: "CompleteMultipartUpload", method: "POST", bucket: bucket, key: key, body: Array(xml.utf8))
        request.query = [("uploadId", uploadId)]
        request.headers = [("Content-Type", "application/xml")]
        let response = try await send(request)
        let text = Substring(String(decoding: response.body, as: UTF8.self))
        if text.contains("<Error>"), let code = S3XML.value("Code", in: text) {
            let answer = ErrorAnswer(code: code, message: S3XML.value("Message", in: text) ?? "", region: nil, requestId: nil)
            throw error(for: request, status: 500, answer: answer, region: regionFor(bucket))
        }
        return Self.unquoted(S3XML.value("ETag", in: text) ?? "")
    }

    /// Abandons a multipart upload and frees its parts (no error when it is already gone).
    public func abortMultipartUpload(bucket: String, key: String, uploadId: String) async throws(S3Error) {
        var request = S3Request(operation: "AbortMultipartUpload", method: "DELETE", bucket: bucket, key: key)
        request.query = [("uploadId", uploadId)]
        do {
            _ = try await send(request)
        } catch {
            if error.code == "NoSuchUpload" { return }
            throw error
        }
    }

    /// Multipart uploads in progress under `prefix` (at most the first 1000).
    public func listMultipartUploads(bucket: String, prefix: String) async throws(S3Error) -> [S3PendingUpload] {
        var request = S3Request(operation: "ListMultipartUploads", method: "GET", bucket: bucket)
        request.query = [("uploads", nil), ("prefix", prefix)]
        let response = try await send(request)
        let text = Substring(String(decoding: response.body, as: UTF8.self))
        return S3XML.elements("Upload", in: text).compactMap { block in
            guard let key = S3XML.value("Key", in: block), let id = S3XML.value("UploadId", in: block) else { return nil }
            return S3PendingUpload(key: key, uploadId: id)
        }
    }
}
