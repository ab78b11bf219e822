package netcmd

import (
	"fmt"
	"strings"
	"time"

	p2psync "example.com/grove/sync"
)

// fetchOptions returns the options that report a fetch's progress to
// progress as status lines ("" when it is done), or none for nil.
func fetchOptions(progress func(string)) []p2psync.FetchOption {
	if progress == nil {
		return nil
	}
	return []p2psync.FetchOption{p2psync.WithProgress(func(p p2psync.FetchProgress) {
		if p.Phase == p2psync.PhaseDone {
			progress("")
			return
		}
		progress(fetchLine(p))
	})}
}

// fetchLine is the status line for one fetch's progress.
func fetchLine(p p2psync.FetchProgress) string {
	who := shortPeer(p.Peer.String())
	switch p.Phase {
	case p2psync.PhaseNegotiating:
		return fmt.Sprintf("Negotiating with %s…", who)
	case p2psync.PhaseVerifying:
		return fmt.Sprintf("Verifying %s from %s…", humanBytes(p.Bytes), who)
	}
	s := fmt.Sprintf("Receiving from %s: %s", who, humanBytes(p.Bytes))
	if p.Elapsed >= 100*time.Millisecond {
		s += ", " + humanBytes(int64(float64(p.Bytes)/p.Elapsed.Seconds())) + "/s"
	}
	return s
}

// shortPeer shortens a peer ID to its first 6 and last 3 characters.
func shortPeer(s string) string {
	if len(s) <= 12 {
		return s
	}
	return s[:6] + "…" + s[len(s)-3:]
}

// humanBytes writes n in B, KiB, MiB or GiB, with one decimal past bytes.
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	unit := ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= 1024
		unit = u
		if f < 1024 {
			break
		}
	}
	return strings.TrimSpace(fmt.Sprintf("%.1f %s", f, unit))
}
