package gitstore

import (
	"fmt"
	"io/fs"
	"syscall"
)

// Small files (refs, their locks, loose objects) are read and written with
// plain system calls. The os package makes every file it opens
// non-blocking and offers it to the poller, two fcntl calls and an
// epoll_ctl per open; for a ref of 41 bytes that is most of the work, and
// on a VM every system call is a trap. A change to an issue opens some
// thirty such files.

// maxRefFile bounds a loose ref's file: "<oid>\n", or a symbolic ref.
const maxRefFile = 64 << 10

// readSmall returns the contents of the file at path. A file over max
// bytes is an error. Errors are *fs.PathError, as the os package's are.
func readSmall(path string, max int) ([]byte, error) {
	fd, err := openRetry(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var small [128]byte
	buf := small[:]
	n := 0
	for {
		if n == len(buf) {
			if len(buf) > max {
				return nil, fmt.Errorf("%s: over %d bytes", path, max)
			}
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		case m == 0:
			if n > max {
				return nil, fmt.Errorf("%s: over %d bytes", path, max)
			}
			return append([]byte(nil), buf[:n]...), nil
		}
		n += m
	}
}

// writeSmall writes data to the file at path, which is created with perm
// or truncated; with excl it must not exist yet.
func writeSmall(path string, data []byte, perm uint32, excl bool) error {
	flags := syscall.O_WRONLY | syscall.O_CREAT | syscall.O_TRUNC | syscall.O_CLOEXEC
	if excl {
		flags |= syscall.O_EXCL
	}
	fd, err := openRetry(path, flags, perm)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "write", Path: path, Err: err}
		}
		data = data[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}

func openRetry(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
