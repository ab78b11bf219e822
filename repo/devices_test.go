package repo_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

// device is one device of a test: its home, key and storage of the
// project.
type device struct {
	h repo.Home
	k *protocol.Key
	r *repo.Repo
}

func newDevice(t *testing.T) *device {
	t.Helper()
	h := repo.Home{Dir: t.TempDir()}
	k, err := repo.CreateKey(h, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &device{h: h, k: k}
}

// fetchInto gives d storage of project rid filled from src (or fetches
// from src into the storage it has).
func (d *device) fetchInto(t *testing.T, rid protocol.RID, src string) *repo.AcceptResult {
	t.Helper()
	if d.r == nil {
		r, err := repo.CreateEmpty(context.Background(), d.h, rid)
		if err != nil {
			t.Fatal(err)
		}
		res := acceptFrom(t, r, src)
		if err := r.Publish(d.h); err != nil {
			t.Fatal(err)
		}
		d.r = r
		return res
	}
	return acceptFrom(t, d.r, src)
}

// twoDevices makes alice's person on device a, adds device b to it (b
// joins the history a exported) and creates a project by a.
func twoDevices(t *testing.T) (a, b *device) {
	t.Helper()
	ctx := context.Background()
	a, b = newDevice(t), newDevice(t)
	if _, err := repo.SetPerson(ctx, a.h, a.k, repo.Person{Alias: "alice"}, now); err != nil {
		t.Fatal(err)
	}
	ph, err := repo.AddDevice(ctx, a.h, a.k, b.k.NID(), now.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.JoinPerson(ctx, b.h, b.k, ph.Export()); err != nil {
		t.Fatal(err)
	}
	a.r = newProjectIn(t, a.h, "p", a.k)
	b.fetchInto(t, a.r.RID, a.r.Path)
	return a, b
}

// TestPersonDevices: a person with two devices: each device writes the
// same history into its own namespace; a third peer sees both namespaces
// as one person; a delegate (device a) acts from device b, so b's branch
// is canonical; delegates of one person count once toward a threshold.
func TestPersonDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := twoDevices(t)
	work := commit(t, b.r, "from the laptop")
	update(t, b.r, b.k, repo.RefUpdate{Name: "refs/heads/main", New: work})
	if pa, pb := nsRefs(t, b.r, a.k.NID())[protocol.PersonRef], nsRefs(t, b.r, b.k.NID())[protocol.PersonRef]; pa == "" || pa != pb {
		t.Fatalf("the devices hold person refs %s and %s, want one history", pa, pb)
	}
	c := newDevice(t)
	c.fetchInto(t, a.r.RID, a.r.Path)
	if res := c.fetchInto(t, a.r.RID, b.r.Path); len(res.Rejected) > 0 {
		t.Fatalf("rejected: %v", res.Rejected)
	}
	people, err := c.r.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := people.Of(a.k.NID().String()), people.Of(b.k.NID().String())
	if pa == nil || pa != pb || pa.Doc.Alias != "alice" || len(pa.Devices) != 2 {
		t.Fatalf("the devices are persons %+v and %+v, want one alice with two devices", pa, pb)
	}
	if got := canonRefs(t, c.r)["refs/heads/main"]; got != work {
		t.Errorf("canonical main = %q, want device b's %s (delegate a acting from b)", got, work)
	}

	// Threshold 2 with delegates a, b (one person) and d: a and b agreeing
	// is one vote.
	d := testKey(t, 9)
	ns, err := c.r.Namespaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc := &protocol.Identity{Delegates: []protocol.NID{a.k.NID(), b.k.NID(), d.NID()}, Threshold: 2}
	ns[a.k.NID().String()]["refs/heads/main"] = work
	got, err := c.r.DeriveCanonical(ctx, doc, ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got["refs/heads/main"] != "" {
		t.Errorf("two devices of one person met a threshold of 2: main = %s", got["refs/heads/main"])
	}
	ns[d.NID().String()] = map[string]string{"refs/heads/main": work}
	if got, err := c.r.DeriveCanonical(ctx, doc, ns, nil); err != nil || got["refs/heads/main"] != work {
		t.Errorf("the person and d agreeing: main = %q, %v", got["refs/heads/main"], err)
	}
}

// TestPersonDeviceRemoved: device a removes device b, keeping b's signed
// refs as a knows them. A peer that has the removal keeps b's earlier work
// and refuses b's later signed refs; b is no longer one of the devices that
// act for the delegate, but still shown as the person for its earlier work.
func TestPersonDeviceRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := twoDevices(t)
	early := commit(t, b.r, "early")
	update(t, b.r, b.k, repo.RefUpdate{Name: "refs/heads/main", New: early})
	c := newDevice(t)
	c.fetchInto(t, a.r.RID, b.r.Path) // c has b's early work
	a.fetchInto(t, a.r.RID, b.r.Path)
	head := nsRefs(t, a.r, b.k.NID())[protocol.SigrefsRef]
	if _, err := repo.RemoveDevice(ctx, a.h, a.k, b.k.NID(), []string{head}, now.Add(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.RemoveDevice(ctx, a.h, a.k, a.k.NID(), nil, now.Add(3)); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a device removing itself: %v", err)
	}
	update(t, a.r, a.k, repo.RefUpdate{Name: "refs/heads/next", New: commit(t, a.r, "a's")})
	late := commit(t, b.r, "late", early)
	update(t, b.r, b.k, repo.RefUpdate{Name: "refs/heads/main", Old: early, New: late})

	if res := c.fetchInto(t, a.r.RID, a.r.Path); len(res.Rejected) > 0 {
		t.Fatalf("the removal: rejected %v", res.Rejected)
	}
	res := c.fetchInto(t, a.r.RID, b.r.Path)
	if len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Err, repo.ErrDeviceRemoved) {
		t.Fatalf("b's later work: rejected %v, want ErrDeviceRemoved", res.Rejected)
	}
	if got := nsRefs(t, c.r, b.k.NID())["refs/heads/main"]; got != early {
		t.Errorf("b's main at c = %s, want its early %s kept", got, early)
	}
	people, err := c.r.People(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := people.Of(b.k.NID().String()); st == nil || st.Doc.Alias != "alice" || slices.Contains(st.Devices, b.k.NID().String()) {
		t.Errorf("removed b is %+v, want alice's, not among her devices", st)
	}
	if got := canonRefs(t, c.r)["refs/heads/main"]; got == early {
		t.Errorf("canonical main still follows removed device b")
	}
	// A peer that took b's later work before the removal reached it goes
	// back to what the removal kept when it arrives.
	f := newDevice(t)
	f.fetchInto(t, a.r.RID, b.r.Path)
	if got := nsRefs(t, f.r, b.k.NID())["refs/heads/main"]; got != late {
		t.Fatalf("f took b's main at %s, want %s", got, late)
	}
	res = f.fetchInto(t, a.r.RID, a.r.Path)
	if len(res.RolledBack) != 1 || !res.RolledBack[0].Equal(b.k.NID()) {
		t.Errorf("the late removal rolled back %v, want b", res.RolledBack)
	}
	if got := nsRefs(t, f.r, b.k.NID()); got["refs/heads/main"] != early || got[protocol.SigrefsRef] != head {
		t.Errorf("after the late removal b's namespace is %v, want main %s at signed refs %s", got, early, head)
	}
	verifyClean(t, f.r)

	// A peer that never saw b: b's later head is past the removal too.
	e := newDevice(t)
	e.fetchInto(t, a.r.RID, a.r.Path)
	if res := e.fetchInto(t, a.r.RID, b.r.Path); len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Err, repo.ErrDeviceRemoved) {
		t.Errorf("fresh peer: rejected %v, want ErrDeviceRemoved", res.Rejected)
	}
}

// TestPersonDeviceForgeries: device lists no key may forge: a revision
// signed by a key the previous one does not list; a removed device adding
// itself back; a person founded by a stranger listing alice's device (it
// gains no device whose namespace does not hold its history).
func TestPersonDeviceForgeries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, other, mallory := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	_, r := newProject(t, "p", k)
	enc := func(p repo.Person) string { return encodePerson(t, p) }
	root := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k, other)}), "", nil)
	if _, err := r.VerifyPersonChain(other.NID(), root); err != nil {
		t.Fatalf("a good two-device root: %v", err)
	}
	// A namespace whose history does not list it carries someone else's.
	if _, err := r.VerifyPersonChain(mallory.NID(), root); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a history that does not list the namespace's NID: %v", err)
	}
	// Signed by a key the root does not list.
	forged := personCommit(t, r, mallory.NID(), mallory, enc(repo.Person{Alias: "bob", Devices: deviceList(k, mallory, other)}), root, nil)
	if _, err := r.VerifyPersonChain(mallory.NID(), forged); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a revision signed by a non-device: %v", err)
	}
	// A founder that does not list itself.
	if _, err := r.VerifyPersonChain(other.NID(), personCommit(t, r, mallory.NID(), mallory, enc(repo.Person{Alias: "bob", Devices: deviceList(other)}), "", nil)); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a root not signed by a device it lists: %v", err)
	}
	// Other removed (with a kept head), then signing itself back in.
	rm := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k), Removed: map[string][]string{other.NID().String(): {root}}}), root, nil)
	if _, err := r.VerifyPersonChain(k.NID(), rm); err != nil {
		t.Fatalf("a good removal: %v", err)
	}
	back := personCommit(t, r, other.NID(), other, enc(repo.Person{Alias: "bob", Devices: deviceList(k, other)}), rm, nil)
	if _, err := r.VerifyPersonChain(other.NID(), back); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a removed device adding itself back: %v", err)
	}
	// Removing a key that never was a device (to cap a stranger's work).
	if _, err := r.VerifyPersonChain(k.NID(), personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k, other), Removed: map[string][]string{mallory.NID().String(): {root}}}), root, nil)); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a removal of a non-device: %v", err)
	}
	// Dropping a removal is refused too.
	if _, err := r.VerifyPersonChain(k.NID(), personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k)}), rm, nil)); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a removal dropped: %v", err)
	}
	// Re-wrapped: the same revision in another commit.
	if _, err := r.VerifyPersonChain(k.NID(), personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k, other)}), "", func(c string) string { return c + "x\n" })); !errors.Is(err, repo.ErrInvalidPerson) {
		t.Errorf("a re-wrapped revision: %v", err)
	}

	// Mallory founds a person listing k: k's own namespace holds bob's
	// history, so mallory's person has mallory alone.
	mal := personCommit(t, r, mallory.NID(), mallory, enc(repo.Person{Alias: "bob", Devices: deviceList(k, mallory)}), "", nil)
	chain := func(nid protocol.NID, tip string) *repo.PersonChain {
		c, err := r.VerifyPersonChain(nid, tip)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	people := repo.ResolvePeople(map[string]*repo.PersonChain{
		k.NID().String():       chain(k.NID(), root),
		other.NID().String():   chain(other.NID(), root),
		mallory.NID().String(): chain(mallory.NID(), mal),
	})
	pm, pk := people.Of(mallory.NID().String()), people.Of(k.NID().String())
	if pm == nil || pm == pk || !slices.Equal(pm.Devices, deviceList(mallory)) {
		t.Errorf("mallory's person = %+v, want mallory alone", pm)
	}
	if !slices.Equal(pk.Devices, deviceList(k, other)) || people.Voter(other.NID().String()) != people.Voter(k.NID().String()) {
		t.Errorf("bob's person = %+v", pk)
	}
	_ = ctx
}

