//go:build unix

package repo

import (
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on f without waiting; ok is false when
// another process holds it.
func tryLock(f *os.File) (ok bool, err error) {
	switch err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err {
	case nil:
		return true, nil
	case syscall.EWOULDBLOCK, syscall.EINTR:
		return false, nil
	default:
		return false, err
	}
}

// unlockFile lets go of tryLock's lock.
func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
