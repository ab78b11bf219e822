package tui

import (
	"context"
	"io"

	tea "github.com/charmbracelet/bubbletea"
)

// Run shows the UI on a terminal (in and out) until the user quits or ctx
// is done.
func Run(ctx context.Context, o Options, in io.Reader, out io.Writer) error {
	p := tea.NewProgram(New(o),
		tea.WithContext(ctx),
		tea.WithInput(in),
		tea.WithOutput(out),
		tea.WithAltScreen(),
		tea.WithMouseCellMotion(),
		tea.WithFPS(fps),
	)
	_, err := p.Run()
	if err == tea.ErrProgramKilled && ctx.Err() != nil {
		return nil
	}
	return err
}

// fps is how often bubbletea draws a changed view at most: each frame
// waits for the next tick, so the first screen and the answer to every
// key wait up to one tick (8 ms at 120, bubbletea's most; 17 ms at its
// default 60). An idle tick draws nothing.
const fps = 120
