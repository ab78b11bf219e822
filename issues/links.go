package issues

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"example.com/grove/protocol"
)

// References between objects. A mention in a text (an issue's body, a
// comment, a patch's description, a review, a revision's commits) is an
// object ID prefix of 7 or more hex digits written #837841b, or the full
// form grove://RID/issues/ID or grove://RID/patches/ID. The writer's client
// resolves each mention against the objects it holds when it writes the
// change and signs the IDs it found in the action's refs field; a prefix
// it cannot resolve to exactly one object (unknown, or shared by several)
// is left out and stays plain text forever. Readers take refs as signed,
// so every peer derives the same links from the same changes, whatever
// objects arrive later (docs/COBS.md, "References").

// MinMention is the fewest hex digits a mention's prefix has.
const MinMention = 7

// MaxRefs bounds the references one action carries; an action with more
// contributes none.
const MaxRefs = protocol.MaxLinks

// maxMentionText bounds the text scanned for mentions (commit messages of
// a long patch may be large).
const maxMentionText = 1 << 20

// Mention is one reference written in a text.
type Mention struct {
	// Prefix is the ID or ID prefix, lower case.
	Prefix string
	// Type is the type the full form names (IssueType, PatchType), or ""
	// for #prefix, which may name either.
	Type string
	// Closes is set when a closing keyword (fixes, closes, resolves and
	// their forms) comes right before it.
	Closes bool
}

// closingWords are the keywords that make a mention of an issue close it
// when the patch that says so is merged.
var closingWords = []string{"close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved"}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// hexRun returns the length of the run of hex digits at the start of s
// when it is a whole word of MinMention to 40 digits, else 0.
func hexRun(s string) int {
	n := 0
	for n < len(s) && isHex(s[n]) {
		n++
	}
	if n < MinMention || n > 40 || n < len(s) && isWord(s[n]) {
		return 0
	}
	return n
}

// Mentions returns the mentions in text, in the order written, of objects
// of project rid (a full form naming another project is not one). A bare
// prefix counts only after a closing keyword and the word issue ("Fixes
// issue 837841b").
func Mentions(text string, rid protocol.RID) []Mention {
	if len(text) > maxMentionText {
		text = text[:maxMentionText]
	}
	var out []Mention
	ridStr := rid.String()
	for i := 0; i < len(text); i++ {
		var m Mention
		start, n := i, 0
		switch {
		case text[i] == '#' && (i == 0 || !isWord(text[i-1]) && text[i-1] != '&'):
			n = hexRun(text[i+1:])
			if n == 0 {
				continue
			}
			m.Prefix = text[i+1 : i+1+n]
			n++
		case strings.HasPrefix(text[i:], "grove://") && (i == 0 || !isWord(text[i-1])):
			rest := text[i+len("grove://"):]
			r, tail, ok := strings.Cut(rest, "/")
			if !ok || r != ridStr {
				continue
			}
			var typ string
			switch {
			case strings.HasPrefix(tail, "issues/"):
				typ, tail = IssueType, tail[len("issues/"):]
			case strings.HasPrefix(tail, "patches/"):
				typ, tail = PatchType, tail[len("patches/"):]
			default:
				continue
			}
			h := hexRun(tail)
			if h == 0 {
				continue
			}
			m.Prefix, m.Type = tail[:h], typ
			n = len(text[i:]) - len(tail) + h
		case (text[i] == 'i' || text[i] == 'I') && (i == 0 || !isWord(text[i-1])) && len(text)-i > 6 && strings.EqualFold(text[i:i+5], "issue") && (text[i+5] == ' ' || text[i+5] == '\t'):
			j := i + 5
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			h := hexRun(text[j:])
			if h == 0 || !closingBefore(text[:i]) {
				continue
			}
			m.Prefix, m.Type = text[j:j+h], IssueType
			n = j + h - i
		default:
			continue
		}
		m.Prefix = strings.ToLower(m.Prefix)
		m.Closes = closingBefore(text[:start])
		out = append(out, m)
		i += n - 1
	}
	return out
}

