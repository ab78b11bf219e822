//go:build linux

package gitstore

import (
	"io"
	"strconv"
	"syscall"
)

// looseFiles opens an ObjectReader's loose objects with plain system calls,
// relative to kept descriptors of their fan-out directories (objects/xx):
// an index rebuild reads every loose object once, and os.Open, which
// resolves the whole path and offers each file to the poller (four fcntl
// and an epoll_ctl), made the rebuild of 10,000 loose issues take 1.25x
// the CPU (docs/STORAGE.md, "Grove's own git code"). Elsewhere this
// package opens files with the os package.
type looseFiles struct {
	dirs [256]int // descriptors of objects/xx; 0 when not open
	file fdReader
}

// open opens loose object oid of the objects directory; the reader is
// good until the next open or done.
func (l *looseFiles) open(objects, oid string) (io.Reader, error) {
	d, err := l.dir(objects, oid)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Openat(d, oid[2:], syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Openat(d, oid[2:], syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, err
	}
	l.file.fd = fd
	return &l.file, nil
}

// done closes the file open opened.
func (l *looseFiles) done() {
	syscall.Close(l.file.fd)
	l.file.fd = -1
}

// close closes the directories.
func (l *looseFiles) close() {
	for i, fd := range l.dirs {
		if fd > 0 {
			syscall.Close(fd)
			l.dirs[i] = 0
		}
	}
}

// dir returns a descriptor of the fan-out directory of oid. A directory
// that does not exist is not remembered: it may appear.
func (l *looseFiles) dir(objects, oid string) (int, error) {
	i, _ := strconv.ParseUint(oid[:2], 16, 8)
	if fd := l.dirs[i]; fd > 0 {
		return fd, nil
	}
	fd, err := syscall.Open(objects+"/"+oid[:2], syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(objects+"/"+oid[:2], syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return -1, err
	}
	l.dirs[i] = fd
	return fd, nil
}

// fdReader reads a file descriptor with no os.File around it.
type fdReader struct{ fd int }

func (f *fdReader) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(f.fd, p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}
