package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"example.com/grove/protocol"
)

func TestUpdateRequestValidate(t *testing.T) {
	rid, err := protocol.ParseRID(ridString(t, emptyBlob))
	if err != nil {
		t.Fatal(err)
	}
	nid := testKey(t, 1).NID()
	many := make([]string, protocol.MaxUpdateBase+1)
	for i := range many {
		many[i] = otherBlob
	}
	tests := []struct {
		name         string
		in           protocol.UpdateRequest
		wantErr      error // Validate, /grove/update/1
		wantFirstErr error // ValidateFirst, /grove/update/2
	}{
		{name: "update", in: protocol.UpdateRequest{RID: rid, NID: nid, Have: emptyBlob, Want: otherBlob}, wantFirstErr: protocol.ErrMessage},
		{name: "first", in: protocol.UpdateRequest{RID: rid, NID: nid, Want: otherBlob, Base: []string{emptyBlob}}, wantErr: protocol.ErrMessage},
		{name: "first, no base", in: protocol.UpdateRequest{RID: rid, NID: nid, Want: otherBlob}, wantErr: protocol.ErrMessage},
		{name: "base with have", in: protocol.UpdateRequest{RID: rid, NID: nid, Have: emptyBlob, Want: otherBlob, Base: []string{emptyBlob}}, wantErr: protocol.ErrMessage, wantFirstErr: protocol.ErrMessage},
		{name: "bad base", in: protocol.UpdateRequest{RID: rid, NID: nid, Want: otherBlob, Base: []string{"HEAD"}}, wantErr: protocol.ErrMessage, wantFirstErr: protocol.ErrMessage},
		{name: "too much base", in: protocol.UpdateRequest{RID: rid, NID: nid, Want: otherBlob, Base: many}, wantErr: protocol.ErrMessage, wantFirstErr: protocol.ErrMessage},
		{name: "bad want", in: protocol.UpdateRequest{RID: rid, NID: nid, Want: strings.Repeat("z", 40)}, wantErr: protocol.ErrMessage, wantFirstErr: protocol.ErrMessage},
		{name: "no nid", in: protocol.UpdateRequest{RID: rid, Want: otherBlob}, wantErr: protocol.ErrMessage, wantFirstErr: protocol.ErrMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.in.Validate(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate = %v, want %v", err, tt.wantErr)
			}
			if err := tt.in.ValidateFirst(); !errors.Is(err, tt.wantFirstErr) {
				t.Errorf("ValidateFirst = %v, want %v", err, tt.wantFirstErr)
			}
		})
	}
}
