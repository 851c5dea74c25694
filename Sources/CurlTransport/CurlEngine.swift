// The curl thread: one libcurl multi handle, fed from a locked queue, woken with curl_multi_wakeup.
import CCurl
import Foundation
import ZlibSupport

/// libcurl's process-wide setup. A global `let` is initialised exactly once, thread-safely, on first use.
private let curlGlobalInitResult: CURLcode = dm_curl_global_init_default()

/// What callers and the curl thread share, always under `CurlEngine.shared`'s lock.
struct SharedState {
    /// Requests not yet started, oldest first from `queueHead`.
    var queue: [PendingRequest?] = []
    var queueHead = 0
    /// Running transfers whose callers were cancelled; the curl thread aborts them.
    var aborts: [UInt64] = []
    var nextID: UInt64 = 0
    var shuttingDown = false
    var threadExited = false

    var queuedCount: Int { queue.count - queueHead }

    mutating func popFirst() -> PendingRequest? {
        while queueHead < queue.count {
            let item = queue[queueHead]
            queue[queueHead] = nil
            queueHead += 1
            if queueHead > 64 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead); queueHead = 0
            }
            if let item { return item }
        }
        return nil
    }

    /// Removes the queued request `id`, if it is still queued.
    mutating func removeQueued(_ id: UInt64) -> PendingRequest? {
        for index in queueHead..<queue.count where queue[index]?.id == id {
            let item = queue[index]
            queue[index] = nil
            return item
        }
        return nil
    }

    mutating func removeAllQueued() -> [PendingRequest] {
        let items = queue[queueHead...].compactMap { $0 }
        queue.removeAll(); queueHead = 0
        return items
    }
}

/// Owns the multi handle and the thread that drives it.
///
/// `@unchecked Sendable` is safe because: `shared` is a lock-guarded box; `multi`, `active`, `handles` and
/// `idleHandles` are used only on the curl thread once it has started (the initialiser touches them before
/// starting it); the one exception is `curl_multi_wakeup`, which libcurl allows from any thread, and which
/// is only called under the lock while `shuttingDown` is false, so before the curl thread cleans the multi up.
final class CurlEngine: @unchecked Sendable {
    private let configuration: CurlTransportConfiguration
    private let maxConcurrent: Int
    private let connectTimeoutMS: Int
    private let requestTimeoutMS: Int
    private let multi: UnsafeMutableRawPointer?
    /// Set when libcurl could not be set up; every request then fails with it.
    private let startupFailure: TransportError?
    private let shared = Locked(SharedState())

