package protocol

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Protocol IDs and names on the network.
const (
	// GitProtocolID carries git's pack protocol between two nodes: one
	// FetchRequest, one FetchResponse, then git upload-pack's stream.
	GitProtocolID = "/grove/git/1"
	// DHTPrefix is the Kademlia protocol prefix, so grove's routing table
	// holds only grove nodes.
	DHTPrefix = "/grove"
)

// ErrMessage is returned for a malformed or oversized message: bad data,
// which a node may hold against the peer that sent it. A stream that
// ends, is reset or times out before a whole message arrived is not bad
// data (a busy peer refuses that way, and networks fail); ReadMessage
// returns those as the reader's error, wrapped.
var ErrMessage = errors.New("bad message")

// Topic returns the GossipSub topic of project rid.
func Topic(rid RID) string { return "/grove/project/1/" + rid.String() }

// Services a FetchRequest may ask for.
const ServiceUploadPack = "upload-pack"

// FetchRequest opens a /grove/git/1 stream.
type FetchRequest struct {
	RID     RID    `json:"rid"`
	Service string `json:"service"`
	// GitProtocol is the value for GIT_PROTOCOL on the serving side
	// ("version=2"), as git's own transports pass it.
	GitProtocol string `json:"gitProtocol,omitempty"`
}

// Validate checks the request's fields.
func (r *FetchRequest) Validate() error {
	switch {
	case r.RID.IsZero():
		return fmt.Errorf("%w: no rid", ErrMessage)
	case r.Service != ServiceUploadPack:
		return fmt.Errorf("%w: service %q", ErrMessage, r.Service)
	case r.GitProtocol != "" && r.GitProtocol != "version=2" && r.GitProtocol != "version=1" && r.GitProtocol != "version=0":
		return fmt.Errorf("%w: git protocol %q", ErrMessage, r.GitProtocol)
	}
	return nil
}

// FetchResponse answers a FetchRequest; an empty Error means git's stream
// follows.
type FetchResponse struct {
	Error string `json:"error,omitempty"`
}

// WriteMessage writes v as an unsigned-varint length followed by its JSON.
func WriteMessage(w io.Writer, v any) error { return writeMessage(w, v, MaxMessage) }

// writeMessage is WriteMessage for messages of at most max bytes.
func writeMessage(w io.Writer, v any, max int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > max {
		return fmt.Errorf("%w: %d bytes", ErrMessage, len(b))
	}
	buf := binary.AppendUvarint(nil, uint64(len(b)))
	_, err = w.Write(append(buf, b...))
	return err
}

// ReadMessage reads one message written by WriteMessage into v, refusing
// anything over max bytes before reading it. It reads no further than the
// message, so the stream after it is untouched.
func ReadMessage(r io.Reader, max int, v any) error {
	br, ok := r.(io.ByteReader)
	if !ok {
		br = byteReader{r}
	}
	lr := &lengthReader{br: br}
	n, err := binary.ReadUvarint(lr)
	if lr.err != nil {
		return fmt.Errorf("read message length: %w", lr.err)
	}
	if err != nil {
		return fmt.Errorf("%w: length: %v", ErrMessage, err)
	}
	if n > uint64(max) {
		return fmt.Errorf("%w: %d bytes is over the limit of %d", ErrMessage, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return fmt.Errorf("read message of %d bytes: %w", n, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrMessage, err)
	}
	return nil
}

// lengthReader keeps the error of the reader under a length, so that
// ReadMessage can tell a stream that failed from a malformed varint.
type lengthReader struct {
	br  io.ByteReader
	err error
}

func (l *lengthReader) ReadByte() (byte, error) {
	c, err := l.br.ReadByte()
	if err != nil {
		l.err = err
	}
	return c, err
}

// byteReader reads one byte at a time, so nothing past the message is
// consumed (a bufio.Reader would swallow git's stream).
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var p [1]byte
	_, err := io.ReadFull(b.r, p[:])
	return p[0], err
}

// Announcement tells a project's peers that nid's signed refs moved. It is
// signed by nid, so whoever relays it cannot change it.
type Announcement struct {
	RID       RID    `json:"rid"`
	NID       NID    `json:"nid"`
	Sigrefs   string `json:"sigrefs"`
	Time      int64  `json:"time"` // Unix milliseconds
	Signature []byte `json:"sig"`
}

// AnnouncementPayload returns the bytes an announcer signs.
func AnnouncementPayload(rid RID, nid NID, sigrefs string, t int64) []byte {
	return fmt.Appendf(nil, "grove announce v1\nrid %s\nnid %s\nsigrefs %s\ntime %d\n", rid, nid, sigrefs, t)
}

// NewAnnouncement returns a signed announcement of s's sigrefs for rid.
func NewAnnouncement(s Signer, rid RID, sigrefs string, now time.Time) (Announcement, error) {
	a := Announcement{RID: rid, NID: s.NID(), Sigrefs: sigrefs, Time: now.UnixMilli()}
	sig, err := s.Sign(AnnouncementPayload(rid, a.NID, sigrefs, a.Time))
	if err != nil {
		return Announcement{}, err
	}
	a.Signature = sig
	return a, nil
}

// Encode returns the announcement's JSON.
func (a Announcement) Encode() []byte {
	b, _ := json.Marshal(a) // cannot fail: plain fields
	return b
}

// ParseAnnouncement parses and verifies an announcement.
func ParseAnnouncement(b []byte) (Announcement, error) {
	var a Announcement
	if len(b) > MaxAnnouncement {
		return a, fmt.Errorf("%w: announcement of %d bytes", ErrMessage, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return a, fmt.Errorf("%w: %v", ErrMessage, err)
	}
	if a.RID.IsZero() || a.NID.IsZero() || !ValidOID(a.Sigrefs) {
		return a, fmt.Errorf("%w: announcement fields", ErrMessage)
	}
	if !a.NID.Verify(AnnouncementPayload(a.RID, a.NID, a.Sigrefs, a.Time), a.Signature) {
		return a, fmt.Errorf("%w on announcement by %s", ErrBadSignature, a.NID)
	}
	return a, nil
}
