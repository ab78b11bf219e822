package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"
)

// TestListColumns: at every width the issue and patch lists fit the
// terminal, their columns line up with the header whatever a row holds
// (an author's column does not move with the comment count), ages are
// short ("3d"), and on a narrow terminal the columns that matter least go
// first while the title keeps room.
func TestListColumns(t *testing.T) {
	cell := func(line, s string) int { // the cell where s starts in line
		i := strings.Index(line, s)
		if i < 0 {
			return -1
		}
		return runewidth.StringWidth(line[:i])
	}
	for _, w := range []int{36, 48, 60, 72, 80, 100, 120, 160} {
		t.Run(itoa(w), func(t *testing.T) {
			f := newFixture()
			d := newDriver(t, f, ridA, w, 24)
			checkSize(t, d, w, 24)
			lines := strings.Split(d.screen(), "\n")
			head, rows := lines[4], lines[5:8]
			aw, counts := columns(w - 2)
			if !strings.Contains(rows[0], "Crash on st") {
				t.Errorf("the title lost its room at %d columns: %q", w, rows[0])
			}
			ages := []string{"3d", "5d", "9d"}
			for i, r := range rows {
				if !strings.HasSuffix(r, " "+ages[i]) {
					t.Errorf("row %q does not end with its age %q", r, ages[i])
				}
			}
			if !strings.HasSuffix(head, "AGE") {
				t.Errorf("header %q does not end with AGE", head)
			}
			if strings.Contains(d.screen(), " ago") {
				t.Errorf("a list age says ago:\n%s", d.screen())
			}
			if aw == 0 {
				if strings.Contains(head, "AUTHOR") || strings.Contains(rows[0], "alice") {
					t.Errorf("author shown at %d columns:\n%s", w, d.screen())
				}
			} else {
				at := cell(head, "AUTHOR")
				for i, name := range []string{"alice", "bob", "carol"} {
					if c := cell(rows[i], " "+name+" "); c+1 != at {
						t.Errorf("%s at cell %d, its header at %d:\n%s", name, c+1, at, d.screen())
					}
				}
			}
			if got := strings.Contains(rows[0], "↩ 3"); got != counts {
				t.Errorf("comment count shown %v at %d columns, want %v: %q", got, w, counts, rows[0])
			}

			d.keys("2")
			checkSize(t, d, w, 24)
			lines = strings.Split(d.screen(), "\n")
			head, row := lines[4], lines[5]
			if !strings.HasSuffix(head, "AGE") || !strings.HasSuffix(row, " 2h") || !strings.Contains(row, "Fix crash") {
				t.Errorf("patch list at %d columns:\n%s", w, d.screen())
			}
			if counts && cell(head, "REV")+1 != cell(row, "r2") {
				t.Errorf("revisions not under REV:\n%s", d.screen())
			}
			if aw > 0 && cell(head, "AUTHOR") != cell(row, "carol") {
				t.Errorf("author not under AUTHOR:\n%s", d.screen())
			}
		})
	}
}

// TestAge: the list's age column in at most 4 cells.
func TestAge(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "now"}, {30 * time.Second, "now"}, {5 * time.Minute, "5m"}, {3 * time.Hour, "3h"},
		{29 * day, "29d"}, {300 * day, "10mo"}, {800 * day, "2y"}, {200 * 365 * day, "200y"},
	} {
		if got := age(now, now.Add(-tt.d)); got != tt.want || runewidth.StringWidth(got) > ageWidth {
			t.Errorf("age(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if age(now, time.Time{}) != "" {
		t.Error("a zero time has an age")
	}
}
