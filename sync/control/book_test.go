package control_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"example.com/grove/repo"
	"example.com/grove/sync/control"
)

func TestBookAgeOut(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	week := control.AddrMaxAge
	tests := []struct {
		name  string
		addrs []control.BookAddr
		now   time.Time
		want  []string // what goes
	}{
		{name: "fresh failures stay", addrs: []control.BookAddr{{Addr: "/a", OK: t0, Fails: 9}}, now: t0.Add(week - time.Second)},
		{name: "old but few failures", addrs: []control.BookAddr{{Addr: "/a", OK: t0, Fails: 2}}, now: t0.Add(week)},
		{name: "old and failing", addrs: []control.BookAddr{{Addr: "/a", OK: t0, Fails: 3}}, now: t0.Add(week), want: []string{"/a"}},
		{name: "old, superseded", addrs: []control.BookAddr{{Addr: "/new", OK: t0.Add(week)}, {Addr: "/old", OK: t0}}, now: t0.Add(week), want: []string{"/old"}},
		{name: "old alone, not failing", addrs: []control.BookAddr{{Addr: "/a", OK: t0}}, now: t0.Add(2 * week)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &control.BookPeer{Addrs: slices.Clone(tt.addrs)}
			got := p.AgeOut(tt.now)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("AgeOut = %v, want %v", got, tt.want)
			}
			if len(p.Addrs)+len(got) != len(tt.addrs) {
				t.Fatalf("%d addresses left of %d, %d gone", len(p.Addrs), len(tt.addrs), len(got))
			}
		})
	}
}

func TestBookBounds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := &control.Book{Peers: map[string]*control.BookPeer{}}
	for i := range control.MaxBookPeers + 5 {
		b.Peer(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
	}
	if len(b.Peers) != control.MaxBookPeers {
		t.Fatalf("%d peers, want at most %d", len(b.Peers), control.MaxBookPeers)
	}
	if b.Peers["0"] != nil || b.Peers[fmt.Sprint(control.MaxBookPeers+4)] == nil {
		t.Fatal("the peer seen longest ago should go first")
	}
	p := b.Peer("x", t0)
	for i := range control.MaxBookAddrs + 3 {
		p.AddAddr(fmt.Sprintf("/a%d", i), t0.Add(time.Duration(i)*time.Second))
	}
	if len(p.Addrs) != control.MaxBookAddrs || p.Addrs[0].Addr != fmt.Sprintf("/a%d", control.MaxBookAddrs+2) {
		t.Fatalf("addresses %v: want the %d newest, newest first", p.Addrs, control.MaxBookAddrs)
	}
	p.Failed()
	p.Worked("/a3", t0.Add(time.Hour))
	if p.Addrs[0].Addr != "/a3" || p.Addrs[0].Fails != 0 || p.Addrs[1].Fails != 1 {
		t.Fatalf("after Worked: %v", p.Addrs)
	}
	for i := range control.MaxBookProjects + 1 {
		p.Exchanged(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
	}
	if len(p.Projects) != control.MaxBookProjects || !p.Projects["0"].IsZero() {
		t.Fatalf("%d projects; the one exchanged longest ago should go", len(p.Projects))
	}
}

func TestBookSaveLoad(t *testing.T) {
	h := repo.Home{Dir: t.TempDir()}
	b, err := control.LoadBook(h)
	if err != nil || len(b.Peers) != 0 {
		t.Fatalf("LoadBook of nothing = %v, %v", b, err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.Peer("n", t0).Exchanged("rid", t0)
	b.Peers["n"].AddAddr("/ip4/127.0.0.1/tcp/1/p2p/n", t0)
	if err := b.Save(h); err != nil {
		t.Fatal(err)
	}
	back, err := control.LoadBook(h)
	if err != nil {
		t.Fatal(err)
	}
	if p := back.Peers["n"]; p == nil || !p.Projects["rid"].Equal(t0) || len(p.Addrs) != 1 {
		t.Fatalf("loaded %+v", back.Peers["n"])
	}
	if !back.Forget("n") || back.Forget("n") {
		t.Fatal("Forget should report the peer once")
	}
}
