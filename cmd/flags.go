package cmd

import (
	"strings"

	"github.com/spf13/pflag"
)

// stringsValue is a repeatable string flag that keeps every value as
// given, as pflag's StringArray does. pflag renders a StringArray's empty
// default through an encoding/csv writer when the flag is made; grove makes
// sixteen of them at every start.
type stringsValue struct {
	p   *[]string
	set bool
}

func (v *stringsValue) Set(s string) error {
	if !v.set {
		*v.p, v.set = nil, true
	}
	*v.p = append(*v.p, s)
	return nil
}

// Type is pflag's name for the kind, which help and shell completion show.
func (v *stringsValue) Type() string { return "stringArray" }

func (v *stringsValue) String() string {
	if len(*v.p) == 0 {
		return ""
	}
	return "[" + strings.Join(*v.p, ",") + "]"
}

// stringsVarP defines a repeatable string flag on f, as f.StringArrayVarP
// with no default.
func stringsVarP(f *pflag.FlagSet, p *[]string, name, short, usage string) {
	*p = nil
	f.VarP(&stringsValue{p: p}, name, short, usage)
}
