// The nesting limit of mapping files, checked on the YAML event stream before any tree is built.
import CYaml

/// Mapping (and backup policy) YAML nested deeper than this is refused. A real mapping needs under ten levels (top level,
/// tables, an entry, its transforms, a value); 32 matches DynamoDB's own nesting limit for item values.
public let maxMappingNesting = 32

/// Where YAML first nests deeper than `limit` collections (maps and lists), as 1-based line and column,
/// or nil when it does not (or is not valid YAML: the parser that builds the tree reports that).
///
/// Yams builds its node tree by recursion, one stack frame chain per level: a file nested thousands of
/// levels deep would overflow the stack and kill the process without a word. libyaml's event parser
/// keeps its own stack on the heap, so counting depth on its events is safe at any depth.
public func firstNestingBeyond(_ limit: Int, in yaml: String) -> (line: Int, column: Int)? {
    var bytes = Array(yaml.utf8)
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { return nil }
    defer { yaml_parser_delete(&parser) }
    return bytes.withUnsafeMutableBufferPointer { buffer -> (line: Int, column: Int)? in
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        var depth = 0
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            switch event.type {
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                depth += 1
                if depth > limit { return (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1) }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                depth -= 1
            case YAML_STREAM_END_EVENT:
                return nil
            default:
                break
            }
        }
    }
}
