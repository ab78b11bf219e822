//go:build !linux

package gitstore

import (
	"io"
	"os"
)

// looseFiles opens an ObjectReader's loose objects with the os package
// (loose_linux.go has the faster way).
type looseFiles struct{ f *os.File }

// open opens loose object oid of the objects directory; the reader is
// good until the next open or done.
func (l *looseFiles) open(objects, oid string) (io.Reader, error) {
	f, err := os.Open(objects + "/" + oid[:2] + "/" + oid[2:])
	if err != nil {
		return nil, err
	}
	l.f = f
	return f, nil
}

// done closes the file open opened.
func (l *looseFiles) done() { l.f.Close() }

// close closes the directories.
func (l *looseFiles) close() {}
