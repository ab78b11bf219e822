//go:build unix

package gitstore

import (
	"os"
	"syscall"
)

// mmap maps the first size bytes of f read-only and shared.
func mmap(f *os.File, size int) ([]byte, error) {
	return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
}

// munmap releases a mapping mmap made.
func munmap(b []byte) { syscall.Munmap(b) }
