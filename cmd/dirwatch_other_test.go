//go:build !linux

package cmd_test

import "testing"

// dirWatch is Linux's inotify (dirwatch_linux_test.go); elsewhere there
// is none, and a test falls back to what it does without.
type dirWatch struct{ events chan string }

func watchDirs(t *testing.T, dirs ...string) *dirWatch { return nil }

func (w *dirWatch) Close() {}

// descendants would list pid's descendants; without /proc it lists none.
func descendants(pid int) []int { return nil }
