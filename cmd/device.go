package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"example.com/grove/protocol"
	"example.com/grove/repo"
)

func newDeviceCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "device",
		Short: "Manage the devices that speak for you",
		Long: `One person may work from several devices (a laptop and a desktop): each
keeps its own key and its own namespace in every project, and your person
document lists them all, signed by your devices, so peers show the work of
each as yours and a delegate may act from any of its devices.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error { return usagef("%s needs a subcommand", c.CommandPath()) },
	}
	c.AddCommand(newDeviceListCmd(e), newDeviceAddCmd(e), newDeviceJoinCmd(e), newDeviceRemoveCmd(e))
	return c
}

// deviceJSON is the person's devices as `device list --json` and the
// changes print them.
type deviceJSON struct {
	ID        string          `json:"id"`
	Alias     string          `json:"alias"`
	Revisions int             `json:"revisions"`
	Commit    string          `json:"commit"`
	Devices   []deviceEntry   `json:"devices"`
	Removed   []removedDevice `json:"removed"`
	Projects  []string        `json:"projects,omitempty"`
}

type deviceEntry struct {
	NID  string `json:"nid"`
	Self bool   `json:"self"`
}

type removedDevice struct {
	NID   string   `json:"nid"`
	Heads []string `json:"heads"`
}

// publishDevices writes the person history ph into every project, prints
// its devices under the line head gives (told how many projects it went
// to), or their JSON, and announces each project it changed.
func (o *on) publishDevices(ctx context.Context, j *jsonFlag, h repo.Home, key *protocol.Key, ph *repo.PersonHistory, head func(projects int) string) error {
	changed, err := writePersonEverywhere(ctx, h, key, ph, o.Now())
	if err != nil {
		return err
	}
	d := devicesOf(ph, key.NID())
	for _, rid := range changed {
		d.Projects = append(d.Projects, rid.String())
	}
	if err := j.result(o.IO.Out, d, func() error {
		fmt.Fprintln(o.IO.Out, head(len(changed)))
		return d.print(o.IO.Out)
	}); err != nil {
		return err
	}
	for _, rid := range changed {
		o.Announce(ctx, rid)
	}
	return nil
}

func devicesOf(ph *repo.PersonHistory, self protocol.NID) deviceJSON {
	d := deviceJSON{ID: ph.Root, Alias: ph.Doc.Alias, Revisions: ph.Revisions, Commit: ph.Tip, Devices: []deviceEntry{}, Removed: []removedDevice{}}
	for _, n := range ph.Devices {
		d.Devices = append(d.Devices, deviceEntry{NID: n, Self: n == self.String()})
	}
	for _, n := range slices.Sorted(func(yield func(string) bool) {
		for k := range ph.Doc.Removed {
			if !yield(k) {
				return
			}
		}
	}) {
		d.Removed = append(d.Removed, removedDevice{NID: n, Heads: ph.Doc.Removed[n]})
	}
	return d
}

// print writes the devices as text.
func (d deviceJSON) print(w io.Writer) error {
	fmt.Fprintf(w, "%s (person %s, %s)\n", d.Alias, short(d.ID), plural(d.Revisions, "revision"))
	for _, e := range d.Devices {
		mark := ""
		if e.Self {
			mark = "  (this device)"
		}
		fmt.Fprintf(w, "  %s%s\n", e.NID, mark)
	}
	for _, e := range d.Removed {
		fmt.Fprintf(w, "  %s  removed, %s kept\n", e.NID, plural(len(e.Heads), "head"))
	}
	return nil
}

type deviceListOptions struct {
	on
	JSON bool
}

func newDeviceListCmd(e *env) *cobra.Command {
	o := &deviceListOptions{}
	c := o.bind(e, doc("list", "List the devices of your person document",
		`List the devices your person document lists, this one marked, and the
devices removed from it.`,
		"  grove device list\n  grove device list --json | jq -r '.devices[].nid'",
	), 0, false, func(ctx context.Context) error { return deviceListRun(ctx, o) })
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

func deviceListRun(ctx context.Context, o *deviceListOptions) error {
	ph, self, err := o.person()
	if err != nil {
		return err
	}
	d := devicesOf(ph, self)
	if o.JSON {
		return writeJSON(o.IO.Out, d)
	}
	return d.print(o.IO.Out)
}

// person reads the home's person history, which must be this key's.
func (o *on) person() (*repo.PersonHistory, protocol.NID, error) {
	h, err := o.Home()
	if err != nil {
		return nil, protocol.NID{}, err
	}
	nid, err := o.NID()
	if err != nil {
		return nil, protocol.NID{}, err
	}
	ph, err := h.Person()
	if err != nil || !ph.NID.Equal(nid) {
		return nil, nid, fmt.Errorf("no person document: sign one with 'grove self edit --alias NAME'")
	}
	return ph, nid, nil
}

type deviceAddOptions struct {
	on
	jsonFlag
	Export string
}

func newDeviceAddCmd(e *env) *cobra.Command {
	o := &deviceAddOptions{}
	c := o.bind(e, doc("add NID", "Add a device to your person document",
		`Sign, on this device, the next revision of your person document listing NID
