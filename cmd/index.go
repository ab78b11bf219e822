package cmd

import (
	"context"
	"time"
)

// indexProgram is grove's command line with the SQLite issue index in
// process (cmd/grove-index). grove itself does not link SQLite, whose
// package initialisers every grove call would pay (about 4.5 ms, a sixth
// of a comment: docs/BENCHMARKS.md); the one command that needs the
// index, an issue listing the list snapshot cannot answer, runs
// grove-index with the same arguments (runProgram).
const indexProgram = "grove-index"

// GroveIndex runs grove-index: grove's command line with args, opening
// issue indexes in process. Its program registers the SQLite driver
// (issues.SQLDriver).
func GroveIndex(ctx context.Context, args []string, io IO) int {
	return run(ctx, &env{io: io, now: time.Now, args: args, index: true})
}