// TestPersonForks: two devices that revise the person at once fork its
// history; every peer resolves a fork the same way: a branch begun by a
// device the other branch removed is void (a removed device cannot fork
// its way back from before its removal), unless each removes the other's
// signer (a stolen device racing its owner), and then only the devices
// every branch keeps act: none of the two.
func TestPersonForks(t *testing.T) {
	t.Parallel()
	k, o, m := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	_, r := newProject(t, "p", k)
	enc := func(p repo.Person) string { return encodePerson(t, p) }
	chain := func(nid protocol.NID, tip string) *repo.PersonChain {
		t.Helper()
		c, err := r.VerifyPersonChain(nid, tip)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k, o)}), "", nil)

	// Both rename at once: a fork that keeps both devices.
	kb := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bobk", Devices: deviceList(k, o)}), root, nil)
	ob := personCommit(t, r, o.NID(), o, enc(repo.Person{Alias: "bobo", Devices: deviceList(k, o)}), root, nil)
	p := repo.ResolvePeople(map[string]*repo.PersonChain{k.NID().String(): chain(k.NID(), kb), o.NID().String(): chain(o.NID(), ob)})
	st := p.Of(k.NID().String())
	if st == nil || !st.Forked || !slices.Equal(st.Devices, deviceList(k, o)) || st != p.Of(o.NID().String()) {
		t.Fatalf("a rename race: %+v", st)
	}
	if want := min(kb, ob); (want == kb) != (st.Doc.Alias == "bobk") {
		t.Errorf("the fork shows %q, want the lowest tip's", st.Doc.Alias)
	}

	// With three devices, k removes o; o, removed, forks from before its
	// removal and removes m: its branch is void, m still acts.
	root3 := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k, m, o)}), "", nil)
	rm3 := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k, m), Removed: map[string][]string{o.NID().String(): {root3}}}), root3, nil)
	fork := personCommit(t, r, o.NID(), o, enc(repo.Person{Alias: "bob", Devices: deviceList(k, o), Removed: map[string][]string{m.NID().String(): {root3}}}), root3, nil)
	p = repo.ResolvePeople(map[string]*repo.PersonChain{
		k.NID().String(): chain(k.NID(), rm3),
		m.NID().String(): chain(m.NID(), rm3),
		o.NID().String(): chain(o.NID(), fork),
	})
	if st := p.Of(k.NID().String()); st == nil || !slices.Equal(st.Devices, deviceList(k, m)) {
		t.Errorf("a removed device's fork: %+v, want k and m", st)
	}
	if _, removed := p.Removed(m.NID().String()); removed {
		t.Errorf("the void branch's removal of m counts")
	}
	// A device the removed one adds on its fork is not the person's.
	fork2 := personCommit(t, r, o.NID(), o, enc(repo.Person{Alias: "bob", Devices: deviceList(k, m, o, testKey(t, 4))}), root3, nil)
	n := testKey(t, 4).NID()
	p = repo.ResolvePeople(map[string]*repo.PersonChain{
		k.NID().String(): chain(k.NID(), rm3),
		o.NID().String(): chain(o.NID(), fork2),
		n.String():       chain(n, fork2),
	})
	if p.Of(n.String()) != nil || p.Voter(n.String()) == p.Voter(k.NID().String()) {
		t.Errorf("the device a removed device added is the person's: %+v", p.Of(n.String()))
	}

	// o steals back: its fork removes k. Neither acts.
	rm := personCommit(t, r, k.NID(), k, enc(repo.Person{Alias: "bob", Devices: deviceList(k), Removed: map[string][]string{o.NID().String(): {root}}}), root, nil)
	steal := personCommit(t, r, o.NID(), o, enc(repo.Person{Alias: "bob", Devices: deviceList(o), Removed: map[string][]string{k.NID().String(): {root}}}), root, nil)
	p = repo.ResolvePeople(map[string]*repo.PersonChain{k.NID().String(): chain(k.NID(), rm), o.NID().String(): chain(o.NID(), steal)})
	if st := p.Of(k.NID().String()); st == nil || len(st.Devices) != 0 || !st.Forked {
		t.Errorf("a race of removals: %+v, want no device acting", st)
	}
}

