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
	q      *Quarantine
	before map[string]string
	unlock func()
	// Set by Finish: pushes to refs/patches/* and the push options.
	patches []PatchPush
	options []string
}

const tmpDir = "grove-tmp"

// prereceiveHook refuses, before git reports success to the pusher, refs
// that a push may not write. A push to refs/patches/new (the remote helper
// renames refs/patches to it, which git would refuse as a one-level name)
// opens a patch and one to refs/patches/<id> revises one; their push
// options are kept in PushOptionsFile for Finish.
const prereceiveHook = `#!/bin/sh
# Installed by grove: a push may write only branches, tags, notes and patches.
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
	case "$ref" in
	refs/heads/patches/*)
		echo "grove: $ref is kept by grove for patches: push to refs/patches instead" >&2; status=1 ;;
	refs/heads/*|refs/tags/*|refs/notes/*) ;;
	refs/patches/*)
		id=${ref#refs/patches/}
		if [ "$new" = "$zero" ]; then
			echo "grove: $ref cannot be deleted: close the patch with 'grove patch close'" >&2; status=1
		elif [ "$id" != new ]; then
			case "$id" in
			""|*[!0-9a-f]*)
				echo "grove: cannot push to $ref: push to refs/patches to open a patch, or refs/patches/ID to revise patch ID" >&2; status=1 ;;
			esac
		fi ;;
	*)
		echo "grove: cannot push to $ref: Grove signs and shares refs/heads/*, refs/tags/* and refs/notes/* (and refs/patches opens a patch); the rest of refs/ is Grove's own or not shared" >&2; status=1 ;;
	esac
done
if [ $status = 0 ] && [ "${GIT_PUSH_OPTION_COUNT:-0}" -gt 0 ]; then
	i=0
	: > ` + PushOptionsFile + `
	while [ $i -lt "$GIT_PUSH_OPTION_COUNT" ]; do
		eval "printf '%s\\n' \"\$GIT_PUSH_OPTION_$i\"" >> ` + PushOptionsFile + `
		i=$((i+1))
	done
fi
exit $status
`

// PushOptionsFile, in a push's quarantine, holds the push options (git
// push -o), one a line.
const PushOptionsFile = "grove-push-options"

// PatchRefPrefix is where pushes that open or revise patches go: the
// remote helper renames refs/patches to PatchOpenRef.
const (
	PatchRefPrefix = "refs/patches/"
	PatchOpenRef   = PatchRefPrefix + "new"
)

// PatchPush is one ref of a push that opens a patch (Ref is PatchOpenRef)
// or revises one (Ref is refs/patches/<id prefix>); Head is the pushed
// commit. Patch refs are never stored: the caller turns them into patches.
type PatchPush struct {
	Ref  string
	Head string
}

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
	// We hold the lock, so any push quarantine left here belongs to a push
	// that died: its objects never reached the storage.
	r.removeStaleQuarantines("push")
	before, err := r.NamespaceRefs(ctx, nid)
	if err != nil {
		return nil, err
	}
	head := "main"
	if doc, _, err := r.Identity(ctx); err == nil {
		head = doc.DefaultBranch
	}
	visible := make(map[string]string)
	for name, oid := range before {
		if IsProjectRef(name) {
			visible[name] = oid
		}
	}
	q, err := r.NewQuarantine("push", visible, head, nil)
	if err != nil {
		return nil, err
	}
	hooks := filepath.Join(q.Dir(), "hooks")
	config := "[core]\n\trepositoryformatversion = 0\n\tbare = true\n\thooksPath = " + hooks +
		"\n[receive]\n\tunpackLimit = 1\n\tautogc = false\n\tadvertisePushOptions = true\n[gc]\n\tauto = 0\n"
	if err := os.WriteFile(filepath.Join(q.Dir(), "config"), []byte(config), 0o644); err != nil {
		q.Close()
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	if err := os.WriteFile(filepath.Join(hooks, "pre-receive"), []byte(prereceiveHook), 0o755); err != nil {
		q.Close()
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return &Push{r: r, nid: nid, q: q, before: before, unlock: unlock}, nil
}

// Dir is the quarantine repository to run git receive-pack in.
func (p *Push) Dir() string { return p.q.Dir() }

// Finish moves what the push brought into the storage and applies its ref
// changes with new signed refs and canonical refs, atomically. It returns
// the changes (names inside the namespace), sorted by name.
func (p *Push) Finish(ctx context.Context, s protocol.Signer, now time.Time) ([]RefUpdate, error) {
	if !s.NID().Equal(p.nid) {
		return nil, fmt.Errorf("push into %s cannot be signed by %s", p.nid, s.NID())
	}
	after, err := p.q.Refs(ctx)
	if err != nil {
		return nil, err
	}
	var ups []RefUpdate
	for name, oid := range after {
		if strings.HasPrefix(name, PatchRefPrefix) {
			p.patches = append(p.patches, PatchPush{Ref: name, Head: oid})
			continue
		}
		if p.before[name] != oid {
			ups = append(ups, RefUpdate{Name: name, Old: p.before[name], New: oid})
		}
	}
	sort.Slice(p.patches, func(i, j int) bool { return p.patches[i].Ref < p.patches[j].Ref })
	if b, err := os.ReadFile(filepath.Join(p.q.Dir(), PushOptionsFile)); err == nil {
		p.options = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	for name, oid := range p.before {
		if _, ok := after[name]; !ok && IsProjectRef(name) {
			ups = append(ups, RefUpdate{Name: name, Old: oid})
		}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].Name < ups[j].Name })
	if len(ups) == 0 && len(p.patches) == 0 {
		return nil, nil
	}
	if err := p.q.Migrate(); err != nil {
		return nil, err
	}
	defer p.r.maintainLocked(ctx)
	if len(ups) == 0 {
		return nil, nil
	}
	if err := p.r.updateNamespaceLocked(ctx, s, ups, now); err != nil {
		return nil, err
	}
	return ups, nil
}

// Patches returns, after Finish, the push's refs under refs/patches/: their
// objects are in the storage, the refs themselves are not.
func (p *Push) Patches() []PatchPush { return p.patches }

// Options returns, after Finish, the push options the pusher gave.
func (p *Push) Options() []string { return p.options }

// Close removes the quarantine and unlocks the project. It may be called
// more than once.
func (p *Push) Close() error {
	if p.unlock == nil {
		return nil
	}
	err := p.q.Close()
	p.unlock()
	p.unlock = nil
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
