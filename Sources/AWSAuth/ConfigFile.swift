import Foundation

/// An aws-cli config or credentials file, read the way aws-cli reads it (Python's configparser plus
/// botocore's nested sections): `#`/`;` full-line comments, `name = value` or `name: value`, option names
/// lowercased, duplicate sections or options rejected, indented lines continuing the option above.
struct ConfigFile: Sendable {
    enum Value: Sendable, Equatable {
        case string(String)
        /// `name =` followed by indented `key = value` lines, e.g. `dynamodb =\n  endpoint_url = ...`.
        case nested([String: String])

        var string: String? { if case .string(let s) = self { return s } else { return nil } }
    }

    struct Section: Sendable {
        var name: String
        var line: Int
        var values: [String: Value] = [:]
    }

    var path: String
    var sections: [Section] = []

    func section(named name: String) -> Section? { sections.last { $0.name == name } }

    /// Reads `path`; nil when there is no such file.
    static func load(path: String) throws(AWSConfigurationError) -> ConfigFile? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { throw .unreadableFile(path: path, reason: "it is a directory, not a file") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: "permission denied or I/O error")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadableFile(path: path, reason: "it is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws(AWSConfigurationError) -> ConfigFile {
        var file = ConfigFile(path: path)
        // The option that indented lines continue: where it is and how far it was indented.
        var current: (section: Int, name: String, line: Int, indent: Int)?
        var firstLineOfSection: [String: Int] = [:]

        // "\r\n" is one Character in Swift, so it must be named as a separator of its own.
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }

        for (index, rawLine) in lines.enumerated() {
            let lineNumber = index + 1
            let line = rawLine
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let stripped = line.trimmingCharacters(in: .whitespaces)
            if stripped.isEmpty || stripped.hasPrefix("#") || stripped.hasPrefix(";") { continue }

            if let (sectionIndex, name, optionLine, optionIndent) = current, indent > optionIndent {
                let value = file.sections[sectionIndex].values[name]
                var nested: [String: String]
                switch value {
                case .string(let s) where !s.isEmpty:
                    file.sections[sectionIndex].values[name] = .string(s + "\n" + stripped)
                    continue
                case .nested(let existing): nested = existing
                default: nested = [:]
                }
                // Nested section: botocore splits each line at its first `=`.
                guard let eq = stripped.firstIndex(of: "=") else {
                    throw .malformedFile(
                        path: path, line: lineNumber,
                        reason: "this indented line belongs to \"\(name)\" (line \(optionLine)) but is not `name = value`")
                }
                let key = stripped[..<eq].trimmingCharacters(in: .whitespaces)
                nested[key] = stripped[stripped.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                file.sections[sectionIndex].values[name] = .nested(nested)
                continue
            }

            if stripped.hasPrefix("[") {
                guard let close = stripped.lastIndex(of: "]") else {
                    throw .malformedFile(path: path, line: lineNumber, reason: "the section header has no closing `]`")
                }
                let name = stripped[stripped.index(after: stripped.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty else {
                    throw .malformedFile(path: path, line: lineNumber, reason: "the section header `[]` has no name")
                }
                if let previous = firstLineOfSection[name] {
                    throw .malformedFile(
                        path: path, line: lineNumber,
                        reason: "the section [\(name)] appears twice (first on line \(previous))")
                }
                firstLineOfSection[name] = lineNumber
                file.sections.append(Section(name: name, line: lineNumber))
                current = nil
                continue
            }

            guard let delimiter = stripped.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                throw .malformedFile(
                    path: path, line: lineNumber,
                    reason: "expected `[section]`, `name = value` or a comment starting with # or ;")
            }
            guard let sectionIndex = file.sections.indices.last else {
                throw .malformedFile(
                    path: path, line: lineNumber,
                    reason: "a setting comes before any section header such as [default]")
            }
            let name = stripped[..<delimiter].trimmingCharacters(in: .whitespaces).lowercased()
            guard !name.isEmpty else {
                throw .malformedFile(path: path, line: lineNumber, reason: "a setting has no name before `\(stripped[delimiter])`")
            }
            if file.sections[sectionIndex].values[name] != nil {
                throw .malformedFile(
                    path: path, line: lineNumber,
                    reason: "\"\(name)\" is set twice in [\(file.sections[sectionIndex].name)]")
            }
            let value = stripped[stripped.index(after: delimiter)...].trimmingCharacters(in: .whitespaces)
            file.sections[sectionIndex].values[name] = .string(value)
            current = (sectionIndex, name, lineNumber, indent)
        }
        return file
    }

    /// Config-file profiles: `[default]`, `[profile NAME]` (`[profile default]` also names the default).
    func configProfile(named profile: String) -> Section? {
        var found: Section?
        for section in sections where Self.configProfileName(section.name) == profile { found = section }
        return found
    }

    static func configProfileName(_ sectionName: String) -> String? {
        if sectionName == "default" { return "default" }
        guard sectionName.hasPrefix("profile"),
            let first = sectionName.dropFirst("profile".count).first, first == " " || first == "\t"
        else { return nil }
        let name = sectionName.dropFirst("profile".count).trimmingCharacters(in: .whitespaces)
        // Like shlex: a quoted name may hold spaces; an unquoted one is a single word.
        if name.count >= 2, let q = name.first, q == "\"" || q == "'", name.last == q {
            let inner = String(name.dropFirst().dropLast())
            return inner.isEmpty ? nil : inner
        }
        return name.isEmpty || name.contains(where: { $0 == " " || $0 == "\t" }) ? nil : name
    }
}
