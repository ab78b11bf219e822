package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
)

// HeadsProtocolID lets two nodes that just connected compare the signed
// refs they hold of the projects they share, so that an announcement one
// of them missed costs one connection, not a manual sync. The dialling
// side writes a HeadsMessage with a digest per project, the other answers
// with its digests and, where they differ, its heads; the dialling side
// then sends its own heads of the projects that differ. Each side fetches
// from the other what it lacks, through GitProtocolID or UpdateProtocolID.
const HeadsProtocolID = "/grove/heads/1"

// Head is one namespace's signed refs: the NID and its sigrefs commit.
type Head struct {
	NID     NID    `json:"nid"`
	Sigrefs string `json:"sigrefs"`
}

// ProjectHeads is what one side says about one project.
type ProjectHeads struct {
	RID RID `json:"rid"`
	// Digest is HeadsDigest of the sender's heads of the project; empty in
	// the third message.
	Digest string `json:"digest,omitempty"`
	// Heads are the sender's heads, sorted by NID: absent where the two
	// digests match, and in the first message.
	Heads []Head `json:"heads,omitempty"`
}

// HeadsMessage is each of the three messages of a heads exchange.
type HeadsMessage struct {
	Projects []ProjectHeads `json:"projects"`
	// Announce, in the first message, says the asker just changed its own
	// namespace and tells each of its peers itself: what the answerer
	// takes from it need not be passed on with heads exchanges of its own
	// (GossipSub carries the signed announcement further).
	Announce bool `json:"announce,omitempty"`
}

// Validate checks counts and fields: known-good RIDs, each at most once,
// digests of the right form, heads sorted by NID with no NID twice, and
// object IDs.
func (m *HeadsMessage) Validate() error {
	if len(m.Projects) > MaxHeadsProjects {
		return fmt.Errorf("%w: %d projects, over the limit of %d", ErrMessage, len(m.Projects), MaxHeadsProjects)
	}
	seen := make(map[RID]bool, len(m.Projects))
	heads := 0
	for _, p := range m.Projects {
		if p.RID.IsZero() {
			return fmt.Errorf("%w: no rid", ErrMessage)
		}
		if seen[p.RID] {
			return fmt.Errorf("%w: project %s twice", ErrMessage, p.RID)
		}
		seen[p.RID] = true
		if p.Digest != "" && !validDigest(p.Digest) {
			return fmt.Errorf("%w: digest of %s", ErrMessage, p.RID)
		}
		heads += len(p.Heads)
		if heads > MaxHeads {
			return fmt.Errorf("%w: over %d heads", ErrMessage, MaxHeads)
		}
		for i, h := range p.Heads {
			if h.NID.IsZero() || !ValidOID(h.Sigrefs) {
				return fmt.Errorf("%w: head %d of %s", ErrMessage, i, p.RID)
			}
			if i > 0 && p.Heads[i-1].NID.String() >= h.NID.String() {
				return fmt.Errorf("%w: heads of %s not sorted or duplicate", ErrMessage, p.RID)
			}
		}
	}
	return nil
}

func validDigest(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// SortHeads sorts heads by NID, as a HeadsMessage lists them.
func SortHeads(heads []Head) {
	slices.SortFunc(heads, func(a, b Head) int { return strings.Compare(a.NID.String(), b.NID.String()) })
}

// HeadsDigest is the hex sha256 of heads sorted by NID, one
// "<NID> <sigrefs>\n" line each: two nodes with the same digest for a
// project hold the same signed refs of it.
func HeadsDigest(heads []Head) string {
	sorted := slices.Clone(heads)
	SortHeads(sorted)
	h := sha256.New()
	for _, x := range sorted {
		fmt.Fprintf(h, "%s %s\n", x.NID, x.Sigrefs)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteHeads writes m framed as WriteMessage does, bounded by
// MaxHeadsMessage.
func WriteHeads(w io.Writer, m *HeadsMessage) error {
	return writeMessage(w, m, MaxHeadsMessage)
}

// ReadHeads reads and validates one HeadsMessage.
func ReadHeads(r io.Reader, m *HeadsMessage) error {
	if err := ReadMessage(r, MaxHeadsMessage, m); err != nil {
		return err
	}
	return m.Validate()
}
