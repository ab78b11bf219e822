//go:build race

package sync_test

// raceDetector says the tests run under the race detector, which slows
// every goroutine several times over.
const raceDetector = true
