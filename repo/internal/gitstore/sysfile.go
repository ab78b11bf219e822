package gitstore

import (
	"fmt"
	"io"
	"os"
)

// maxRefFile bounds a loose ref's file: "<oid>\n", or a symbolic ref.
const maxRefFile = 64 << 10

// readSmall returns the contents of the file at path. A file over max
// bytes is an error.
func readSmall(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s: over %d bytes", path, max)
	}
	return b, nil
}

// writeSmall writes data to the file at path, which is created with perm
// or truncated; with excl it must not exist yet.
func writeSmall(path string, data []byte, perm os.FileMode, excl bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if excl {
		flags |= os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
