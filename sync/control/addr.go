package control

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"example.com/grove/protocol"
)

// ParseAddr checks that s is a multiaddr ending in /p2p/NID and returns
// that NID. It checks the parts the CLI can get wrong (the form, IP
// addresses, ports, the peer ID) without go-multiaddr, which would make
// every grove command pay libp2p's package init; the node parses the
// whole address when it dials.
func ParseAddr(s string) (protocol.NID, error) {
	if !strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//") {
		return protocol.NID{}, fmt.Errorf("address %q is not a multiaddr (like /ip4/127.0.0.1/tcp/8776/p2p/NID)", s)
	}
	parts := strings.Split(s[1:], "/")
	i := len(parts) - 2
	if i < 0 || parts[i] != "p2p" && parts[i] != "ipfs" {
		return protocol.NID{}, fmt.Errorf("address %q must end in /p2p/NID", s)
	}
	for j := 0; j+1 < i; j++ {
		v := parts[j+1]
		var err error
		switch parts[j] {
		case "ip4":
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil && !a.Is4() {
				err = fmt.Errorf("not an IPv4 address")
			}
		case "ip6":
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil && !a.Is6() {
				err = fmt.Errorf("not an IPv6 address")
			}
		case "tcp", "udp":
			_, err = strconv.ParseUint(v, 10, 16)
		case "dns", "dns4", "dns6", "dnsaddr", "sni", "ip6zone", "certhash", "p2p", "ipfs":
		default:
			continue // no value, or one the node checks
		}
		if err != nil {
			return protocol.NID{}, fmt.Errorf("address %q: /%s/%s: %v", s, parts[j], v, err)
		}
		j++
	}
	nid, err := protocol.ParseNID(parts[i+1])
	if err != nil {
		return protocol.NID{}, fmt.Errorf("address %q must end in /p2p/NID: %w", s, err)
	}
	return nid, nil
}
