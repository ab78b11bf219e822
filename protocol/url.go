package protocol

import (
	"errors"
	"fmt"
	"strings"
)

// URLScheme is the scheme of Grove remote URLs.
const URLScheme = "grove://"

// ErrInvalidURL is returned for a malformed grove:// URL.
var ErrInvalidURL = errors.New("invalid grove URL")

// URL is a parsed remote URL: grove://RID (the canonical refs) or
// grove://RID/NID (one namespace; NID zero otherwise).
type URL struct {
	RID RID
	NID NID
}

// ParseURL parses grove://RID or grove://RID/NID.
func ParseURL(s string) (URL, error) {
	rest, ok := strings.CutPrefix(s, URLScheme)
	if !ok {
		return URL{}, fmt.Errorf("%w %q: want grove://RID or grove://RID/NID", ErrInvalidURL, s)
	}
	rest = strings.TrimSuffix(rest, "/")
	r, n, hasNID := strings.Cut(rest, "/")
	rid, err := ParseRID(r)
	if err != nil {
		return URL{}, err
	}
	u := URL{RID: rid}
	if hasNID {
		if u.NID, err = ParseNID(n); err != nil {
			return URL{}, err
		}
	}
	return u, nil
}

// String returns the URL.
func (u URL) String() string {
	if u.NID.IsZero() {
		return URLScheme + u.RID.String()
	}
	return URLScheme + u.RID.String() + "/" + u.NID.String()
}
