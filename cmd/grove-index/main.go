// Command grove-index is grove's command line with the SQLite issue index
// in process: `grove issue list` runs it with the same arguments when the
// list snapshot cannot answer (a search, or refs that moved since the
// snapshot in ways it cannot be brought forward over), so that grove
// itself starts without SQLite.
package main

import (
	_ "modernc.org/sqlite" // issues.SQLDriver

	"example.com/grove/cmd"
)

func main() {
	cmd.Main(cmd.GroveIndex)
}
