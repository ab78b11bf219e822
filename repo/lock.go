package repo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Lock takes the project's writer lock, waiting until it is free or ctx
// ends. Every change to refs goes through it, so concurrent pushes land one
// after another and signed refs always match refs. The lock is an flock
// (lock_unix.go), so a writer that dies releases it; the next one first
// finishes a ref transaction such a writer left half done
// (gitstore.Store.FinishInterrupted).
func (r *Repo) Lock(ctx context.Context) (unlock func(), err error) {
	unlockFile, err := lockFile(ctx, r.lockPath())
	if err != nil {
		return nil, err
	}
	if _, err := r.store.FinishInterrupted(); err != nil {
		unlockFile()
		return nil, err
	}
	r.locked.Store(true)
	return func() {
		r.locked.Store(false)
		unlockFile()
	}, nil
}

func (r *Repo) lockPath() string { return filepath.Join(r.Path, "grove.lock") }

// finishInterrupted finishes a ref transaction a dead writer left half
// done, if there is one and no writer holds the lock now (one that does
// finishes it itself), so that readers see refs that match their signed
// refs without waiting for the next write. Failures are left for the
// next writer, which reports them.
func (r *Repo) finishInterrupted() {
	if !r.store.Interrupted() {
		return
	}
	unlock, ok, err := tryLockFile(r.lockPath())
	if err != nil || !ok {
		return
	}
	defer unlock()
	r.store.FinishInterrupted()
}

// tryLockFile takes an flock on the file at path, made if missing, if it
// is free.
func tryLockFile(path string) (unlock func(), ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	if ok, err = tryLock(f); err != nil || !ok {
		f.Close()
		return nil, false, err
	}
	return func() {
		unlockFile(f)
		f.Close()
	}, true, nil
}

// lockFile takes an flock on the file at path, made if missing, waiting
// until it is free or ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	wait := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock: %w", err)
		}
		if ok {
			return func() {
				unlockFile(f)
				f.Close()
			}, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("wait for lock: %w", ctx.Err())
		case <-t.C:
		}
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
