// Command grove is Grove's command line: identities, projects, the node,
// issues, patches and the terminal UI.
package main

import (
	_ "modernc.org/sqlite" // issues.SQLDriver: grove issue list opens the issue index

	"example.com/grove/cmd"
)

func main() {
	cmd.Main(cmd.Grove)
}
