package protocol

import (
	"strings"
	"testing"
)

// FuzzRefNameOnePass checks that CheckRefName's one pass (validRefName)
// accepts exactly the names its rules, checked one by one (refNameError),
// accept.
func FuzzRefNameOnePass(f *testing.F) {
	for _, s := range []string{
		"refs/heads/main", "refs/tags/v1.0.0", "refs/heads/a/b/c", "refs/heads/\u00e9t\u00e9",
		"refs/heads/a.", "refs/heads/a./b", "refs/heads/.a", "refs/heads/a/.b", "refs/heads/a..b",
		"refs/heads/a//b", "refs/heads/", "refs/heads/a.lock", "refs/heads/a.lock/b", "refs/heads/.lock",
		"refs/heads/a@{b", "refs/heads/@", "refs/heads/a@b", "refs/heads/a b", "refs/heads/a~b",
		"refs/heads/a^b", "refs/heads/a:b", "refs/heads/a?b", "refs/heads/a*b", "refs/heads/a[b",
		"refs/heads/a\\b", "refs/heads/a\x7fb", "refs/heads/a\tb", "refs/heads/a\x01", "refs/heads/lock",
		"refs/heads/a.loc", "refs/heads/a.lockx", "refs/heads/x/a.lock.lock", "refs/namespaces/x/refs/heads/a",
		"refs/namespaces", "refs", "", "HEAD", "refs/heads/a@", "refs/heads/{", "refs/heads/a/@{",
		"refs/" + strings.Repeat("x", MaxRefName-5), "refs/" + strings.Repeat("x", MaxRefName-4),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := validRefName(name), refNameError(name) == nil; got != want {
			t.Errorf("validRefName(%q) = %v, refNameError = %v", name, got, refNameError(name))
		}
	})
}
