/// Just enough XML for S3's answers: the text of named elements, and escaping for the bodies we send.
/// S3's answers are flat, well-formed documents of known elements, so no general parser is needed.
package enum S3XML {
    /// The raw (still escaped) content of every `<tag>…</tag>` in `text`, in order. Self-closing
    /// `<tag/>` yields an empty string.
    package static func elements(_ tag: String, in text: Substring) -> [Substring] {
        var results: [Substring] = []
        let open = "<" + tag
        let close = "</" + tag + ">"
        var cursor = text.startIndex
        while let start = text.range(of: open, range: cursor..<text.endIndex) {
            // `<Key>` but not `<KeyMarker>`: the next character ends the name.
            guard start.upperBound < text.endIndex else { break }
            let next = text[start.upperBound]
            guard next == ">" || next == " " || next == "/" else { cursor = start.upperBound; continue }
            guard let tagEnd = text.range(of: ">", range: start.upperBound..<text.endIndex) else { break }
            if text[text.index(before: tagEnd.lowerBound)] == "/" {
                results.append(text[tagEnd.upperBound..<tagEnd.upperBound])
                cursor = tagEnd.upperBound
                continue
            }
            guard let end = text.range(of: close, range: tagEnd.upperBound..<text.endIndex) else { break }
            results.append(text[tagEnd.upperBound..<end.lowerBound])
            cursor = end.upperBound
        }
        return results
    }

    /// The unescaped text of the first `<tag>` in `text`.
    package static func value(_ tag: String, in text: Substring) -> String? {
        elements(tag, in: text).first.map { unescape($0) }
    }

    package static func value(_ tag: String, in bytes: [UInt8]) -> String? {
        value(tag, in: Substring(String(decoding: bytes, as: UTF8.self)))
    }

    /// Escapes text for an element's content.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // Control characters are not allowed raw in XML 1.0; S3 accepts them as character references.
                if c.value < 0x20 && c != "\t" && c != "\n" {
                    out += "&#\(c.value);"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    /// Resolves the five named entities and numeric character references.
    package static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == "&", let semicolon = text[i...].firstIndex(of: ";"), text.distance(from: i, to: semicolon) <= 10 {
                let entity = text[text.index(after: i)..<semicolon]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let v = UInt32(entity.dropFirst(2), radix: 16), let s = Unicode.Scalar(v) {
                        replacement = String(Character(s))
                    } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let s = Unicode.Scalar(v) {
                        replacement = String(Character(s))
                    }
                }
                if let replacement {
                    out += replacement
                    i = text.index(after: semicolon)
                    continue
                }
            }
            out.append(c)
            i = text.index(after: i)
        }
        return out
    }
}
