// Command grove is Grove's command line: identities, projects, the node,
// issues, patches and the terminal UI.
package main

import "example.com/grove/cmd"

func main() {
	cmd.Main(cmd.Grove)
}
