import CurlTransport

/// Why an S3 call failed, in words an operator can act on. Every case names the bucket (and key) it is about.
public enum S3Error: Error, Sendable, CustomStringConvertible {
    /// The bucket does not exist at this endpoint (`NoSuchBucket`, or 404 to a HEAD).
    case noSuchBucket(bucket: String, endpoint: String)
    /// The object does not exist (`NoSuchKey`, or 404 to a HEAD).
    case noSuchKey(bucket: String, key: String)
    /// The identity may not do this (`AccessDenied`, or 403 to a HEAD).
    case accessDenied(bucket: String, key: String?, operation: String, message: String)
    /// The bucket lives in another region and the request could not be sent there (no region named,
    /// or the named region refused it too).
    case wrongRegion(bucket: String, triedRegion: String, bucketRegion: String?)
    /// Any other error answer: S3's `<Error><Code>`, or the HTTP status when there was no body.
    case service(code: String, message: String, status: Int, operation: String, bucket: String?, key: String?, requestId: String?)
    /// Nothing usable came back (after retries).
    case transport(TransportError, operation: String, bucket: String?)
    /// No credentials to sign with.
    case credentials(String)
    /// The bytes received or stored do not match their checksum.
    case integrity(bucket: String, key: String, reason: String)
    /// An `s3://` location or an option that cannot be used.
    case invalidRequest(String)
    /// S3 answered something this client cannot read, or answered inconsistently (a repeated
    /// continuation token, which would make a listing loop forever).
    case malformedAnswer(operation: String, bucket: String?, reason: String)

    /// S3's error code (`NoSuchBucket`, `SlowDown`, ...), or nil for failures below HTTP.
    public var code: String? {
        switch self {
        case .noSuchBucket: "NoSuchBucket"
        case .noSuchKey: "NoSuchKey"
        case .accessDenied: "AccessDenied"
        case .wrongRegion: "PermanentRedirect"
        case .service(let code, _, _, _, _, _, _): code
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .noSuchBucket(let bucket, let endpoint):
            "S3 bucket \(bucket) does not exist at \(endpoint): create it first, or check the bucket name"
        case .noSuchKey(let bucket, let key):
            "s3://\(bucket)/\(key) does not exist"
        case .accessDenied(let bucket, let key, let operation, let message):
            "access denied to s3://\(bucket)\(key.map { "/" + $0 } ?? "") (\(operation)): \(message). Check the identity's S3 permissions and the bucket policy"
        case .wrongRegion(let bucket, let tried, let region?) where region == tried:
            "S3 bucket \(bucket): requests sent to region \(region), where S3 said the bucket is, were refused as the wrong region again: check the bucket's region and pass it with --region"
        case .wrongRegion(let bucket, let tried, let region?):
            "S3 bucket \(bucket) is in region \(region), not \(tried), and the request sent there failed too: pass --region \(region)"
        case .wrongRegion(let bucket, let tried, nil):
            "S3 bucket \(bucket) is not in region \(tried) and S3 did not say which region it is in: pass the bucket's --region"
        case .service(let code, let message, let status, let operation, let bucket, let key, let requestId):
            "S3 \(operation)\(bucket.map { " on s3://\($0)\(key.map { "/" + $0 } ?? "")" } ?? "") failed: \(code) (HTTP \(status)): \(message)\(requestId.map { " [request id \($0)]" } ?? "")"
        case .transport(let error, let operation, let bucket):
            "S3 \(operation)\(bucket.map { " on bucket \($0)" } ?? ""): \(error)"
        case .credentials(let reason): "no credentials for S3: \(reason)"
        case .integrity(let bucket, let key, let reason): "s3://\(bucket)/\(key): \(reason)"
        case .invalidRequest(let message): message
        case .malformedAnswer(let operation, let bucket, let reason):
            "S3 \(operation)\(bucket.map { " on bucket \($0)" } ?? ""): \(reason)"
        }
    }
}
