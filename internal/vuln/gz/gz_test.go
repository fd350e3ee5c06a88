package gz

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(`{"a":1}`))
	zw.Close()
	for _, tc := range []struct {
		name, in, want string
		err            bool
	}{
		{"plain", `{"a":1}`, `{"a":1}`, false},
		{"gzipped", zipped.String(), `{"a":1}`, false},
		{"empty", "", "", false},
		{"one byte", "{", "{", false},
		{"gzip magic, broken header", "\x1f\x8b\x00", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Reader(strings.NewReader(tc.in))
			if tc.err {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil || string(b) != tc.want {
				t.Fatalf("%q, %v; want %q", b, err, tc.want)
			}
		})
	}
}
