package issues

// The index's driver, which programs that open an index register
// themselves (SQLDriver).
import _ "modernc.org/sqlite"
