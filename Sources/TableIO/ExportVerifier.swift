import Crypto
import DynamoCore
import Foundation
import RunState

/// One thing wrong with an export, naming the file.
public struct ExportProblem: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Relative to the export folder, e.g. `data/segment-0000-part-0001.json.gz`.
    public var file: String
    public var message: String
    public init(file: String, message: String) { self.file = file; self.message = message }
    public var description: String { "\(file): \(message)" }
}

/// The outcome of rereading an export.
public struct ExportVerification: Sendable, Codable {
    public var exportDirectory: String
    public var tableName: String?
    public var dataFiles: Int
    public var itemCount: Int
    public var contentChecksum: ContentChecksum?
    /// False for DynamoDB's own exports (no checksum recorded), or a checksum of another algorithm.
    public var contentChecked: Bool
    public var problems: [ExportProblem]
    public var notes: [String]
    public var ok: Bool { problems.isEmpty }
}

/// Rereads every file of an export: the manifests against their `.md5` files, every data file
/// against its MD5 and ETag, every line as an item, counts against both manifests, and the content
/// checksum against the one recorded at export time.
public struct ExportVerifier: Sendable {
    public let checksummer: any ContentChecksummer
    public init(checksummer: any ContentChecksummer = MultisetContentChecksummer()) { self.checksummer = checksummer }

    public func verify(_ location: ExportLocation) async -> ExportVerification {
        var result = ExportVerification(
            exportDirectory: location.directory.path, tableName: nil, dataFiles: 0, itemCount: 0,
            contentChecksum: nil, contentChecked: false, problems: [], notes: [])
        func problem(_ file: String, _ message: String) { result.problems.append(ExportProblem(file: file, message: message)) }

        let reader: ExportReader
        do {
            reader = try ExportReader(location: location)
        } catch {
            let file: String =
                switch error {
                case .missingFile(let f), .unreadable(let f, _), .malformed(let f, _, _): f
                case .noExport(let d), .severalExports(let d, _): d
                }
            problem(file, error.description)
            // The checksum files can still be checked, to say which manifest was damaged.
            checkManifestDigest(location.summaryFile, into: &result)
            checkManifestDigest(location.filesManifest, into: &result)
            return result
        }
        result.tableName = reader.summary.dynamoMigrate?.tableName
        checkManifestDigest(location.summaryFile, bytes: reader.summaryBytes, into: &result)
        checkManifestDigest(location.filesManifest, bytes: reader.filesBytes, into: &result)

        var checksum = checksummer.empty
        var seenNames = Set<String>()
        var unreadable = 0
        for entry in reader.files {
            let name = "data/" + (entry.dataFileS3Key as NSString).lastPathComponent
            if !seenNames.insert(name).inserted { problem("manifest-files.json", "\(name) is listed twice"); continue }
            result.dataFiles += 1
            let url = location.dataFile(forKey: entry.dataFileS3Key)
            // The MD5 first: a damaged file is named for its MD5, not for whatever parsing it then trips over.
            if !entry.md5Checksum.isEmpty, FileManager.default.fileExists(atPath: url.path) {
                guard let md5 = Self.md5(of: url) else { problem(name, "cannot be read"); unreadable += 1; continue }
                if Base64.encode(md5) != entry.md5Checksum {
                    problem(name, "MD5 is \(Base64.encode(md5)), but manifest-files.json says \(entry.md5Checksum): the file was changed or damaged")
                    unreadable += 1
                    continue
                }
            }
            do {
                let checksummer = self.checksummer
                var fileChecksum = checksummer.empty
                let (count, md5) = try await reader.forEachItem(in: entry, batchSize: 1000) { items in
                    fileChecksum = checksummer.combine(fileChecksum, checksummer.checksum(items: items))
                }
                if Self.isHexMD5(entry.etag) && Digests.hex(md5) != entry.etag.lowercased() {
                    problem(name, "ETag (hex MD5) is \(Digests.hex(md5)), but manifest-files.json says \(entry.etag)")
                }
                if count != entry.itemCount {
                    problem(name, "holds \(count) items, but manifest-files.json says \(entry.itemCount)")
                }
                result.itemCount += count
                checksum = checksummer.combine(checksum, fileChecksum)
            } catch let error as ExportFormatError {
                unreadable += 1
                problem(name, error.description.hasPrefix(name) ? String(error.description.dropFirst(name.count + 2)) : error.description)
            } catch {
                unreadable += 1
                problem(name, "\(error)")
            }
        }
        // Files in data/ the manifest does not list: not an error in DynamoDB's layout (exports may share
        // a prefix), but worth saying for ours.
        if let names = try? FileManager.default.contentsOfDirectory(atPath: location.dataDirectory.path) {
            let extra = names.filter { !seenNames.contains("data/" + $0) && !$0.hasPrefix(".") }.sorted()
            if !extra.isEmpty { result.notes.append("data/ holds files manifest-files.json does not list: \(extra.joined(separator: ", "))") }
        }

        let listed = reader.files.reduce(0) { $0 + $1.itemCount }
        if listed != reader.summary.itemCount {
            problem("manifest-summary.json", "itemCount is \(reader.summary.itemCount), but manifest-files.json lists \(listed) items")
        }
        if unreadable > 0 {
            result.notes.append("content checksum not compared: \(unreadable) data file\(unreadable == 1 ? " is" : "s are") damaged or unreadable")
        } else if let recorded = reader.summary.dynamoMigrate?.contentChecksum {
            result.contentChecksum = checksum
            if recorded.algorithm != checksum.algorithm {
                result.notes.append(
                    "the content checksum was recorded with \(recorded.algorithm); this version computes \(checksum.algorithm), so content was not compared")
            } else {
                result.contentChecked = true
                if !recorded.matches(checksum) {
                    problem("manifest-summary.json", "content checksum of the data files is \(checksum), but the export recorded \(recorded)")
                }
            }
        } else {
            result.contentChecksum = checksum
            result.notes.append("no content checksum recorded (an export DynamoDB wrote): checked files, MD5s and counts only")
        }
        return result
    }

    /// `manifest-x.json` against `manifest-x.md5` (or DynamoDB's newer `manifest-x.checksum`).
    func checkManifestDigest(_ manifest: URL, bytes: [UInt8]? = nil, into result: inout ExportVerification) {
        let base = manifest.deletingPathExtension()
        let candidates = [base.appendingPathExtension("md5"), base.appendingPathExtension("checksum")]
        guard let digestFile = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            result.problems.append(ExportProblem(file: base.lastPathComponent + ".md5", message: "is missing"))
            return
        }
        guard let bytes = bytes ?? (try? [UInt8](Data(contentsOf: manifest))) else { return }
        guard let recordedData = try? Data(contentsOf: digestFile) else {
            result.problems.append(ExportProblem(file: digestFile.lastPathComponent, message: "cannot be read"))
            return
        }
        let recorded = String(decoding: recordedData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = Digests.md5Base64(bytes)
        // DynamoDB writes base64; accept hex too, which some tools write.
        if recorded != actual && recorded.lowercased() != Digests.hex(Base64.decode(actual) ?? []) {
            result.problems.append(
                ExportProblem(
                    file: manifest.lastPathComponent,
                    message: "MD5 is \(actual), but \(digestFile.lastPathComponent) says \(recorded): one of the two was changed or damaged"))
        }
    }

    static func md5(of url: URL) -> [UInt8]? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch { return nil }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
        }
        return Array(hasher.finalize())
    }

    static func isHexMD5(_ text: String) -> Bool {
        text.count == 32 && text.allSatisfy { $0.isHexDigit }
    }
}
