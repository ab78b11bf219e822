//go:build !unix

package gitstore

import (
	"errors"
	"os"
)

// errNoMmap is mmap's error where files are not mapped: packs are then
// read through go-git and packed-refs is read whole.
var errNoMmap = errors.New("files are not mapped on this system")

// mmap maps nothing here (mmap_unix.go maps).
func mmap(f *os.File, size int) ([]byte, error) { return nil, errNoMmap }

// munmap releases nothing.
func munmap(b []byte) {}
