// Command grove-render renders markdown and highlights code for grove-tui,
// which runs it and talks to it over its standard input and output (see
// tui/remote). It is a program of its own so that grove-tui starts
// without glamour's and chroma's package initialisers.
package main

import (
	"fmt"
	"os"
	"os/signal"

	"github.com/muesli/termenv"

	"example.com/grove/tui/remote"
	"example.com/grove/tui/render"
)

func main() {
	// An interrupt at the terminal is grove-tui's to handle: this program
	// ends when grove-tui closes its input, or dies.
	signal.Ignore(os.Interrupt)
	err := remote.Serve(os.Stdin, os.Stdout, func(p termenv.Profile, dark bool) remote.Renderer {
		return render.New(p, dark)
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "grove-render: %v\n", err)
		os.Exit(1)
	}
}
