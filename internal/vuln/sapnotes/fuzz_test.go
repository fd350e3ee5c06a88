package sapnotes

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, glob string) {
	paths, _ := filepath.Glob(glob)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecode: any input either decodes or fails with an error; every note
// delivered passed Validate.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "testdata/fuzz/*.json")
	f.Fuzz(func(t *testing.T, in []byte) {
		res, _ := Decode(bytes.NewReader(in), func(n *Note) error {
			if !noteNumberRE.MatchString(n.Number) || n.Title == "" || PriorityRank(n.Priority) > 3 {
				t.Fatalf("invalid note delivered: %+v", n)
			}
			return nil
		})
		if res.Delivered+res.Skipped > res.Seen {
			t.Fatalf("counts: %+v", res)
		}
	})
}

func FuzzDecodeCSV(f *testing.F) {
	addSeeds(f, "testdata/fuzz/*.csv")
	addSeeds(f, "testdata/*.csv")
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = DecodeCSV(bytes.NewReader(in), func(n *Note) error {
			if !noteNumberRE.MatchString(n.Number) || n.Title == "" {
				t.Fatalf("invalid note delivered: %+v", n)
			}
			return nil
		})
	})
}