// TestPersonFor: a device takes the history that lists it from a project;
// when a stranger's history lists it too, it is told to say which.
func TestPersonFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := twoDevices(t)
	got, err := a.r.PersonFor(ctx, b.k.NID())
	if err != nil {
		t.Fatal(err)
	}
	ph, err := repo.JoinPerson(ctx, repo.Home{Dir: t.TempDir()}, b.k, got)
	if err != nil || ph.Doc.Alias != "alice" || len(ph.Devices) != 2 {
		t.Fatalf("joined %+v, %v", ph, err)
	}
	if _, err := a.r.PersonFor(ctx, testKey(t, 7).NID()); !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("a device no history lists: %v", err)
	}
	mallory := testKey(t, 3)
	devs := []string{b.k.NID().String(), mallory.NID().String()}
	slices.Sort(devs)
	doc, err := (&repo.Person{Alias: "alice", Devices: devs}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	update(t, a.r, mallory, repo.RefUpdate{Name: protocol.PersonRef, New: personCommit(t, a.r, mallory.NID(), mallory, string(doc), "", nil)})
	if _, err := a.r.PersonFor(ctx, b.k.NID()); !errors.Is(err, repo.ErrAmbiguous) {
		t.Errorf("two persons list b: %v, want ErrAmbiguous", err)
	}
}

// encodePerson is p's canonical encoding.
func encodePerson(t *testing.T, p repo.Person) string {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deviceList is the sorted NIDs of ks, as a person document lists them.
func deviceList(ks ...*protocol.Key) []string {
	var out []string
	for _, x := range ks {
		out = append(out, x.NID().String())
	}
	slices.Sort(out)
	return out
}
