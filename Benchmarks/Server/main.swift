// dynamo-bench-server: an in-memory DynamoDB data plane on 127.0.0.1, fast enough to measure a fast client.
//
// Usage: dynamo-bench-server [--port P] [--unprocessed-rate F]
//                            [--seed-table NAME --items N [--item-bytes B] [--stream VIEW]]...
//                            [--stream-shards N] [--stream-split-every N] [--stream-split-children 1|2]
//                            [--stream-iterator-lifetime SECONDS] [--write-load RATE [--write-load-seconds S]]
// --write-load changes every seeded table that has a --stream RATE times a second for S seconds (default 60),
// from inside the server (WriteLoad.swift): the steady write load of a following benchmark.
// DynamoDB Streams (DynamoDBStreams_20120810.*) are served on the same port: see Streams.swift.
// Prints `dynamo-bench-server listening on http://127.0.0.1:PORT` once seeded and ready.
import DynamoCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var port = 0
    var unprocessedRate = 0.0
    var seeds: [(table: String, items: Int, itemBytes: Int, stream: String?)] = []
    var streams = StreamSettings()
    var writeLoad: WriteLoad?
}

func usage(_ message: String) -> Never {
    FileHandle.standardError.write(
        Data(
            "dynamo-bench-server: \(message)\nusage: dynamo-bench-server [--port P] [--unprocessed-rate F] [--seed-table NAME --items N [--item-bytes B] [--stream VIEW]]... [--stream-shards N] [--stream-split-every N] [--stream-split-children 1|2] [--stream-iterator-lifetime SECONDS] [--write-load RATE [--write-load-seconds S]]\n"
                .utf8))
    exit(2)
}

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var i = 0
    func value(_ name: String) -> String {
        i += 1
        guard i < arguments.count else { usage("\(name) needs a value") }
        return arguments[i]
    }
    while i < arguments.count {
        let argument = arguments[i]
        switch argument {
        case "--port":
            guard let p = Int(value(argument)), (0...65535).contains(p) else { usage("--port takes 0...65535") }
            options.port = p
        case "--unprocessed-rate":
            guard let r = Double(value(argument)), r >= 0, r < 1 else { usage("--unprocessed-rate takes a fraction in [0, 1)") }
            options.unprocessedRate = r
        case "--seed-table":
            options.seeds.append((value(argument), 0, 400, nil))
        case "--items":
            guard !options.seeds.isEmpty else { usage("--items follows --seed-table") }
            guard let n = Int(value(argument)), n >= 0 else { usage("--items takes a count") }
            options.seeds[options.seeds.count - 1].items = n
        case "--item-bytes":
            guard !options.seeds.isEmpty else { usage("--item-bytes follows --seed-table") }
            guard let n = Int(value(argument)), n >= 64, n <= dynamoDBMaximumItemSize else { usage("--item-bytes takes 64...409600") }
            options.seeds[options.seeds.count - 1].itemBytes = n
        case "--stream":
            guard !options.seeds.isEmpty else { usage("--stream follows --seed-table") }
            let view = value(argument)
            guard StreamLog.viewTypes.contains(view) else { usage("--stream takes \(StreamLog.viewTypes.sorted().joined(separator: ", "))") }
            options.seeds[options.seeds.count - 1].stream = view
        case "--stream-shards":
            guard let n = Int(value(argument)), (1...1024).contains(n) else { usage("--stream-shards takes 1...1024") }
            options.streams.initialShards = n
        case "--stream-split-every":
            guard let n = Int(value(argument)), n >= 0 else { usage("--stream-split-every takes a record count (0: never)") }
            options.streams.splitEvery = n
        case "--stream-split-children":
            guard let n = Int(value(argument)), n == 1 || n == 2 else { usage("--stream-split-children takes 1 or 2") }
            options.streams.children = n
        case "--stream-iterator-lifetime":
            guard let n = Double(value(argument)), n > 0 else { usage("--stream-iterator-lifetime takes seconds") }
            options.streams.iteratorLifetime = n
        case "--write-load":
            guard let n = Int(value(argument)), n > 0 else { usage("--write-load takes changes per second") }
            options.writeLoad = WriteLoad(rate: n, seconds: options.writeLoad?.seconds ?? 60)
        case "--write-load-seconds":
            guard let n = Double(value(argument)), n > 0 else { usage("--write-load-seconds takes seconds") }
            guard options.writeLoad != nil else { usage("--write-load-seconds follows --write-load") }
            options.writeLoad?.seconds = n
        case "-h", "--help":
            usage("help")
        default:
            usage("unknown argument \(argument)")
        }
        i += 1
    }
    return options
}

// A parent (Foundation's Process, for one) may hand down blocked signals: SIGTERM must stop us.
var signals = sigset_t()
sigfillset(&signals)
sigprocmask(SIG_UNBLOCK, &signals, nil)
signal(SIGTERM, SIG_DFL)
signal(SIGINT, SIG_DFL)
// A client that goes away mid-answer must not kill the server.
signal(SIGPIPE, SIG_IGN)

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
let store = Store(unprocessedRate: options.unprocessedRate)
store.streamSettings = options.streams
for seed in options.seeds {
    let started = Date()
    do {
        try Seeder.seed(store, table: seed.table, items: seed.items, itemBytes: seed.itemBytes)
    } catch {
        usage("cannot seed \(seed.table): \(error)")
    }
    // The stream starts after the seed: the seeded items are the table's content, not changes.
    if let view = seed.stream, let table = try? store.table(seed.table) {
        table.lock.lock()
        table.enableStream(viewType: view, settings: options.streams)
        table.lock.unlock()
    }
    FileHandle.standardError.write(
        Data(
            String(
                format: "seeded %@ with %d items of ~%d bytes in %.1f s\n",
                seed.table, seed.items, seed.itemBytes, Date().timeIntervalSince(started)
            ).utf8))
}
let server: HTTPServer
do {
    server = try HTTPServer(port: options.port) { request in store.handle(request) }
} catch {
    usage("cannot listen: \(error)")
}
if let load = options.writeLoad {
    let streamed = options.seeds.filter { $0.stream != nil }
    if streamed.isEmpty { usage("--write-load needs a seeded table with --stream") }
    for seed in streamed {
        if let table = try? store.table(seed.table) { load.start(on: table, items: seed.items) }
    }
}
// Written straight to the descriptor: a pipe-reading script sees the line at once.
FileHandle.standardOutput.write(Data("dynamo-bench-server listening on http://127.0.0.1:\(server.port)\n".utf8))
server.run()
