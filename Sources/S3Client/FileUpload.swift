import Foundation

/// How a file goes up: one PutObject, or a multipart upload of parts of `partSize` bytes (the last
/// may be smaller), `concurrency` parts at a time.
public struct S3UploadOptions: Sendable {
    /// S3's smallest part (every part but the last).
    public static let minimumPartSize = 5 << 20
    /// S3's largest number of parts.
    public static let maximumParts = 10_000

    public var partSize: Int
    /// Parts in flight at once; memory is at most `partSize * concurrency`.
    public var concurrency: Int
    /// Files of at most this many bytes go up in one PutObject.
    public var multipartThreshold: Int
    public var encryption: S3ServerSideEncryption?
    public var contentType: String

    public init(
        partSize: Int = 16 << 20, concurrency: Int = 4, multipartThreshold: Int? = nil,
        encryption: S3ServerSideEncryption? = nil, contentType: String = "application/octet-stream"
    ) {
        self.partSize = partSize; self.concurrency = concurrency
        self.multipartThreshold = multipartThreshold ?? partSize
        self.encryption = encryption; self.contentType = contentType
    }
}

/// What an upload stored.
public struct S3UploadResult: Sendable, Equatable {
    public var etag: String
    public var size: Int
    /// 0 for a single PutObject.
    public var parts: Int
}

extension S3Client {
    /// Uploads a file to `key`. Large files go up as a multipart upload: parts uploaded in parallel
    /// (bounded), each retried on its own, then completed. Any failure or cancellation aborts the upload,
    /// so nothing (not even a partial object) becomes visible under `key`; a CompleteMultipartUpload
    /// whose answer was lost is confirmed by the object's ETag rather than redone.
    @discardableResult
    public func uploadFile(_ file: URL, bucket: String, key: String, options: S3UploadOptions = S3UploadOptions()) async throws -> S3UploadResult {
        guard options.partSize >= S3UploadOptions.minimumPartSize else {
            throw S3Error.invalidRequest("the part size must be at least 5 MiB (S3's minimum), not \(options.partSize) bytes")
        }
        let size: Int
        do {
            size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw S3Error.invalidRequest("cannot read \(file.path): \(error.localizedDescription)")
        }
        if size <= options.multipartThreshold {
            let bytes = try Self.readRange(of: file, offset: 0, count: size)
            let etag = try await putObject(
                bucket: bucket, key: key, body: bytes, contentType: options.contentType, encryption: options.encryption)
            return S3UploadResult(etag: etag, size: size, parts: 0)
        }
        let partSize = max(options.partSize, (size + S3UploadOptions.maximumParts - 1) / S3UploadOptions.maximumParts)
        let partCount = (size + partSize - 1) / partSize
        let uploadId = try await createMultipartUpload(
            bucket: bucket, key: key, contentType: options.contentType, encryption: options.encryption)
        do {
            let parts = try await uploadParts(
                file, bucket: bucket, key: key, uploadId: uploadId, partSize: partSize, partCount: partCount, size: size,
                concurrency: max(1, options.concurrency))
            let expected = Self.multipartETag(parts.map(\.md5))
            let etag = try await completeOrConfirm(
                bucket: bucket, key: key, uploadId: uploadId,
                parts: parts.map { S3CompletedPart(partNumber: $0.number, etag: $0.etag) }, expected: expected, size: size)
            return S3UploadResult(etag: etag, size: size, parts: partCount)
        } catch {
            // Never leave parts behind (they cost money) or a half upload that could be completed later.
            do {
                try await abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
            } catch let abortError {
                logger.warning("could not abort multipart upload \(uploadId) of s3://\(bucket)/\(key): \(abortError); its parts stay until a lifecycle rule removes them")
            }
            throw error
        }
    }

    /// Completes the upload; a retried Complete whose first attempt was applied (its answer lost) finds
    /// the upload gone (`NoSuchUpload`) because it became the object: only the object's ETag and size can
    /// tell that apart from an abort.
    func completeOrConfirm(
        bucket: String, key: String, uploadId: String, parts: [S3CompletedPart], expected: String, size: Int
    ) async throws(S3Error) -> String {
        let failure: S3Error
        do {
            return try await completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: parts)
        } catch {
            failure = error
        }
        guard failure.code == "NoSuchUpload" else { throw failure }
        guard let stored = try await headObject(bucket: bucket, key: key), stored.etag == expected, stored.size == size else {
            throw failure
        }
        logger.info("CompleteMultipartUpload of s3://\(bucket)/\(key) was applied though its answer was lost: the object has ETag \(expected)")
        return stored.etag
    }

    struct UploadedPart: Sendable {
        var number: Int
        var etag: String
        var md5: [UInt8]
    }

    func uploadParts(
        _ file: URL, bucket: String, key: String, uploadId: String, partSize: Int, partCount: Int, size: Int, concurrency: Int
    ) async throws -> [UploadedPart] {
        try await withThrowingTaskGroup(of: UploadedPart.self) { group in
            var next = 1
            var done: [UploadedPart] = []
            func start() throws {
                let number = next
                next += 1
                let offset = (number - 1) * partSize
                let count = min(partSize, size - offset)
                group.addTask {
                    let bytes = try Self.readRange(of: file, offset: offset, count: count)
                    let etag = try await self.uploadPart(bucket: bucket, key: key, uploadId: uploadId, partNumber: number, body: bytes)
                    return UploadedPart(number: number, etag: etag, md5: Self.md5(bytes))
                }
            }
            while next <= min(partCount, concurrency) { try start() }
            while let part = try await group.next() {
                done.append(part)
                if next <= partCount { try start() }
            }
            return done.sorted { $0.number < $1.number }
        }
    }

    /// S3's ETag of a multipart object: the hex MD5 of the parts' MD5s, `-`, the number of parts.
    public static func multipartETag(_ partMD5s: [[UInt8]]) -> String {
        hex(md5(partMD5s.flatMap { $0 })) + "-\(partMD5s.count)"
    }

    static func readRange(of file: URL, offset: Int, count: Int) throws -> [UInt8] {
        guard let handle = try? FileHandle(forReadingFrom: file) else { throw S3Error.invalidRequest("cannot open \(file.path)") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw S3Error.invalidRequest("\(file.path) changed while it was uploaded (expected \(count) bytes at offset \(offset), read \(data.count))")
            }
            return [UInt8](data)
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error.invalidRequest("cannot read \(file.path): \(error.localizedDescription)")
        }
    }
}