    // Curl thread only.
    private var active: [UInt64: Transfer] = [:]
    private var handles: [UnsafeMutableRawPointer: UInt64] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: CurlTransportConfiguration) {
        self.configuration = configuration
        maxConcurrent = max(1, configuration.maxConcurrentRequests)
        connectTimeoutMS = Self.milliseconds(configuration.connectTimeout)
        requestTimeoutMS = Self.milliseconds(configuration.requestTimeout)
        if curlGlobalInitResult != CURLE_OK {
            multi = nil
            startupFailure = .other(
                url: "", code: Int(curlGlobalInitResult.rawValue),
                reason: "libcurl could not be initialised: \(String(cString: curl_easy_strerror(curlGlobalInitResult)))")
        } else if let multi = curl_multi_init() {
            self.multi = multi
            startupFailure = nil
            // Keep an idle connection for every transfer slot so that bursts reuse connections.
            _ = dm_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConcurrent)
        } else {
            multi = nil
            startupFailure = .other(url: "", code: 0, reason: "libcurl could not create a multi handle")
        }
        if multi == nil {
            shared.withLock {
                $0.shuttingDown = true; $0.threadExited = true
            }
            return
        }
        let thread = Thread { [self] in run() }
        thread.name = "curl-transport"
        thread.start()
    }

    /// curl treats 0 as "no timeout": never pass it.
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int.max }
        return max(1, Int(ms.partialValue) + Int(attoseconds / 1_000_000_000_000_000))
    }

    func makeRequestID() -> UInt64 {
        shared.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }

    // MARK: Caller side

    func enqueue(_ pending: PendingRequest) {
        let refusal: TransportError? = shared.withLock { state in
            if state.shuttingDown { return startupFailure ?? .shutDown }
            // The cancellation handler may have run before the request was queued and found nothing to cancel;
            // the task's cancelled flag is set before handlers run, so checking it under the lock closes the gap.
            if Task.isCancelled { return .cancelled(url: pending.request.url) }
            state.queue.append(pending)
            _ = curl_multi_wakeup(multi)
            return nil
        }
        if let refusal { pending.continuation.resume(returning: .failure(refusal)) }
    }

    func cancel(_ id: UInt64) {
        let removed: PendingRequest? = shared.withLock { state in
            if let pending = state.removeQueued(id) { return pending }
            if !state.shuttingDown {
                // Running, already finished, or not yet queued: the curl thread ignores ids it does not run.
                state.aborts.append(id)
                _ = curl_multi_wakeup(multi)
            }
            return nil
        }
        removed?.continuation.resume(returning: .failure(.cancelled(url: removed!.request.url)))
    }

    func shutdown() {
        let queued: [PendingRequest] = shared.withLock { state in
            guard !state.shuttingDown else { return [] }
            state.shuttingDown = true
            _ = curl_multi_wakeup(multi)
            return state.removeAllQueued()
        }
        for pending in queued { pending.continuation.resume(returning: .failure(.shutDown)) }
        // The curl thread never runs caller code, so it never gets here itself; still, do not wait for oneself.
        if Thread.current.name == "curl-transport" && Thread.current.threadDictionary["dm.curl-engine"] != nil { return }
        shared.wait { $0.threadExited }
    }

    // MARK: Curl thread

    private func run() {
        Thread.current.threadDictionary["dm.curl-engine"] = true
        guard let multi else { return }
        while true {
            var starting: [PendingRequest] = []
            var aborting: [UInt64] = []
            let stop: Bool = shared.withLock { state in
                if state.shuttingDown { return true }
                aborting = state.aborts
                state.aborts.removeAll()
                while active.count + starting.count < maxConcurrent, let next = state.popFirst() {
                    starting.append(next)
                }
                return false
            }
            if stop { break }
            for id in aborting {
                if let transfer = active[id] { complete(transfer, with: .failure(.cancelled(url: transfer.url))) }
            }
            for pending in starting { start(pending) }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var finishedAny = false
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                    let id = handles[handle], let transfer = active[id]
                else { continue }
                let code = message.pointee.data.result
                complete(transfer, with: outcome(of: transfer, code: code))
                finishedAny = true
            }
            // A finished transfer frees a slot: go straight back to the queue instead of waiting.
            if finishedAny { continue }
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for transfer in Array(active.values) { complete(transfer, with: .failure(.shutDown)) }
        for handle in idleHandles { curl_easy_cleanup(handle) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
        shared.withLock { $0.threadExited = true }
        shared.broadcast()
    }

    /// Sets up an easy handle for `pending` and adds it to the multi, or fails the request at once.
    private func start(_ pending: PendingRequest) {
        guard let handle = idleHandles.popLast() ?? curl_easy_init() else {
            pending.continuation.resume(
                returning: .failure(
                    .other(url: pending.request.url, code: 0, reason: "libcurl could not create an easy handle")))
            return
        }
        let transfer = Transfer(pending: pending, handle: handle)
        if let failure = configure(transfer, pending.request) {
            recycle(handle)
            pending.continuation.resume(returning: .failure(failure))
            return
        }
        let added = curl_multi_add_handle(multi, handle)
        guard added == CURLM_OK else {
            recycle(handle)
            pending.continuation.resume(
                returning: .failure(
                    .other(
                        url: transfer.url, code: Int(added.rawValue), reason: String(cString: curl_multi_strerror(added)))))
            return
        }
        active[transfer.id] = transfer
        handles[handle] = transfer.id
    }

    /// Applies the request to the easy handle; returns the error of the first option libcurl refuses.
    private func configure(_ transfer: Transfer, _ request: HTTPRequest) -> TransportError? {
        let handle = transfer.handle
        var failed: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if failed == CURLE_OK && code != CURLE_OK { failed = code } }

        set(dm_curl_easy_setopt_string(handle, CURLOPT_URL, request.url))
        set(dm_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(dm_curl_easy_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)))
        let ownTimeoutMS = request.timeout.map(Self.milliseconds)
        set(dm_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, ownTimeoutMS.map { min($0, connectTimeoutMS) } ?? connectTimeoutMS))
        set(dm_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, ownTimeoutMS ?? requestTimeoutMS))
        set(dm_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        set(dm_curl_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, request.freshConnection ? 1 : 0))
        set(dm_curl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer))
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        set(dm_curl_easy_setopt_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback))
        set(dm_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(dm_curl_easy_setopt_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        set(dm_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        let method = request.method.uppercased()
        let sendsBody = !request.body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH"
        var lines: [String] = []
        var hasContentType = false
        for header in request.headers {
            let name = header.name.lowercased()
            // libcurl's own Expect handling is switched off below; a caller's Expect would bring the wait back.
            if name == "expect" { continue }
            if name == "content-type" { hasContentType = true }
            // "Name;" is libcurl's way to send a header with an empty value ("Name:" would remove it).
            lines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // An empty Expect stops libcurl from sending `Expect: 100-continue` and waiting for big bodies.
        lines.append("Expect:")
        // Without this, POSTFIELDS makes libcurl add a form content type the caller never asked for.
        if sendsBody && !hasContentType { lines.append("Content-Type:") }
        for line in lines {
            guard let list = curl_slist_append(transfer.headerList, line) else {
                return .other(url: request.url, code: Int(CURLE_OUT_OF_MEMORY.rawValue), reason: "out of memory for headers")
            }
            transfer.headerList = list
        }
        set(dm_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, transfer.headerList))

        if sendsBody {
            // Our own copy, alive until the transfer completes (freed in `complete`).
            let body = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, request.body.count), alignment: 1)
            request.body.withUnsafeBytes { source in
                if let base = source.baseAddress { body.baseAddress!.copyMemory(from: base, byteCount: source.count) }
            }
            transfer.requestBody = body
            set(dm_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            set(dm_curl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, body.baseAddress))
            if method != "POST" { set(dm_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)) }
        } else if method == "GET" {
            set(dm_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1))
        } else if method == "HEAD" {
            set(dm_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1))
        } else {
            set(dm_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        guard failed == CURLE_OK else {
            return .other(url: request.url, code: Int(failed.rawValue), reason: transfer.errorText(failed))
        }
        return nil
    }

    /// The caller's result for a transfer libcurl finished with `code`.
    private func outcome(of transfer: Transfer, code: CURLcode) -> Result<HTTPResponse, TransportError> {
        let url = transfer.url
        switch code {
        case CURLE_OK:
            break
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .failure(.connectFailed(url: url, reason: transfer.errorText(code)))
        case CURLE_OPERATION_TIMEDOUT:
            if let own = transfer.timeout { return .failure(.timedOut(url: url, after: own)) }
            return .failure(
                .timedOut(
                    url: url,
                    after: connectionWasEstablished(transfer.handle)
                        ? configuration.requestTimeout : configuration.connectTimeout))
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .failure(.connectionReset(url: url, reason: transfer.errorText(code)))
        default:
            return .failure(.other(url: url, code: Int(code.rawValue), reason: transfer.errorText(code)))
        }
        var status = 0
        _ = dm_curl_easy_getinfo_long(transfer.handle, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPResponse(status: status, headers: transfer.responseHeaders, body: transfer.responseBody)
        if let headerName = configuration.crc32Header?.lowercased(), let sent = response.header(headerName) {
            guard let expected = UInt32(sent) else {
                return .failure(.other(url: url, code: 0, reason: "the \(headerName) header '\(sent)' is not a CRC32"))
            }
            let actual = CRC32.checksum(response.body)
            // Never hand out a body that does not match its checksum.
            guard actual == expected else {
                return .failure(.checksumMismatch(url: url, expected: expected, actual: actual))
            }
        }
        return .success(response)
    }

    /// Whether the transfer got past connecting (so a timeout is the request timeout, not the connect timeout).
    private func connectionWasEstablished(_ handle: UnsafeMutableRawPointer) -> Bool {
        var connectTime: curl_off_t = 0
        var pretransferTime: curl_off_t = 0
        _ = dm_curl_easy_getinfo_off_t(handle, CURLINFO_CONNECT_TIME_T, &connectTime)
        _ = dm_curl_easy_getinfo_off_t(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransferTime)
        return connectTime > 0 || pretransferTime > 0
    }

    /// Takes the transfer out of the multi, frees what libcurl was given, and resumes the caller.
    private func complete(_ transfer: Transfer, with result: Result<HTTPResponse, TransportError>) {
        _ = curl_multi_remove_handle(multi, transfer.handle)
        active[transfer.id] = nil
        handles[transfer.handle] = nil
        recycle(transfer.handle)
        transfer.releaseBuffers()
        transfer.continuation.resume(returning: result)
    }

    /// Resets an easy handle (dropping its pointers to our buffers) and keeps it for the next transfer.
    private func recycle(_ handle: UnsafeMutableRawPointer) {
        curl_easy_reset(handle)
        if idleHandles.count < maxConcurrent { idleHandles.append(handle) } else { curl_easy_cleanup(handle) }
    }
}
