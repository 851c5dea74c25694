import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Shell-style glob match (`*`, `?`, `[...]`) of a table name.
func globMatches(_ pattern: String, _ name: String) -> Bool {
    fnmatch(pattern, name, 0) == 0
}
