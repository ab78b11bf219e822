package repo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"example.com/grove/protocol"
)

// Push is one push into a user's own namespace. git receive-pack runs in a
// quarantine repository (Dir) that borrows the storage's objects and shows
// the namespace's branches and tags; nothing in the storage changes until
// Finish moves the new objects in and applies every ref change, the new
// signed refs and the canonical refs in one transaction. The project stays
// locked from BeginPush to Close, so pushes land one after another.
type Push struct {
	r      *Repo
	nid    protocol.NID
	dir    string
	before map[string]string
	unlock func()
}

const tmpDir = "grove-tmp"

// prereceiveHook refuses, before git reports success to the pusher, refs
// that a push may not write.
const prereceiveHook = `#!/bin/sh
# Installed by grove: a push may write only branches and tags.
status=0
while read old new ref; do
	case "$ref" in
	refs/heads/patches/*)
		echo "grove: $ref is kept by grove for patches: push to refs/patches instead" >&2; status=1 ;;
	refs/heads/*|refs/tags/*) ;;
	*)
		echo "grove: cannot push to $ref: only refs/heads/* and refs/tags/* can be pushed" >&2; status=1 ;;
	esac
done
exit $status
`

// BeginPush locks the project and prepares a quarantine for a push into
// nid's namespace.
func (r *Repo) BeginPush(ctx context.Context, nid protocol.NID) (_ *Push, err error) {
	unlock, err := r.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	base := filepath.Join(r.Path, tmpDir)
	// We hold the lock, so any quarantine left here belongs to a push that
	// died: its objects never reached the storage.
	if old, _ := filepath.Glob(filepath.Join(base, "push-*")); len(old) > 0 {
		for _, d := range old {
			os.RemoveAll(d)
		}
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	dir, err := os.MkdirTemp(base, "push-*")
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	p := &Push{r: r, nid: nid, dir: dir, unlock: unlock}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	p.before, err = r.NamespaceRefs(ctx, nid)
	if err != nil {
		return nil, err
	}
	head := "main"
	if doc, _, err := r.Identity(ctx); err == nil {
		head = doc.DefaultBranch
	}
	objects, err := filepath.Abs(filepath.Join(r.Path, "objects"))
	if err != nil {
		return nil, err
	}
	hooks := filepath.Join(dir, "hooks")
	var packed strings.Builder
	for _, name := range sortedKeys(p.before) {
		if strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/") {
			fmt.Fprintf(&packed, "%s %s\n", p.before[name], name)
		}
	}
	files := []struct {
		path string
		data string
		mode fs.FileMode
	}{
		{"HEAD", "ref: refs/heads/" + head + "\n", 0o644},
		{"config", "[core]\n\trepositoryformatversion = 0\n\tbare = true\n\thooksPath = " + hooks +
			"\n[receive]\n\tunpackLimit = 1\n\tautogc = false\n\tadvertisePushOptions = true\n[gc]\n\tauto = 0\n", 0o644},
		{"objects/info/alternates", objects + "\n", 0o644},
		{"packed-refs", packed.String(), 0o644},
		{"hooks/pre-receive", prereceiveHook, 0o755},
	}
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags", "hooks"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("quarantine: %w", err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.path), []byte(f.data), f.mode); err != nil {
			return nil, fmt.Errorf("quarantine: %w", err)
		}
	}
	return p, nil
}

// Dir is the quarantine repository to run git receive-pack in.
func (p *Push) Dir() string { return p.dir }

// Finish moves what the push brought into the storage and applies its ref
// changes with new signed refs and canonical refs, atomically. It returns
// the changes (names inside the namespace), sorted by name.
func (p *Push) Finish(ctx context.Context, s protocol.Signer, now time.Time) ([]RefUpdate, error) {
	if !s.NID().Equal(p.nid) {
		return nil, fmt.Errorf("push into %s cannot be signed by %s", p.nid, s.NID())
	}
	out, err := runGit(ctx, p.dir, nil, "for-each-ref", "--format=%(objectname) %(refname)", "refs/")
	if err != nil {
		return nil, err
	}
	after := parseRefLines(out, "")
	var ups []RefUpdate
	for name, oid := range after {
		if p.before[name] != oid {
			ups = append(ups, RefUpdate{Name: name, Old: p.before[name], New: oid})
		}
	}
	for name, oid := range p.before {
		if _, ok := after[name]; !ok && (strings.HasPrefix(name, "refs/heads/") || strings.HasPrefix(name, "refs/tags/")) {
			ups = append(ups, RefUpdate{Name: name, Old: oid})
		}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].Name < ups[j].Name })
	if len(ups) == 0 {
		return nil, nil
	}
	if err := migrateObjects(filepath.Join(p.dir, "objects"), filepath.Join(p.r.Path, "objects")); err != nil {
		return nil, err
	}
	if err := p.r.updateNamespaceLocked(ctx, s, ups, now); err != nil {
		return nil, err
	}
	return ups, nil
}

// Close removes the quarantine and unlocks the project.
func (p *Push) Close() error {
	err := os.RemoveAll(p.dir)
	p.unlock()
	return err
}

// migrateObjects moves packs and loose objects from a quarantine into the
// storage. A pack's index moves last, so git never sees an index without
// its pack.
func migrateObjects(from, to string) error {
	packs, _ := filepath.Glob(filepath.Join(from, "pack", "*.pack"))
	for _, pack := range packs {
		base := strings.TrimSuffix(filepath.Base(pack), ".pack")
		for _, ext := range []string{".pack", ".rev", ".idx"} {
			src := filepath.Join(from, "pack", base+ext)
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err := moveFile(src, filepath.Join(to, "pack", base+ext)); err != nil {
				return err
			}
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(from, "[0-9a-f][0-9a-f]"))
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if err != nil {
			return fmt.Errorf("quarantine: %w", err)
		}
		if err := os.MkdirAll(filepath.Join(to, filepath.Base(d)), 0o755); err != nil {
			return fmt.Errorf("move objects: %w", err)
		}
		for _, e := range ents {
			if err := moveFile(filepath.Join(d, e.Name()), filepath.Join(to, filepath.Base(d), e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func moveFile(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return nil // same name, same content: objects are content-addressed
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("move objects: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
