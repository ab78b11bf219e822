package protocol_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"example.com/grove/protocol"
)

// failingReader fails with err after giving data.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReadMessageTellsBadDataFromFailedStreams: only what a peer wrote
// wrong is ErrMessage, which nodes strike peers for; a stream reset, cut
// short or timed out is the stream's error, since a busy peer refuses by
// resetting and networks fail.
func TestReadMessageTellsBadDataFromFailedStreams(t *testing.T) {
	reset := errors.New("stream reset")
	var frame bytes.Buffer
	if err := protocol.WriteMessage(&frame, protocol.FetchResponse{Error: "not here"}); err != nil {
		t.Fatal(err)
	}
	whole := frame.Bytes()
	for _, tt := range []struct {
		name    string
		r       io.Reader
		bad     bool
		wrapped error
	}{
		{"reset before anything", &failingReader{err: reset}, false, reset},
		{"reset inside the length", &failingReader{data: []byte{0x80}, err: reset}, false, reset},
		{"reset inside the body", &failingReader{data: whole[:len(whole)-3], err: reset}, false, reset},
		{"end inside the body", bytes.NewReader(whole[:len(whole)-3]), false, io.ErrUnexpectedEOF},
		{"empty", bytes.NewReader(nil), false, io.EOF},
		{"length overflows", bytes.NewReader(bytes.Repeat([]byte{0xff}, 11)), true, nil},
		{"over the limit", bytes.NewReader([]byte{0xff, 0xff, 0xff, 0x7f}), true, nil},
		{"not JSON", bytes.NewReader([]byte{3, 'a', 'b', 'c'}), true, nil},
		{"unknown field", bytes.NewReader(append([]byte{9}, `{"x":"y"}`...)), true, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var req protocol.FetchResponse
			err := protocol.ReadMessage(tt.r, protocol.MaxMessage, &req)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, protocol.ErrMessage); got != tt.bad {
				t.Fatalf("%v: ErrMessage = %v, want %v", err, got, tt.bad)
			}
			if tt.wrapped != nil && !errors.Is(err, tt.wrapped) {
				t.Fatalf("%v does not wrap %v", err, tt.wrapped)
			}
		})
	}
	var req protocol.FetchResponse
	if err := protocol.ReadMessage(bytes.NewReader(whole), protocol.MaxMessage, &req); err != nil || req.Error != "not here" {
		t.Fatalf("whole frame: %+v, %v", req, err)
	}
}
