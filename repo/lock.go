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
// (lock_unix.go), so a writer that dies releases it.
func (r *Repo) Lock(ctx context.Context) (unlock func(), err error) {
	unlockFile, err := lockFile(ctx, filepath.Join(r.Path, "grove.lock"))
	if err != nil {
		return nil, err
	}
	r.locked.Store(true)
	return func() {
		r.locked.Store(false)
		unlockFile()
	}, nil
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
