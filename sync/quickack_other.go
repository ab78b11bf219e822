//go:build !linux

package sync

// quickAck does nothing: TCP_QUICKACK is Linux's (quickack_linux.go), and
// other systems' delayed ACKs stay as the system sets them.
func (q *quickAckConn) quickAck() {}
