// The public face of the libcurl transport: `send` hands requests to the curl thread and awaits them.
import CCurl

/// libcurl multi interface on one dedicated thread; `send` suspends until the transfer ends.
///
/// Connections are kept alive and reused between requests. At most
/// ``CurlTransportConfiguration/maxConcurrentRequests`` transfers run at once; the rest wait in a FIFO queue.
/// Cancelling the task awaiting `send` removes its request from the queue or aborts its transfer, and `send`
/// then throws ``TransportError/cancelled(url:)``.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked Sendable: the only stored property is the engine, which is itself Sendable
    // (kept for the original declaration's sake; the class has no mutable state of its own).
    private let engine: CurlEngine

    /// Starts the curl thread. Problems setting libcurl up surface as errors from `send`.
    public init(configuration: CurlTransportConfiguration = .init()) {
        engine = CurlEngine(configuration: configuration)
    }

    deinit {
        engine.shutdown()
    }

    /// Sends `request` and returns the final HTTP answer, whatever its status.
    ///
    /// Throws ``TransportError`` only when no usable answer came back; HTTP error statuses are answers.
    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let engine = self.engine
        let id = engine.makeRequestID()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, TransportError>, Never>) in
                engine.enqueue(PendingRequest(id: id, request: request, continuation: continuation))
            }
        } onCancel: {
            engine.cancel(id)
        }
        return try result.get()
    }

    /// Finishes in-flight transfers' callers with `.shutDown` and stops the thread.
    ///
    /// Waits for the curl thread to end. Later `send` calls throw `.shutDown` at once. Calling it again does nothing.
    public func shutdown() {
        engine.shutdown()
    }
}