(the new device's, as 'grove self' prints it there) and write it into every
project you have written to, announcing each. Then, on the new device, run
'grove device join': with --repo RID once it has one of those projects, or
with the file --export wrote.`,
		"  grove device add 12D3KooW... --export alice.person\n  grove device add 12D3KooW...",
	), 1, false, func(ctx context.Context) error { return deviceAddRun(ctx, o) })
	c.Flags().StringVar(&o.Export, "export", "", "also write the history to `FILE` for 'grove device join FILE'")
	return o.add(c)
}

func deviceAddRun(ctx context.Context, o *deviceAddOptions) error {
	dev, err := protocol.ParseNID(o.ID)
	if err != nil {
		return usagef("%v", err)
	}
	return o.revise(ctx, &o.jsonFlag, "added "+dev.Short(), o.Export, func(h repo.Home, key *protocol.Key) (*repo.PersonHistory, error) {
		return repo.AddDevice(ctx, h, key, dev, o.Now())
	})
}

type deviceRemoveOptions struct {
	on
	jsonFlag
}

func newDeviceRemoveCmd(e *env) *cobra.Command {
	o := &deviceRemoveOptions{}
	c := o.bind(e, doc("remove NID", "Remove a device from your person document",
		`Sign, on this device, the next revision of your person document without NID,
and write it into every project you have written to. The revision keeps the
signed refs NID's namespace has in each project here: peers that get the
removal keep the device's work up to those and refuse anything it signs
later. A lost or stolen device is removed from one that remains; the removed
device takes no part.`,
		"  grove device remove 12D3KooW...",
	), 1, false, func(ctx context.Context) error { return deviceRemoveRun(ctx, o) })
	return o.add(c)
}

func deviceRemoveRun(ctx context.Context, o *deviceRemoveOptions) error {
	dev, err := protocol.ParseNID(o.ID)
	if err != nil {
		return usagef("%v", err)
	}
	return o.revise(ctx, &o.jsonFlag, "removed "+dev.Short(), "", func(h repo.Home, key *protocol.Key) (*repo.PersonHistory, error) {
		rids, err := repo.List(h)
		if err != nil {
			return nil, err
		}
		var heads []string
		for _, rid := range rids {
			r, err := repo.Open(h, rid)
			if err != nil {
				return nil, err
			}
			if tip, err := r.RefFiles().Get(repo.NamespacePrefix(dev) + protocol.SigrefsRef); err == nil && tip != "" {
				heads = append(heads, tip)
			}
		}
		return repo.RemoveDevice(ctx, h, key, dev, heads, o.Now())
	})
}

// revise signs a change of the person document with next, writes it into
// every project (and to export, when given) and prints the devices.
func (o *on) revise(ctx context.Context, j *jsonFlag, what, export string, next func(repo.Home, *protocol.Key) (*repo.PersonHistory, error)) error {
	h, err := o.Home()
	if err != nil {
		return err
	}
	key, err := o.Key()
	if err != nil {
		return err
	}
	ph, err := next(h, key)
	if err != nil {
		return err
	}
	if export != "" {
		if err := repo.WriteFileAtomic(export, ph.Export(), 0o644); err != nil {
			return err
		}
	}
	return o.publishDevices(ctx, j, h, key, ph, func(projects int) string {
		return fmt.Sprintf("%s: signed revision %d (%s), written to %s", what, ph.Revisions, short(ph.Tip), plural(projects, "project"))
	})
}

type deviceJoinOptions struct {
	on
	jsonFlag
}

func newDeviceJoinCmd(e *env) *cobra.Command {
	o := &deviceJoinOptions{}
	c := o.bind(e, doc("join [FILE]", "Take on the person document another device added this one to",
		`On a device another device added ('grove device add NID' there), make the
person document listing this device yours: from FILE (what 'grove device add
--export' wrote; - for stdin), or from project --repo RID, which has it once
you have fetched it after the other device wrote it there. It is written
into every project you have written to; your work there then shows as the
person's. Nothing is taken that does not verify and list this device.`,
		"  grove device join alice.person\n  grove device join --repo RID",
	), 0, true, func(ctx context.Context) error { return deviceJoinRun(ctx, o) })
	c.Args = maxArgs(1)
	return o.add(c)
}

func deviceJoinRun(ctx context.Context, o *deviceJoinOptions) error {
	if (len(o.Args) == 1) == (o.RID != "") {
		return usagef("give either FILE or --repo RID")
	}
	h, err := o.Home()
	if err != nil {
		return err
	}
	key, err := o.Key()
	if err != nil {
		return err
	}
	var b []byte
	switch {
	case len(o.Args) == 1 && o.Args[0] == "-":
		b, err = io.ReadAll(io.LimitReader(o.IO.In, 64<<20))
	case len(o.Args) == 1:
		b, err = os.ReadFile(o.Args[0])
	default:
		r, rerr := o.Repo(ctx)
		if rerr != nil {
			return rerr
		}
		b, err = r.PersonFor(ctx, key.NID())
	}
	if err != nil {
		return err
	}
	ph, err := repo.JoinPerson(ctx, h, key, b)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	if cfg, err := h.Config(); err == nil && cfg.Alias != ph.Doc.Alias {
		cfg.Alias = ph.Doc.Alias
		if err := h.SetConfig(cfg); err != nil {
			return err
		}
	}
	return o.publishDevices(ctx, &o.jsonFlag, h, key, ph, func(projects int) string {
		return fmt.Sprintf("joined %s: written to %s", strings.TrimSpace(ph.Doc.Alias), plural(projects, "project"))
	})
}