// closingBefore reports whether before ends with a closing keyword, an
// optional colon, blanks, and optionally the word issue and blanks: what
// may come before a closing mention.
func closingBefore(before string) bool {
	s := strings.TrimRight(before, " \t")
	if len(s) == len(before) {
		return false // no blank between the keyword and the mention
	}
	if len(s) >= 5 && strings.EqualFold(s[len(s)-5:], "issue") && (len(s) == 5 || !isWord(s[len(s)-6])) {
		t := strings.TrimRight(s[:len(s)-5], " \t")
		if len(t) < len(s)-5 {
			s = t
		}
	}
	s = strings.TrimSuffix(s, ":")
	j := len(s)
	for j > 0 && isWord(s[j-1]) {
		j--
	}
	w := s[j:]
	for _, k := range closingWords {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}

// Refs resolves the mentions in texts to the IDs of the objects they name
// among those the store holds, sorted and without duplicates: what a
// change that writes those texts signs as its refs. A mention that names
// no object, or several, is left out. With closing set only the mentions
// after a closing keyword count, and only issues.
func (s *Store) Refs(closing bool, texts ...string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	for _, t := range texts {
		for _, m := range Mentions(t, s.Repo.RID) {
			if closing && !m.Closes || seen[m.Prefix+"/"+m.Type] {
				continue
			}
			seen[m.Prefix+"/"+m.Type] = true
			types := []string{IssueType, PatchType}
			if m.Type != "" {
				types = []string{m.Type}
			}
			if closing {
				types = []string{IssueType}
			}
			var found []string
			for _, typ := range types {
				id, err := s.Resolve(typ, m.Prefix)
				switch {
				case err == nil:
					found = append(found, id)
				case errors.Is(err, ErrAmbiguous):
					found = append(found, "", "") // more than one: not a reference
				case !errors.Is(err, ErrNotFound):
					return nil, fmt.Errorf("resolve mention #%s: %w", m.Prefix, err)
				}
			}
			if len(found) == 1 {
				out = append(out, found[0])
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxRefs {
		out = out[:MaxRefs]
	}
	return out, nil
}

// withRefs returns acts with the refs of each text-bearing action (body,
// comment, comment edit, review, revision) resolved from its text, and
// from extra for the revision (its commits' messages).
func (s *Store) withRefs(acts []Action, extra string) ([]Action, error) {
	out := make([]Action, len(acts))
	copy(out, acts)
	for i := range out {
		a := &out[i]
		var texts []string
		switch a.Type {
		case ActBody, ActComment, ActCommentEdit:
			texts = []string{a.Body}
		case ActRevision:
			texts = []string{a.Body, extra}
		case ActReview:
			texts = []string{a.Body}
			for _, c := range a.Comments {
				texts = append(texts, c.Body)
			}
		default:
			continue
		}
		refs, err := s.Refs(false, texts...)
		if err != nil {
			return nil, err
		}
		a.Refs = refs
	}
	return out, nil
}

// Link is a reference one object makes to another: the first one, in the
// order changes apply, that a text-bearing action made.
type Link struct {
	// ID is the object referred to.
	ID string `json:"id"`
	// In says where: body (the description), comment, review or revision.
	In string `json:"in"`
	// Change is the change that made it: the comment, review or revision
	// ID, or the change that set the description.
	Change  string    `json:"change"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
}

// linkPlace is where an action's refs count as written, "" for an action
// that carries none.
func linkPlace(typ string) string {
	switch typ {
	case ActBody:
		return "body"
	case ActComment, ActCommentEdit:
		return "comment"
	case ActReview:
		return "review"
	case ActRevision:
		return "revision"
	}
	return ""
}

// addLinks records the refs of action a, which change ch by who applied to
// thread t: each valid ID other than t's own, once per target.
func addLinks(t *Thread, seen map[string]bool, ch *Change, who string, a *Action, change string) {
	place := linkPlace(a.Type)
	if place == "" || len(a.Refs) == 0 || len(a.Refs) > MaxRefs {
		return
	}
	for _, id := range a.Refs {
		if !protocol.ValidOID(id) || id == t.ID || seen[id] {
			continue
		}
		seen[id] = true
		t.Links = append(t.Links, Link{ID: id, In: place, Change: change, Author: who, Created: ch.Time})
	}
}

// ClosedBy says which merged patch closed an issue, and who merged it.
type ClosedBy struct {
	Patch   string    `json:"patch"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
}

// Backlink is a reference to an object from another, as the target shows
// it ("mentioned in patch 8eb1ca1 by alice, 2026-12-04").
type Backlink struct {
	// Type is the referring object's kind: issue or patch.
	Type string `json:"type"`
	// ID and Title are the referring object's.
	ID    string `json:"id"`
	Title string `json:"title"`
	// In, Change, Author and Created are where in it, by whom and when
	// the reference was made, as in Link.
	In      string    `json:"in"`
	Change  string    `json:"change"`
	Author  string    `json:"author"`
	Created time.Time `json:"created"`
}

// ClosingIssues returns the issues that the patch texts (its description,
// the merged revision's description, its commits' messages) close with a
// keyword, among those the store holds.
func (s *Store) ClosingIssues(ctx context.Context, texts ...string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.Refs(true, texts...)
}
