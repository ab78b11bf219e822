package gitstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// packedMap is a read-only shared mapping of one packed-refs file. Reading
// packed-refs whole costs a fresh heap buffer per Refs, and the first
// touch of fresh anonymous memory is dear where page faults are (virtual
// machines); a mapping faults in only the pages a bisection reads, from the
// page cache. The measurement that keeps it is in docs/STORAGE.md.
//
// A mapping stays consistent because git never writes packed-refs in
// place: it writes packed-refs.lock and renames it over the old file (as
// refTx.unpack does), so a mapped file keeps its bytes for as long as the
// mapping lives, even after it is replaced or removed. A writer that
// truncated it in place would make reads past its new end fault (SIGBUS);
// neither git nor grove does, and a size change between the stat and the
// mmap is caught, the file then being read whole instead, as it is where
// files are not mapped (mmap_other.go).
type packedMap struct {
	b  []byte // nil: nothing mapped
	fi os.FileInfo
}

// unmap releases the mapping, if any. It may be called again.
func (m *packedMap) unmap() {
	if m.b != nil {
		munmap(m.b)
		m.b, m.fi = nil, nil
	}
}

// same reports whether path is still the file m maps.
func (m *packedMap) same(path string) bool {
	if m.b == nil {
		return false
	}
	fi, err := os.Stat(path)
	// While mapped the file stays allocated, so its identity is not
	// reused; size and time are checked too, for writers other than git.
	return err == nil && os.SameFile(fi, m.fi) && fi.Size() == m.fi.Size() && fi.ModTime().Equal(m.fi.ModTime())
}

// mapPacked maps the file at path into m, which must hold no mapping. It
// returns the file's bytes: m.b, or a heap copy when the file cannot be
// mapped, or nil when it is missing or empty (a zero-length mapping is
// not possible).
func mapPacked(path string, m *packedMap) ([]byte, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read packed-refs: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read packed-refs: %w", err)
	}
	if fi.Size() == 0 {
		return nil, nil
	}
	if int64(int(fi.Size())) != fi.Size() || !fi.Mode().IsRegular() {
		return readPacked(path)
	}
	b, err := mmap(f, int(fi.Size()))
	if err != nil {
		return readPacked(path) // a file system or system that cannot map
	}
	if after, err := f.Stat(); err != nil || after.Size() != fi.Size() {
		// Written in place meanwhile, which git never does.
		munmap(b)
		return readPacked(path)
	}
	m.b, m.fi = b, fi
	return b, nil
}

func readPacked(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read packed-refs: %w", err)
	}
	return b, nil
}
