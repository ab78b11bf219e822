package sync

// shallowScan reads what a peer's upload-pack sends git, pkt-line by
// pkt-line, up to the protocol v2 "packfile" section header, for shallow
// info: a "shallow-info" section or any "shallow " line. With either, git
// fetch-pack runs index-pack with --shallow-file, which grafts the named
// commits' parents away, and its "connectivity-ok" no longer proves the
// history whole. The bytes come in as they were written (a pkt-line may be
// split across writes); the scan keeps at most a line's first bytes and
// stops at the header, where the pack begins.
//
// whole is set only when the answer was positively seen to be protocol v2
// and to reach its pack with no shallow info; anything else (v0 or v1,
// garbage, a stream that ends first) leaves it false.
type shallowScan struct {
	done  bool // whole is final: nothing more is read
	whole bool

	hdr  [4]byte // the current pkt-line's length, as it arrives
	nhdr int
	size int      // its payload's length
	left int      // payload bytes still to come
	line [13]byte // its payload's first bytes: "shallow-info\n" is 13
	nl   int
	// lines counts pkt-lines (flushes and delimiters too); advertised is
	// the capability advertisement's end (its flush): before it any
	// capability, "packfile" too, is a line git takes without looking.
	// section is whether the next line starts a response or follows a
	// delimiter, where git reads section headers.
	lines      int
	advertised bool
	section    bool
}

// feed scans b, the next bytes of the answer.
func (x *shallowScan) feed(b []byte) {
	for len(b) > 0 && !x.done {
		if x.nhdr < 4 {
			k := copy(x.hdr[x.nhdr:], b)
			x.nhdr += k
			b = b[k:]
			if x.nhdr < 4 {
				return
			}
			n, ok := pktLen(x.hdr)
			switch {
			case !ok || n == 3:
				x.finish(false) // not pkt-lines: a v0 raw pack, garbage
			case n < 4:
				x.control(n)
			default:
				x.size, x.left, x.nl = n-4, n-4, 0
				if x.left == 0 {
					x.endLine()
				}
			}
			continue
		}
		k := min(len(b), x.left)
		x.nl += copy(x.line[x.nl:], b[:k])
		x.left -= k
		b = b[k:]
		if x.left == 0 {
			x.endLine()
		}
	}
}

// control takes a flush (0), delimiter (1) or response end (2).
func (x *shallowScan) control(n int) {
	x.nhdr = 0
	if x.lines == 0 {
		x.finish(false) // no "version 2" first
		return
	}
	x.lines++
	if n != 1 {
		x.advertised = true
	}
	x.section = x.advertised
}

// endLine takes a pkt-line whose payload has all arrived.
func (x *shallowScan) endLine() {
	x.nhdr = 0
	p := x.line[:x.nl]
	all := x.nl == x.size
	first, section := x.lines == 0, x.section
	x.lines++
	x.section = false
	switch {
	case first:
		if !isLine(p, all, "version 2") {
			x.finish(false)
		}
	case hasPrefix(p, "shallow ") || hasPrefix(p, "unshallow ") || isLine(p, all, "shallow-info"):
		x.finish(false)
	case section && isLine(p, all, "packfile"):
		x.finish(true)
	}
}

func (x *shallowScan) finish(whole bool) {
	x.done, x.whole = true, whole
}

// pktLen parses a pkt-line's 4 hex digits of length.
func pktLen(h [4]byte) (int, bool) {
	n := 0
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | int(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case 'A' <= c && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

func hasPrefix(p []byte, s string) bool {
	return len(p) >= len(s) && string(p[:len(s)]) == s
}

// isLine reports whether payload p, all of it if all, is s with or
// without the newline git chomps.
func isLine(p []byte, all bool, s string) bool {
	if !all {
		return false
	}
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
	}
	return string(p) == s
}
