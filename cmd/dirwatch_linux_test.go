package cmd_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// dirWatch reports what happens to the files of directories (inotify):
// "closed NAME" when a file opened for writing is closed, "moved NAME"
// when a file is renamed into it.
type dirWatch struct {
	f      *os.File
	events chan string
}

// watchDirs watches dirs until Close; nil if the system cannot.
func watchDirs(t *testing.T, dirs ...string) *dirWatch {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Logf("inotify: %v", err)
		return nil
	}
	for _, dir := range dirs {
		if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CLOSE_WRITE|syscall.IN_MOVED_TO); err != nil {
			syscall.Close(fd)
			t.Logf("inotify %s: %v", dir, err)
			return nil
		}
	}
	// Non-blocking, so the runtime's poller serves Read and Close ends it.
	w := &dirWatch{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan string, 256)}
	go func() {
		defer close(w.events)
		buf := make([]byte, 64<<10)
		for {
			n, err := w.f.Read(buf)
			if err != nil {
				return
			}
			for b := buf[:n]; len(b) >= syscall.SizeofInotifyEvent; {
				mask := binary.NativeEndian.Uint32(b[4:])
				size := int(binary.NativeEndian.Uint32(b[12:]))
				if len(b) < syscall.SizeofInotifyEvent+size {
					break
				}
				name := string(bytes.TrimRight(b[syscall.SizeofInotifyEvent:syscall.SizeofInotifyEvent+size], "\x00"))
				b = b[syscall.SizeofInotifyEvent+size:]
				what := "closed "
				if mask&syscall.IN_MOVED_TO != 0 {
					what = "moved "
				}
				select {
				case w.events <- what + name:
				default: // nobody is listening closely enough
				}
			}
		}
	}()
	return w
}

// Close stops the watch.
func (w *dirWatch) Close() { w.f.Close() }

// descendants returns the IDs of pid's child processes and theirs, as
// /proc lists them.
func descendants(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}
