// One request in flight on the curl thread: its easy handle's buffers and what came back so far.
import CCurl

/// A request waiting for the curl thread, with the continuation its caller awaits.
struct PendingRequest: Sendable {
    let id: UInt64
    let request: HTTPRequest
    let continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>
}

/// The state of one running transfer. Lives on the curl thread only.
final class Transfer {
    let id: UInt64
    let url: String
    /// The request's own ``HTTPRequest/timeout``, if it has one.
    let timeout: Duration?
    let handle: UnsafeMutableRawPointer
    let continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>
    /// The request body, copied into memory we own: libcurl reads it through CURLOPT_POSTFIELDS
    /// until the transfer ends, so it must outlive every `perform` of this transfer.
    var requestBody: UnsafeMutableRawBufferPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// CURLOPT_ERRORBUFFER: libcurl writes its detailed error text here.
    let errorBuffer: UnsafeMutablePointer<CChar>
    var responseHeaders: [(name: String, value: String)] = []
    var responseBody: [UInt8] = []

    init(pending: PendingRequest, handle: UnsafeMutableRawPointer) {
        id = pending.id
        url = pending.request.url
        timeout = pending.request.timeout
        continuation = pending.continuation
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    /// Frees the buffers libcurl was given. Call only after the handle was removed from the multi and reset.
    func releaseBuffers() {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        requestBody?.deallocate()
        requestBody = nil
    }

    deinit {
        releaseBuffers()
        errorBuffer.deallocate()
    }

    /// libcurl's error text for this transfer, or its generic text for `code`.
    func errorText(_ code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }

    /// Takes one header line as libcurl delivers it (status lines included, CRLF at the end).
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Strip CR LF as bytes: as a String, "\r\n" is one Character.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\r") || bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new response starts (after 1xx answers): keep only the final response's headers.
            responseHeaders.removeAll()
            responseBody.removeAll(keepingCapacity: true)
            return
        }
        if line.isEmpty { return }
        if let first = line.first, first == " " || first == "\t", !responseHeaders.isEmpty {
            // Obsolete line folding: the line continues the previous header's value.
            responseHeaders[responseHeaders.count - 1].value += " " + trimmed(Substring(line))
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = trimmed(line[line.index(after: colon)...])
        responseHeaders.append((name: name, value: value))
        if name == "content-length", let length = Int(value), length > 0, length <= 1 << 30 {
            responseBody.reserveCapacity(length)
        }
    }

    private func trimmed(_ text: Substring) -> String {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}

/// CURLOPT_WRITEFUNCTION: appends body bytes to the transfer that `userdata` points to.
func curlWriteCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
    _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let userdata, let data, length > 0 else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
    return length
}

/// CURLOPT_HEADERFUNCTION: hands one header line to the transfer that `userdata` points to.
func curlHeaderCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
    _ userdata: UnsafeMutableRawPointer?
) -> Int {
    let length = size * count
    guard let userdata, let data, length > 0 else { return length }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
    return length
}
