package sync

import "syscall"

// quickAck turns on TCP_QUICKACK, which Linux turns off again after a
// while, so it is set before and after every read.
func (q *quickAckConn) quickAck() {
	q.raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
